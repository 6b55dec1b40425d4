import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Scenario } from '../../shared/scenario';
import type { DebugCommand, DebuggerOptions, Stop } from './debugger';
import type { RunState } from '../../shared/runState';
import { captureRunState } from './runState';
import { runScenario, type SessionParts } from './session';

// Lab 02's solution under the debugger: breakpoints, the three kinds of step, pause, and
// replay to an earlier stop (step back) landing on the same machine state.

const dir = 'labs/02-packet-read';
const scenario = Scenario.parse(parse(readFileSync(`${dir}/scenario.yaml`, 'utf8')));
const source = readFileSync(`${dir}/solution.ts`, 'utf8');
const files = new Map([['./fdc', readFileSync(`${dir}/fdc.ts`, 'utf8')]]);
const lineOf = (text: string) => source.split('\n').findIndex((l) => l.includes(text)) + 1;
const FLUSH_LINE = lineOf('adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase');

interface Seen {
  stop: Stop;
  /** What the machine looked like there. */
  state: { now: number; dmaBytes: number; completed: number; irql: number };
}

/** Runs with a scripted person: `next` says how to go on from each stop. */
async function debugRun(next: (stop: Stop, index: number) => DebugCommand | null, options: DebuggerOptions = {}, pause?: (events: number) => boolean) {
  const seen: Seen[] = [];
  const session = await runScenario({
    scenario,
    source,
    file: 'solution.ts',
    seed: 1,
    files,
    debug: {
      options,
      host: (parts: SessionParts) => ({
        stopped(stop) {
          seen.push({
            stop,
            state: { now: parts.machine.scheduler.now, dmaBytes: parts.machine.dma.bytesMoved, completed: parts.irps.filter((i) => i.completed).length, irql: parts.kernel.irql },
          });
          return next(stop, seen.length - 1) ?? { mode: 'run', breakpoints: [] };
        },
        pauseRequested: (position) => pause?.(position.events) ?? false,
      }),
    },
  });
  return { session, seen };
}

describe('the debugger', () => {
  it('leaves the run exactly as it is without one', async () => {
    const plain = await runScenario({ scenario, source, file: 'solution.ts', seed: 1, files });
    const { session, seen } = await debugRun(() => null);
    expect(seen).toEqual([]);
    expect(session.result).toEqual(plain.result);
    expect(session.result.ok).toBe(true);
  });

  it('stops at the start, then at a breakpoint once per transfer, at its line', async () => {
    const { seen } = await debugRun((stop) => (stop.kind === 'start' ? { mode: 'run', breakpoints: [FLUSH_LINE] } : { mode: 'run' }), { stopAtStart: true });
    expect(seen[0]!.stop).toMatchObject({ kind: 'start', line: null, position: { statements: 0, events: 0, interrupts: 0 } });
    const hits = seen.slice(1);
    expect(hits.map((s) => s.stop.kind)).toEqual(Array(5).fill('breakpoint'));
    expect(hits.every((s) => s.stop.line === FLUSH_LINE)).toBe(true);
    // The k-th flush comes before the k-th completion, at DISPATCH_LEVEL (DpcForIsr).
    expect(hits.map((s) => s.state.completed)).toEqual([0, 1, 2, 3, 4]);
    expect(hits.every((s) => s.state.irql === 2)).toBe(true);
    expect(hits.map((s) => s.state.now)).toEqual([...hits.map((s) => s.state.now)].sort((a, b) => a - b));
  });

  it('steps a line, an event and an interrupt', async () => {
    const { seen } = await debugRun(
      (_stop, i) => [{ mode: 'run', breakpoints: [FLUSH_LINE] }, { mode: 'line' }, { mode: 'event' }, { mode: 'interrupt', breakpoints: [] }][i] as DebugCommand,
      { stopAtStart: true },
    );
    const [, atFlush, line, event, interrupt] = seen.map((s) => s.stop);
    expect(line).toMatchObject({ kind: 'line', position: { statements: atFlush!.position.statements + 1 } });
    expect(line!.line).toBeGreaterThan(FLUSH_LINE);
    expect(event).toMatchObject({ kind: 'event', position: { events: line!.position.events + 1 } });
    // The floppy's IRQ 6, the next transfer's end.
    expect(interrupt).toMatchObject({ kind: 'interrupt', irq: 6, position: { interrupts: event!.position.interrupts + 1 } });
    expect(seen).toHaveLength(5);
  });

  it('pauses when the host asks, between events', async () => {
    const { seen } = await debugRun(() => null, {}, (events) => events === 1000);
    expect(seen.map((s) => s.stop)).toEqual([expect.objectContaining({ kind: 'pause', position: expect.objectContaining({ events: 1000 }) })]);
  });

  it('replays to an earlier stop and finds the machine as it was there (step back)', async () => {
    const script: DebugCommand[] = [{ mode: 'run', breakpoints: [FLUSH_LINE] }, { mode: 'run' }, { mode: 'line' }, { mode: 'event' }, { mode: 'interrupt' }, { mode: 'line' }];
    const first = await debugRun((_stop, i) => script[i] ?? null, { stopAtStart: true });
    expect(first.seen.length).toBeGreaterThanOrEqual(6);
    for (const back of [0, 2, 3, 4, 5]) {
      const target = first.seen[back]!;
      const replay = await debugRun(() => null, { replayTo: target.stop });
      expect(replay.seen).toHaveLength(1);
      expect(replay.seen[0]).toEqual(target);
    }
  });

  it('trails a run: from a stop, goes on to a later stop of the same run and finds the machine as it was there', async () => {
    const script: DebugCommand[] = [{ mode: 'run', breakpoints: [FLUSH_LINE] }, { mode: 'line' }, { mode: 'event' }, { mode: 'interrupt' }, { mode: 'run' }];
    const first = await debugRun((_stop, i) => script[i] ?? null, { stopAtStart: true });
    const targets = [1, 3, 5].map((i) => first.seen[i]!);
    // A second run, steered only by "go on to that stop", lands on each in turn, breakpoints or not.
    const trail = await debugRun((_stop, i) => (i < targets.length ? { mode: 'run', breakpoints: [], to: targets[i]!.stop } : null), { stopAtStart: true });
    expect(trail.seen.slice(1)).toEqual(targets);
  });

  it('shows the panels the machine at a stop: channel 2 at terminal count before the flush', async () => {
    let state: RunState | null = null;
    await runScenario({
      scenario,
      source,
      file: 'solution.ts',
      seed: 1,
      files,
      debug: {
        options: { breakpoints: [FLUSH_LINE] },
        host: (parts) => ({
          stopped() {
            state ??= captureRunState(parts);
            return { mode: 'run', breakpoints: [] };
          },
          pauseRequested: () => false,
        }),
      },
    });
    const s = state as RunState | null;
    expect(s).not.toBeNull();
    const ch2 = s!.dma[0].channels[2]!;
    // 512 bytes moved: the count rolled over from 0 to 0xFFFF, the status holds TC2.
    expect(ch2).toMatchObject({ channel: 2, baseCount: 511, currentCount: 0xffff, tc: true, modeText: 'single, write (I/O→memory)' });
    expect(ch2.currentAddress - ch2.baseAddress).toBe(512);
    expect(s!.irql).toBe(2);
    expect(s!.adapters).toEqual([expect.objectContaining({ device: 'fdc0', channel: 2, ownsChannel: true, mapped: expect.objectContaining({ length: 512 }) })]);
    expect(s!.irps.filter((i) => i.current)).toHaveLength(1);
    expect(s!.irps.filter((i) => i.queued)).toHaveLength(4);
    expect(s!.devices).toEqual([expect.objectContaining({ type: 'floppy', name: 'fdc0', sectorsRead: 1 })]);
    expect(s!.dmaBytes).toBe(512);
  });

  it('shows a bounce through map registers while it is in force: a read copied out at the flush', async () => {
    const states: RunState[] = [];
    await runScenario({
      scenario,
      source,
      file: 'solution.ts',
      seed: 1,
      files,
      debug: {
        options: { breakpoints: [FLUSH_LINE] },
        host: (parts) => ({
          stopped() {
            states.push(captureRunState(parts));
            return { mode: 'run' };
          },
          pauseRequested: () => false,
        }),
      },
    });
    // Only IRP 3's sector crosses from one page into another that is not the next one: the 8237 cannot follow it.
    expect(states.map((s) => s.adapters[0]!.bounces.length)).toEqual([0, 0, 1, 0, 0]);
    expect(states[2]!.adapters[0]!.bounces[0]).toMatchObject({ direction: 'out', length: 512 });
    const grant = states[2]!.mapRegisters.grants[0]!;
    expect(states[2]!.adapters[0]!.bounces[0]!.physical).toBeGreaterThanOrEqual(grant.physical);
  });
});
