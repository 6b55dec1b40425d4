import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../shared/runResult';
import Database from 'better-sqlite3';
import { attemptOf, Progress } from './progress';
import { ProgressStore, SCHEMA_VERSION } from './progressStore';

// The store as the app holds it: a run's outcome becomes an attempt; a damaged database is
// set aside and said so; one that cannot be opened leaves the app working and saying why.

const file = () => join(mkdtempSync(join(tmpdir(), 'dmalab-progress-')), 'progress.sqlite');

const result = (over: Partial<RunResult>): RunResult =>
  ({
    ok: false,
    checks: [
      { id: 'data-integrity', ok: false, message: 'sector 3 never arrived' },
      { id: 'irp-status', ok: true, message: 'every IRP completed' },
    ],
    violations: [
      { rule: 'MAP_TRANSFER_WITHOUT_FLUSH', message: '…', line: 12 },
      { rule: 'MAP_TRANSFER_WITHOUT_FLUSH', message: '…', line: 40 },
      { rule: 'IRQL_MISMATCH', message: '…', line: 7 },
    ],
    bugcheck: null,
    ...over,
  }) as RunResult;

describe('progress in the app', () => {
  it('keeps of a run what an attempt needs: the checks failed, each finding once, the bug check; a stopped run is no attempt', () => {
    expect(attemptOf({ kind: 'result', result: result({}) })).toEqual({
      ok: false,
      outcome: 'result',
      checksPassed: 1,
      checksTotal: 2,
      failed: ['data-integrity'],
      findings: ['MAP_TRANSFER_WITHOUT_FLUSH', 'IRQL_MISMATCH'],
      bugcheck: null,
    });
    expect(attemptOf({ kind: 'load-error', message: 'driver.ts does not compile', compileErrors: [] })).toMatchObject({ ok: false, outcome: 'load-error' });
    expect(attemptOf({ kind: 'stopped' })).toBeNull();
  });

  it('records finished runs as attempts', () => {
    const progress = new Progress(file());
    progress.recordRun('02-packet-read', { kind: 'result', result: result({}) });
    progress.recordRun('02-packet-read', { kind: 'stopped' });
    progress.recordRun('02-packet-read', { kind: 'result', result: result({ ok: true, checks: [{ id: 'data-integrity', ok: true, message: '' }], violations: [] }) });
    expect(progress.get().lab('02-packet-read')).toMatchObject({ status: 'passed', attempts: 2 });
    progress.close();
  });

  it('goes on without a store a newer DMA Lab wrote, says why each time, and never touches the file', () => {
    const path = file();
    ProgressStore.open(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = readFileSync(path);
    const logged: string[] = [];
    const progress = new Progress(path, {}, (m) => logged.push(m));
    expect(progress.problem()).toMatch(/was written by a newer DMA Lab/);
    expect(() => progress.get()).toThrow(/was written by a newer DMA Lab/);
    expect(() => progress.recordRun('02-packet-read', { kind: 'result', result: result({}) })).not.toThrow();
    expect(logged[0]).toMatch(/^progress: .* was written by a newer DMA Lab/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('logs and tells of a file it set aside, and keeps progress in a new store', () => {
    const path = file();
    writeFileSync(path, 'not a database');
    const logged: string[] = [];
    const progress = new Progress(path, {}, (m) => logged.push(m));
    expect(progress.problem()).toBeNull();
    expect(progress.notice()).toMatch(/^the progress database could not be used \(it is not an SQLite database\); it was set aside, unchanged, as /);
    expect(logged).toEqual([`progress: ${progress.notice()}`]);
    progress.recordRun('02-packet-read', { kind: 'result', result: result({}) });
    expect(progress.get().lab('02-packet-read').attempts).toBe(1);
    progress.close();
  });
});
