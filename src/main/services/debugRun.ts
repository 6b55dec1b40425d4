import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { RunMemoryResponse, RunSignalsResponse, RunTimelineResponse, RunTraceResponse, TraceFilter } from '../../shared/run';
import type { RunPosition, RunState, Stop } from '../../shared/runState';
import type { DebugCommand } from '../../sim/run/debugger';
import { CONTROL, CONTROL_BYTES, type DebugMessage, type DebugReport, type DebugSetup, type TraceExportAnswer, type TraceExportMessage, type TraceQueryMessage } from './debugProtocol';
import type { SimulationReply, SimulationRequest } from './simulation';
import type { WorkerPool } from './workerPool';

// One run under the debugger, from the main thread: a worker that stops where the person
// asks, and step back. The run is deterministic, so a replay lands on the same machine
// state at the same stop. From its second stop on, a run has a shadow: a second worker that
// replays it one stop behind and waits there, so that step back is the shadow taking over
// (at once) rather than a replay from the start. The shadow is told only "go on to that
// stop", so it follows pauses and breakpoints alike.

export type DebugEvent =
  | { kind: 'stopped'; stop: Stop; state: RunState; canStepBack: boolean }
  | { kind: 'state'; state: RunState }
  | { kind: 'finished'; reply: SimulationReply; canStepBack: boolean }
  | { kind: 'ended'; reason: 'stopped' };

export interface DebugRunOptions {
  breakpoints: number[];
  stopAtStart: boolean;
  /** Simulated time per wall time (1 = real time); 0 = as fast as possible. */
  speed: number;
  /** A running worker silent this long is hung: it is ended and the run reported as failed. */
  hangMs?: number;
}

/** A running worker reports at least every 50 ms; this much silence means it is stuck. */
export const DEFAULT_HANG_MS = 30_000;

export class DebugRunError extends Error {}

/** Is `a` before `b` in the same run? (Each count only grows.) */
function before(a: RunPosition, b: RunPosition): boolean {
  return a.statements <= b.statements && a.events <= b.events && a.interrupts <= b.interrupts && (a.statements !== b.statements || a.events !== b.events || a.interrupts !== b.interrupts);
}

/** Where every run begins (a shadow's first stop). */
const START: Stop = { kind: 'start', position: { statements: 0, events: 0, interrupts: 0 }, line: null, timeNs: 0 };

const sameStop = (a: Stop, b: Stop) => !before(a.position, b.position) && !before(b.position, a.position);

interface DebugWorkerEvents {
  report(report: DebugReport): void;
  finished(reply: SimulationReply): void;
}

/** One worker under the debugger and the line to it (a port, and a shared word to wake it). */
class DebugWorker {
  readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  readonly port: MessagePort;
  private worker: Worker | null = null;
  private retired = false;

  constructor(pool: WorkerPool, request: Omit<SimulationRequest, 'debug'>, setup: Omit<DebugSetup, 'control' | 'port'>, speed: number, private events: DebugWorkerEvents) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.setSpeed(speed);
    void pool
      .run(
        { ...request, debug: { ...setup, control: this.control.buffer as SharedArrayBuffer, port: port2 } },
        {
          onWorker: (w) => {
            this.worker = w;
            if (this.retired) void w.terminate();
          },
          onDebug: (report) => {
            if (!this.retired) this.events.report(report);
          },
        },
        'interactive',
      )
      .then((reply) => {
        if (!this.retired) this.events.finished(reply);
      });
  }

  /** Who hears it from now on (the shadow's reports go to the run once it takes over). */
  listen(events: DebugWorkerEvents): void {
    this.events = events;
  }

  send(message: DebugMessage): void {
    this.port.postMessage(message);
    Atomics.add(this.control, CONTROL.signal, 1);
    Atomics.notify(this.control, CONTROL.signal);
  }

  pause(): void {
    Atomics.store(this.control, CONTROL.pause, 1);
    Atomics.notify(this.control, CONTROL.pause);
  }

  /** The export asked as question `id` is to stop (the worker polls the word while it writes). */
  cancelExport(id: number): void {
    Atomics.store(this.control, CONTROL.cancelExport, id);
  }

  setSpeed(speed: number): void {
    Atomics.store(this.control, CONTROL.speed, Math.round(speed * 1000));
    Atomics.notify(this.control, CONTROL.pause);
  }

  /** Ends the worker; nothing it says from now on is heard. */
  retire(): void {
    this.retired = true;
    this.port.close();
    if (this.worker) void this.worker.terminate();
  }
}

/** The shadow: where it waits (or is on its way to), and the machine there. */
interface Shadow {
  worker: DebugWorker;
  /** The stop it is replaying to now, until it gets there. */
  heading: Stop | null;
  /** The stop it waits at, and the machine's state there. */
  at: { stop: Stop; state: RunState } | null;
  /** Where to go on to from there: the run stopped again meanwhile. */
  goal: Stop | null;
}

export class DebugRun {
  private live!: DebugWorker;
  private shadow: Shadow | null = null;
  /** Step back is waiting for the shadow to reach this stop. */
  private takeOverAt: Stop | null = null;
  /** Every stop so far in this (possibly replayed) history, oldest first. */
  private stops: Stop[] = [];
  private stopped = false;
  private finished = false;
  /** The run ended with a result (not a crash or a stop): its stops can still be stepped back to. */
  private finishedWithResult = false;
  private breakpoints: number[];
  private speed: number;
  /** Trace questions waiting for the worker's answer, by id. */
  private readonly questions = new Map<number, { resolve: (answer: unknown) => void; reject: (error: Error) => void; progress?: (done: number, total: number) => void }>();
  private nextQuestion = 1;
  /** The run is over and its workers gone (stopped, crashed): nobody can answer. */
  private closed = false;
  private lastHeard = Date.now();
  private readonly hangMs: number;
  private watchdog: ReturnType<typeof setInterval> | null = null;

  private constructor(
    private readonly request: Omit<SimulationRequest, 'debug'>,
    options: DebugRunOptions,
    private readonly pool: WorkerPool,
    private readonly emit: (event: DebugEvent) => void,
  ) {
    this.breakpoints = [...options.breakpoints];
    this.speed = options.speed;
    this.hangMs = options.hangMs ?? DEFAULT_HANG_MS;
    this.launch(options.stopAtStart, null);
    this.watchdog = setInterval(() => this.checkHung(), Math.min(1000, this.hangMs / 4));
    this.watchdog.unref();
  }

  static start(request: Omit<SimulationRequest, 'debug'>, options: DebugRunOptions, pool: WorkerPool, emit: (event: DebugEvent) => void): DebugRun {
    return new DebugRun(request, options, pool, emit);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Goes on from a stop: run to the next breakpoint, or step one line, event or interrupt. */
  resume(command: DebugCommand): void {
    this.expectStopped('go on');
    if (command.breakpoints) this.breakpoints = [...command.breakpoints];
    this.stopped = false;
    this.lastHeard = Date.now();
    this.live.send({ kind: 'command', command: { ...command, breakpoints: this.breakpoints } });
    // The stop being left is where step back will go from the next one: the shadow sets off
    // for it now, alongside the run, rather than when the run gets there.
    if (this.shadow) this.steer(this.shadow, this.stops.at(-1)!);
  }

  /** New breakpoints: kept for the next command when stopped, sent at once while running. */
  setBreakpoints(lines: number[]): void {
    this.breakpoints = [...lines];
    if (!this.stopped && !this.finished) this.live.send({ kind: 'breakpoints', lines: this.breakpoints });
  }

  pause(): void {
    if (this.finished || this.stopped) return;
    this.live.pause();
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    this.live.setSpeed(speed);
  }

  /** The stop step back goes to: the one before the current stop, or from the end of the run its last stop. */
  private get backTarget(): Stop | null {
    if (this.finished) return this.finishedWithResult ? (this.stops.at(-1) ?? null) : null;
    return this.stopped ? (this.stops.at(-2) ?? null) : null;
  }

  /** Goes back to the stop before the current one (or, from the end of the run, to its last stop). */
  stepBack(): void {
    if (this.closed) throw new DebugRunError('the run has ended: nothing to step back to');
    if (!this.finished && !this.stopped) throw new DebugRunError('the run is not stopped: pause it before you step back');
    const target = this.backTarget;
    if (target === null) throw new DebugRunError('there is no earlier stop to go back to');
    this.stops = this.stops.slice(0, this.stops.indexOf(target) + 1);
    this.stopped = false;
    this.finished = false;
    this.finishedWithResult = false;
    for (const q of this.questions.values()) q.reject(new DebugRunError('the run stepped back: ask again'));
    this.questions.clear();
    this.lastHeard = Date.now();
    this.startWatchdog();
    const shadow = this.shadow;
    if (shadow?.at && sameStop(shadow.at.stop, target)) return this.takeOver();
    if (shadow && this.steer(shadow, target)) {
      this.takeOverAt = target;
      return;
    }
    // No shadow on its way there: replay from the start in a fresh worker.
    this.stops.pop(); // the replay's stop puts it back
    this.retireShadow();
    this.live.retire();
    this.launch(false, target);
  }

  /** Rows of the trace table. */
  trace(filter: TraceFilter, from: number, count: number): Promise<RunTraceResponse> {
    return this.ask({ kind: 'trace', id: 0, filter, from, count }) as Promise<RunTraceResponse>;
  }

  /** The waveform's lines over [fromNs, toNs]. */
  signals(fromNs: number, toNs: number): Promise<RunSignalsResponse> {
    return this.ask({ kind: 'signals', id: 0, fromNs, toNs }) as Promise<RunSignalsResponse>;
  }

  /** The processor's IRQL, interrupts and routines over [fromNs, toNs]. */
  timeline(fromNs: number, toNs: number): Promise<RunTimelineResponse> {
    return this.ask({ kind: 'timeline', id: 0, fromNs, toNs }) as Promise<RunTimelineResponse>;
  }

  /** Up to a page of physical memory. */
  memory(address: number, length: number): Promise<RunMemoryResponse> {
    return this.ask({ kind: 'memory', id: 0, address, length }) as Promise<RunMemoryResponse>;
  }

  /** A finished run, or one stopped where the person is looking: its trace holds still and can be exported. */
  get canExport(): boolean {
    return !this.closed && (this.finished || this.stopped);
  }

  /**
   * Writes the trace to a file, in the worker that holds it; `progress` hears how far it
   * has got. cancel() makes the worker give up at its next block of events (and leave no file).
   */
  exportTrace(request: Omit<TraceExportMessage, 'kind' | 'id'>, progress: (done: number, total: number) => void): { answer: Promise<TraceExportAnswer>; cancel(): void } {
    if (!this.canExport) throw new DebugRunError('the run is still going: pause it or let it finish before you export its trace');
    const worker = this.live;
    let id = 0;
    const answer = this.ask({ kind: 'export', id: 0, ...request }, progress, (asked) => (id = asked)) as Promise<TraceExportAnswer>;
    return { answer, cancel: () => worker.cancelExport(id) };
  }

  private ask(question: TraceQueryMessage, progress?: (done: number, total: number) => void, asked?: (id: number) => void): Promise<unknown> {
    if (this.closed) return Promise.reject(new DebugRunError('the run has ended and its trace is closed'));
    const id = this.nextQuestion++;
    asked?.(id);
    return new Promise((resolve, reject) => {
      this.questions.set(id, { resolve, reject, ...(progress ? { progress } : {}) });
      this.live.send({ ...question, id });
    });
  }

  /** Ends the run now (or, once it has finished, closes its trace). */
  stop(): void {
    const wasFinished = this.finished;
    this.finished = true;
    this.stopped = false;
    this.close();
    if (!wasFinished) this.emit({ kind: 'ended', reason: 'stopped' });
  }

  /** A worker that says nothing while it should be running is replaced by a failed run, never left to hang the app. */
  private checkHung(): void {
    if (this.finished || this.stopped || Date.now() - this.lastHeard < this.hangMs) return;
    this.finished = true;
    this.close();
    this.emit({ kind: 'finished', reply: { kind: 'crash', message: `the simulation stopped answering for ${Math.round(this.hangMs / 1000)} s and was ended` }, canStepBack: false });
  }

  private startWatchdog(): void {
    this.watchdog ??= setInterval(() => this.checkHung(), Math.min(1000, this.hangMs / 4));
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private close(): void {
    this.closed = true;
    this.stopWatchdog();
    this.live.retire();
    this.retireShadow();
    for (const q of this.questions.values()) q.reject(new DebugRunError('the run has ended and its trace is closed'));
    this.questions.clear();
  }

  private expectStopped(what: string): void {
    if (this.finished) throw new DebugRunError(`the run has ended: nothing to ${what}`);
    if (!this.stopped) throw new DebugRunError(`the run is not stopped: pause it before you ${what}`);
  }

  private answer(report: Extract<DebugReport, { kind: 'answer' }>): void {
    this.questions.get(report.id)?.resolve(report.answer);
    this.questions.delete(report.id);
  }

  private launch(stopAtStart: boolean, replayTo: Stop | null): void {
    this.live = new DebugWorker(
      this.pool,
      this.request,
      { breakpoints: this.breakpoints, stopAtStart, ...(replayTo ? { replayTo } : {}) },
      this.speed,
      { report: (report) => this.onLiveReport(report), finished: (reply) => this.onLiveFinished(reply) },
    );
  }

  private onLiveReport(report: DebugReport): void {
    // The run has stopped for the first time: a person is stepping through it, and step
    // back may come next. The shadow starts on its own work.
    if (this.shadow === null && report.kind === 'stopped') this.launchShadow(null);
    this.lastHeard = Date.now();
    if (report.kind === 'state') return this.emit(report);
    if (report.kind === 'answer') return this.answer(report);
    if (report.kind === 'export-progress') return this.questions.get(report.id)?.progress?.(report.done, report.total);
    this.stops.push(report.stop);
    this.stopped = true;
    this.emit({ kind: 'stopped', stop: report.stop, state: report.state, canStepBack: this.stops.length >= 2 });
    this.trail();
  }

  private onLiveFinished(reply: SimulationReply): void {
    if (this.closed) return;
    this.finished = true;
    this.finishedWithResult = reply.kind === 'result';
    this.stopped = false;
    this.stopWatchdog();
    // After a result the worker stays to answer trace questions; otherwise it is gone.
    if (reply.kind !== 'result') this.close();
    this.emit({ kind: 'finished', reply, canStepBack: this.backTarget !== null });
    if (!this.closed) this.trail();
  }

  /** Sends the shadow on to the stop that step back would go to now. */
  private trail(): void {
    const target = this.backTarget;
    if (target === null) return;
    if (this.shadow && this.steer(this.shadow, target)) return;
    // None yet, or one past the stop (the run stepped back before it).
    this.launchShadow(target);
  }

  /**
   * A new shadow, replaying to `target`; with none, it waits at the start, so that it has
   * loaded and compiled the driver by the time the run first stops.
   */
  private launchShadow(target: Stop | null): void {
    this.retireShadow();
    const heading = target ?? START;
    const next: Shadow = { worker: null as unknown as DebugWorker, heading, at: null, goal: null };
    const setup = target ? { stopAtStart: false, replayTo: target } : { stopAtStart: true };
    next.worker = new DebugWorker(this.pool, this.request, { breakpoints: [], quiet: true, ...setup }, 0, {
      report: (report) => {
        if (report.kind === 'stopped' && this.shadow === next) this.shadowArrived(next, report.stop, report.state);
      },
      // A shadow that ends instead of stopping is of no use: step back replays from the start.
      finished: () => {
        if (this.shadow !== next) return;
        this.shadow = null;
        const target = this.takeOverAt;
        if (target === null) return;
        this.takeOverAt = null;
        this.stops.pop();
        this.live.retire();
        this.launch(false, target);
      },
    });
    this.shadow = next;
  }

  /** Sends the shadow on towards `target` if it can get there (it is not past it); answers whether it will. */
  private steer(shadow: Shadow, target: Stop): boolean {
    const where = shadow.heading ?? shadow.at!.stop;
    if (sameStop(where, target)) {
      shadow.goal = null;
      return true;
    }
    if (!before(where.position, target.position)) return false;
    shadow.goal = target;
    if (shadow.at) this.sendOn(shadow);
    return true;
  }

  private sendOn(shadow: Shadow): void {
    shadow.heading = shadow.goal;
    shadow.goal = null;
    shadow.at = null;
    shadow.worker.send({ kind: 'command', command: { mode: 'run', breakpoints: [], to: shadow.heading! } });
  }

  private shadowArrived(shadow: Shadow, stop: Stop, state: RunState): void {
    shadow.heading = null;
    shadow.at = { stop, state };
    if (shadow.goal) this.sendOn(shadow);
    else if (this.takeOverAt && sameStop(stop, this.takeOverAt)) this.takeOver();
  }

  /** The shadow, waiting at the stop step back goes to, becomes the run. */
  private takeOver(): void {
    const shadow = this.shadow!;
    const at = shadow.at!;
    this.takeOverAt = null;
    this.shadow = null;
    this.live.retire();
    this.live = shadow.worker;
    this.live.setSpeed(this.speed);
    this.rewire(shadow.worker);
    this.stopped = true;
    this.lastHeard = Date.now();
    this.emit({ kind: 'stopped', stop: at.stop, state: at.state, canStepBack: this.stops.length >= 2 });
    this.trail();
  }

  private rewire(worker: DebugWorker): void {
    worker.listen({ report: (report) => this.onLiveReport(report), finished: (reply) => this.onLiveFinished(reply) });
  }

  private retireShadow(): void {
    this.shadow?.worker.retire();
    this.shadow = null;
    this.takeOverAt = null;
  }
}
