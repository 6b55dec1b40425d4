// Stopping a run where a person asks: at a breakpoint, at the driver's next line, after the
// next hardware event or as the next interrupt is taken. The run is synchronous, so a stop is
// a call to the host that does not return until the person says how to go on; the machine is
// consistent for the whole of it. A stop is named by where the run was (statements, events,
// interrupts so far), which a deterministic replay reaches again exactly: that is step back.

import type { RunPosition, Stop, StopKind } from '../../shared/runState';

export type { RunPosition, Stop, StopKind };

/** How to go on from a stop: run to the next breakpoint, or step by one unit. */
export type StepMode = 'run' | 'line' | 'event' | 'interrupt';

export interface DebugCommand {
  mode: StepMode;
  /** Replaces the breakpoints (driver lines) when given. */
  breakpoints?: readonly number[];
  /** Go on without stopping until exactly this later stop, and stop there as it was (a replay that trails the run). */
  to?: Stop;
}

export interface DebugHost {
  /** The run stopped; blocks until the person says how to go on. */
  stopped(stop: Stop): DebugCommand;
  /** Asked after every event while running: true to pause there (a Pause button). */
  pauseRequested(position: RunPosition, timeNs: number): boolean;
  /** Asked after every event while running: new breakpoints set meanwhile, or null. */
  breakpointsChanged?(): readonly number[] | null;
}

export interface DebuggerOptions {
  breakpoints?: readonly number[];
  /** Stop before anything runs, as a debugger launched with "stop at entry" does. */
  stopAtStart?: boolean;
  /** Replay: run without stopping until exactly this stop, then stop there as it was. */
  replayTo?: Stop;
}

const samePosition = (a: RunPosition, b: RunPosition) => a.statements === b.statements && a.events === b.events && a.interrupts === b.interrupts;

export class RunDebugger {
  readonly position: RunPosition = { statements: 0, events: 0, interrupts: 0 };
  line: number | null = null;
  private mode: StepMode = 'run';
  private breakpoints: Set<number>;
  private replayTo: Stop | null;
  private readonly stopAtStart: boolean;
  /** Every stop so far, oldest first: the targets of step back. */
  readonly stops: Stop[] = [];

  constructor(
    private readonly host: DebugHost,
    private readonly now: () => number,
    options: DebuggerOptions = {},
  ) {
    this.breakpoints = new Set(options.breakpoints ?? []);
    this.replayTo = options.replayTo ?? null;
    this.stopAtStart = options.stopAtStart ?? false;
  }

  /** Before DriverEntry: the "stop at entry" stop, when asked for (or replayed to). */
  start(): void {
    const target = this.replayTo;
    if (target === null) {
      if (this.stopAtStart) this.stop('start');
    } else if (samePosition(this.position, target.position)) {
      this.replayTo = null;
      this.stop(target.kind);
    }
  }

  /** Before each of the driver's statements (the sandbox's step hook). */
  onStatement(line: number): void {
    this.position.statements++;
    this.line = line;
    if (this.replaying()) return;
    if (this.mode === 'line') this.stop('line');
    else if (this.breakpoints.has(line)) this.stop('breakpoint');
  }

  /** After each scheduler event. */
  onEvent(): void {
    this.position.events++;
    if (this.replaying()) return;
    if (this.mode === 'event') return this.stop('event');
    const breakpoints = this.host.breakpointsChanged?.();
    if (breakpoints) this.breakpoints = new Set(breakpoints);
    if (this.host.pauseRequested(this.position, this.now())) this.stop('pause');
  }

  /** As an interrupt is taken, before its ISR. */
  onInterrupt(irq: number): void {
    this.position.interrupts++;
    if (this.replaying(irq)) return;
    if (this.mode === 'interrupt') this.stop('interrupt', irq);
  }

  /** True while a replay has not reached its stop; at the stop, stops as it was. */
  private replaying(irq?: number): boolean {
    const target = this.replayTo;
    if (target === null) return false;
    if (!samePosition(this.position, target.position)) return true;
    this.replayTo = null;
    this.stop(target.kind, irq);
    return true;
  }

  private stop(kind: StopKind, irq?: number): void {
    const stop: Stop = { kind, position: { ...this.position }, line: this.line, timeNs: this.now(), ...(irq !== undefined ? { irq } : {}) };
    this.stops.push(stop);
    const command = this.host.stopped(stop);
    this.mode = command.mode;
    if (command.breakpoints) this.breakpoints = new Set(command.breakpoints);
    if (command.to) this.replayTo = command.to;
  }
}
