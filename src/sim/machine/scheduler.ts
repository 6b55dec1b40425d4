// The one clock of the simulated PC: a discrete-event scheduler in integer simulated
// nanoseconds. Events run in (time, sequence) order, so two events due at the same
// instant run in the order they were scheduled, and the same inputs give the same run.
// Nothing here reads the wall clock.
//
// A binary heap that knows each entry's position, so cancelling is immediate and a
// Timer (an event that is set again and again, like a DMA controller's next cycle) reuses
// one entry instead of allocating one per firing.

export type Action = () => void;

/** A scheduled event; keep it to cancel the event before it runs. */
export interface EventHandle {
  readonly time: number;
  readonly seq: number;
  /** True once cancelled (or, for a Timer, while it is not set). */
  readonly cancelled: boolean;
}

interface Entry extends EventHandle {
  time: number;
  seq: number;
  cancelled: boolean;
  action: Action;
  /** Position in the heap, -1 when not in it. */
  index: number;
}

export type RunResult = 'idle' | 'time-reached' | 'stopped' | 'runaway';

/** More events than this in one run call means a device or driver loops without end. */
export const DEFAULT_EVENT_BUDGET = 200_000_000;

/** A reusable event: set it for a time, clear it, set it again. */
export interface Timer {
  /** Due at `timeNs` (absolute); replaces any earlier setting. */
  setAt(timeNs: number): void;
  clear(): void;
  readonly pending: boolean;
}

/**
 * Simulated nanoseconds pass 2^31 after about two seconds, where V8 stops storing them as
 * small integers. A field that changes representation deoptimizes every function that
 * touched it, so time fields hold a double from the start.
 */
export const DOUBLE = 0.5;

export class Scheduler {
  private heap: Entry[] = [];
  private nextSeq = 0;
  private stopRequested = false;
  /** Current simulated time in ns. Only moves forward. */
  now = DOUBLE;
  /** Events run since creation (for statistics and the runaway guard). */
  eventsRun = 0;
  /** Called after every event (a debugger's "next hardware event" and its pause requests). */
  afterEvent: (() => void) | null = null;

  constructor() {
    this.now = 0; // see DOUBLE
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs `action` `delayNs` from now (0 = after everything already due now). */
  schedule(delayNs: number, action: Action): EventHandle {
    return this.scheduleAt(this.now + delayNs, action);
  }

  scheduleAt(timeNs: number, action: Action): EventHandle {
    const entry: Entry = { time: DOUBLE, seq: 0, cancelled: false, action, index: -1 };
    this.arm(entry, timeNs);
    return entry;
  }

  createTimer(action: Action): Timer {
    const entry: Entry = { time: DOUBLE, seq: 0, cancelled: true, action, index: -1 };
    return {
      setAt: (timeNs: number) => this.arm(entry, timeNs),
      clear: () => this.remove(entry),
      get pending() {
        return entry.index >= 0;
      },
    };
  }

  cancel(handle: EventHandle | null | undefined): void {
    if (handle) this.remove(handle as Entry);
  }

  /** Time of the next event, or null when nothing is scheduled. */
  peekTime(): number | null {
    return this.heap[0]?.time ?? null;
  }

  /** Ends the current run call after the event that is running. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Runs the next event; false when there is none. */
  step(): boolean {
    const entry = this.heap[0];
    if (entry === undefined) return false;
    this.removeAt(0);
    entry.cancelled = true; // it has run: cancelling it now is a no-op
    this.now = entry.time;
    this.eventsRun++;
    entry.action();
    if (this.afterEvent !== null) this.afterEvent();
    return true;
  }

  /**
   * Runs every event due up to and including `timeNs`, then sets the clock to `timeNs`.
   * Stops early on stop() or after `budget` events.
   */
  runUntil(timeNs: number, budget = DEFAULT_EVENT_BUDGET): RunResult {
    const result = this.runEvents(timeNs, budget);
    if (result !== 'idle') return result;
    if (timeNs > this.now) this.now = timeNs;
    return this.heap.length === 0 ? 'idle' : 'time-reached';
  }

  /** Runs until nothing is scheduled. */
  runUntilIdle(budget = DEFAULT_EVENT_BUDGET): RunResult {
    return this.runEvents(Infinity, budget);
  }

  /** 'idle' here means: nothing more is due by `limit`. */
  private runEvents(limit: number, budget: number): RunResult {
    this.stopRequested = false;
    let left = budget;
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.time > limit) return 'idle';
      if (left-- <= 0) return 'runaway';
      this.step();
      if (this.stopRequested) return 'stopped';
    }
  }

  private arm(entry: Entry, timeNs: number): void {
    if (!Number.isSafeInteger(timeNs) || timeNs < this.now) {
      throw new RangeError(`an event must be due at a whole number of ns not before now (${this.now}), got ${timeNs}`);
    }
    this.remove(entry);
    entry.time = timeNs;
    entry.seq = this.nextSeq++;
    entry.cancelled = false;
    entry.index = this.heap.length;
    this.heap.push(entry);
    this.siftUp(entry.index);
  }

  private remove(entry: Entry): void {
    entry.cancelled = true;
    if (entry.index >= 0) this.removeAt(entry.index);
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const removed = heap[i]!;
    const last = heap.pop()!;
    removed.index = -1;
    if (last === removed) return;
    heap[i] = last;
    last.index = i;
    this.siftDown(i);
    this.siftUp(last.index);
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!Scheduler.before(entry, p)) break;
      heap[i] = p;
      p.index = i;
      i = parent;
    }
    heap[i] = entry;
    entry.index = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && Scheduler.before(heap[r]!, heap[l]!) ? r : l;
      const c = heap[child]!;
      if (!Scheduler.before(c, entry)) break;
      heap[i] = c;
      c.index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}
