import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { Envelope } from '../shared/api';
import type { ApiChannel } from '../shared/channels';
import type { ApiEventName, ApiEvents, RunEvent, RunOutcome } from '../shared/run';
import type { ExportEvent, ExportFormat } from '../shared/traceExport';
import { dispatch } from '../main/api/dispatch';
import type { ApiClient } from '../main/api/handlers';
import { createServices } from '../main/services';
import { type CliContext, CliUsageError, parseOptions } from './command';

// `dmalab soak [--minutes N] [--json]` (`npm run soak`): the twelve labs' reference solutions
// run one after another through the app's own services and handlers for N minutes, as the
// window drives them: the lab opened, Run, the run's events heard until it finishes, the
// panels' questions asked of its trace, and now and then a run stepped through and back, or
// its trace exported. Memory is sampled all the while; growth from a baseline taken after a
// warm-up to the end, each the median of several samples taken after a collection, of more
// than LIMIT_MB is a leak, and the command fails (exit 1), as it does when a reference
// solution does not pass. With --json the last line on stdout is one object of the figures.

/** Growth, in MB, that counts as a leak. */
const LIMIT_MB = 50;
const MB = 1024 * 1024;
/** A sample of memory every second (a collection of the main heap first: a few ms). */
const SAMPLE_MS = 1000;
/** A run (or an export) that has not finished in this long is a failure. */
const RUN_TIMEOUT_MS = 120_000;
/**
 * Every this many runs one is stepped through (start, lines, step back, continue); every
 * EXPORT_EVERY one's trace exported. Neither divides twelve, so every lab has its turn at both.
 */
const STEP_EVERY = 5;
const EXPORT_EVERY = 7;
const FORMATS: ExportFormat[] = ['vcd', 'chrome', 'csv', 'jsonl'];

interface Sample {
  /** Seconds since the soak began. */
  t: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** The process's threads (each simulation worker is one): a worker never ended shows here. */
  threads: number | null;
  runs: number;
}

type Measure = 'rss' | 'heapUsed' | 'external' | 'arrayBuffers' | 'heapPlusExternal' | 'threads';
/** The measures a leak fails on. */
const GATED: Measure[] = ['heapPlusExternal', 'rss'];

interface Failure {
  run: number;
  labId: string;
  what: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The main isolate's collector: node's --expose-gc one, or made available now. */
function collector(): { gc: () => void; how: string } {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return { gc: exposed, how: '--expose-gc' };
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    if (typeof gc === 'function') return { gc, how: 'v8 flag set at run time' };
  } catch {
    // no collector: samples are taken as they come
  }
  return { gc: () => {}, how: 'none (samples without a forced collection)' };
}

/** Threads of this process, from /proc (Linux); null elsewhere. */
function threadCount(): number | null {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Threads:'));
    return line === undefined ? null : Number(line.split(/\s+/)[1]);
  } catch {
    return null;
  }
}

function value(s: Sample, m: Measure): number | null {
  if (m === 'heapPlusExternal') return s.heapUsed + s.external;
  return s[m];
}

/**
 * The window's side of the API for the soak: it hears each run's stops and end and each
 * export's end (keeping only those not yet waited for, and forgetting a run once done with
 * it, so that the soak itself holds nothing that grows), and saves exports in a folder of its own.
 */
class SoakClient implements ApiClient {
  private readonly pending = new Map<string, unknown[]>();
  private readonly waiters = new Map<string, (payload: unknown) => void>();
  states = 0;

  constructor(private readonly exportDir: string) {}

  emit<E extends ApiEventName>(name: E, payload: ApiEvents[E]): void {
    let key: string;
    if (name === 'run.event') {
      const { runId, event } = payload as ApiEvents['run.event'];
      if (event.kind === 'state') {
        this.states++;
        return;
      }
      key = `run:${runId}`;
    } else {
      const event = payload as ExportEvent;
      if (event.kind === 'progress') return;
      key = `export:${event.exportId}`;
    }
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter(payload);
    } else this.pending.set(key, [...(this.pending.get(key) ?? []), payload]);
  }

  onClose(): void {
    // a soak's client never closes
  }

  async chooseSavePlace(fileName: string) {
    return { path: join(this.exportDir, fileName), finish: () => null, abandon: () => {} };
  }

  /** The next stop or end of run `runId`. */
  async nextRunEvent(runId: number): Promise<RunEvent> {
    return ((await this.next(`run:${runId}`, `run ${runId}`)) as ApiEvents['run.event']).event;
  }

  /** How export `exportId` ended. */
  exportEnd(exportId: number): Promise<ExportEvent> {
    return this.next(`export:${exportId}`, `export ${exportId}`) as Promise<ExportEvent>;
  }

  /** Forgets whatever is left of run `runId` (a stop nobody asked for). */
  forget(runId: number): void {
    this.pending.delete(`run:${runId}`);
    this.waiters.delete(`run:${runId}`);
  }

  get held(): number {
    return this.pending.size + this.waiters.size;
  }

  private next(key: string, what: string): Promise<unknown> {
    const queued = this.pending.get(key);
    if (queued && queued.length > 0) {
      const first = queued.shift();
      if (queued.length === 0) this.pending.delete(key);
      return Promise.resolve(first);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`${what}: nothing heard for ${RUN_TIMEOUT_MS / 1000} s`));
      }, RUN_TIMEOUT_MS);
      this.waiters.set(key, (payload) => {
        clearTimeout(timer);
        resolve(payload);
      });
    });
  }
}

function describeOutcome(outcome: RunOutcome): string | null {
  if (outcome.kind === 'stopped') return 'the run ended as stopped';
  if (outcome.kind === 'crash') return `crash: ${outcome.message}`;
  if (outcome.kind === 'load-error') return `load error: ${outcome.message}`;
  if (outcome.result.ok) return null;
  const failed = outcome.result.checks.filter((c) => !c.ok).map((c) => c.id);
  const extra = [outcome.result.bugcheck ? `bug check ${outcome.result.bugcheck.name}` : '', outcome.result.violations.length ? `${outcome.result.violations.length} verifier findings` : '']
    .filter(Boolean)
    .join(', ');
  return `did not pass: checks failed ${failed.join(', ') || 'none'}${extra ? `; ${extra}` : ''}`;
}

export async function runSoak(args: string[], context: CliContext): Promise<number> {
  const { values } = parseOptions(args, { minutes: { type: 'string', default: '10' }, json: { type: 'boolean', default: false }, samples: { type: 'string' } });
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) throw new CliUsageError(`--minutes takes a number of minutes above 0 (not "${values.minutes}")`);
  const durationMs = minutes * 60_000;
  // The warm-up (the first 20% of the time, 15 s to 2 min) is left out: the process's RSS
  // climbs for the first two or three minutes (some 90 MB) before it levels off. The
  // baseline is the median of the samples taken during the first two rounds of the twelve
  // labs begun after it, the end the median of those during the last two rounds (one round
  // each when two do not fit apart): every window holds the same runs of every lab, so that
  // both weigh the same mix of workers (a lab's worker is bigger or smaller), and a single
  // sample moves the median little (a worker mid-run swings the RSS by ±150 MB).
  const warmUpMs = Math.min(120_000, Math.max(15_000, durationMs * 0.2));
  const log = (line: string) => console.error(`soak: ${line}`);

  const { gc, how } = collector();
  const dataDir = mkdtempSync(join(tmpdir(), 'dmalab-soak-'));
  const exportDir = join(dataDir, 'exports');
  mkdirSync(exportDir);
  const progressFile = join(dataDir, 'progress.sqlite');
  const services = createServices(context.appRoot, { progressFile });
  if (!existsSync(services.paths.simWorker)) throw new CliUsageError(`the simulation worker is not built (${services.paths.simWorker}); run "npm run build" first`);
  services.warmUp();
  const client = new SoakClient(exportDir);
  const call = async (channel: ApiChannel, request: Record<string, unknown>): Promise<unknown> => {
    const answer = (await dispatch(services.handlers, channel, request, () => {}, client)) as Envelope<unknown>;
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.value;
  };

  const samples: Sample[] = [];
  const failures: Failure[] = [];
  const perLab: Record<string, number> = {};
  const runMs: number[] = [];
  /** Each run's start and end, in seconds since the soak began. */
  const spans: [number, number][] = [];
  /** The catalog's labs, once read. */
  const labIds: string[] = [];
  let runs = 0;
  let steppedRuns = 0;
  let exports = 0;
  let exportBytes = 0;
  let traceQueries = 0;
  const t0 = Date.now();
  const sample = () => {
    gc();
    const m = process.memoryUsage();
    samples.push({ t: (Date.now() - t0) / 1000, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, threads: threadCount(), runs });
  };
  let lastReport = t0;

  try {
    const { labs } = (await call('labs.list', {})) as { labs: { id: string }[] };
    labIds.push(...labs.map((l) => l.id));
    if (labs.length !== 12) log(`the catalog has ${labs.length} labs, not twelve; soaking those`);
    const solutions = labs.map((lab) => ({ id: lab.id, source: readFileSync(join(context.appRoot, 'labs', lab.id, 'solution.ts'), 'utf8') }));
    log(`${minutes} min over ${labs.length} labs' reference solutions; collector: ${how}; data in ${dataDir}`);
    sample();
    const sampler = setInterval(sample, SAMPLE_MS);

    try {
      while (Date.now() - t0 < durationMs) {
        const lab = solutions[runs % solutions.length]!;
        const n = runs + 1;
        const began = Date.now();
        const since = (began - t0) / 1000;
        let runId: number | null = null;
        try {
          // The person opens the lab: its text, its progress, its hints.
          await call('labs.get', { id: lab.id });
          await call('run.prepare', { labId: lab.id, source: lab.source });
          await call('progress.lab', { labId: lab.id });
          await call('progress.hints', { labId: lab.id });
          const stepped = n % STEP_EVERY === 0;
          runId = ((await call('run.start', { labId: lab.id, source: lab.source, stopAtStart: stepped, speed: 0 })) as { runId: number }).runId;
          let event = await client.nextRunEvent(runId);
          if (stepped) {
            steppedRuns++;
            // Stopped at DriverEntry: a few lines, a step back, then Run to the end.
            for (let i = 0; i < 3 && event.kind === 'stopped'; i++) {
              await call('run.control', { runId, action: 'step-line' });
              event = await client.nextRunEvent(runId);
            }
            if (event.kind === 'stopped' && event.canStepBack) {
              await call('run.control', { runId, action: 'step-back' });
              event = await client.nextRunEvent(runId);
            }
            if (event.kind === 'stopped') {
              await call('run.control', { runId, action: 'continue' });
              event = await client.nextRunEvent(runId);
            }
          }
          while (event.kind !== 'finished') event = await client.nextRunEvent(runId);
          const problem = describeOutcome(event.outcome);
          if (problem !== null) failures.push({ run: n, labId: lab.id, what: problem });
          if (event.outcome.kind === 'result') {
            // The panels: the trace a page at a time (the start, the middle, the driver's rows),
            // the bus lines and the processor's timeline over the run, a page of memory.
            const endNs = Math.max(1, Math.ceil(event.outcome.result.stats.simulatedNs));
            const first = (await call('run.trace', { runId, filter: 'all', from: 0, count: 200 })) as { total: number };
            await call('run.trace', { runId, filter: 'all', from: Math.floor(first.total / 2), count: 200 });
            await call('run.trace', { runId, filter: 'driver', from: 0, count: 200 });
            await call('run.signals', { runId, fromNs: 0, toNs: endNs });
            await call('run.timeline', { runId, fromNs: 0, toNs: endNs });
            await call('run.timeline', { runId, fromNs: Math.floor(endNs / 4), toNs: Math.ceil(endNs / 2) });
            await call('run.memory', { runId, address: 0x10000, length: 256 });
            traceQueries += 7;
            if (n % EXPORT_EVERY === 0) {
              const format = FORMATS[(n / EXPORT_EVERY) % FORMATS.length]!;
              const { exportId, fileName } = (await call('run.export', { runId, format, detail: 'bus' })) as { exportId: number | null; fileName: string };
              if (exportId === null) throw new Error('the export was not started');
              const end = await client.exportEnd(exportId);
              if (end.kind !== 'done') throw new Error(`the ${format} export ${end.kind === 'failed' ? `failed: ${end.message}` : 'was cancelled'}`);
              const path = join(exportDir, fileName);
              const bytes = existsSync(path) ? statSync(path).size : 0;
              if (bytes === 0 || bytes !== end.bytes) throw new Error(`the ${format} export left ${bytes} bytes where it said ${end.bytes}`);
              exports++;
              exportBytes += bytes;
              rmSync(path, { force: true });
            }
          }
          if (n % labs.length === 0) await call('progress.overview', {});
        } catch (error) {
          failures.push({ run: n, labId: lab.id, what: error instanceof Error ? error.message : String(error) });
          if (runId !== null) await call('run.control', { runId, action: 'stop' }).catch(() => undefined);
        } finally {
          if (runId !== null) client.forget(runId);
        }
        runs++;
        perLab[lab.id] = (perLab[lab.id] ?? 0) + 1;
        runMs.push(Date.now() - began);
        spans.push([since, (Date.now() - t0) / 1000]);
        if (Date.now() - lastReport >= 60_000) {
          lastReport = Date.now();
          const s = samples.at(-1)!;
          log(
            `${Math.round((Date.now() - t0) / 1000)} s: ${runs} runs, ${failures.length} failures; rss ${(s.rss / MB).toFixed(1)} MB, heap ${(s.heapUsed / MB).toFixed(1)} MB, external ${(s.external / MB).toFixed(1)} MB, threads ${s.threads ?? '?'}`,
          );
        }
      }
    } finally {
      clearInterval(sampler);
    }
    sample();
  } finally {
    services.runs.stopAll();
    services.progress.close();
  }

  // The progress store kept every run as an attempt.
  let attempts: number | null = null;
  try {
    const reopened = createServices(context.appRoot, { progressFile });
    const overview = (await dispatch(reopened.handlers, 'progress.overview', {})) as Envelope<{ labs: { attempts: number }[] }>;
    if (overview.ok) attempts = overview.value.labs.reduce((sum, l) => sum + l.attempts, 0);
    reopened.progress.close();
  } catch {
    attempts = null;
  }
  const progressBytes = existsSync(progressFile) ? statSync(progressFile).size : 0;
  rmSync(dataDir, { recursive: true, force: true });

  const elapsed = (Date.now() - t0) / 1000;
  const labCount = labIds.length;
  const firstAfterWarmUp = spans.findIndex(([start]) => start * 1000 >= warmUpMs);
  const rounds = firstAfterWarmUp >= 0 && firstAfterWarmUp + 4 * labCount <= spans.length ? 2 : 1;
  const windowRuns = rounds * labCount;
  const baseRuns = firstAfterWarmUp >= 0 && firstAfterWarmUp + windowRuns <= spans.length ? spans.slice(firstAfterWarmUp, firstAfterWarmUp + windowRuns) : [];
  const endRuns = spans.length >= windowRuns ? spans.slice(-windowRuns) : [];
  const span = (rs: [number, number][]): [number, number] => (rs.length ? [rs[0]![0], rs.at(-1)![1]] : [NaN, NaN]);
  const [baseFrom, baseTo] = span(baseRuns);
  const [endFrom, endTo] = span(endRuns);
  const baseWindow = samples.filter((s) => s.t >= baseFrom && s.t < baseTo);
  const endWindow = samples.filter((s) => s.t >= endFrom && s.t <= endTo);
  const overlap = baseRuns.length > 0 && endFrom < baseTo;
  if (values.samples !== undefined) {
    const header = 't_s,runs,rss_mb,heap_used_mb,external_mb,array_buffers_mb,threads';
    const rows = samples.map((s) => [s.t.toFixed(1), s.runs, ...[s.rss, s.heapUsed, s.external, s.arrayBuffers].map((b) => (b / MB).toFixed(2)), s.threads ?? ''].join(','));
    writeFileSync(values.samples, [header, ...rows, ''].join('\n'));
  }
  const measures: Measure[] = ['heapPlusExternal', 'rss', 'heapUsed', 'external', 'arrayBuffers', 'threads'];
  const memory: Record<string, { baseline: number; end: number; growth: number; unit: string; gated: boolean; leak: boolean }> = {};
  for (const m of measures) {
    const of = (xs: Sample[]) => median(xs.map((s) => value(s, m)).filter((v): v is number => v !== null));
    const scale = m === 'threads' ? 1 : MB;
    const baseline = of(baseWindow) / scale;
    const end = of(endWindow) / scale;
    const growth = end - baseline;
    const round = (x: number) => Math.round(x * 10) / 10;
    const gated = GATED.includes(m);
    memory[m] = { baseline: round(baseline), end: round(end), growth: round(growth), unit: m === 'threads' ? 'threads' : 'MB', gated, leak: gated && !(growth <= LIMIT_MB) };
  }
  const peak = { rss: Math.round((Math.max(...samples.map((s) => s.rss)) / MB) * 10) / 10, heapUsed: Math.round((Math.max(...samples.map((s) => s.heapUsed)) / MB) * 10) / 10 };
  const leak = Object.values(memory).some((m) => m.leak);
  const tooShort = baseWindow.length === 0 || endWindow.length === 0;
  const passed = !leak && !tooShort && failures.length === 0 && runs > 0;
  const report = {
    passed,
    minutes: Math.round((elapsed / 60) * 100) / 100,
    runs,
    perLab,
    steppedRuns,
    exports,
    exportBytes,
    traceQueries,
    statesHeard: client.states,
    eventsHeldAtEnd: client.held,
    runMsMedian: median(runMs),
    attemptsRecorded: attempts,
    progressFileBytes: progressBytes,
    failures,
    limitMb: LIMIT_MB,
    collector: how,
    samples: samples.length,
    warmUpS: Math.round(warmUpMs / 1000),
    windowRuns,
    baselineWindowS: [Math.round(baseFrom), Math.round(baseTo)],
    baselineSamples: baseWindow.length,
    endWindowS: [Math.round(endFrom), Math.round(endTo)],
    endSamples: endWindow.length,
    windowsOverlap: overlap,
    memory,
    peak,
  };

  console.log(`soak: ${report.minutes} min, ${runs} runs (${steppedRuns} stepped through, ${exports} traces exported), median ${report.runMsMedian} ms a run`);
  console.log(`runs by lab: ${Object.entries(perLab).map(([id, count]) => `${id.slice(0, 2)}×${count}`).join(' ')}`);
  console.log(`attempts recorded: ${attempts ?? '?'}; progress file ${Math.round(progressBytes / 1024)} KiB`);
  console.log(
    `memory: median of ${baseWindow.length} samples at ${report.baselineWindowS[0]}-${report.baselineWindowS[1]} s (the first ${windowRuns} runs after a ${report.warmUpS} s warm-up) against ${endWindow.length} at ${report.endWindowS[0]}-${report.endWindowS[1]} s (the last ${windowRuns} runs), each after a collection (${how})`,
  );
  if (overlap) console.log('the two windows overlap: run longer for a fair comparison');
  console.log(`${'measure'.padEnd(24)}${'baseline'.padStart(10)}${'end'.padStart(10)}${'growth'.padStart(10)}  verdict`);
  const names: Record<Measure, string> = {
    heapPlusExternal: 'main heapUsed+external',
    rss: 'process RSS',
    heapUsed: 'main heapUsed',
    external: 'main external',
    arrayBuffers: 'main arrayBuffers',
    threads: 'threads',
  };
  for (const m of measures) {
    const r = memory[m]!;
    const verdict = r.gated ? (r.leak ? `LEAK (over ${LIMIT_MB} MB)` : `ok (limit ${LIMIT_MB} MB)`) : '';
    console.log(`${`${names[m]} (${r.unit})`.padEnd(24)}${r.baseline.toFixed(1).padStart(10)}${r.end.toFixed(1).padStart(10)}${((r.growth >= 0 ? '+' : '') + r.growth.toFixed(1)).padStart(10)}  ${verdict}`);
  }
  console.log(`peak: rss ${peak.rss} MB, main heapUsed ${peak.heapUsed} MB`);
  for (const f of failures.slice(0, 20)) console.log(`FAILED run ${f.run} (${f.labId}): ${f.what}`);
  if (failures.length > 20) console.log(`… and ${failures.length - 20} more failures`);
  if (tooShort) console.log('too short to compare: no samples in the baseline or end window');
  console.log(passed ? 'soak: passed' : 'soak: FAILED');
  if (values.json) console.log(JSON.stringify(report));
  return passed ? 0 : 1;
}
