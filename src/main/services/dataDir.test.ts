import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { userDataDir } from './dataDir';

describe('the user data folder', () => {
  it('is DMALAB_DATA_DIR when set, on every platform, made absolute', () => {
    for (const platform of ['linux', 'win32', 'darwin'] as const) {
      expect(userDataDir({ DMALAB_DATA_DIR: 'rel/data' }, platform, '/home/ada')).toBe(resolve('rel/data'));
    }
  });

  it("otherwise is the OS's usual place, as Electron's userData", () => {
    expect(userDataDir({}, 'linux', '/home/ada')).toBe(join('/home/ada', '.config', 'DMA Lab'));
    expect(userDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/ada')).toBe(join('/xdg', 'DMA Lab'));
    expect(userDataDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ada')).toBe(join('C:\\Users\\ada\\AppData\\Roaming', 'DMA Lab'));
    expect(userDataDir({}, 'darwin', '/Users/ada')).toBe(join('/Users/ada', 'Library', 'Application Support', 'DMA Lab'));
  });

  it('ignores an empty override', () => {
    expect(userDataDir({ DMALAB_DATA_DIR: '  ' }, 'linux', '/home/ada')).toBe(join('/home/ada', '.config', 'DMA Lab'));
  });
});
