import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where the app's own files are, from the folder that holds package.json. */
export interface AppPaths {
  root: string;
  labsDir: string;
  /** The built renderer (electron-vite's out/renderer). */
  rendererDir: string;
  /** The built simulation worker. */
  simWorker: string;
}

export function appPaths(root: string): AppPaths {
  return { root, labsDir: join(root, 'labs'), rendererDir: join(root, 'out', 'renderer'), simWorker: join(root, 'out', 'main', 'simWorker.js') };
}

/**
 * better-sqlite3 is a native module: unit tests and the CLI load the build made for
 * Node, while the Electron app needs one made for Electron's ABI. `npm start` builds
 * that one into `.electron-abi/` (scripts/electron-runtime.mjs); the app passes it to
 * better-sqlite3 as `nativeBinding`. A packaged app has node_modules rebuilt for
 * Electron already, so it uses the default.
 */
export function electronSqliteBinding(root: string, electronVersion: string | undefined, isPackaged: boolean): string | undefined {
  if (electronVersion === undefined || isPackaged) return undefined;
  const path = join(root, '.electron-abi', `better-sqlite3-${electronVersion}`, 'build', 'Release', 'better_sqlite3.node');
  return existsSync(path) ? path : undefined;
}
