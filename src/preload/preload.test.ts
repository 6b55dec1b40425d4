import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiTransport } from '../shared/api';
import { IPC_CHANNEL } from '../shared/channels';

// The preload needs Electron; a stand-in records what it exposes and what it sends.
const exposed: Record<string, unknown> = {};
const invoke = vi.fn(async (..._args: unknown[]) => ({ ok: true, value: 'from main' }));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
  ipcRenderer: { invoke },
}));

describe('the preload', () => {
  beforeEach(async () => {
    vi.resetModules();
    invoke.mockClear();
    await import('./index');
  });

  it('exposes one object, `dmalab`, with one function, `call`', () => {
    expect(Object.keys(exposed)).toEqual(['dmalab']);
    expect(Object.keys(exposed.dmalab as object)).toEqual(['call']);
  });

  it('forwards a known channel on the one IPC channel', async () => {
    const transport = exposed.dmalab as ApiTransport;
    expect(await transport.call('labs.list', {})).toEqual({ ok: true, value: 'from main' });
    expect(invoke).toHaveBeenCalledWith(IPC_CHANNEL, 'labs.list', {});
  });

  it('refuses any other channel without reaching main', async () => {
    const transport = exposed.dmalab as ApiTransport;
    for (const channel of ['fs.readFile', 'dmalab:api', '', 'constructor']) {
      const r = await transport.call(channel, {});
      expect(r.ok).toBe(false);
    }
    expect(invoke).not.toHaveBeenCalled();
  });
});
