import { createApiHandlers, type ApiHandlers } from '../api/handlers';
import { appPaths, type AppPaths } from './appPaths';
import { LabCatalog } from './labCatalog';
import { Progress } from './progress';
import type { ProgressStoreOptions } from './progressStore';
import { RunManager } from './runManager';
import { WorkerPool } from './workerPool';

/** The services the app, the web host and the CLI share; none of them needs Electron. */
export interface Services {
  paths: AppPaths;
  catalog: LabCatalog;
  runs: RunManager;
  /** The simulation workers, for the app's runs and the CLI's checks alike. */
  pool: WorkerPool;
  /** The person's progress (SQLite in the data folder), opened on first use. */
  progress: Progress;
  handlers: ApiHandlers;
}

export interface ServiceOptions {
  /** The progress database; the user's data folder's unless given. */
  progressFile?: string;
  /** For Electron: better-sqlite3 built for its ABI (appPaths.ts). */
  store?: ProgressStoreOptions;
}

export function createServices(root: string, options: ServiceOptions = {}): Services {
  const paths = appPaths(root);
  const catalog = new LabCatalog(paths.labsDir);
  // Read the catalog once now, while the window loads: its first answer then comes warm.
  void catalog.list().catch(() => undefined);
  const pool = new WorkerPool(paths.simWorker, undefined, 2);
  const progress = new Progress(options.progressFile, options.store);
  // Every run the person finishes is an attempt at its lab.
  const runs = new RunManager(catalog, pool, (labId, outcome) => progress.recordRun(labId, outcome));
  return { paths, catalog, runs, pool, progress, handlers: createApiHandlers({ catalog, runs, progress }) };
}
