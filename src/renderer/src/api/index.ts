import { type ApiTransport, createApiClient, type DmaLabApi } from '../../../shared/api';
import { createWebSocketTransport } from './wsTransport';

declare global {
  interface Window {
    /** Exposed by the preload in the desktop app; absent in a browser. */
    dmalab?: ApiTransport;
  }
}

let client: DmaLabApi | undefined;

/** The typed API: through the preload in the app, through the web host's WebSocket in a browser. */
export function useApi(): DmaLabApi {
  client ??= createApiClient(window.dmalab ?? createWebSocketTransport(window.location));
  return client;
}

/** For tests: stores then talk to this instead. */
export function provideApi(api: DmaLabApi): void {
  client = api;
}
