import { contextBridge, ipcRenderer } from 'electron';
import type { ApiTransport, Envelope } from '../shared/api';
import { IPC_CHANNEL, isApiChannel } from '../shared/channels';

// The renderer's one door: a call on a channel of the typed API. Unknown channels
// are refused here, before they reach main (which checks everything again).

const transport: ApiTransport = {
  call(channel: string, request: unknown): Promise<Envelope<unknown>> {
    if (!isApiChannel(channel)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown-channel', message: `unknown API channel "${String(channel)}"` } });
    }
    return ipcRenderer.invoke(IPC_CHANNEL, channel, request) as Promise<Envelope<unknown>>;
  },
};

contextBridge.exposeInMainWorld('dmalab', transport);
