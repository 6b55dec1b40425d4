import type { ApiTransport, Envelope } from '../../../shared/api';
import { WireEvent, WireResponse } from '../../../shared/wire';

const TOKEN_KEY = 'dmalab.token';

/**
 * The web host's transport: JSON frames on one WebSocket, answered by id. The token
 * comes from the page URL once and is kept for this tab, so a reload still works.
 */
export function createWebSocketTransport(location: Location, storage: Storage = sessionStorage): ApiTransport {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl !== null) storage.setItem(TOKEN_KEY, fromUrl);
  const token = storage.getItem(TOKEN_KEY) ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}/api?token=${encodeURIComponent(token)}`;

  let socket: Promise<WebSocket> | undefined;
  let nextId = 1;
  const pending = new Map<number, (e: Envelope<unknown>) => void>();
  const listeners = new Set<(name: string, payload: unknown) => void>();
  const lost = (message: string): Envelope<never> => ({ ok: false, error: { code: 'internal', message } });

  function connect(): Promise<WebSocket> {
    socket ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(ws);
      ws.onmessage = (event) => {
        const frame: unknown = JSON.parse(String(event.data));
        const pushed = WireEvent.safeParse(frame);
        if (pushed.success) {
          for (const listener of listeners) listener(pushed.data.event, pushed.data.payload);
          return;
        }
        const parsed = WireResponse.safeParse(frame);
        if (!parsed.success || parsed.data.id === null) return;
        pending.get(parsed.data.id)?.(parsed.data.result as Envelope<unknown>);
        pending.delete(parsed.data.id);
      };
      ws.onclose = () => {
        socket = undefined;
        reject(new Error('the web host refused the connection: open the address "dmalab serve" printed, token included'));
        for (const settle of pending.values()) settle(lost('the connection to the web host was lost'));
        pending.clear();
      };
    });
    return socket;
  }

  return {
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async call(channel, request) {
      let ws: WebSocket;
      try {
        ws = await connect();
      } catch (err) {
        return lost(err instanceof Error ? err.message : String(err));
      }
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, channel, request }));
      });
    },
  };
}
