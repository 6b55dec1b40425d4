import { createApiHandlers, type ApiHandlers } from '../api/handlers';
import { appPaths, type AppPaths } from './appPaths';
import { LabCatalog } from './labCatalog';
import { RunManager } from './runManager';
import { WorkerPool } from './workerPool';

/** The services the app, the web host and the CLI share; none of them needs Electron. */
export interface Services {
  paths: AppPaths;
  catalog: LabCatalog;
  runs: RunManager;
  /** The simulation workers, for the app's runs and the CLI's checks alike. */
  pool: WorkerPool;
  handlers: ApiHandlers;
}

export function createServices(root: string): Services {
  const paths = appPaths(root);
  const catalog = new LabCatalog(paths.labsDir);
  // Read the catalog once now, while the window loads: its first answer then comes warm.
  void catalog.list().catch(() => undefined);
  const pool = new WorkerPool(paths.simWorker, undefined, 2);
  const runs = new RunManager(catalog, pool);
  return { paths, catalog, runs, pool, handlers: createApiHandlers({ catalog, runs }) };
}
