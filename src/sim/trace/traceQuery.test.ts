import { describe, expect, it } from 'vitest';
import { TraceRecorder } from './recorder';
import { EventKind } from './sink';
import { TraceQuery } from './traceQuery';

// The trace table's windows and the waveform's lines, from a recorder filled by hand.

const context = () => ({ apiNames: ['WRITE_PORT_UCHAR'], entryNames: ['DriverEntry'], console: ['hello\n'], findings: [], endTime: 0 });

function recorder(): TraceRecorder {
  const t = new TraceRecorder('bus');
  t.record(10, EventKind.RoutineEnter, 0, 0, 0);
  t.record(20, EventKind.ApiCall, 0, 7, 0);
  t.record(20, EventKind.ApiArgs, 0x3f2, 0x1c, 0);
  t.record(21, EventKind.PortWrite, 0x3f2, 0x1c, 1);
  t.record(30, EventKind.Dreq, 2, 1, 0);
  t.record(31, EventKind.Dack, 2, 1, 0);
  t.record(40, EventKind.TerminalCount, 2, 0, 0);
  t.record(41, EventKind.Dack, 2, 0, 0);
  t.record(42, EventKind.Dreq, 2, 0, 0);
  t.record(50, EventKind.IrqLine, 6, 1, 0);
  t.record(60, EventKind.DbgPrint, 0, 9, 0);
  return t;
}

describe('TraceQuery', () => {
  it('gives a window of rows, in words, with the driver line where the event has one, and no ApiArgs rows', () => {
    const q = new TraceQuery(recorder(), context);
    const all = q.rows('all', 0, 100);
    expect(all.total).toBe(10);
    expect(all.rows.map((r) => r.kind)).not.toContain('ApiArgs');
    expect(all.rows[1]).toEqual({ index: 1, timeNs: 20, kind: 'ApiCall', detail: 'WRITE_PORT_UCHAR(0x3f2, 0x1c, 0x0) → 0x0, line 7', line: 7 });
    expect(all.rows.at(-1)).toMatchObject({ kind: 'DbgPrint', detail: 'hello\n', line: 9 });
    expect(q.rows('all', 8, 5).rows.map((r) => r.index)).toEqual([9, 10]);
  });

  it('filters by what a person looks for, and keeps up as the trace grows', () => {
    const t = recorder();
    const q = new TraceQuery(t, context);
    expect(q.rows('ports', 0, 10).rows.map((r) => r.kind)).toEqual(['PortWrite']);
    expect(q.rows('dma', 0, 10).rows.map((r) => r.kind)).toEqual(['Dreq', 'Dack', 'TerminalCount', 'Dack', 'Dreq']);
    expect(q.rows('interrupts', 0, 10).total).toBe(1);
    t.record(70, EventKind.PortRead, 0x3f4, 0x80, 1);
    expect(q.rows('ports', 0, 10).rows.map((r) => r.kind)).toEqual(['PortWrite', 'PortRead']);
    expect(q.rows('driver', 0, 10).rows.map((r) => r.kind)).toEqual(['RoutineEnter', 'ApiCall', 'DbgPrint']);
  });

  it('draws each line that moved: its level before the span and its changes inside it', () => {
    const q = new TraceQuery(recorder(), context);
    const whole = q.signals(0, 100);
    expect(whole.endNs).toBe(60);
    expect(whole.signals).toEqual([
      { name: 'DREQ2', initial: 0, changes: [[30, 1], [42, 0]] },
      { name: 'DACK2', initial: 0, changes: [[31, 1], [41, 0]] },
      { name: 'TC2', initial: 0, changes: [[40, 1]] }, // the pulse ends at 290 ns, after the span
      { name: 'IRQ6', initial: 0, changes: [[50, 1]] },
    ]);
    const late = q.signals(35, 45);
    expect(late.signals.find((s) => s.name === 'DACK2')).toEqual({ name: 'DACK2', initial: 1, changes: [[41, 0]] });
    expect(late.signals.find((s) => s.name === 'IRQ6')).toEqual({ name: 'IRQ6', initial: 0, changes: [] });
  });
});

describe('the processor timeline', () => {
  const names = () => ({ apiNames: [], entryNames: { 4: 'StartIo', 7: 'InterruptService', 8: 'DeferredRoutine' }, console: [], findings: [], endTime: 0 });
  /** StartIo at DISPATCH_LEVEL; IRQ 6 taken at its DIRQL; its ISR queues a DPC, which runs once the ISR is done, and is interrupted in turn. */
  function run(): TraceRecorder {
    const t = new TraceRecorder('bus');
    t.record(100, EventKind.Irql, 2, 0, 0);
    t.record(100, EventKind.RoutineEnter, 4, 0, 0);
    t.record(150, EventKind.RoutineExit, 4, 0, 2);
    t.record(150, EventKind.Irql, 0, 0, 0);
    t.record(500, EventKind.InterruptAck, 6, 0x36, 0);
    t.record(500, EventKind.Irql, 21, 0, 0);
    t.record(500, EventKind.RoutineEnter, 7, 0, 0);
    t.record(520, EventKind.DpcQueued, 1, 0, 0);
    t.record(540, EventKind.RoutineExit, 7, 1, 21);
    t.record(540, EventKind.Irql, 2, 0, 0);
    t.record(540, EventKind.RoutineEnter, 8, 1, 0);
    t.record(600, EventKind.InterruptAck, 6, 0x36, 0);
    t.record(600, EventKind.Irql, 21, 0, 0);
    t.record(600, EventKind.RoutineEnter, 7, 0, 0);
    t.record(610, EventKind.RoutineExit, 7, 0, 21);
    t.record(610, EventKind.Irql, 2, 0, 0);
    t.record(700, EventKind.RoutineExit, 8, 0, 2);
    t.record(700, EventKind.Irql, 0, 0, 0);
    return t;
  }

  it('gives the IRQL as it changed, the interrupts taken, and each routine from its start to its end, nested ones too', () => {
    const answer = new TraceQuery(run(), names).timeline(0, 1000);
    expect(answer.irql).toEqual({ initial: 0, changes: [[100, 2], [150, 0], [500, 21], [540, 2], [600, 21], [610, 2], [700, 0]] });
    expect(answer.interrupts).toEqual([[500, 6], [600, 6]]);
    expect(answer.dpcsQueued).toEqual([520]);
    // The DPC (540–700) holds the ISR that interrupted it (600–610).
    expect(answer.routines).toEqual([[100, 150, 4], [500, 540, 7], [540, 700, 8], [600, 610, 7]]);
    expect(answer.routineNames).toEqual({ 4: 'StartIo', 7: 'InterruptService', 8: 'DeferredRoutine' });
    expect(answer.truncated).toBe(false);
    expect(answer.endNs).toBe(700);
  });

  it('over a span: the IRQL on entry, and only what overlaps it', () => {
    const answer = new TraceQuery(run(), names).timeline(545, 605);
    expect(answer.irql).toEqual({ initial: 2, changes: [[600, 21]] });
    expect(answer.interrupts).toEqual([[600, 6]]);
    expect(answer.routines).toEqual([[540, 700, 8], [600, 610, 7]]);
  });

  it('shows a routine the run is stopped inside as running to the end of the trace so far', () => {
    const t = new TraceRecorder('bus');
    t.record(10, EventKind.RoutineEnter, 4, 0, 0);
    t.record(30, EventKind.PortWrite, 0x3f2, 0x1c, 1);
    expect(new TraceQuery(t, names).timeline(0, 100).routines).toEqual([[10, 30, 4]]);
  });
});
