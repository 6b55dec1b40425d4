// The one clock of the simulated PC: a discrete-event scheduler in integer simulated
// nanoseconds. Events run in (time, sequence) order, so two events due at the same
// instant run in the order they were scheduled, and the same inputs give the same run.
// Nothing here reads the wall clock.

export type Action = () => void;

/** A scheduled event; keep it to cancel the event before it runs. */
export interface EventHandle {
  readonly time: number;
  readonly seq: number;
  cancelled: boolean;
}

interface Entry extends EventHandle {
  action: Action;
}

export type RunResult = 'idle' | 'time-reached' | 'stopped' | 'runaway';

/** More events than this in one run call means a device or driver loops without end. */
export const DEFAULT_EVENT_BUDGET = 200_000_000;

export class Scheduler {
  private heap: Entry[] = [];
  private nextSeq = 0;
  private stopRequested = false;
  /** Current simulated time in ns. Only moves forward. */
  now = 0;
  /** Events run since creation (for statistics and the runaway guard). */
  eventsRun = 0;

  get pending(): number {
    return this.heap.length;
  }

  /** Runs `action` `delayNs` from now (0 = after everything already due now). */
  schedule(delayNs: number, action: Action): EventHandle {
    return this.scheduleAt(this.now + delayNs, action);
  }

  scheduleAt(timeNs: number, action: Action): EventHandle {
    if (!Number.isSafeInteger(timeNs) || timeNs < this.now) {
      throw new RangeError(`an event must be due at a whole number of ns not before now (${this.now}), got ${timeNs}`);
    }
    const entry: Entry = { time: timeNs, seq: this.nextSeq++, cancelled: false, action };
    this.push(entry);
    return entry;
  }

  cancel(handle: EventHandle | null | undefined): void {
    if (handle) handle.cancelled = true;
  }

  /** Time of the next live event, or null when nothing is scheduled. */
  peekTime(): number | null {
    this.dropCancelled();
    return this.heap[0]?.time ?? null;
  }

  /** Ends the current run call after the event that is running. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Runs the next event; false when there is none. */
  step(): boolean {
    this.dropCancelled();
    const entry = this.pop();
    if (entry === undefined) return false;
    this.now = entry.time;
    this.eventsRun++;
    entry.action();
    return true;
  }

  /**
   * Runs every event due up to and including `timeNs`, then sets the clock to `timeNs`.
   * Stops early on stop() or after `budget` events.
   */
  runUntil(timeNs: number, budget = DEFAULT_EVENT_BUDGET): RunResult {
    this.stopRequested = false;
    let left = budget;
    for (;;) {
      this.dropCancelled();
      const next = this.heap[0];
      if (next === undefined || next.time > timeNs) break;
      if (left-- <= 0) return 'runaway';
      this.step();
      if (this.stopRequested) return 'stopped';
    }
    if (timeNs > this.now) this.now = timeNs;
    return this.heap.length === 0 ? 'idle' : 'time-reached';
  }

  /** Runs until nothing is scheduled. */
  runUntilIdle(budget = DEFAULT_EVENT_BUDGET): RunResult {
    this.stopRequested = false;
    let left = budget;
    while (this.peekTime() !== null) {
      if (left-- <= 0) return 'runaway';
      this.step();
      if (this.stopRequested) return 'stopped';
    }
    return 'idle';
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!Scheduler.before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && Scheduler.before(heap[r]!, heap[l]!) ? r : l;
      if (!Scheduler.before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
