import { z } from 'zod';
import type { ApiChannel } from './channels';
import { CatalogProblem, LabDetail, LabId, LabSummary } from './lab';
import { LabProgress, ProgressFile, Settings, SettingsChange } from './progress';
import { OpenScenarioRequest, PlaygroundList, ScenarioDetail, ScenarioId } from './playground';
import { RunExportCancelRequest, RunExportRequest, RunExportResponse } from './traceExport';
import { Empty, RunControlRequest, RunPrepareRequest, RunMemoryRequest, RunMemoryResponse, RunSetRequest, RunSignalsRequest, RunSignalsResponse, RunStartRequest, RunStartResponse, RunTimelineRequest, RunTimelineResponse, RunTraceRequest, RunTraceResponse, type ApiEventName, type ApiEvents } from './run';

// The typed API between the renderer and main, defined once. Electron's IPC and the
// web host's WebSocket carry the same requests; main validates each request against
// its schema before a handler sees it, and each response before it leaves.

/** problem: why progress is not kept; notice: what happened when the store opened (a damaged file set aside). */
const ProgressOverview = z.strictObject({ labs: z.array(LabProgress), problem: z.string().nullable(), notice: z.string().nullable() });
const HintsResponse = z.strictObject({ unlocked: z.array(z.string()), total: z.number().int().min(0) });

export const api = {
  'labs.list': {
    request: z.strictObject({}),
    response: z.strictObject({ labs: z.array(LabSummary), problems: z.array(CatalogProblem) }),
  },
  'labs.get': {
    request: z.strictObject({ id: LabId }),
    response: LabDetail,
  },
  /** Starts a driver on a lab's scenario; its stops, states and end come as 'run.event'. */
  'run.start': { request: RunStartRequest, response: RunStartResponse },
  /** The lab open and its driver as it stands (a lab shown, typing settled): the spare workers get ready for its run. */
  'run.prepare': { request: RunPrepareRequest, response: Empty },
  /** Go on, step, pause, step back or stop. */
  'run.control': { request: RunControlRequest, response: Empty },
  /** New breakpoints or speed, at any time. */
  'run.set': { request: RunSetRequest, response: Empty },
  /** Rows of the run's trace (while it goes, is stopped, or has finished and is still open). */
  'run.trace': { request: RunTraceRequest, response: RunTraceResponse },
  /** DREQ, DACK, T/C and IRQ lines over a span of simulated time, for the waveform. */
  'run.signals': { request: RunSignalsRequest, response: RunSignalsResponse },
  /** IRQL, interrupts taken and driver routines over a span of simulated time, for the timeline. */
  'run.timeline': { request: RunTimelineRequest, response: RunTimelineResponse },
  /** Every lab the person has touched, and why progress cannot be kept if it cannot. */
  'progress.overview': { request: z.strictObject({}), response: ProgressOverview },
  /** One lab's progress: status, saved code, attempts, the best of them. */
  'progress.lab': { request: z.strictObject({ labId: LabId }), response: LabProgress },
  /** The editor's code, autosaved. */
  'progress.saveCode': { request: z.strictObject({ labId: LabId, code: z.string().max(1_000_000) }), response: Empty },
  /** A lab's reference solution, once the lab is passed or after SOLUTION_AFTER_ATTEMPTS attempts; refused before. */
  'labs.solution': { request: z.strictObject({ labId: LabId }), response: z.strictObject({ solution: z.string() }) },
  /** The hints the person has unlocked for a lab, and how many it has. */
  'progress.hints': { request: z.strictObject({ labId: LabId }), response: HintsResponse },
  /** Unlocks the lab's next hint (remembered); answers as progress.hints. */
  'progress.unlockHint': { request: z.strictObject({ labId: LabId }), response: HintsResponse },
  /** Everything the person has done, as one progress file (to keep, or to take to another machine). */
  'progress.export': { request: z.strictObject({}), response: ProgressFile },
  /** Replaces all progress with a progress file's: checked whole first, so a file that does not fit changes nothing. */
  'progress.import': { request: z.strictObject({ file: z.unknown() }), response: ProgressOverview },
  'settings.get': { request: z.strictObject({}), response: Settings },
  /** Saves the settings given; all of them fit, or none is saved. */
  'settings.set': { request: SettingsChange, response: Settings },
  /** The playground's scenarios: the examples and the person's own. */
  'playground.list': { request: z.strictObject({}), response: PlaygroundList },
  /** A playground scenario, with the driver kept for it. */
  'playground.get': { request: z.strictObject({ id: ScenarioId }), response: ScenarioDetail },
  /** A scenario file the person opened: checked as `dmalab run` checks one, and kept in the data folder when it fits. */
  'playground.open': { request: OpenScenarioRequest, response: z.strictObject({ id: ScenarioId, replaced: z.boolean() }) },
  /** The driver typed for a playground scenario, autosaved. */
  'playground.saveDriver': { request: z.strictObject({ id: ScenarioId, code: z.string().max(1_000_000) }), response: Empty },
  /** Writes the run's trace as VCD, Chrome trace JSON, CSV or JSON Lines where the person chooses; progress and end come as 'export.event'. */
  'run.export': { request: RunExportRequest, response: RunExportResponse },
  /** Gives up an export: it ends with 'cancelled' and leaves no file. */
  'run.exportCancel': { request: RunExportCancelRequest, response: Empty },
  /** Up to a page of physical memory, for the memory panel's hex view. */
  'run.memory': { request: RunMemoryRequest, response: RunMemoryResponse },
} as const satisfies Record<ApiChannel, { request: z.ZodType; response: z.ZodType }>;

export type ApiRequest<C extends ApiChannel> = z.input<(typeof api)[C]['request']>;
/** A request as a handler gets it: checked, defaults filled in. */
export type ApiParsedRequest<C extends ApiChannel> = z.output<(typeof api)[C]['request']>;
export type ApiResponse<C extends ApiChannel> = z.output<(typeof api)[C]['response']>;

export const ApiErrorCode = z.enum(['bad-request', 'unknown-channel', 'not-found', 'internal']);
export type ApiErrorCode = z.infer<typeof ApiErrorCode>;

export const ApiErrorBody = z.strictObject({ code: ApiErrorCode, message: z.string() });
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** What every call returns over any transport: errors are values, not lost exceptions. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What the preload exposes and the WebSocket client implements: one untyped hop. */
export interface ApiTransport {
  call(channel: string, request: unknown): Promise<Envelope<unknown>>;
  /** Events main pushes; answers a function that stops listening. */
  onEvent(listener: (name: string, payload: unknown) => void): () => void;
}

/** The typed face of the API that the renderer uses. */
export interface DmaLabApi {
  call<C extends ApiChannel>(channel: C, request: ApiRequest<C>): Promise<ApiResponse<C>>;
  on<E extends ApiEventName>(name: E, listener: (payload: ApiEvents[E]) => void): () => void;
}

export function createApiClient(transport: ApiTransport): DmaLabApi {
  return {
    async call(channel, request) {
      const envelope = await transport.call(channel, request);
      if (!envelope.ok) throw new ApiError(envelope.error.code, envelope.error.message);
      return envelope.value as never;
    },
    on(name, listener) {
      return transport.onEvent((event, payload) => {
        if (event === name) listener(payload as never);
      });
    },
  };
}
