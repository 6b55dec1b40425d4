import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DATA_DIR_ENV = 'DMALAB_DATA_DIR';
const APP_FOLDER = 'DMA Lab';

/**
 * The user's data folder (progress database, autosaves, settings, user scenarios).
 * `DMALAB_DATA_DIR` wins everywhere; otherwise the OS's usual place, which matches
 * what Electron's `app.getPath('userData')` gives for an app named "DMA Lab".
 */
export function userDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const override = env[DATA_DIR_ENV];
  if (override !== undefined && override.trim() !== '') return resolve(override);
  switch (platform) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_FOLDER);
    case 'darwin':
      return join(home, 'Library', 'Application Support', APP_FOLDER);
    default:
      return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_FOLDER);
  }
}
