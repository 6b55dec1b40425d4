import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, type ExpectStatic, it } from 'vitest';
import { stringify } from 'yaml';
import type { ApiChannel } from '../../shared/channels';
import type { RunEvent, RunOutcome } from '../../shared/run';
import type { RunResult } from '../../shared/runResult';
import { ESCAPE_CORPUS, ESCAPE_SCENARIO, type EscapeCase, HOST_CANARY_GLOBAL, HOST_CANARY_SECRET } from '../../sim/driver/escapeCorpus';
import { SPINNING_DRIVER, SPINNING_SCENARIO } from '../../sim/driver/spinningDriver';
import { DEFAULT_LIMITS } from '../../sim/driver/sandbox';
import { dispatch } from '../api/dispatch';
import { type ApiClient, createApiHandlers } from '../api/handlers';
import { LabCatalog } from './labCatalog';
import { Playground } from './playground';
import { Progress } from './progress';
import { RunManager } from './runManager';
import { WorkerPool } from './workerPool';

// The sandbox holds inside the app too (DESIGN.md, "The sandbox"): every driver of the escape
// corpus (escapeCorpus.ts, which sandbox.escape.test.ts runs in detail through runScenario) is
// run as the app runs a driver: the corpus's scenario opened in the playground as the
// person's own, run.start through the API's dispatch, a debug run in a worker of a real
// WorkerPool, its events heard by a client. Each must end in a result or a load error, never
// in a crash of the pool or of this process, with nothing of the host in it; afterwards the
// pool still runs a lab to a pass and no run is left going. Then a hostile driver that keeps
// its simulation busy without end runs while another lab's run completes and the API answers.
//
// The app's runs use the app's limits (DEFAULT_LIMITS: 256 MiB, 1,000 watchdog ticks), not the
// corpus's small ones (64 MiB, 200 ticks, and more ticks for a few cases), which run.start
// cannot pass. So a runaway loop runs five times as long before its 0x133, a loop that keeps
// allocating grows to 256 MiB and may meet the watchdog before the memory budget, a deep
// nesting may end as 0x133 rather than 0x7F: the bug check a case ends in is not asserted
// here (sandbox.escape.test.ts does that), only that it is contained. Nor can run.start pass a
// driver's own files (a playground driver imports none), so the one case that imports its
// lab's helper is a load error here. No case is skipped.

const root = join(__dirname, '..', '..', '..');
const workerPath = join(root, 'out', 'main', 'simWorker.js');
/** Simulations at once: the cores of the machine these tests are written for. */
const WIDTH = 2;
/**
 * Two warm spares, as the app keeps (services/index.ts): a run takes one when one is ready and
 * starts its own worker otherwise, so that both ways into a worker meet the corpus.
 */
const pool = new WorkerPool(workerPath, WIDTH, 2);
const folder = mkdtempSync(join(tmpdir(), 'dmalab-sandboxpool-'));
const catalog = new LabCatalog(join(root, 'labs'));
const playground = new Playground(join(root, 'labs', 'playground'), join(folder, 'scenarios'));
const progress = new Progress(join(folder, 'progress.sqlite'), {}, () => {});
const runs = new RunManager(catalog, pool, (labId, outcome) => progress.recordRun(labId, outcome), playground);
const handlers = createApiHandlers({ catalog, playground, runs, progress });

/** What the API answers, or its error as an exception. */
async function call(channel: ApiChannel, request: unknown, client?: ApiClient): Promise<unknown> {
  const envelope = await dispatch(handlers, channel, request, () => {}, client);
  if (!envelope.ok) throw new Error(`${channel}: ${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

/** A window: it hears its runs' events, and can wait for one. */
function client() {
  const events: { runId: number; event: RunEvent }[] = [];
  const waiting: { test: (e: { runId: number; event: RunEvent }) => boolean; resolve: (e: RunEvent) => void }[] = [];
  const c: ApiClient = {
    emit: (name, payload) => {
      if (name !== 'run.event') return;
      const heard = payload as { runId: number; event: RunEvent };
      events.push(heard);
      for (const w of waiting.filter((w) => w.test(heard))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(heard.event);
      }
    },
    onClose: () => {},
  };
  /** The first event of run `runId` that passes `test`, heard already or to come. */
  const next = (runId: number, test: (event: RunEvent) => boolean): Promise<RunEvent> => {
    const heard = events.find((e) => e.runId === runId && test(e.event));
    if (heard) return Promise.resolve(heard.event);
    return new Promise((resolve) => waiting.push({ test: (e) => e.runId === runId && test(e.event), resolve }));
  };
  const finished = async (runId: number): Promise<RunOutcome> => {
    const event = await next(runId, (e) => e.kind === 'finished');
    return (event as Extract<RunEvent, { kind: 'finished' }>).outcome;
  };
  const of = (runId: number) => events.filter((e) => e.runId === runId).map((e) => e.event);
  const start = async (request: Record<string, unknown>): Promise<number> => ((await call('run.start', request, c)) as { runId: number }).runId;
  return { c, events, of, next, finished, start };
}

// ---- The host's canary: this process's globalThis holds it, and no event may ------------------

let canaryReads = 0;
const canary = Object.freeze({ secret: HOST_CANARY_SECRET });

const globalExpect = expect;

/** Host paths that no result may name: the app's folder and the data folder. */
const hostPaths = [root, folder];

/** What every outcome's result must be: plain data, nothing of the host in it, no simulator failure blamed on the driver. */
function expectContained(name: string, events: RunEvent[], expect: ExpectStatic = globalExpect): void {
  const text = JSON.stringify(events);
  expect(text, name).not.toContain(HOST_CANARY_SECRET);
  for (const path of hostPaths) expect(text, name).not.toContain(path);
  const end = events.find((e) => e.kind === 'finished');
  if (end?.kind !== 'finished' || end.outcome.kind !== 'result') return;
  const result: RunResult = end.outcome.result;
  const resultText = JSON.stringify(result);
  expect(resultText, name).not.toMatch(/internal error in the simulator/);
  expect(resultText.length, name).toBeLessThan(64 * 1024);
  for (const line of result.console) expect(line.length, name).toBeLessThanOrEqual(4096);
}

let corpusId = '';

/** Lanes: a client each, one run at a time per lane, WIDTH lanes. */
const lanes = Array.from({ length: WIDTH }, () => client());
const free = [...lanes];
const queue: ((lane: (typeof lanes)[number]) => void)[] = [];
async function withLane<T>(work: (lane: (typeof lanes)[number]) => Promise<T>): Promise<T> {
  const lane = free.pop() ?? (await new Promise<(typeof lanes)[number]>((go) => queue.push(go)));
  try {
    return await work(lane);
  } finally {
    const next = queue.shift();
    if (next) next(lane);
    else free.push(lane);
  }
}

/** How each case ended, by name. */
const outcomes = new Map<string, RunOutcome['kind']>();
const timings: [string, number][] = [];
let corpusStarted = 0;

/**
 * The cases that cannot load: imports of anything but the lab's own files, the lab's own
 * file too (the app passes a playground driver no files), an accessor on __line, nesting too
 * deep to compile, and a throw at the top level. Every other case is a result.
 */
const LOAD_ERRORS = new Set([
  ...ESCAPE_CORPUS.filter((c) => c.name.startsWith('static import')).map((c) => c.name),
  '__line as an accessor',
  'nesting too deep to compile',
  ...ESCAPE_CORPUS.filter((c) => c.name.startsWith('thrown at the top level: ')).map((c) => c.name),
]);

beforeAll(async () => {
  if (!existsSync(workerPath)) throw new Error('the app is not built: run "npx electron-vite build" before these tests');
  Object.defineProperty(globalThis, HOST_CANARY_GLOBAL, {
    get: () => {
      canaryReads++;
      return canary;
    },
    configurable: true,
    enumerable: false,
  });
  // The corpus's scenario, opened from a file as the person opens one of their own.
  corpusId = ((await call('playground.open', { fileName: 'escape-corpus.json', text: JSON.stringify(ESCAPE_SCENARIO) })) as { id: string }).id;
  await runs.prepare();
  corpusStarted = performance.now();
});

afterAll(() => {
  runs.stopAll();
  delete (globalThis as Record<string, unknown>)[HOST_CANARY_GLOBAL];
  rmSync(folder, { recursive: true, force: true });
  const total = timings.reduce((n, [, ms]) => n + ms, 0);
  console.log(
    `sandbox corpus in the worker pool (width ${WIDTH}): ${timings.length} drivers, ${(total / 1000).toFixed(1)} s of runs\n${timings
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([name, ms]) => `  ${ms.toFixed(0).padStart(6)} ms  ${name.slice(0, 100)}`)
      .join('\n')}`,
  );
});

describe('the escape corpus, run in the app\'s worker pool', () => {
  it('uses the app\'s limits (what this file\'s comment says it changes)', () => {
    expect(DEFAULT_LIMITS).toEqual({ memoryBytes: 256 * 1024 * 1024, stackBytes: 256 * 1024, watchdogTicks: 1000 });
  });

  describe.concurrent('every driver ends in a result or a load error, with nothing of the host in it', () => {
    it.for(ESCAPE_CORPUS.map((c): [string, EscapeCase] => [c.name, c]))('%s', { timeout: 60_000 }, async ([name, c], { expect: expectHere }) => {
      await withLane(async (lane) => {
        const t = performance.now();
        const runId = await lane.start({ scenarioId: corpusId, source: c.source, seed: c.seed ?? 1, breakpoints: [], stopAtStart: false, speed: 0 });
        const outcome = await lane.finished(runId);
        timings.push([name, performance.now() - t]);
        outcomes.set(name, outcome.kind);
        expectHere(outcome.kind === 'crash' ? outcome.message : outcome.kind, name).toBe(LOAD_ERRORS.has(name) ? 'load-error' : 'result');
        expectContained(name, lane.of(runId), expectHere);
        expectHere(canaryReads, name).toBe(0);
        // The run's trace is not wanted: its worker goes now, not at the lane's next run.
        await call('run.control', { runId, action: 'stop' }, lane.c);
      });
    });
  });

  it('leaves the pool running a lab to a pass, and no run going', async () => {
    expect(outcomes.size).toBe(ESCAPE_CORPUS.length);
    expect([...outcomes.values()].filter((k) => k !== 'result' && k !== 'load-error')).toEqual([]);
    console.log(`corpus in the pool: ${((performance.now() - corpusStarted) / 1000).toFixed(1)} s of wall time`);
    const lab = client();
    const runId = await lab.start({ labId: '02-packet-read', source: readFileSync(join(root, 'labs', '02-packet-read', 'solution.ts'), 'utf8') });
    const outcome = await lab.finished(runId);
    expect(outcome.kind === 'result' && outcome.result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(outcome.kind === 'result' && outcome.result.ok).toBe(true);
    expect(runs.active).toBe(0);
    await call('run.control', { runId, action: 'stop' }, lab.c);
    await expect.poll(() => pool.running).toBe(0);
    expect(canaryReads).toBe(0);
  }, 60_000);
});

// ---- A hostile driver that never lets go, beside another lab's run ------------------------------

describe('a hostile driver that keeps its simulation busy', () => {
  it('runs while another lab\'s run completes and the API answers, and stops when told', async () => {
        const { id } = (await call('playground.open', { fileName: 'hostile.yaml', text: stringify(SPINNING_SCENARIO) })) as { id: string };
    const hostile = client();
    const hostileId = await hostile.start({ scenarioId: id, source: SPINNING_DRIVER });
    expect(pool.running).toBe(1);
    // Going: its state streams in, some simulated milliseconds (and Burn DPCs) in; or it ended, which it must not.
    const hostileEnded = () => hostile.of(hostileId).some((e) => e.kind === 'finished');
    await hostile.next(hostileId, (e) => e.kind === 'finished' || (e.kind === 'state' && e.state.timeNs >= 3_000_000));
    expect(hostile.of(hostileId).find((e) => e.kind === 'finished')).toBeUndefined();

    // Lab 02's reference solution, beside it: both simulations at once.
    const lab = client();
    const labId = await lab.start({ labId: '02-packet-read', source: readFileSync(join(root, 'labs', '02-packet-read', 'solution.ts'), 'utf8') });
    expect(pool.running).toBe(2);
    expect(runs.active).toBe(2);
    const outcome = await lab.finished(labId);
    expect(outcome.kind).toBe('result');
    expect(outcome.kind === 'result' && outcome.result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(outcome.kind === 'result' && outcome.result.ok).toBe(true);
    expect(hostileEnded()).toBe(false);

    // The main thread answers meanwhile: the catalog, through the API as the page asks for it.
    const statesBefore = hostile.of(hostileId).filter((e) => e.kind === 'state').length;
    const list = (await call('labs.list', {})) as { labs: { id: string }[] };
    expect(list.labs.map((l) => l.id)).toContain('02-packet-read');
    expect((await catalog.list()).labs.length).toBe(list.labs.length);
    expect(hostileEnded()).toBe(false);
    // …and the hostile run is still making progress, not merely not finished.
    await hostile.next(hostileId, (e) => e.kind === 'finished' || (e.kind === 'state' && hostile.of(hostileId).filter((s) => s.kind === 'state').length > statesBefore));
    expect(hostileEnded()).toBe(false);
    expect(runs.active).toBe(1);

    // Stopped: it ends as stopped, and nothing is left going.
    await call('run.control', { runId: hostileId, action: 'stop' }, hostile.c);
    expect(await hostile.finished(hostileId)).toEqual({ kind: 'stopped' });
    expect(runs.active).toBe(0);
    await call('run.control', { runId: labId, action: 'stop' }, lab.c);
    await expect.poll(() => pool.running).toBe(0);
    // The DPCs it ran never reached the watchdog: its last state is a run going, not a bug check.
    const states = hostile.of(hostileId).filter((e): e is Extract<RunEvent, { kind: 'state' }> => e.kind === 'state');
    expect(states.at(-1)!.state.timeNs).toBeGreaterThanOrEqual(3_000_000);
    expectContained('hostile', hostile.of(hostileId));
    expect(canaryReads).toBe(0);
  }, 60_000);
});
