import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiTransport } from '../shared/api';
import { IPC_CHANNEL, IPC_EVENT_CHANNEL } from '../shared/channels';

// The preload needs Electron; a stand-in records what it exposes and what it sends.
const exposed: Record<string, unknown> = {};
const invoke = vi.fn(async (..._args: unknown[]) => ({ ok: true, value: 'from main' }));
const listeners = new Map<string, ((...args: unknown[]) => void)[]>();
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
  ipcRenderer: {
    invoke,
    on: (channel: string, fn: (...args: unknown[]) => void) => listeners.set(channel, [...(listeners.get(channel) ?? []), fn]),
    removeListener: (channel: string, fn: (...args: unknown[]) => void) => listeners.set(channel, (listeners.get(channel) ?? []).filter((f) => f !== fn)),
  },
}));

describe('the preload', () => {
  beforeEach(async () => {
    vi.resetModules();
    invoke.mockClear();
    await import('./index');
  });

  it('exposes one object, `dmalab`, with two functions, `call` and `onEvent`', () => {
    expect(Object.keys(exposed)).toEqual(['dmalab']);
    expect(Object.keys(exposed.dmalab as object)).toEqual(['call', 'onEvent']);
  });

  it('passes on the events main pushes, by name and payload only, until the listener is removed', () => {
    const transport = exposed.dmalab as ApiTransport;
    const heard: unknown[] = [];
    const stop = transport.onEvent((name, payload) => heard.push([name, payload]));
    const fire = (...args: unknown[]) => {
      for (const fn of listeners.get(IPC_EVENT_CHANNEL) ?? []) fn({ sender: 'the IPC event object' }, ...args);
    };
    fire('run.event', { runId: 1 });
    fire('not.an.event', { x: 1 });
    stop();
    fire('run.event', { runId: 2 });
    expect(heard).toEqual([['run.event', { runId: 1 }]]);
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
