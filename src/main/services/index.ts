import { createApiHandlers, type ApiHandlers } from '../api/handlers';
import { appPaths, type AppPaths } from './appPaths';
import { LabCatalog } from './labCatalog';
import { RunManager } from './runManager';

/** The services the app, the web host and the CLI share; none of them needs Electron. */
export interface Services {
  paths: AppPaths;
  catalog: LabCatalog;
  runs: RunManager;
  handlers: ApiHandlers;
}

export function createServices(root: string): Services {
  const paths = appPaths(root);
  const catalog = new LabCatalog(paths.labsDir);
  const runs = new RunManager(catalog, paths.simWorker);
  return { paths, catalog, runs, handlers: createApiHandlers({ catalog, runs }) };
}
