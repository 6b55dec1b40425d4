import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { RunMemoryResponse, RunSignalsResponse, RunTraceResponse, TraceFilter } from '../../shared/run';
import type { RunState, Stop } from '../../shared/runState';
import type { DebugCommand } from '../../sim/run/debugger';
import { CONTROL, CONTROL_BYTES, type DebugMessage, type TraceQueryMessage } from './debugProtocol';
import type { SimulationReply, SimulationRequest } from './simulation';
import type { WorkerPool } from './workerPool';

// One run under the debugger, from the main thread: a worker that stops where the person
// asks, and step back, which replays the run in a fresh worker to the stop before the
// last one (the run is deterministic, so it lands on the same machine state).

export type DebugEvent =
  | { kind: 'stopped'; stop: Stop; state: RunState; canStepBack: boolean }
  | { kind: 'state'; state: RunState }
  | { kind: 'finished'; reply: SimulationReply }
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

export class DebugRun {
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private control: Int32Array = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  /** Every stop so far in this (possibly replayed) history, oldest first. */
  private stops: Stop[] = [];
  private stopped = false;
  private finished = false;
  /** The worker being replaced by step back: its end is not the run's end. */
  private retired = new Set<Worker>();
  private breakpoints: number[];
  private speed: number;
  /** Trace questions waiting for the worker's answer, by id. */
  private readonly questions = new Map<number, { resolve: (answer: unknown) => void; reject: (error: Error) => void }>();
  private nextQuestion = 1;
  /** The worker is gone (stopped, crashed, replaced): nobody can answer. */
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
    this.send({ kind: 'command', command: { ...command, breakpoints: this.breakpoints } });
  }

  /** New breakpoints: kept for the next command when stopped, sent at once while running. */
  setBreakpoints(lines: number[]): void {
    this.breakpoints = [...lines];
    if (!this.stopped && !this.finished) this.send({ kind: 'breakpoints', lines: this.breakpoints });
  }

  pause(): void {
    if (this.finished || this.stopped) return;
    Atomics.store(this.control, CONTROL.pause, 1);
    Atomics.notify(this.control, CONTROL.pause);
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    Atomics.store(this.control, CONTROL.speed, Math.round(speed * 1000));
    Atomics.notify(this.control, CONTROL.pause);
  }

  /** Replays the run to the stop before the current one. */
  stepBack(): void {
    this.expectStopped('step back');
    if (this.stops.length < 2) throw new DebugRunError('there is no earlier stop to go back to');
    const target = this.stops[this.stops.length - 2]!;
    this.stops = this.stops.slice(0, -2); // the replay's stop puts the target back
    this.stopped = false;
    if (this.worker) {
      this.retired.add(this.worker);
      void this.worker.terminate();
    }
    for (const q of this.questions.values()) q.reject(new DebugRunError('the run stepped back: ask again'));
    this.questions.clear();
    this.lastHeard = Date.now();
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

  /** Up to a page of physical memory. */
  memory(address: number, length: number): Promise<RunMemoryResponse> {
    return this.ask({ kind: 'memory', id: 0, address, length }) as Promise<RunMemoryResponse>;
  }

  private ask(question: TraceQueryMessage): Promise<unknown> {
    if (this.closed || !this.port) return Promise.reject(new DebugRunError('the run has ended and its trace is closed'));
    const id = this.nextQuestion++;
    return new Promise((resolve, reject) => {
      this.questions.set(id, { resolve, reject });
      this.send({ ...question, id });
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
    if (this.finished) return;
    if (this.stopped || Date.now() - this.lastHeard < this.hangMs) return;
    this.finished = true;
    this.close();
    this.emit({ kind: 'finished', reply: { kind: 'crash', message: `the simulation stopped answering for ${Math.round(this.hangMs / 1000)} s and was ended` } });
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private close(): void {
    this.closed = true;
    this.stopWatchdog();
    this.port?.close();
    if (this.worker) {
      this.retired.add(this.worker);
      void this.worker.terminate();
    }
    for (const q of this.questions.values()) q.reject(new DebugRunError('the run has ended and its trace is closed'));
    this.questions.clear();
  }

  private expectStopped(what: string): void {
    if (this.finished) throw new DebugRunError(`the run has ended: nothing to ${what}`);
    if (!this.stopped) throw new DebugRunError(`the run is not stopped: pause it before you ${what}`);
  }

  private send(message: DebugMessage): void {
    this.port!.postMessage(message);
    Atomics.add(this.control, CONTROL.signal, 1);
    Atomics.notify(this.control, CONTROL.signal);
  }

  private launch(stopAtStart: boolean, replayTo: Stop | null): void {
    const { port1, port2 } = new MessageChannel();
    this.port?.close();
    this.port = port1;
    this.control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    Atomics.store(this.control, CONTROL.speed, Math.round(this.speed * 1000));
    let worker: Worker | null = null;
    void this.pool.run(
      {
        ...this.request,
        debug: {
          control: this.control.buffer as SharedArrayBuffer,
          port: port2,
          breakpoints: this.breakpoints,
          stopAtStart,
          ...(replayTo ? { replayTo } : {}),
        },
      },
      {
        onWorker: (w) => {
          worker = w;
          this.worker = w;
        },
        onDebug: (report) => {
          if (worker === null || this.retired.has(worker)) return;
          this.lastHeard = Date.now();
          if (report.kind === 'state') return this.emit(report);
          if (report.kind === 'answer') {
            this.questions.get(report.id)?.resolve(report.answer);
            this.questions.delete(report.id);
            return;
          }
          this.stops.push(report.stop);
          this.stopped = true;
          this.emit({ kind: 'stopped', stop: report.stop, state: report.state, canStepBack: this.stops.length >= 2 });
        },
      },
      'interactive',
    ).then((reply) => {
      if ((worker !== null && this.retired.has(worker)) || this.closed) return;
      this.finished = true;
      this.stopped = false;
      this.stopWatchdog();
      // After a result the worker stays to answer trace questions; otherwise it is gone.
      if (reply.kind !== 'result') this.close();
      this.emit({ kind: 'finished', reply });
    });
  }
}
