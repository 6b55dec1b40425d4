import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RESOURCE_LIMITS, runSimulation, type SimulationOptions, type SimulationReply, type SimulationRequest } from './simulation';

// The simulation workers (DESIGN.md, "The app"): one worker thread per running simulation,
// as many at once as the machine has cores, every run in a fresh worker so that a crashed or
// runaway one takes nothing with it. A person's run (the app's Run button) starts at once in a
// warm spare; batch runs (a class's checks) queue for a free core and flow around it.

export type RunPriority = 'interactive' | 'batch';

export class WorkerPool {
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  private spare: Worker | null = null;
  private peak = 0;

  constructor(
    /** The built worker script (out/main/simWorker.js). */
    readonly workerPath: string,
    /** Simulations at once: the cores. */
    readonly width = Math.max(1, availableParallelism()),
  ) {}

  /** Simulations going now, and the most there have been at once. */
  get running(): number {
    return this.busy;
  }
  get mostAtOnce(): number {
    return this.peak;
  }
  /** Batch runs waiting for a core. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs one simulation in a worker of its own and answers how it ended; a worker that
   * crashes or hangs is ended and its run answered as a crash. An interactive run takes a
   * warm spare and starts at once (a person is waiting on it); a batch run waits for a core.
   */
  async run(request: SimulationRequest, options: Omit<SimulationOptions, 'workerPath' | 'spare'> = {}, priority: RunPriority = 'batch'): Promise<SimulationReply> {
    if (priority === 'batch' && this.busy >= this.width) await new Promise<void>((go) => this.waiting.push(go));
    else this.busy++;
    this.peak = Math.max(this.peak, this.busy);
    const spare = priority === 'interactive' ? this.takeSpare() : undefined;
    try {
      return await runSimulation(request, { ...options, workerPath: this.workerPath, ...(spare ? { spare } : {}) });
    } finally {
      // The place passes straight to the next batch run in line, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }

  /** Gets a spare worker ready (compiler loaded, sandbox made) for the next interactive run. It does not keep the process alive. */
  prepare(): void {
    if (this.spare !== null) return;
    const worker = new Worker(this.workerPath, { workerData: { warm: true }, resourceLimits: RESOURCE_LIMITS });
    worker.unref();
    const forget = () => {
      if (this.spare === worker) this.spare = null;
    };
    worker.once('error', forget);
    worker.once('exit', forget);
    this.spare = worker;
  }

  /** Ends the spare (the app is closing). Runs going on end with their owners. */
  close(): void {
    void this.spare?.terminate();
    this.spare = null;
  }

  private takeSpare(): Worker | undefined {
    const spare = this.spare ?? undefined;
    this.spare = null;
    this.prepare();
    return spare;
  }
}
