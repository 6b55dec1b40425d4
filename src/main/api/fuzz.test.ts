import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, type Envelope } from '../../shared/api';
import { API_CHANNELS, type ApiChannel } from '../../shared/channels';
import { ProgressFile } from '../../shared/progress';
import { MAX_FRAME_BYTES, WireRequest } from '../../shared/wire';
import { createServices, type Services } from '../services';
import { startWebHost, type WebHost } from '../webhost/server';
import { dispatch } from './dispatch';
import { DEEP_ARRAY, DEEPEST, fits, frameText, HUGE, malformed, ODD_CHANNEL_VALUES, ODD_CHANNELS, Rng, template } from './fuzz';
import type { ApiClient } from './handlers';

// The API holds: thousands of random, malformed requests to every channel, through the main
// handlers (dispatch, as Electron's IPC calls it) and through the web host's WebSocket. Each
// gets a clear error; nothing crashes, rejects unhandled or hangs; the store is unchanged.
// The seed is printed with any failure; DMALAB_FUZZ_SEED=<n> runs another sequence.

const appRoot = new URL('../../..', import.meta.url).pathname;
const SEED = Number(process.env.DMALAB_FUZZ_SEED ?? 0xd3a1ab) >>> 0;
/** Malformed requests per channel through dispatch (25 channels: over 10,000 in all) and through the web host. */
const MAIN_PER_CHANNEL = 450;
const WEB_PER_CHANNEL = 120;
/** Progress files that do not fit, each in a request that does (progress.import's `file` is checked by the handler). */
const IMPORT_FILES = 400;
/** A clear message says what was wrong in a few lines, not by echoing megabytes of the request. */
const MAX_MESSAGE = 4096;
const ANSWER_WITHIN_MS = 10_000;

const EXPECTED_CODES = ['bad-request', 'unknown-channel', 'not-found'];

/** What is wrong with the answer to a malformed request, or null when it is the clear error it should be. */
function wrongAnswer(channel: unknown, envelope: unknown): string | null {
  if (typeof envelope !== 'object' || envelope === null) return `answered ${String(envelope)}, not an envelope`;
  const env = envelope as Envelope<unknown>;
  if (env.ok !== false) return `answered ok: ${JSON.stringify(envelope).slice(0, 200)}`;
  if (Object.keys(env).join() !== 'ok,error' || typeof env.error !== 'object' || env.error === null || Object.keys(env.error).join() !== 'code,message') {
    return `an envelope of another shape: ${JSON.stringify(envelope).slice(0, 200)}`;
  }
  const { code, message } = env.error;
  if (!EXPECTED_CODES.includes(code)) return `code ${code}: ${message.slice(0, 300)}`;
  if (typeof message !== 'string' || message.trim() === '') return 'an empty message';
  if (message.length > MAX_MESSAGE) return `a message of ${message.length} characters: ${message.slice(0, 200)}…`;
  if (message.includes('[object Object]')) return `"[object Object]" in the message: ${message.slice(0, 300)}`;
  if (typeof channel === 'string' && (API_CHANNELS as readonly string[]).includes(channel)) {
    if (code === 'unknown-channel') return `unknown-channel for the channel ${channel}`;
    if (!message.startsWith(`${channel}: `)) return `the message does not name the channel ${channel}: ${message.slice(0, 300)}`;
    if (!/expected|Unrecognized key|such as|name either|does not fit|not a DMA Lab progress file|newer DMA Lab/.test(message)) return `the message does not say what was expected: ${message.slice(0, 300)}`;
  } else {
    if (code !== 'unknown-channel') return `code ${code} for an unknown channel`;
    const named = typeof channel === 'string' ? `"${channel.slice(0, 64)}"` : `a ${typeof channel}`;
    if (!message.startsWith(`unknown API channel ${named}; expected one of labs.list, labs.get`)) return `the message does not name the channel and the known ones: ${message.slice(0, 300)}`;
  }
  return null;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms: ${what}`)), ANSWER_WITHIN_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Lets Node report what it would (it looks for unhandled rejections only between macrotasks; awaiting dispatch alone never leaves the microtask queue). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => relative(dir, join(e.parentPath, e.name)) + (e.isDirectory() ? '/' : ''))
    .sort();
}

/** A socket to the web host, its answers matched to their frames by id (null: a frame too broken to carry one). */
class Socket {
  private readonly waiting = new Map<number | null, ((frame: { id: number | null; result: unknown }) => void)[]>();
  readonly closed: Promise<number>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = JSON.parse(String(data)) as { id: number | null; result: unknown };
      expect(isBinary).toBe(false);
      const queue = this.waiting.get(frame.id);
      const resolve = queue?.shift();
      if (resolve === undefined) throw new Error(`an answer nobody waits for: ${String(data).slice(0, 200)}`);
      resolve(frame);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }
  static open(url: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Socket(ws)));
      ws.once('error', reject);
    });
  }
  answer(id: number | null): Promise<{ id: number | null; result: unknown }> {
    return new Promise((resolve) => {
      const queue = this.waiting.get(id) ?? [];
      queue.push(resolve);
      this.waiting.set(id, queue);
    });
  }
  send(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary });
  }
}

describe(`the API under fuzzing (seed ${SEED})`, () => {
  let services: Services;
  let host: WebHost;
  let dataDir: string;
  let rendererDir: string;
  let apiUrl: string;
  const stored = () => ({ ...services.progress.get().exportProgress(), exportedAt: 0 });
  let before: { store: ReturnType<typeof stored>; files: string[] };
  const troubles: string[] = [];
  const onRejection = (reason: unknown) => troubles.push(`unhandled rejection: ${String(reason)}`);
  const onException = (err: Error) => troubles.push(`uncaught exception: ${err.stack ?? err.message}`);
  const emitted: string[] = [];
  let saveAsked = 0;
  const client: ApiClient = {
    emit: (name) => void emitted.push(name),
    onClose: () => {},
    chooseSavePlace: async () => {
      saveAsked++;
      return null;
    },
  };
  const sent = { main: 0, web: 0, webFrames: 0, skippedValid: 0, skippedOverFrame: 0 };
  const started = Date.now();

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    dataDir = mkdtempSync(join(tmpdir(), 'dmalab-fuzz-'));
    rendererDir = mkdtempSync(join(tmpdir(), 'dmalab-fuzz-renderer-'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>DMA Lab</title>');
    services = createServices(appRoot, { progressFile: join(dataDir, 'progress.sqlite') });
    // Something to keep: the fuzz must leave every bit of it as it is.
    services.progress.get().saveCode('02-packet-read', '// kept');
    services.progress.get().setSettings({ theme: 'light', editorPercent: 40 });
    services.progress.get().unlockHint('02-packet-read', 3);
    mkdirSync(join(dataDir, 'scenarios'), { recursive: true });
    before = { store: stored(), files: listFiles(dataDir) };
    host = await startWebHost({ rendererDir, handlers: services.handlers, port: 0 });
    apiUrl = `ws://127.0.0.1:${host.port}/api?token=${host.token}`;
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await host?.close();
    services?.progress.close();
    services?.pool.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(rendererDir, { recursive: true, force: true });
  });

  it('starts every mutation from a request that fits its channel', () => {
    for (const channel of API_CHANNELS) expect(api[channel].request.safeParse(template(channel)).success, channel).toBe(true);
    expect(ProgressFile.safeParse(template('progress.import').file).success).toBe(true);
  });

  it('answers every malformed request through the main handlers with a clear error', async () => {
    const rng = new Rng(SEED);
    const failures: string[] = [];
    const perChannel = new Map<ApiChannel, number>(API_CHANNELS.map((c) => [c, 0]));
    const send = async (channel: unknown, request: unknown, what: string) => {
      const label = `seed ${SEED}, main #${sent.main}, ${String(channel).slice(0, 40)}: ${what}`;
      sent.main++;
      let envelope: unknown;
      try {
        envelope = await withTimeout(dispatch(services.handlers, channel, request, () => {}, client), label);
      } catch (err) {
        failures.push(`${label}: threw ${err instanceof Error ? err.stack : String(err)}`);
        return;
      }
      const wrong = wrongAnswer(channel, envelope);
      if (wrong !== null) failures.push(`${label}: ${wrong}`);
    };

    for (const channel of API_CHANNELS) {
      for (let tries = 0; (perChannel.get(channel) ?? 0) < MAIN_PER_CHANNEL && tries < MAIN_PER_CHANNEL * 20; tries++) {
        const { request, what } = malformed(channel, rng, true);
        if (fits(channel, request)) {
          sent.skippedValid++;
          continue;
        }
        perChannel.set(channel, (perChannel.get(channel) ?? 0) + 1);
        await send(channel, request, what);
      }
      await settle();
    }
    // progress.import: a request that fits, carrying a file that does not.
    for (let n = 0; n < IMPORT_FILES; ) {
      const { request, what } = malformed('progress.import', rng, true);
      const file = (request as { file?: unknown } | null)?.file;
      if (!fits('progress.import', request) || ProgressFile.safeParse(file).success) continue;
      n++;
      await send('progress.import', request, `a file with ${what}`);
    }
    for (const channel of [...ODD_CHANNELS, ...ODD_CHANNEL_VALUES]) {
      for (const request of [{}, template('labs.get'), null, 'x', DEEP_ARRAY.value, HUGE]) await send(channel, request, 'an unknown channel');
    }

    await settle();
    expect(failures.slice(0, 10), `${failures.length} wrong answers (seed ${SEED})`).toEqual([]);
    for (const channel of API_CHANNELS) expect(perChannel.get(channel), `malformed requests for ${channel} (seed ${SEED})`).toBe(MAIN_PER_CHANNEL);
    expect(sent.main).toBeGreaterThanOrEqual(10_000);
    // Nothing reached a handler that would start, export or save: no events, no save dialog.
    expect(emitted).toEqual([]);
    expect(saveAsked).toBe(0);
  }, 60_000);

  it('answers every malformed frame through the web host with a clear error, and stays up', async () => {
    const rng = new Rng(SEED ^ 0x5eb);
    const failures: string[] = [];
    const socket = await Socket.open(apiUrl);
    let nextId = 1;

    // Requests as frames, a batch at a time, each answer matched by id.
    const batch: Promise<void>[] = [];
    const flush = async () => {
      await withTimeout(Promise.all(batch.splice(0)), `seed ${SEED}: a batch of web frames`);
    };
    const sendFrame = (channel: unknown, request: unknown, what: string) => {
      const text = frameText({ id: nextId, channel, request });
      if (Buffer.byteLength(text) > MAX_FRAME_BYTES) {
        sent.skippedOverFrame++;
        return;
      }
      // What the host will see: the frame as JSON carries it (NaN as null, no undefined).
      const seen = JSON.parse(text) as unknown;
      if (typeof channel === 'string' && (API_CHANNELS as readonly string[]).includes(channel) && fits(channel as ApiChannel, (seen as { request: unknown }).request)) {
        sent.skippedValid++;
        return;
      }
      const id = nextId++;
      const label = `seed ${SEED}, web #${id}, ${String(channel).slice(0, 40)}: ${what}`;
      const isFrame = WireRequest.safeParse(seen).success;
      batch.push(
        socket.answer(isFrame ? id : null).then(({ result }) => {
          const wrong = isFrame ? wrongAnswer(channel, result) : frameProblem(result);
          if (wrong !== null) failures.push(`${label}: ${wrong}`);
        }),
      );
      socket.send(text);
      sent.web++;
    };

    for (const channel of API_CHANNELS) {
      for (let n = 0, tries = 0; n < WEB_PER_CHANNEL && tries < WEB_PER_CHANNEL * 20; tries++) {
        const before = sent.web;
        const { request, what } = malformed(channel, rng, false);
        sendFrame(channel, request, what);
        if (sent.web > before) n++;
        if (batch.length >= 50) await flush();
      }
      await flush();
    }
    for (const channel of ODD_CHANNELS) for (const request of [{}, template('labs.get'), null]) sendFrame(channel, request, 'an unknown channel');
    await flush();

    // Broken frames, one at a time: they carry no id to match.
    const broken: [string | Buffer, boolean][] = [
      ['not json', false],
      ['', false],
      ['   ', false],
      ['{', false],
      ['{"id":1,"channel":"labs.list","request":{}}trailing', false],
      ["{'id':1}", false],
      ['\u0000', false],
      ['undefined', false],
      ['NaN', false],
      ...['null', '1', '"labs.list"', '[]', '[1,"labs.list",{}]', '{}', '{"id":1}', '{"id":1,"channel":"labs.list"}', '{"channel":"labs.list","request":{}}'].map((t): [string, boolean] => [t, false]),
      ...[-1, 1.5, '"1"', 'null', 2 ** 53, 1e308, '[]', '{}', 'true'].map((id): [string, boolean] => [`{"id":${id},"channel":"labs.list","request":{}}`, false]),
      ...['5', 'null', '[]', '{}', JSON.stringify('x'.repeat(65)), JSON.stringify('labs.list'.repeat(8))].map((ch): [string, boolean] => [`{"id":1,"channel":${ch},"request":{}}`, false]),
      ...['__proto__', 'constructor', 'prototype', 'extra'].map((k): [string, boolean] => [`{"id":1,"channel":"labs.list","request":{},"${k}":{"polluted":true}}`, false]),
      ['['.repeat(10_000) + ']'.repeat(10_000), false],
      ['{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), false],
      [Buffer.from('{"id":1,"channel":"labs.list","request":{}}'), true],
      [Buffer.from([0xff, 0x00, 0xfe]), true],
      [Buffer.alloc(0), true],
    ];
    for (const [frame, binary] of broken) {
      const answer = socket.answer(null);
      socket.send(frame, binary);
      sent.webFrames++;
      const wrong = frameProblem((await withTimeout(answer, `seed ${SEED}: the broken frame ${String(frame).slice(0, 60)}`)).result);
      if (wrong !== null) failures.push(`seed ${SEED}, the broken frame ${String(frame).slice(0, 60)}: ${wrong}`);
    }

    expect(failures.slice(0, 10), `${failures.length} wrong answers (seed ${SEED})`).toEqual([]);
    // The same socket still answers.
    const answer = socket.answer(nextId);
    socket.send(JSON.stringify({ id: nextId, channel: 'labs.list', request: {} }));
    expect((await withTimeout(answer, 'labs.list after the fuzz')).result).toMatchObject({ ok: true });
    socket.ws.close();

    // Over the frame limit (each on its own connection): closed with 1009, "message too big";
    // text that is not UTF-8: closed with 1007. The host serves the next connection.
    for (const [frame, code] of [
      ['x'.repeat(MAX_FRAME_BYTES + 1), 1009],
      [frameText({ id: 1, channel: 'progress.saveCode', request: { labId: '01-adapter-object', code: HUGE } }), 1009],
      [frameText({ id: 1, channel: 'labs.get', request: { id: DEEPEST.value, pad: 'p'.repeat(MAX_FRAME_BYTES) } }), 1009],
      [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 1007],
    ] as const) {
      const alone = await Socket.open(apiUrl);
      alone.send(frame);
      sent.webFrames++;
      expect(await withTimeout(alone.closed, `seed ${SEED}: closing a connection that sent a bad frame`)).toBe(code);
    }
    const after = await Socket.open(apiUrl);
    const list = after.answer(1);
    after.send(JSON.stringify({ id: 1, channel: 'labs.list', request: {} }));
    expect((await withTimeout(list, 'labs.list on a new connection')).result).toMatchObject({ ok: true });
    after.ws.close();
    expect(sent.web).toBeGreaterThanOrEqual(API_CHANNELS.length * WEB_PER_CHANNEL);
  }, 60_000);

  it('crashed nothing, left no unhandled rejection, polluted no prototype and changed nothing stored', async () => {
    await settle();
    console.log(
      `api fuzz (seed ${SEED}): ${sent.main} malformed requests through the main handlers, ${sent.web} requests and ${sent.webFrames} broken frames through the web host ` +
        `(${sent.skippedValid} generated requests fitted their channel and were not sent, ${sent.skippedOverFrame} were over the frame limit) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(troubles, `seed ${SEED}`).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.toString.call({})).toBe('[object Object]');
    expect(stored(), `seed ${SEED}`).toEqual(before.store);
    expect(listFiles(dataDir), `seed ${SEED}`).toEqual(before.files);
  });
});

/** What is wrong with the answer to a frame too broken to carry an id, or null. */
function frameProblem(result: unknown): string | null {
  const r = result as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (r?.ok !== false || r.error?.code !== 'bad-request') return `answered ${JSON.stringify(result).slice(0, 200)}`;
  const message = String(r.error.message);
  return /^(a frame is not valid JSON|a frame must be \{"id": integer, "channel": string, "request": value\}|frames must be JSON text)$/.test(message) ? null : `an unclear message: ${message}`;
}
