import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type CompileAhead, RESOURCE_LIMITS, type SpareMessage, type UpcomingRun, runSimulation, type SimulationOptions, type SimulationReply, type SimulationRequest } from './simulation';

// The simulation workers (DESIGN.md, "The app"): one worker thread per running simulation,
// as many at once as the machine has cores, every run in a fresh worker so that a crashed or
// runaway one takes nothing with it. A person's run (the app's Run button) starts at once in a
// warm spare; batch runs (a class's checks) queue for a free core and flow around it.

/** How long after a spare is taken its replacement starts warming. */
const REPLACE_AFTER_MS = 1000;

export type RunPriority = 'interactive' | 'batch';

export class WorkerPool {
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  /**
   * What a spare runs while it warms (LabCatalog.rehearsal): the lab the person has open, so
   * that the simulator's code for its devices is compiled by the time they press Run.
   */
  rehearsal: Omit<SimulationRequest, 'debug' | 'trace'> | null = null;
  /** The run the next interactive one is likely to be (the open lab's): spares build its machine ahead. */
  upcoming: UpcomingRun | null = null;
  /** The driver the next interactive run is likely to be (compileAhead): every spare compiles it. */
  private ahead: CompileAhead | null = null;
  /** Warm workers, oldest first; the last ones may still be warming. */
  private readonly spares: Worker[] = [];
  private readonly warming = new Set<Worker>();
  private peak = 0;

  constructor(
    /** The built worker script (out/main/simWorker.js). */
    readonly workerPath: string,
    /** Simulations at once: the cores. */
    readonly width = Math.max(1, availableParallelism()),
    /**
     * Warm workers kept ready (prepare()). The app keeps two: a run's own, and its shadow for
     * step back (debugRun.ts), which starts at the run's first stop.
     */
    readonly spareCount = 1,
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

  /**
   * Gets spare workers ready (compiler loaded, sandbox made) for the next interactive runs. With
   * none at all and nothing running (a lab just opened) they warm at once, so that a run's
   * shadow (its step back) has one as soon as the run has; otherwise one warms when no other
   * is, so that warming never takes more than one core from a run. They do not keep the
   * process alive.
   */
  prepare(): void {
    const idle = this.spares.length === 0 && this.busy === 0;
    const wanted = idle ? this.spareCount : this.warming.size === 0 && this.spares.length < this.spareCount ? 1 : 0;
    for (let i = 0; i < wanted; i++) this.warmOne();
  }

  private warmOne(): void {
    const worker = new Worker(this.workerPath, { workerData: { warm: true, rehearsal: this.rehearsal, ahead: this.ahead, upcoming: this.upcoming }, resourceLimits: RESOURCE_LIMITS });
    worker.unref();
    const forget = () => {
      const i = this.spares.indexOf(worker);
      if (i >= 0) this.spares.splice(i, 1);
      this.warming.delete(worker);
    };
    worker.once('error', forget);
    worker.once('exit', forget);
    // simWorker.ts says 'ready' once warm: then the next may start, when none other is warming.
    worker.once('message', () => {
      if (!this.warming.delete(worker)) return;
      if (this.warming.size === 0) this.prepare();
    });
    this.spares.push(worker);
    this.warming.add(worker);
  }

  /**
   * The driver the person is writing: the spares compile it while they wait (simWorker.ts keeps
   * the last few compilations), and so do spares made later, so that a run of it need not.
   */
  compileAhead(driver: CompileAhead): void {
    if (this.ahead?.source === driver.source && this.ahead.file === driver.file) return;
    this.ahead = driver;
    for (const spare of this.spares) spare.postMessage({ kind: 'compile', ...driver } satisfies SpareMessage);
  }

  /** Ends the spares (the app is closing). Runs going on end with their owners. */
  close(): void {
    for (const spare of this.spares) void spare.terminate();
    this.spares.length = 0;
    this.warming.clear();
  }

  private takeSpare(): Worker | undefined {
    const spare = this.spares.shift();
    if (spare) this.warming.delete(spare);
    // The next spare warms once this run is under way, not while it starts: on a small
    // machine the two would share a core.
    setTimeout(() => this.prepare(), REPLACE_AFTER_MS).unref();
    return spare;
  }
}
