import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appPaths, electronSqliteBinding } from './appPaths';

describe('app paths', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds labs and the built renderer under the app root', () => {
    root = mkdtempSync(join(tmpdir(), 'dmalab-root-'));
    expect(appPaths(root)).toEqual({ root, labsDir: join(root, 'labs'), rendererDir: join(root, 'out', 'renderer'), simWorker: join(root, 'out', 'main', 'simWorker.js') });
  });

  it("uses the Electron-ABI better-sqlite3 only in Electron, unpackaged, and only once it is built", () => {
    root = mkdtempSync(join(tmpdir(), 'dmalab-root-'));
    const binary = join(root, '.electron-abi', 'better-sqlite3-45.4.1', 'build', 'Release', 'better_sqlite3.node');
    expect(electronSqliteBinding(root, '45.4.1', false)).toBeUndefined(); // not built yet
    mkdirSync(join(binary, '..'), { recursive: true });
    writeFileSync(binary, '');
    expect(electronSqliteBinding(root, '45.4.1', false)).toBe(binary);
    expect(electronSqliteBinding(root, '45.4.1', true)).toBeUndefined(); // packaged: rebuilt in place
    expect(electronSqliteBinding(root, undefined, false)).toBeUndefined(); // plain Node: the default build
    expect(electronSqliteBinding(root, '46.0.0', false)).toBeUndefined(); // built for another Electron
  });
});
