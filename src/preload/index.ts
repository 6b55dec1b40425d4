import { contextBridge, ipcRenderer } from 'electron';
import type { ApiTransport, Envelope } from '../shared/api';
import { API_EVENTS, IPC_CHANNEL, IPC_EVENT_CHANNEL, isApiChannel } from '../shared/channels';

// The renderer's one door: a call on a channel of the typed API. Unknown channels
// are refused here, before they reach main (which checks everything again).

const transport: ApiTransport = {
  call(channel: string, request: unknown): Promise<Envelope<unknown>> {
    if (!isApiChannel(channel)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown-channel', message: `unknown API channel "${String(channel)}"` } });
    }
    return ipcRenderer.invoke(IPC_CHANNEL, channel, request) as Promise<Envelope<unknown>>;
  },
  onEvent(listener: (name: string, payload: unknown) => void): () => void {
    // The renderer never sees the IPC event object (it would reach ipcRenderer through `sender`).
    const handler = (_event: unknown, name: unknown, payload: unknown) => {
      if (typeof name === 'string' && (API_EVENTS as readonly string[]).includes(name)) listener(name, payload);
    };
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('dmalab', transport);
