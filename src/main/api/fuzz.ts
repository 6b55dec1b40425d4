import { api } from '../../shared/api';
import { API_CHANNELS, type ApiChannel } from '../../shared/channels';

// Malformed API requests for the fuzz test (fuzz.test.ts), built by construction from a
// seeded PRNG so that a failure reproduces from its seed: each starts from a request that
// fits its channel and is then broken (a field of the wrong type, a field missing, an unknown
// key, a prototype-pollution key, an over-long or odd string, deep nesting, an odd number, or
// no object at all).

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Sets an own, enumerable property, even `__proto__` (which plain assignment would make the prototype). */
export function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export const DEEP_DEPTH = 10_000;

/** A deeply nested value, with its JSON text (JSON.stringify itself overflows the stack on it). */
export interface Deep {
  value: unknown;
  json: string;
  depth: number;
}

function deep(open: string, leaf: string, close: string, depth: number): Deep {
  const json = open.repeat(depth) + leaf + close.repeat(depth);
  return { value: JSON.parse(json), json, depth };
}

/** Arrays in arrays, DEEP_DEPTH of them. */
export const DEEP_ARRAY = deep('[', '', ']', DEEP_DEPTH);
/** Ten times deeper, still well inside a frame (200 kB). */
export const DEEPEST = deep('[', '', ']', 100_000);
export const DEEP: readonly Deep[] = [DEEP_ARRAY, deep('{"a":', '1', '}', DEEP_DEPTH), deep('[{"x":', 'null', '}]', DEEP_DEPTH / 2), deep('{"__proto__":', '{}', '}', DEEP_DEPTH), DEEPEST];
const deepJson = new Map<unknown, string>(DEEP.map((d) => [d.value, d.json]));

/** Over every string limit of the contract (the largest is 1 MiB), and over the web host's frame limit. */
export const HUGE = 'a'.repeat(2 * 1024 * 1024);
const HUGE_ODD = '\u0000🙂'.repeat(700_000);
/** Over the code limits (1,000,000) yet inside one WebSocket frame. */
const JUST_OVER = 'b'.repeat(1_000_001);

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '01-adapter-object\u0000',
  ' 01-adapter-object',
  '01-ADAPTER-OBJECT',
  '\ud800',
  '\udfff\ud800',
  '🙂🙂🙂',
  'e\u0301\u0301\u0301',
  '\u202eevil',
  '\ufeff01-adapter-object',
  '\u2028\u2029',
  '../../../etc/passwd',
  'example/../../x',
  'mine/' + 'z'.repeat(64),
  'mine/Upper',
  'example/floppy-packet/',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '[object Object]',
  'null',
  '0',
  'NaN',
  '<script>alert(1)</script>',
  "'; DROP TABLE lab; --",
  'x'.repeat(201),
  'x'.repeat(65_536),
];

const ODD_NUMBERS = [0, -0, 1, -1, 0.5, 1.5, -1.5, NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, 2 ** 31 + 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER + 1, -(2 ** 31), 4097, 1001, 1_000_001, 91, 9];

export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf'];

const EXTRA_KEYS = [...POLLUTION_KEYS, 'extra', '', ' ', 'id ', 'ID', 'labid', '\u0000', '\ud800', '🙂', 'a.b', '0', 'x'.repeat(300), 'k'.repeat(100_000)];

/** What JSON carries: the web host's requests stay within these. */
type Kind = 'number' | 'string' | 'boolean' | 'null' | 'array' | 'object';

function pollutedObject(rng: Rng): object {
  switch (rng.int(4)) {
    case 0:
      return JSON.parse('{"__proto__": {"polluted": true, "isAdmin": true}}') as object;
    case 1:
      return { constructor: { prototype: { polluted: true } } };
    case 2:
      return JSON.parse('{"__proto__": {"__proto__": {"polluted": true}}, "prototype": {"polluted": true}}') as object;
    default: {
      const o = {};
      setOwn(o, '__proto__', { toString: 'polluted', valueOf: 1 });
      return o;
    }
  }
}

function valueOf(kind: Kind, rng: Rng): unknown {
  switch (kind) {
    case 'number':
      return rng.pick(ODD_NUMBERS);
    case 'string':
      return rng.pick(ODD_STRINGS);
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'array':
      return rng.pick<() => unknown>([() => [], () => [1], () => ['a'], () => [null], () => [[1, 2], { a: 1 }], () => Array.from({ length: 2000 }, (_, i) => i),
        () => Array.from({ length: 5000 }, () => 'x'), () => rng.pick(DEEP.filter((d) => Array.isArray(d.value))).value])();
    case 'object':
      return rng.pick<() => unknown>([() => ({}), () => ({ a: 1 }), () => ({ id: '01-adapter-object' }), () => pollutedObject(rng), () => rng.pick(DEEP.filter((d) => !Array.isArray(d.value))).value])();
  }
}

function kindOf(value: unknown): Kind | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'number' || t === 'string' || t === 'boolean' || t === 'object' ? t : 'other';
}

const KINDS: readonly Kind[] = ['number', 'string', 'boolean', 'null', 'array', 'object'];

/** A value of another type than `like` (number↔string↔bool↔null↔array↔object); through dispatch also what IPC alone can carry. */
function wrongType(like: unknown, rng: Rng, ipcOnly: boolean): unknown {
  if (ipcOnly && rng.chance(0.1)) return rng.pick<() => unknown>([() => undefined, () => 1n, () => new Date(0), () => new Map([['id', 1]]), () => new Uint8Array(4)])();
  const kinds = KINDS.filter((k) => k !== kindOf(like));
  return valueOf(rng.pick(kinds), rng);
}

/** A request that fits each channel's schema: what the mutations start from. */
export function template(channel: ApiChannel): Record<string, unknown> {
  const labId = '01-adapter-object';
  switch (channel) {
    case 'labs.list':
    case 'progress.overview':
    case 'settings.get':
    case 'progress.export':
    case 'playground.list':
      return {};
    case 'labs.get':
      return { id: labId };
    case 'run.start':
      return { labId, source: 'export function DriverEntry() { return 0; }', breakpoints: [1, 2], stopAtStart: false, speed: 0, seed: 1 };
    case 'run.prepare':
      return { labId, source: 'export function DriverEntry() { return 0; }' };
    case 'run.control':
      return { runId: 1, action: 'continue' };
    case 'run.set':
      return { runId: 1, breakpoints: [3], speed: 1 };
    case 'run.trace':
      return { runId: 1, filter: 'all', from: 0, count: 10 };
    case 'run.signals':
    case 'run.timeline':
      return { runId: 1, fromNs: 0, toNs: 1000 };
    case 'run.memory':
      return { runId: 1, address: 0, length: 16 };
    case 'progress.lab':
    case 'progress.hints':
    case 'progress.unlockHint':
    case 'labs.solution':
      return { labId };
    case 'progress.saveCode':
      return { labId, code: '// mine' };
    case 'settings.set':
      return { theme: 'dark', speed: 1, editorPercent: 50, lastLab: labId };
    case 'run.export':
      return { runId: 1, format: 'vcd', detail: 'bus', vcdBuses: 'bits' };
    case 'run.exportCancel':
      return { exportId: 1 };
    case 'progress.import':
      return {
        file: {
          format: 'dmalab-progress',
          version: 1,
          exportedAt: 0,
          labs: [{ labId, status: 'in-progress', code: '// x', codeSavedAt: 1, hintsUnlocked: 0, passedAt: null }],
          attempts: [{ labId, at: 1, ok: false, outcome: 'result', checksPassed: 1, checksTotal: 4, failed: ['a'], findings: [], bugcheck: null }],
          settings: { theme: 'dark', speed: 0, editorPercent: 56, lastLab: null },
        },
      };
    case 'playground.get':
      return { id: 'example/floppy-packet' };
    case 'playground.open':
      return { fileName: 'mine.scenario.yaml', text: 'name: mine\n' };
    case 'playground.saveDriver':
      return { id: 'mine/fuzz', code: '// mine' };
  }
}

type Container = Record<string, unknown> | unknown[];
type Slot = { parent: Container; key: string | number };

/** Not looked inside: the shared deep values (never to be changed, and too deep to walk) and whatever is nested past the templates' own depth. */
const opaque = (value: unknown, depth: number) =>
  depth > 4 || deepJson.has(value) || typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Date;

/** Every place inside `value` that holds a value (an object's key, an array's element). */
function slots(value: unknown, out: Slot[] = [], depth = 0): Slot[] {
  if (opaque(value, depth)) return out;
  if (Array.isArray(value)) {
    value.slice(0, 50).forEach((item, i) => {
      out.push({ parent: value, key: i });
      slots(item, out, depth + 1);
    });
  } else {
    for (const [key, item] of Object.entries(value as object)) {
      out.push({ parent: value as Record<string, unknown>, key });
      slots(item, out, depth + 1);
    }
  }
  return out;
}

/** Every object inside `value`, where an extra key can go. */
function containers(value: unknown, out: Record<string, unknown>[] = [], depth = 0): Record<string, unknown>[] {
  if (opaque(value, depth)) return out;
  if (Array.isArray(value)) for (const item of value.slice(0, 50)) containers(item, out, depth + 1);
  else {
    out.push(value as Record<string, unknown>);
    for (const item of Object.values(value as object)) containers(item, out, depth + 1);
  }
  return out;
}

function put(slot: Slot, value: unknown): void {
  if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = value;
  else setOwn(slot.parent, slot.key as string, value);
}

const clone = (value: Record<string, unknown>) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

export interface Malformed {
  request: unknown;
  /** What was done to it, for a failure message. */
  what: string;
}

/** One malformed request for `channel` (not yet checked against the schema: the caller does that). */
export function malformed(channel: ApiChannel, rng: Rng, ipcOnly: boolean): Malformed {
  const whole = rng.int(100);
  if (whole < 8) {
    const request = rng.pick<() => unknown>([
      () => 'text',
      () => '',
      () => HUGE,
      () => 42,
      () => NaN,
      () => true,
      () => null,
      () => [],
      () => [template(channel)],
      () => rng.pick(DEEP).value,
      () => (ipcOnly ? undefined : null),
      () => (ipcOnly ? 7n : 'bigint'),
      () => Object.entries(template(channel)),
    ])();
    return { request, what: `the whole request replaced by a ${kindOf(request)}` };
  }
  if (whole < 14) {
    // A JSON text with prototype keys, parsed the way the web host parses a frame.
    const body = JSON.stringify(template(channel)).slice(1, -1);
    const key = rng.pick(POLLUTION_KEYS);
    const json = `{${body}${body === '' ? '' : ','}"${key}": {"polluted": true, "__proto__": {"polluted": true}}}`;
    return { request: JSON.parse(json), what: `JSON with an own "${key}" key` };
  }
  const request = clone(template(channel));
  const steps: string[] = [];
  const count = 1 + (rng.chance(0.25) ? rng.int(3) : 0);
  for (let i = 0; i < count; i++) steps.push(mutate(request, rng, ipcOnly));
  return { request, what: steps.join(', then ') };
}

function mutate(request: Record<string, unknown>, rng: Rng, ipcOnly: boolean): string {
  const places = slots(request);
  const op = rng.int(7);
  if (places.length === 0 || op === 0) {
    const target = rng.pick(containers(request).length > 0 ? containers(request) : [request]);
    const key = rng.pick(EXTRA_KEYS);
    setOwn(target, key, rng.chance(0.3) ? pollutedObject(rng) : wrongType(undefined, rng, ipcOnly));
    return `extra key "${key.slice(0, 20)}"`;
  }
  const slot = rng.pick(places);
  const at = String(slot.key);
  const old = (slot.parent as Record<string | number, unknown>)[slot.key];
  switch (op) {
    case 1:
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
      return `"${at}" removed`;
    case 2: {
      // Through the web host a frame over MAX_FRAME_BYTES only closes the socket (tested on its own): there the strings
      // stay inside one frame, and fewer of them are a megabyte long (each costs a frame of that size).
      const long = ipcOnly ? [HUGE, HUGE_ODD, JUST_OVER, JUST_OVER + '\u0000'] : rng.chance(0.2) ? [JUST_OVER, JUST_OVER + '\u0000'] : [];
      const value = rng.pick([...long, rng.pick(ODD_STRINGS) + HUGE.slice(0, rng.int(70_000))]);
      put(slot, typeof old === 'string' && rng.chance(0.5) ? old + value : value);
      return `"${at}" a string of ${value.length} characters`;
    }
    case 3: {
      const d = rng.pick(DEEP);
      put(slot, d.value);
      return `"${at}" nested ${d.depth} deep`;
    }
    case 4: {
      const n = rng.pick(ODD_NUMBERS);
      put(slot, typeof old === 'number' && rng.chance(0.3) ? -old : n);
      return `"${at}" the number ${String(n)}`;
    }
    case 5:
      put(slot, pollutedObject(rng));
      return `"${at}" a prototype-polluting object`;
    default: {
      const value = wrongType(old, rng, ipcOnly);
      put(slot, value);
      return `"${at}" a ${kindOf(value)} instead of a ${kindOf(old)}`;
    }
  }
}

/** Whether `request` fits `channel`'s schema (then it is not malformed, and is not sent). */
export function fits(channel: ApiChannel, request: unknown): boolean {
  return api[channel].request.safeParse(request).success;
}

/** JSON text of a frame, deep values included (JSON.stringify overflows the stack on them), BigInt as text. */
export function frameText(frame: unknown): string {
  const holes: string[] = [];
  const text = JSON.stringify(frame, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    const json = deepJson.get(value);
    if (json === undefined) return value;
    holes.push(json);
    return `\u0000deep${holes.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000deep(\d+)\\u0000"/g, (_m, i: string) => holes[Number(i)] ?? '');
}

export const ODD_CHANNELS: readonly unknown[] = [
  '',
  ' ',
  'labs.list ',
  ' labs.list',
  'LABS.LIST',
  'labs.list\u0000',
  'labs',
  'labs.',
  '.list',
  'labs..list',
  'labs/list',
  'run.event',
  'export.event',
  'dmalab:api',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '🙂',
  '\ud800',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(10_000),
  ...API_CHANNELS.map((c) => c.toUpperCase()),
  ...API_CHANNELS.map((c) => `${c}.`),
];

/** Channel names only a direct caller (IPC, tests) can give: the web host's frames carry a string of at most 64. */
export const ODD_CHANNEL_VALUES: readonly unknown[] = [undefined, null, 0, 1, NaN, true, [], ['labs.list'], {}, { toString: () => 'labs.list' }, 1n, HUGE];
