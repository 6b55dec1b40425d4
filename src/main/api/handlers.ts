import type { ApiParsedRequest, ApiResponse } from '../../shared/api';
import type { ApiChannel } from '../../shared/channels';
import type { ApiEventName, ApiEvents } from '../../shared/run';
import type { LabCatalog } from '../services/labCatalog';
import type { Playground } from '../services/playground';
import { SOLUTION_AFTER_ATTEMPTS } from '../../shared/progress';
import type { Progress } from '../services/progress';
import type { RunManager } from '../services/runManager';
import type { ExportFormat } from '../../shared/traceExport';

/** Where a file the person keeps (a trace export) is written. */
export interface SavePlace {
  path: string;
  /** Written: answers the address the page fetches it from (the web host), or null when it already is where the person chose. */
  finish(fileName: string): string | null;
  /** Not written after all (cancelled, failed): whatever was set aside for it goes. */
  abandon(): void;
}

/** Who made a call: where its events go, and a way to learn it has gone (a closed window or socket). */
export interface ApiClient {
  emit<E extends ApiEventName>(name: E, payload: ApiEvents[E]): void;
  onClose(listener: () => void): void;
  /** Asks where to save `fileName` (a save dialog, or a download the web host will serve); null: the person chose not to. */
  chooseSavePlace?(fileName: string, format: ExportFormat): Promise<SavePlace | null>;
}

/** Asked for a solution not yet earned. */
export class SolutionLockedError extends Error {}

/** A client that hears nothing: the CLI and tests that do not listen. */
export const SILENT_CLIENT: ApiClient = { emit: () => {}, onClose: () => {} };

/** One function per channel, given a request that has already passed its schema. */
export type ApiHandlers = {
  [C in ApiChannel]: (request: ApiParsedRequest<C>, client: ApiClient) => Promise<ApiResponse<C>>;
};

export interface ApiServices {
  catalog: LabCatalog;
  playground: Playground;
  runs: RunManager;
  progress: Progress;
}

export function createApiHandlers({ catalog, playground, runs, progress }: ApiServices): ApiHandlers {
  return {
    'labs.list': () => catalog.list(),
    // Not a sign that the lab is open: the page reads the others ahead too (run.prepare says which is).
    'labs.get': ({ id }) => catalog.get(id),
    'run.start': async (request, client) => ({ runId: await runs.start(request, client) }),
    'run.prepare': async (request) => {
      runs.prepareFor(request);
      return {};
    },
    'playground.list': () => playground.list(),
    'playground.get': ({ id }) => playground.get(id),
    'playground.open': ({ fileName, text }) => playground.open(fileName, text),
    'playground.saveDriver': async ({ id, code }) => {
      await playground.saveDriver(id, code);
      return {};
    },
    'progress.overview': async () => {
      const problem = progress.problem();
      return { labs: problem === null ? progress.get().labs() : [], problem, notice: progress.notice() };
    },
    'progress.lab': async ({ labId }) => progress.get().lab(labId),
    'progress.saveCode': async ({ labId, code }) => {
      progress.get().saveCode(labId, code);
      return {};
    },
    'labs.solution': async ({ labId }) => {
      const lab = progress.get().lab(labId);
      if (lab.status !== 'passed' && lab.attempts < SOLUTION_AFTER_ATTEMPTS) {
        throw new SolutionLockedError(
          `the reference solution of ${labId} opens once you pass the lab or after ${SOLUTION_AFTER_ATTEMPTS} attempts (you have made ${lab.attempts})`,
        );
      }
      return { solution: await catalog.solution(labId) };
    },
    'progress.hints': async ({ labId }) => {
      const hints = await catalog.hints(labId);
      // Without a store nothing was unlocked (and nothing can be): the page says why elsewhere.
      const unlocked = progress.problem() === null ? progress.get().lab(labId).hintsUnlocked : 0;
      return { unlocked: hints.slice(0, unlocked), total: hints.length };
    },
    'progress.unlockHint': async ({ labId }) => {
      const hints = await catalog.hints(labId);
      const unlocked = progress.get().unlockHint(labId, hints.length);
      return { unlocked: hints.slice(0, unlocked), total: hints.length };
    },
    'progress.export': async () => progress.get().exportProgress(),
    'progress.import': async ({ file }) => {
      progress.get().importProgress(file);
      return { labs: progress.get().labs(), problem: null, notice: progress.notice() };
    },
    'settings.get': async () => progress.get().settings(),
    'settings.set': async (changes) => progress.get().setSettings(changes),
    'run.control': async ({ runId, action }, client) => {
      runs.control(runId, action, client);
      return {};
    },
    'run.set': async ({ runId, breakpoints, speed }, client) => {
      runs.set(runId, client, breakpoints, speed);
      return {};
    },
    'run.trace': ({ runId, filter, from, count }, client) => runs.trace(runId, client, filter, from, count),
    'run.signals': ({ runId, fromNs, toNs }, client) => runs.signals(runId, client, fromNs, toNs),
    'run.timeline': ({ runId, fromNs, toNs }, client) => runs.timeline(runId, client, fromNs, toNs),
    'run.memory': ({ runId, address, length }, client) => runs.memory(runId, client, address, length),
    'run.export': (request, client) => runs.exportTrace(request, client),
    'run.exportCancel': async ({ exportId }, client) => {
      runs.cancelExport(exportId, client);
      return {};
    },
  };
}
