import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES, type WireEvent, WireRequest, type WireResponse } from '../../shared/wire';
import { dispatch, type Logger } from '../api/dispatch';
import type { ApiClient, ApiHandlers } from '../api/handlers';
import { resolveStatic, SECURITY_HEADERS } from '../services/staticFiles';
import { Downloads, DOWNLOADS_PATH } from './downloads';

// The web host: the same renderer and the same API as the desktop app, over a
// WebSocket from a server bound to loopback. The API needs the random token printed
// at start; the Host and Origin headers must name this server, which keeps other
// web pages (and DNS rebinding) out.

export const API_PATH = '/api';

/** Past this much unsent data on a socket, streamed states are dropped (stops and ends never are). */
const MAX_BUFFERED_EVENT_BYTES = 4 * 1024 * 1024;

export interface WebHostOptions {
  rendererDir: string;
  handlers: ApiHandlers;
  /** 0 picks a free port. */
  port?: number;
  log?: Logger;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  /** Exports written for the page to download. */
  downloads: Downloads;
  close(): Promise<void>;
}

export async function startWebHost({ rendererDir, handlers, port = 0, log = () => {} }: WebHostOptions): Promise<WebHost> {
  const token = randomBytes(24).toString('base64url');
  const downloads = new Downloads(token);
  let boundPort = 0;
  const hostAllowed = (host: string | undefined) => host === `127.0.0.1:${boundPort}` || host === `localhost:${boundPort}`;

  const server = createServer((req, res) => {
    void serveStatic(req, res).catch((err: unknown) => {
      log(`webhost: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) return void res.writeHead(421, { 'Content-Type': 'text/plain' }).end('unknown host\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith(DOWNLOADS_PATH)) {
      if (!tokenMatches(url.searchParams.get('token'), token)) return void res.writeHead(403, { 'Content-Type': 'text/plain' }).end('a download needs the token\n');
      return downloads.serve(req, res, url.pathname);
    }
    const file = await resolveStatic(rendererDir, url.pathname);
    if (file === null) return void res.writeHead(404, { 'Content-Type': 'text/plain', ...SECURITY_HEADERS }).end('not found\n');
    res.writeHead(200, { 'Content-Type': file.contentType, 'Cache-Control': 'no-cache', ...SECURITY_HEADERS });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file.path).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const origin = req.headers.origin;
    const allowed =
      url.pathname === API_PATH &&
      hostAllowed(req.headers.host) &&
      (origin === undefined || origin === `http://${req.headers.host}`) &&
      tokenMatches(url.searchParams.get('token'), token);
    if (!allowed) {
      log(`webhost: refused a WebSocket from origin ${origin ?? '(none)'} host ${req.headers.host ?? '(none)'}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveApi(ws));
  });

  function serveApi(ws: WebSocket): void {
    // The socket is the client: its runs' events come back on it, and its runs end with it.
    const closeListeners: (() => void)[] = [];
    const client: ApiClient = {
      emit(name, payload) {
        // A socket that cannot keep up drops states rather than queueing them without end.
        if (ws.readyState !== ws.OPEN) return;
        const frame: WireEvent = { event: name, payload };
        if (ws.bufferedAmount > MAX_BUFFERED_EVENT_BYTES && (payload as { event?: { kind?: string } }).event?.kind === 'state') return;
        ws.send(JSON.stringify(frame));
      },
      onClose: (listener) => closeListeners.push(listener),
      // A page cannot name a path: what it saves is written here and fetched as a download.
      chooseSavePlace: async (fileName) => downloads.place(fileName),
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void answer(data, isBinary, client).then((response) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(response));
      });
    });
    ws.on('close', () => {
      for (const listener of closeListeners.splice(0)) listener();
    });
    ws.on('error', (err) => log(`webhost: ${err.message}`));
  }

  async function answer(data: RawData, isBinary: boolean, client: ApiClient): Promise<WireResponse> {
    const badFrame = (message: string): WireResponse => ({ id: null, result: { ok: false, error: { code: 'bad-request', message } } });
    if (isBinary) return badFrame('frames must be JSON text');
    let frame: unknown;
    try {
      frame = JSON.parse(rawToString(data));
    } catch {
      return badFrame('a frame is not valid JSON');
    }
    const parsed = WireRequest.safeParse(frame);
    if (!parsed.success) return badFrame('a frame must be {"id": integer, "channel": string, "request": value}');
    const { id, channel, request } = parsed.data;
    return { id, result: await dispatch(handlers, channel, request, log, client) };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${boundPort}/?token=${token}`,
    port: boundPort,
    token,
    downloads,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
        downloads.close();
      }),
  };
}

function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
