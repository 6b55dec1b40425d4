import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Scenario } from '../../shared/scenario';
import { DebugRun, DebugRunError, type DebugEvent, type DebugRunOptions } from './debugRun';
import { WorkerPool } from './workerPool';

// Lab 02's solution in a real simulation worker under the debugger: stops, steps, pause,
// speed, step back to the same machine state, and the end of the run.

const root = join(__dirname, '..', '..', '..');
const workerPath = join(root, 'out', 'main', 'simWorker.js');
/** The pool, noting each debug worker it starts: a watched one, or a quiet shadow. */
class NotingPool extends WorkerPool {
  readonly started: ('run' | 'shadow')[] = [];
  override run(...args: Parameters<WorkerPool['run']>): ReturnType<WorkerPool['run']> {
    this.started.push(args[0].debug?.quiet ? 'shadow' : 'run');
    return super.run(...args);
  }
}
const pool = new NotingPool(workerPath);
const dir = join(root, 'labs', '02-packet-read');
const source = readFileSync(join(dir, 'solution.ts'), 'utf8');
const request = {
  scenario: Scenario.parse(parse(readFileSync(join(dir, 'scenario.yaml'), 'utf8'))),
  source,
  file: 'solution.ts',
  seed: 1,
  images: {},
  files: { './fdc': readFileSync(join(dir, 'fdc.ts'), 'utf8') },
};
const FLUSH_LINE = source.split('\n').findIndex((l) => l.includes('adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase')) + 1;

/** A run and the events it has sent, with a way to wait for the next of a kind. */
function start(options: Partial<DebugRunOptions> = {}) {
  const events: DebugEvent[] = [];
  const waiters: { kind: DebugEvent['kind']; resolve: (e: DebugEvent) => void }[] = [];
  let read = 0;
  const run = DebugRun.start(request, { breakpoints: [], stopAtStart: true, speed: 0, ...options }, pool, (event) => {
    events.push(event);
    for (const w of [...waiters]) {
      const found = events.slice(read).find((e) => e.kind === w.kind);
      if (found) {
        read = events.indexOf(found) + 1;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  });
  const next = <K extends DebugEvent['kind']>(kind: K): Promise<Extract<DebugEvent, { kind: K }>> =>
    new Promise((resolve) => {
      const found = events.slice(read).find((e) => e.kind === kind);
      if (found) {
        read = events.indexOf(found) + 1;
        resolve(found as Extract<DebugEvent, { kind: K }>);
      } else waiters.push({ kind, resolve: resolve as (e: DebugEvent) => void });
    });
  return { run, events, next };
}

beforeAll(() => {
  if (!existsSync(workerPath)) throw new Error('the app is not built: run "npm run build" before these tests');
});

describe('a debug run', () => {
  it('stops at entry and at a breakpoint, steps, steps back to the same state, and runs to the end', async () => {
    const { run, next } = start();
    const entry = await next('stopped');
    expect(entry.stop.kind).toBe('start');
    expect(entry.canStepBack).toBe(false);
    expect(() => run.stepBack()).toThrow(DebugRunError);

    run.resume({ mode: 'run', breakpoints: [FLUSH_LINE] });
    const atFlush = await next('stopped');
    expect(atFlush.stop).toMatchObject({ kind: 'breakpoint', line: FLUSH_LINE });
    expect(atFlush.state.dma[0].channels[2]!.tc).toBe(true);
    // The panels' memory map: the HAL's map buffer, and the first read's buffer, which the
    // floppy has just filled with disk sector 0 (patterned: its number, then 2 × 11 = 22, …).
    expect(atFlush.state.regions.some((r) => r.kind === 'map-buffer')).toBe(true);
    const buffer = atFlush.state.regions.find((r) => r.label === "IRP 1's buffer")!;
    expect(buffer).toMatchObject({ kind: 'buffer', length: 512 });
    const bytes = await run.memory(buffer.physical, 4);
    expect(bytes).toEqual({ address: buffer.physical, bytes: [0, 0, 22, 33] });

    run.resume({ mode: 'line' });
    const stepped = await next('stopped');
    expect(stepped.stop.kind).toBe('line');
    expect(stepped.stop.position.statements).toBe(atFlush.stop.position.statements + 1);
    expect(stepped.canStepBack).toBe(true);

    run.stepBack();
    const back = await next('stopped');
    expect(back.stop).toEqual(atFlush.stop);
    expect(back.state).toEqual(atFlush.state);

    run.resume({ mode: 'run', breakpoints: [] });
    const end = await next('finished');
    expect(end.reply.kind).toBe('result');
    expect(end.reply.kind === 'result' && end.reply.result.ok).toBe(true);
    expect(run.isFinished).toBe(true);

    // The finished run's trace stays open: the table's rows and the waveform's lines.
    const driver = await run.trace('driver', 0, 3);
    expect(driver.total).toBeGreaterThan(100);
    expect(driver.rows[0]).toMatchObject({ kind: 'RoutineEnter', detail: expect.stringMatching(/^DriverEntry/) });
    const flushRows = await run.trace('driver', 0, 1000);
    expect(flushRows.rows.some((r) => r.kind === 'ApiCall' && r.line === FLUSH_LINE && r.detail.startsWith('FlushAdapterBuffers('))).toBe(true);
    const lines = await run.signals(0, end.reply.kind === 'result' ? end.reply.result.stats.simulatedNs : 0);
    expect(lines.signals.map((l) => l.name)).toEqual(['DREQ2', 'DACK2', 'TC2', 'IRQ6']);
    // Five sectors: five terminal counts.
    expect(lines.signals[2]!.changes.filter(([, level]) => level === 1)).toHaveLength(5);
    // The processor's side: IRQ 6 interrupts (the reset's, the seek's, one per sector), each
    // serviced by the ISR at DIRQL; a DPC at DISPATCH_LEVEL at least for each sector.
    const timeline = await run.timeline(0, lines.endNs);
    expect(timeline.interrupts.length).toBeGreaterThanOrEqual(5);
    expect(new Set(timeline.interrupts.map(([, irq]) => irq))).toEqual(new Set([6]));
    const named = timeline.routines.map(([, , r]) => timeline.routineNames[r]);
    expect(named.filter((n) => n === 'InterruptService')).toHaveLength(timeline.interrupts.length);
    expect(named.filter((n) => n === 'DeferredRoutine').length).toBeGreaterThanOrEqual(5);
    expect(new Set(timeline.irql.changes.map(([, irql]) => irql))).toEqual(new Set([0, 2, Math.max(...timeline.irql.changes.map(([, i]) => i))]));
    run.stop();
    await expect(run.trace('all', 0, 1)).rejects.toThrow(/trace is closed/);
  }, 60_000);

  // A twentieth of real time: the run lasts about 16 s of wall time, so a loaded machine's
  // late messages still find it running.
  it('streams states while running at a chosen speed, and pauses on request', async () => {
    const { run, next, events } = start({ stopAtStart: false, speed: 0.05 });
    await next('state');
    await next('state');
    run.pause();
    const paused = await next('stopped');
    expect(paused.stop.kind).toBe('pause');
    const states = events.filter((e) => e.kind === 'state');
    expect(states.length).toBeGreaterThanOrEqual(2);
    expect(paused.state.timeNs).toBeGreaterThan(0);
    // Held to the speed: well short of the run's 0.8 s of simulated time by now.
    expect(paused.state.timeNs).toBeLessThan(600e6);
    expect(() => run.resume({ mode: 'line' })).not.toThrow();
    await next('stopped');
    run.stop();
    expect((await next('ended')).reason).toBe('stopped');
    expect(() => run.resume({ mode: 'run' })).toThrow(/has ended/);
  }, 60_000);

  it('takes new breakpoints while running', async () => {
    // A tenth of real time: the first flush comes about 3 s in, long after the breakpoint is set.
    const { run, next } = start({ stopAtStart: false, speed: 0.1 });
    await next('state');
    run.setBreakpoints([FLUSH_LINE]);
    const hit = await next('stopped');
    expect(hit.stop).toMatchObject({ kind: 'breakpoint', line: FLUSH_LINE });
    run.stop();
  }, 60_000);

  it('steps back stop by stop, and from the end of the run, by the shadow taking over rather than a replay from the start', async () => {
    const before = pool.started.length;
    const { run, next } = start();
    await next('stopped');
    run.resume({ mode: 'run', breakpoints: [FLUSH_LINE] });
    const seen = [await next('stopped')];
    for (const mode of ['line', 'event', 'interrupt'] as const) {
      run.resume({ mode });
      seen.push(await next('stopped'));
    }
    // Back three times: each lands on the stop before, the machine exactly as it was there.
    for (const expected of [seen[2]!, seen[1]!, seen[0]!]) {
      run.stepBack();
      const back = await next('stopped');
      expect(back.stop).toEqual(expected.stop);
      expect(back.state).toEqual(expected.state);
    }
    // Forward to the end, then back from the end to the last stop, and on to the same end.
    run.resume({ mode: 'run', breakpoints: [] });
    const end = await next('finished');
    expect(end.canStepBack).toBe(true);
    run.stepBack();
    const last = await next('stopped');
    expect(last.stop).toEqual(seen[0]!.stop);
    expect(run.isFinished).toBe(false);
    run.resume({ mode: 'run', breakpoints: [] });
    const again = await next('finished');
    expect(again.reply).toEqual(end.reply);
    // One watched worker for the whole run: every step back was a shadow taking over.
    expect(pool.started.slice(before).filter((k) => k === 'run')).toEqual(['run']);
    run.stop();
  }, 90_000);

  it('reports a driver that does not compile, and never starts it', async () => {
    const events: DebugEvent[] = [];
    await new Promise<void>((resolve) => {
      DebugRun.start({ ...request, source: 'export function DriverEntry(: number {}' }, { breakpoints: [], stopAtStart: true, speed: 0 }, pool, (e) => {
        events.push(e);
        if (e.kind === 'finished') resolve();
      });
    });
    expect(events.map((e) => e.kind)).toEqual(['finished']);
    const reply = (events[0] as Extract<DebugEvent, { kind: 'finished' }>).reply;
    expect(reply.kind).toBe('load-error');
  }, 60_000);

  it('runs the driver it is given in a spare that compiled others or built a machine ahead, as a fresh worker runs it', async () => {
    const broken = 'export function DriverEntry(: number {}';
    // A debug run takes a spare when the pool has one ready, and starts a fresh worker otherwise.
    const finish = (p: WorkerPool, source: string) =>
      new Promise<Extract<DebugEvent, { kind: 'finished' }>['reply']>((resolve) => {
        DebugRun.start({ ...request, source }, { breakpoints: [], stopAtStart: false, speed: 0 }, p, (e) => {
          if (e.kind === 'finished') resolve(e.reply);
        });
      });
    const fresh = { solution: await finish(pool, source), broken: await finish(pool, broken) };
    expect(fresh.solution.kind === 'result' && fresh.solution.result.ok).toBe(true);
    expect(fresh.broken.kind).toBe('load-error');
    const ahead = new WorkerPool(workerPath, 1, 1);
    ahead.compileAhead({ source: broken, file: request.file });
    ahead.prepare();
    ahead.compileAhead({ source, file: request.file });
    ahead.compileAhead({ source: source.replace('DriverEntry', 'DriverEntryNot'), file: request.file });
    expect(await finish(ahead, source)).toEqual(fresh.solution);
    ahead.prepare();
    ahead.compileAhead({ source: broken, file: request.file });
    expect(await finish(ahead, broken)).toEqual(fresh.broken);
    ahead.close();
    // A spare that built the machine of the run it expects (a pool of its own, so that no spare
    // made earlier is taken instead): that run starts from it; another builds its own. Here the
    // one expected has two IRPs fewer, so a run that took its machine would show it.
    for (const workload of [request.scenario.workload, request.scenario.workload.slice(0, 3)]) {
      const built = new WorkerPool(workerPath, 1, 1);
      built.upcoming = { scenario: { ...request.scenario, workload }, seed: 1, images: {} };
      built.prepare();
      expect(await finish(built, source)).toEqual(fresh.solution);
      built.close();
    }
  }, 120_000);

  it('ends a worker that stops answering and reports the run as failed, never hanging the app', async () => {
    // A stand-in worker that takes the request and then never says a word.
    const hung = join(mkdtempSync(join(tmpdir(), 'dmalab-hung-')), 'hung.mjs');
    writeFileSync(hung, "import { parentPort, workerData } from 'node:worker_threads';\nif (workerData?.warm) parentPort.once('message', () => { for (;;); });\nelse for (;;);\n");
    const events: DebugEvent[] = [];
    await new Promise<void>((resolve) => {
      DebugRun.start(request, { breakpoints: [], stopAtStart: false, speed: 0, hangMs: 1500 }, new WorkerPool(hung), (e) => {
        events.push(e);
        if (e.kind === 'finished') resolve();
      });
    });
    expect(events).toEqual([{ kind: 'finished', reply: { kind: 'crash', message: 'the simulation stopped answering for 2 s and was ended' }, canStepBack: false }]);
  }, 30_000);
});
