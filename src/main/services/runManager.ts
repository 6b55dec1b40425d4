import { DEFAULT_RUN_SEED, type RunAction, type RunEvent, type RunMemoryResponse, type RunOutcome, type RunSignalsResponse, type RunTimelineResponse, type RunTraceResponse, type TraceFilter } from '../../shared/run';
import type { ApiParsedRequest } from '../../shared/api';
import type { ApiClient } from '../api/handlers';
import { DebugRun, DebugRunError, type DebugEvent } from './debugRun';
import type { LabCatalog } from './labCatalog';
import { type Playground, ScenarioNotFoundError } from './playground';
import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { exportFileName } from '../../shared/traceExport';
import { partialPath } from './traceFile';
import type { SimulationReply } from './simulation';
import type { WorkerPool } from './workerPool';

// The app's runs: each one a DebugRun in a worker of its own, owned by the client (window or
// socket) that started it, which alone may steer it and hears its events. A client that goes
// away takes its runs with it.

export class RunNotFoundError extends Error {}

/** What the person's driver is called in a run: its compile errors and findings name it. */
const DRIVER_FILE = 'driver.ts';

function outcome(reply: SimulationReply): RunOutcome {
  if (reply.kind === 'result') return { kind: 'result', result: reply.result };
  if (reply.kind === 'load-error') return { kind: 'load-error', message: reply.message, compileErrors: reply.compileErrors };
  return { kind: 'crash', message: reply.message };
}

function toRunEvent(event: DebugEvent): RunEvent {
  switch (event.kind) {
    case 'finished':
      return { kind: 'finished', outcome: outcome(event.reply), canStepBack: event.canStepBack };
    case 'ended':
      return { kind: 'finished', outcome: { kind: 'stopped' }, canStepBack: false };
    default:
      return event;
  }
}

export class RunManager {
  private readonly runs = new Map<number, { run: DebugRun; client: ApiClient; name: string }>();
  /** Trace exports being written, by id: who asked, and how to stop one. */
  private readonly exports = new Map<number, { client: ApiClient; cancel(): void }>();
  private nextExport = 1;
  private readonly watched = new WeakSet<ApiClient>();
  private nextId = 1;

  constructor(
    private readonly catalog: LabCatalog,
    private readonly pool: WorkerPool,
    /** Told of each run's end, with the lab it ran (the progress store keeps it as an attempt). */
    private readonly finished: (labId: string, outcome: RunOutcome) => void = () => {},
    private readonly playground: Playground | null = null,
  ) {}

  private preparing: ReturnType<typeof setTimeout> | null = null;

  /** Gets workers ready, so that the first Run starts at once; they rehearse `labId` when given. */
  async prepare(labId?: string): Promise<void> {
    if (labId !== undefined) {
      this.openLab ??= labId;
      await this.rehearse(labId);
    }
    if (existsSync(this.pool.workerPath)) this.pool.prepare();
  }

  /** The lab open last: what spares made from now on rehearse. */
  private openLab: string | undefined;

  /**
   * prepare(), once the window has settled: a worker warming up takes a core for a second or
   * two, which a page still loading its editor would feel on a small machine. Later calls
   * (another lab opened) change only what the next spares rehearse; the same lab again (each
   * autosave says it) reads nothing.
   */
  prepareSoon(labId?: string, delayMs = 2000): void {
    const another = labId !== undefined && labId !== this.openLab;
    if (labId !== undefined) this.openLab = labId;
    if (this.preparing !== null) {
      if (another) void this.rehearse(labId);
      return;
    }
    this.preparing = setTimeout(() => void this.prepare(this.openLab), delayMs);
    this.preparing.unref();
  }

  /**
   * Spares made from now on rehearse `labId` and build the machine of its run at the app's
   * seed, unless another lab has been opened meanwhile.
   */
  private async rehearse(labId: string): Promise<void> {
    const ready = await this.catalog
      .runInputs(labId)
      .then(async (inputs) => ({ inputs, rehearsal: await this.catalog.rehearsal(labId, inputs) }))
      .catch(() => null);
    if (ready === null || this.openLab !== labId) return;
    const { inputs, rehearsal } = ready;
    this.pool.rehearsal = rehearsal;
    this.pool.upcoming = { scenario: inputs.scenario, seed: DEFAULT_RUN_SEED, images: inputs.images };
  }

  /**
   * The person has this lab (or playground scenario) open, with this driver: the spares get
   * ready for its run. They rehearse the lab and build its machine, and compile the driver
   * while they wait, so that a Run of it starts without compiling (in a small worker, 50–120
   * ms of TypeScript) or building.
   */
  prepareFor({ labId, source }: ApiParsedRequest<'run.prepare'>): void {
    this.prepareSoon(labId);
    this.pool.compileAhead({ source, file: DRIVER_FILE });
  }

  /** Runs going now (a finished run whose trace is still open does not count). */
  get active(): number {
    return [...this.runs.values()].filter((r) => !r.run.isFinished).length;
  }


  async start(request: ApiParsedRequest<'run.start'>, client: ApiClient): Promise<number> {
    const { labId, scenarioId } = request;
    if (scenarioId !== undefined && this.playground === null) throw new ScenarioNotFoundError(scenarioId);
    const inputs = labId !== undefined ? await this.catalog.runInputs(labId) : await this.playground!.runInputs(scenarioId!);
    // What the run is called (export file names): the lab, or the scenario's name.
    const name = labId ?? scenarioId!.split('/')[1]!;
    const runId = this.nextId++;
    const run = DebugRun.start(
      { scenario: inputs.scenario, source: request.source, file: DRIVER_FILE, seed: request.seed, images: inputs.images, files: inputs.files },
      { breakpoints: request.breakpoints, stopAtStart: request.stopAtStart, speed: request.speed },
      this.pool,
      (event) => {
        if (event.kind === 'ended') this.runs.delete(runId);
        const runEvent = toRunEvent(event);
        // A lab's run is an attempt at it; a playground run is nobody's attempt.
        if (runEvent.kind === 'finished' && labId !== undefined) this.finished(labId, runEvent.outcome);
        client.emit('run.event', { runId, event: runEvent });
      },
    );
    // A client keeps its newest run, finished or not, so that its trace can still be read;
    // starting another closes the one before.
    this.closeRunsOf(client);
    this.runs.set(runId, { run, client, name });
    if (!this.watched.has(client)) {
      this.watched.add(client);
      client.onClose(() => this.closeRunsOf(client));
    }
    return runId;
  }

  trace(runId: number, client: ApiClient, filter: TraceFilter, from: number, count: number): Promise<RunTraceResponse> {
    return this.own(runId, client).trace(filter, from, count);
  }

  signals(runId: number, client: ApiClient, fromNs: number, toNs: number): Promise<RunSignalsResponse> {
    return this.own(runId, client).signals(fromNs, toNs);
  }

  timeline(runId: number, client: ApiClient, fromNs: number, toNs: number): Promise<RunTimelineResponse> {
    return this.own(runId, client).timeline(fromNs, toNs);
  }

  memory(runId: number, client: ApiClient, address: number, length: number): Promise<RunMemoryResponse> {
    return this.own(runId, client).memory(address, length);
  }

  /**
   * Exports a run's trace to where the client saves files (the app's save dialog; the web
   * host's downloads); its progress and end come as 'export.event'. exportId is null when
   * the person chose no file.
   */
  async exportTrace(request: ApiParsedRequest<'run.export'>, client: ApiClient): Promise<{ exportId: number | null; fileName: string }> {
    const { run, name } = this.entry(request.runId, client);
    if (!run.canExport) throw new DebugRunError('the run is still going: pause it or let it finish before you export its trace');
    if (!client.chooseSavePlace) throw new DebugRunError('this client has nowhere to save a file');
    const offered = exportFileName(name, request.format);
    const place = await client.chooseSavePlace(offered, request.format);
    if (place === null) return { exportId: null, fileName: offered };
    const exportId = this.nextExport++;
    const fileName = basename(place.path);
    let job: ReturnType<DebugRun['exportTrace']>;
    try {
      job = run.exportTrace({ path: place.path, format: request.format, detail: request.detail, vcdBuses: request.vcdBuses }, (done, total) =>
        client.emit('export.event', { exportId, kind: 'progress', done, total }),
      );
    } catch (error) {
      place.abandon();
      throw error;
    }
    this.exports.set(exportId, { client, cancel: job.cancel });
    void job.answer
      .then(
        (answer) => {
          if (answer.kind === 'written') {
            const download = place.finish(fileName);
            client.emit('export.event', { exportId, kind: 'done', events: answer.events, bytes: answer.bytes, fileName, path: download === null ? place.path : null, download });
            return;
          }
          place.abandon();
          client.emit('export.event', answer.kind === 'cancelled' ? { exportId, kind: 'cancelled' } : { exportId, kind: 'failed', message: answer.message });
        },
        (error: unknown) => {
          // The worker was ended in the middle (the run closed): what it had begun to write goes too.
          rmSync(partialPath(place.path), { force: true });
          place.abandon();
          client.emit('export.event', { exportId, kind: 'failed', message: error instanceof Error ? error.message : String(error) });
        },
      )
      .finally(() => this.exports.delete(exportId));
    return { exportId, fileName };
  }

  /** Stops an export; it ends with a 'cancelled' event and no file. */
  cancelExport(exportId: number, client: ApiClient): void {
    const job = this.exports.get(exportId);
    if (!job || job.client !== client) throw new RunNotFoundError(`no export ${exportId} is being written (it has ended, or it is not this window's)`);
    job.cancel();
  }

  control(runId: number, action: RunAction, client: ApiClient): void {
    const run = this.own(runId, client);
    switch (action) {
      case 'continue':
        return run.resume({ mode: 'run' });
      case 'step-line':
        return run.resume({ mode: 'line' });
      case 'step-event':
        return run.resume({ mode: 'event' });
      case 'step-interrupt':
        return run.resume({ mode: 'interrupt' });
      case 'pause':
        return run.pause();
      case 'step-back':
        return run.stepBack();
      case 'stop':
        return run.stop();
    }
  }

  set(runId: number, client: ApiClient, breakpoints?: number[], speed?: number): void {
    const run = this.own(runId, client);
    if (breakpoints) run.setBreakpoints(breakpoints);
    if (speed !== undefined) run.setSpeed(speed);
  }

  private closeRunsOf(client: ApiClient): void {
    for (const [id, entry] of this.runs) {
      if (entry.client !== client) continue;
      entry.run.stop();
      this.runs.delete(id);
    }
  }

  /** Stops every run (the app is closing). */
  stopAll(): void {
    for (const { run } of this.runs.values()) run.stop();
    this.runs.clear();
    this.pool.close();
  }

  private own(runId: number, client: ApiClient): DebugRun {
    return this.entry(runId, client).run;
  }

  private entry(runId: number, client: ApiClient): { run: DebugRun; name: string } {
    const entry = this.runs.get(runId);
    if (!entry || entry.client !== client) throw new RunNotFoundError(`no run ${runId} is open (it was closed, or it is not this window's)`);
    return entry;
  }
}
