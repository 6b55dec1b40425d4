import { request } from 'node:http';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../../shared/wire';
import { readFileSync } from 'node:fs';
import { createServices, type Services } from '../services';
import { startWebHost, type WebHost } from './server';

const appRoot = new URL('../../..', import.meta.url).pathname;

/** A raw HTTP GET, so that Host and other headers can be anything. */
function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, frame: unknown): Promise<{ id: number | null; result: { ok: boolean; value?: unknown; error?: { code: string; message: string } } }> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  });
}

describe('the web host', () => {
  let host: WebHost;
  let services: Services;
  let rendererDir: string;
  let apiUrl: string;

  beforeAll(async () => {
    rendererDir = mkdtempSync(join(tmpdir(), 'dmalab-renderer-'));
    mkdirSync(join(rendererDir, 'assets'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>DMA Lab</title>');
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(tmpdir(), 'dmalab-outside.txt'), 'outside');
    services = createServices(appRoot, { progressFile: join(mkdtempSync(join(tmpdir(), 'dmalab-progress-')), 'progress.sqlite') });
    host = await startWebHost({ rendererDir, handlers: services.handlers, port: 0 });
    apiUrl = `ws://127.0.0.1:${host.port}/api?token=${host.token}`;
  });
  afterAll(async () => {
    await host.close();
    rmSync(rendererDir, { recursive: true, force: true });
  });

  it('prints a loopback URL with a long random token, a new one at every start, and listens on loopback only', async () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[A-Za-z0-9_-]{32}$`));
    const second = await startWebHost({ rendererDir, handlers: services.handlers, port: 0 });
    try {
      expect(second.token).not.toBe(host.token);
      // The socket is bound to 127.0.0.1: another address of this machine does not answer.
      const others = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4' && !i.internal);
      for (const address of others) {
        await expect(new Promise((resolve, reject) => request({ host: address!.address, port: second.port, path: '/' }, resolve).on('error', reject).end())).rejects.toThrow(/ECONNREFUSED/);
      }
    } finally {
      await second.close();
    }
  });

  it('serves the renderer with a strict Content-Security-Policy', async () => {
    const page = await get(host.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<title>DMA Lab</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect((await get(host.port, '/assets/app.js')).headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const path of ['/../dmalab-outside.txt', '/%2e%2e/dmalab-outside.txt', '/assets/..%2f..%2fdmalab-outside.txt', '/%00', '/assets%5c..%5cindex.html', '/nope.js']) {
      const r = await get(host.port, path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('outside');
    }
  });

  it('refuses a request for another Host name (DNS rebinding)', async () => {
    const r = await get(host.port, '/', { Host: `attacker.example:${host.port}` });
    expect(r.status).toBe(421);
    await expect(connect(apiUrl, { Host: `attacker.example:${host.port}` })).rejects.toThrow(/403/);
  });

  it('opens the API only with the token, and only to its own origin', async () => {
    await expect(connect(`ws://127.0.0.1:${host.port}/api`)).rejects.toThrow(/403/);
    await expect(connect(`ws://127.0.0.1:${host.port}/api?token=${'x'.repeat(32)}`)).rejects.toThrow(/403/);
    await expect(connect(apiUrl, { Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(connect(apiUrl.replace('/api', '/other'))).rejects.toThrow(/403/);
    const ws = await connect(apiUrl, { Origin: `http://127.0.0.1:${host.port}` });
    ws.close();
  });

  it('answers labs.list and labs.get from the real catalog', async () => {
    const ws = await connect(apiUrl);
    const list = await call(ws, { id: 1, channel: 'labs.list', request: {} });
    expect(list.id).toBe(1);
    expect(list.result.ok).toBe(true);
    const labs = (list.result.value as { labs: { id: string }[] }).labs;
    expect(labs.map((l) => l.id)).toContain('01-adapter-object');
    const lab = await call(ws, { id: 2, channel: 'labs.get', request: { id: '01-adapter-object' } });
    expect((lab.result.value as { starterCode: string }).starterCode).toContain('export function DriverEntry');
    ws.close();
  });

  it('answers broken frames with a clear error and stays up', async () => {
    const ws = await connect(apiUrl);
    expect(await call(ws, 'not json')).toEqual({ id: null, result: { ok: false, error: { code: 'bad-request', message: 'a frame is not valid JSON' } } });
    expect((await call(ws, { channel: 'labs.list' })).result.error?.message).toMatch(/a frame must be/);
    expect((await call(ws, { id: 3, channel: 'labs.nope', request: {} })).result.error?.code).toBe('unknown-channel');
    expect((await call(ws, { id: 4, channel: 'labs.get', request: { id: 5 } })).result.error?.code).toBe('bad-request');
    expect((await call(ws, { id: 5, channel: 'labs.get', request: { id: '99-missing' } })).result.error?.code).toBe('not-found');
    expect((await call(ws, { id: 6, channel: 'labs.list', request: {} })).result.ok).toBe(true);
    ws.close();
  });

  it('closes a connection that sends a frame over the size limit', async () => {
    const ws = await connect(apiUrl);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(MAX_FRAME_BYTES + 1));
    expect(await closed).toBe(1009); // "message too big"
    const again = await connect(apiUrl);
    expect((await call(again, { id: 1, channel: 'labs.list', request: {} })).result.ok).toBe(true);
    again.close();
  });

  it('runs a driver for the socket that asked: its stops and end come back as events, and only it may steer the run', async () => {
    const ws = await connect(apiUrl);
    const other = await connect(apiUrl);
    const frames: { id?: number; event?: string; payload?: { runId: number; event: { kind: string; stop?: { kind: string }; outcome?: { kind: string; result?: { ok: boolean } } } }; result?: { ok: boolean; value?: unknown; error?: { code: string } } }[] = [];
    const waitFor = (pred: (f: (typeof frames)[number]) => boolean) =>
      new Promise<(typeof frames)[number]>((resolve) => {
        const look = () => {
          const found = frames.find(pred);
          if (found) {
            frames.splice(frames.indexOf(found), 1);
            resolve(found);
          } else setTimeout(look, 10);
        };
        look();
      });
    ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    const source = readFileSync(join(appRoot, 'labs', '02-packet-read', 'solution.ts'), 'utf8');
    ws.send(JSON.stringify({ id: 1, channel: 'run.start', request: { labId: '02-packet-read', source, stopAtStart: true } }));
    const started = await waitFor((f) => f.id === 1);
    const { runId } = started.result!.value as { runId: number };
    const entry = await waitFor((f) => f.event === 'run.event');
    expect(entry.payload).toMatchObject({ runId, event: { kind: 'stopped', stop: { kind: 'start' } } });

    // Another socket cannot steer it.
    expect((await call(other, { id: 9, channel: 'run.control', request: { runId, action: 'continue' } })).result.error?.code).toBe('not-found');
    // A request that does not fit is refused with the reason.
    ws.send(JSON.stringify({ id: 2, channel: 'run.control', request: { runId, action: 'jump' } }));
    expect((await waitFor((f) => f.id === 2)).result?.error?.code).toBe('bad-request');

    ws.send(JSON.stringify({ id: 3, channel: 'run.control', request: { runId, action: 'continue' } }));
    expect((await waitFor((f) => f.id === 3)).result?.ok).toBe(true);
    const end = await waitFor((f) => f.event === 'run.event' && f.payload?.event.kind === 'finished');
    expect(end.payload?.event.outcome).toMatchObject({ kind: 'result', result: { ok: true } });
    expect(services.runs.active).toBe(0);
    // The finished run is an attempt at the lab, which it passed.
    ws.send(JSON.stringify({ id: 4, channel: 'progress.lab', request: { labId: '02-packet-read' } }));
    expect((await waitFor((f) => f.id === 4)).result?.value).toMatchObject({ status: 'passed', attempts: 1, best: { ok: true, outcome: 'result', failed: [] } });

    // Its trace, exported: written in the host's own folder, then fetched once as a download.
    ws.send(JSON.stringify({ id: 5, channel: 'run.export', request: { runId, format: 'jsonl' } }));
    expect((await waitFor((f) => f.id === 5)).result?.value).toMatchObject({ fileName: '02-packet-read.jsonl' });
    const done = (await waitFor((f) => f.event === 'export.event' && (f.payload as unknown as { kind: string }).kind === 'done')).payload as unknown as { events: number; download: string; path: null };
    expect(done.path).toBeNull();
    expect(done.download).toMatch(/^\/downloads\/[\w-]+\/02-packet-read\.jsonl\?token=/);
    expect((await get(host.port, done.download.replace(/token=.*/, 'token=wrong'))).status).toBe(403);
    const fetched = await get(host.port, done.download);
    expect(fetched.status).toBe(200);
    expect(fetched.headers['content-disposition']).toContain('attachment; filename="02-packet-read.jsonl"');
    expect(fetched.body.trimEnd().split('\n')).toHaveLength(done.events);
    // Once: then it is gone from the host's folder.
    expect((await get(host.port, done.download)).status).toBe(404);
    expect(readdirSync(host.downloads.folder!)).toEqual([]);
    ws.close();
    other.close();
  }, 60_000);

  it('ends a socket\'s runs when the socket closes', async () => {
    const ws = await connect(apiUrl);
    const source = readFileSync(join(appRoot, 'labs', '02-packet-read', 'solution.ts'), 'utf8');
    const started = await call(ws, { id: 1, channel: 'run.start', request: { labId: '02-packet-read', source, stopAtStart: true } });
    expect(started.result.ok).toBe(true);
    expect(services.runs.active).toBe(1);
    ws.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(services.runs.active).toBe(0);
  }, 60_000);
});
