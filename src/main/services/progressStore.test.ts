import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PROGRESS_FILE_FORMAT } from '../../shared/progress';
import { MIGRATIONS, ProgressFileError, ProgressStore, ProgressStoreError, SCHEMA_VERSION, STORE_FILE } from './progressStore';

// The progress store on a real SQLite file: what it keeps, how an older schema is brought up
// to date, that a file which cannot serve is set aside unchanged, and that a newer one is refused.

const folder = () => mkdtempSync(join(tmpdir(), 'dmalab-store-'));
const fileIn = (dir = folder()) => join(dir, STORE_FILE);

/** A clock that moves on a second per reading. */
function clock(start = 1_700_000_000_000) {
  let t = start;
  return () => (t += 1000);
}

const passing = { ok: true, outcome: 'result' as const, checksPassed: 4, checksTotal: 4, failed: [], findings: [], bugcheck: null };
const failing = (passed: number, findings: string[] = []) => ({ ok: false, outcome: 'result' as const, checksPassed: passed, checksTotal: 4, failed: ['data-integrity'], findings, bugcheck: null });

describe('the progress store', () => {
  it('keeps the code, the attempts and the best of them, and a lab once passed stays passed', () => {
    const file = fileIn();
    const store = ProgressStore.open(file, { now: clock() });
    expect(store.lab('02-packet-read')).toEqual({ labId: '02-packet-read', status: 'not-started', code: null, codeSavedAt: null, hintsUnlocked: 0, attempts: 0, best: null, passedAt: null });

    store.saveCode('02-packet-read', 'export function DriverEntry() {}');
    expect(store.lab('02-packet-read')).toMatchObject({ status: 'in-progress', code: 'export function DriverEntry() {}' });

    store.recordAttempt('02-packet-read', failing(1, ['MAP_TRANSFER_WITHOUT_FLUSH']));
    store.recordAttempt('02-packet-read', failing(3));
    let lab = store.recordAttempt('02-packet-read', failing(2));
    expect(lab).toMatchObject({ status: 'in-progress', attempts: 3, best: { checksPassed: 3 }, passedAt: null });
    lab = store.recordAttempt('02-packet-read', passing);
    expect(lab.status).toBe('passed');
    expect(lab.best).toMatchObject({ ok: true, checksPassed: 4 });
    const passedAt = lab.passedAt;
    lab = store.recordAttempt('02-packet-read', failing(0));
    expect(lab).toMatchObject({ status: 'passed', passedAt, attempts: 5 });
    store.saveCode('02-packet-read', '// back to work');
    expect(store.lab('02-packet-read').status).toBe('passed');
    expect(store.attempts('02-packet-read', 2).map((a) => a.checksPassed)).toEqual([0, 4]);
    expect(store.attempts('02-packet-read', 10).at(-1)!.findings).toEqual(['MAP_TRANSFER_WITHOUT_FLUSH']);
    store.close();

    // …and all of it is there after a restart.
    const again = ProgressStore.open(file);
    expect(again.lab('02-packet-read')).toMatchObject({ status: 'passed', code: '// back to work', attempts: 5, passedAt });
    expect(again.labs().map((l) => l.labId)).toEqual(['02-packet-read']);
    again.close();
  });

  it('unlocks hints one at a time, never past the last', () => {
    const store = ProgressStore.open(fileIn());
    expect(store.unlockHint('01-adapter-object', 3)).toBe(1);
    expect(store.unlockHint('01-adapter-object', 3)).toBe(2);
    expect(store.unlockHint('01-adapter-object', 3)).toBe(3);
    expect(store.unlockHint('01-adapter-object', 3)).toBe(3);
    expect(store.lab('01-adapter-object')).toMatchObject({ hintsUnlocked: 3, status: 'not-started' });
    store.close();
  });

  it('gives every setting its default, saves the ones that fit and refuses a change that does not, saving none of it', () => {
    const store = ProgressStore.open(fileIn());
    expect(store.settings()).toEqual({ theme: 'system', speed: 0, editorPercent: 56, lastLab: null });
    expect(store.setSettings({ editorPercent: 70 })).toMatchObject({ editorPercent: 70, theme: 'system' });
    // A change leaves the settings it does not name as they were.
    expect(store.setSettings({ theme: 'dark', speed: 0.1 })).toEqual({ theme: 'dark', speed: 0.1, editorPercent: 70, lastLab: null });
    expect(() => store.setSettings({ theme: 'dark', speed: -1 })).toThrow();
    expect(() => store.setSettings({ font: 'big' } as never)).toThrow();
    expect(store.settings()).toMatchObject({ theme: 'dark', speed: 0.1 });
    store.close();
  });

  it('opens a database of every earlier schema version, keeping what it holds', () => {
    for (let from = 0; from < SCHEMA_VERSION; from++) {
      const file = fileIn();
      // A database as version `from` of the app left it, with a lab in it where that version had the table.
      const old = new Database(file);
      for (let v = 0; v < from; v++) old.exec(MIGRATIONS[v]!);
      old.pragma(`user_version = ${from}`);
      if (from > 0) {
        old.pragma(`application_id = ${0x444d414c}`);
        old.prepare("INSERT INTO lab (lab_id, status, code) VALUES ('03-packet-write-coherency', 'in-progress', '// mine')").run();
      }
      old.close();
      const store = ProgressStore.open(file);
      if (from > 0) expect(store.lab('03-packet-write-coherency')).toMatchObject({ status: 'in-progress', code: '// mine' });
      store.recordAttempt('03-packet-write-coherency', passing);
      store.close();
      const check = new Database(file, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
      check.close();
    }
  });

  it('sets aside a file that is not a database, unchanged and under a timestamped name, and starts afresh', () => {
    const dir = folder();
    const file = fileIn(dir);
    const text = 'these are my notes, not a database\n'.repeat(200);
    writeFileSync(file, text);
    const store = ProgressStore.open(file, { now: () => Date.UTC(2026, 10, 25, 9, 30, 0) });
    const movedTo = `${file}.set-aside-2026-11-25T09-30-00-000Z`;
    expect(store.setAside).toEqual({ reason: 'it is not an SQLite database', movedTo });
    expect(readFileSync(movedTo, 'utf8')).toBe(text);
    // The new store works.
    store.saveCode('02-packet-read', '// new');
    expect(store.lab('02-packet-read').code).toBe('// new');
    store.close();
    expect(ProgressStore.open(file).setAside).toBeNull();
  });

  it('sets aside a truncated database and a damaged one, with their WAL, and says why', () => {
    for (const spoil of ['truncate', 'scribble'] as const) {
      const dir = folder();
      const file = fileIn(dir);
      const store = ProgressStore.open(file);
      for (let i = 0; i < 400; i++) store.recordAttempt(`0${1 + (i % 9)}-lab`, failing(i % 4, ['rule-a']));
      store.saveCode('02-packet-read', 'x'.repeat(50_000));
      store.close();
      const bytes = readFileSync(file);
      if (spoil === 'truncate') writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      else {
        // Garbage over pages in the middle (the header is whole, so the file still opens).
        bytes.fill(0xa5, 4096 * 3, 4096 * 6);
        writeFileSync(file, bytes);
      }
      writeFileSync(`${file}-wal`, 'a WAL that belongs to the spoilt file');
      const spoilt = readFileSync(file);
      const reopened = ProgressStore.open(file);
      expect(reopened.setAside?.reason).toMatch(/^it is damaged/);
      expect(readFileSync(reopened.setAside!.movedTo).equals(spoilt)).toBe(true);
      expect(readFileSync(`${reopened.setAside!.movedTo}-wal`, 'utf8')).toBe('a WAL that belongs to the spoilt file');
      expect(reopened.labs()).toEqual([]);
      reopened.close();
    }
  });

  it("sets aside another program's SQLite database; refuses one a newer DMA Lab wrote, changing nothing", () => {
    const other = fileIn();
    const db = new Database(other);
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)');
    db.close();
    const before = readFileSync(other);
    const store = ProgressStore.open(other);
    expect(store.setAside?.reason).toBe("it is an SQLite database, but another program's, not a DMA Lab progress database");
    expect(readFileSync(store.setAside!.movedTo).equals(before)).toBe(true);
    store.close();

    const newer = fileIn();
    ProgressStore.open(newer).close();
    const n = new Database(newer);
    n.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    n.close();
    const written = readFileSync(newer);
    expect(() => ProgressStore.open(newer)).toThrow(ProgressStoreError);
    expect(() => ProgressStore.open(newer)).toThrow(`was written by a newer DMA Lab (progress schema version ${SCHEMA_VERSION + 1}; this one knows versions up to ${SCHEMA_VERSION})`);
    expect(readFileSync(newer).equals(written)).toBe(true);
  });

  it('exports everything as one file and imports it into another data folder', () => {
    const a = ProgressStore.open(fileIn(), { now: clock() });
    a.saveCode('01-adapter-object', '// one');
    a.recordAttempt('01-adapter-object', passing);
    a.saveCode('02-packet-read', '// two');
    a.recordAttempt('02-packet-read', failing(2, ['DOUBLE_FLUSH']));
    a.unlockHint('02-packet-read', 4);
    a.setSettings({ theme: 'light' });
    const file = JSON.parse(JSON.stringify(a.exportProgress()));
    const b = ProgressStore.open(fileIn());
    b.saveCode('05-controller-buffer-flush', '// to be replaced');
    b.importProgress(file);
    expect(b.labs()).toEqual(a.labs());
    expect(b.settings()).toEqual(a.settings());
    expect(b.lab('05-controller-buffer-flush').code).toBeNull();
    a.close();
    b.close();
  });

  it('refuses a progress file that does not fit, from a newer version, or of another kind, and keeps what it had', () => {
    const store = ProgressStore.open(fileIn());
    store.saveCode('02-packet-read', '// keep me');
    const good = store.exportProgress();
    expect(() => store.importProgress({ name: 'a scenario', devices: [] })).toThrow(/this is not a DMA Lab progress file/);
    expect(() => store.importProgress('not even an object')).toThrow(ProgressFileError);
    expect(() => store.importProgress({ ...good, version: 9 })).toThrow(/written by a newer DMA Lab \(file version 9; this one reads up to 1\)/);
    const broken = { ...good, labs: [{ ...good.labs[0]!, status: 'half-done' }] };
    try {
      store.importProgress(broken);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProgressFileError);
      expect((e as ProgressFileError).problems[0]!.path).toBe('labs[0].status');
    }
    expect(good.format).toBe(PROGRESS_FILE_FORMAT);
    expect(store.lab('02-packet-read').code).toBe('// keep me');
    store.close();
  });
});
