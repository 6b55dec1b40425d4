import { createApiHandlers, type ApiHandlers } from '../api/handlers';
import { appPaths, type AppPaths } from './appPaths';
import { LabCatalog } from './labCatalog';
import { Progress } from './progress';
import { dirname, join } from 'node:path';
import { userDataDir } from './dataDir';
import { Playground } from './playground';
import { STORE_FILE, type ProgressStoreOptions } from './progressStore';
import { RunManager } from './runManager';
import { WorkerPool } from './workerPool';

/** The services the app, the web host and the CLI share; none of them needs Electron. */
export interface Services {
  paths: AppPaths;
  catalog: LabCatalog;
  /** The playground's scenarios: the examples and the person's own. */
  playground: Playground;
  runs: RunManager;
  /** The simulation workers, for the app's runs and the CLI's checks alike. */
  pool: WorkerPool;
  /** The person's progress (SQLite in the data folder), opened on first use. */
  progress: Progress;
  handlers: ApiHandlers;
  /**
   * For a host that is about to serve a page (the web host, the app's window): reads the
   * catalog once and opens the progress store now, while the page loads, so that its first
   * requests find both warm. The CLI's one-shot commands never pay for it.
   */
  warmUp(): void;
}

export interface ServiceOptions {
  /** The user's data folder (scenarios opened in the playground go in it); the progress file's folder, or the OS's, unless given. */
  dataDir?: string;
  /** The progress database; the user's data folder's unless given. */
  progressFile?: string;
  /** For Electron: better-sqlite3 built for its ABI (appPaths.ts). */
  store?: ProgressStoreOptions;
}

export function createServices(root: string, options: ServiceOptions = {}): Services {
  const paths = appPaths(root);
  const catalog = new LabCatalog(paths.labsDir);
  const dataDir = options.dataDir ?? (options.progressFile !== undefined ? dirname(options.progressFile) : userDataDir());
  const playground = new Playground(join(paths.labsDir, 'playground'), join(dataDir, 'scenarios'));
  const pool = new WorkerPool(paths.simWorker, undefined, 2);
  const progress = new Progress(options.progressFile ?? join(dataDir, STORE_FILE), options.store);
  // Every run the person finishes is an attempt at its lab.
  const runs = new RunManager(catalog, pool, (labId, outcome) => progress.recordRun(labId, outcome), playground);
  const warmUp = () => {
    void catalog.list().catch(() => undefined);
    progress.problem(); // a new store is made and migrated here; a broken one is reported on the page
  };
  return { paths, catalog, playground, runs, pool, progress, handlers: createApiHandlers({ catalog, playground, runs, progress }), warmUp };
}
