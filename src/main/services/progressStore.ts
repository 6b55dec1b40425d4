import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type Attempt,
  type LabProgress,
  type LabStatus,
  PROGRESS_FILE_FORMAT,
  PROGRESS_FILE_VERSION,
  ProgressFile,
  SETTING_KEYS,
  Settings,
  SettingsChange,
} from '../../shared/progress';
import { problemsFromZod, type SchemaProblem } from '../../shared/schemaError';

// A person's progress, in SQLite in their data folder (DESIGN.md, "The app"): WAL, so that a
// write never waits for a reader; the schema versioned by PRAGMA user_version and brought up
// to date by the migrations below, one version at a time; every write in a transaction. A
// file that cannot serve (damaged, truncated, not a database, another program's) is set
// aside under a timestamped name, never deleted, and a new store is started; one a newer
// DMA Lab wrote is refused and left exactly as it was, since that DMA Lab can still read it.

export const STORE_FILE = 'progress.sqlite';
/** 'DMAL': marks the database as this app's (PRAGMA application_id). */
const APPLICATION_ID = 0x444d414c;

/** MIGRATIONS[v] takes the schema from version v to v + 1. Never edit one that has shipped: add the next. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE lab (
     lab_id TEXT PRIMARY KEY,
     status TEXT NOT NULL DEFAULT 'not-started' CHECK (status IN ('not-started', 'in-progress', 'passed')),
     code TEXT,
     code_saved_at INTEGER,
     hints_unlocked INTEGER NOT NULL DEFAULT 0,
     passed_at INTEGER
   ) STRICT;
   CREATE TABLE attempt (
     id INTEGER PRIMARY KEY,
     lab_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     ok INTEGER NOT NULL,
     outcome TEXT NOT NULL,
     checks_passed INTEGER NOT NULL,
     checks_total INTEGER NOT NULL,
     failed TEXT NOT NULL,
     findings TEXT NOT NULL,
     bugcheck TEXT
   ) STRICT;
   -- A lab's best attempt is the first row of this index: passing first, then the most checks passed, then the earliest.
   CREATE INDEX attempt_best ON attempt (lab_id, ok DESC, checks_passed DESC, at);
   CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database could not be opened as a progress store; the file is untouched. */
export class ProgressStoreError extends Error {}

/** A file at the store's place that cannot serve as one: set aside, and a new store started. */
class UnusableStore extends Error {}

/** What was found at the store's place and set aside when it was opened. */
export interface SetAside {
  /** Why it could not serve. */
  reason: string;
  /** Where it is now. */
  movedTo: string;
}

/** A progress file that does not fit; nothing stored was changed. */
export class ProgressFileError extends Error {
  constructor(
    message: string,
    readonly problems: SchemaProblem[] = [],
  ) {
    super(message);
  }
}

interface AttemptRow {
  at: number;
  ok: number;
  outcome: Attempt['outcome'];
  checks_passed: number;
  checks_total: number;
  failed: string;
  findings: string;
  bugcheck: string | null;
}

interface LabRow {
  lab_id: string;
  status: LabStatus;
  code: string | null;
  code_saved_at: number | null;
  hints_unlocked: number;
  passed_at: number | null;
}

const toAttempt = (r: AttemptRow): Attempt => ({
  at: r.at,
  ok: r.ok === 1,
  outcome: r.outcome,
  checksPassed: r.checks_passed,
  checksTotal: r.checks_total,
  failed: JSON.parse(r.failed) as string[],
  findings: JSON.parse(r.findings) as string[],
  bugcheck: r.bugcheck,
});

const isSqliteError = (e: unknown, code: string) => e instanceof Error && (e as Error & { code?: string }).code === code;

export interface ProgressStoreOptions {
  /** better-sqlite3 built for Electron's ABI (appPaths.ts); the default binding otherwise. */
  nativeBinding?: string;
  /** The wall clock, for tests. */
  now?: () => number;
}

export class ProgressStore {
  private readonly statements;

  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {
    this.statements = {
      lab: db.prepare<[string], LabRow>('SELECT * FROM lab WHERE lab_id = ?'),
      labs: db.prepare<[], LabRow>('SELECT * FROM lab ORDER BY lab_id'),
      best: db.prepare<[string], AttemptRow>('SELECT * FROM attempt WHERE lab_id = ? ORDER BY ok DESC, checks_passed DESC, at LIMIT 1'),
      count: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM attempt WHERE lab_id = ?'),
      recent: db.prepare<[string, number], AttemptRow>('SELECT * FROM attempt WHERE lab_id = ? ORDER BY at DESC, id DESC LIMIT ?'),
      saveCode: db.prepare(
        `INSERT INTO lab (lab_id, status, code, code_saved_at) VALUES (?, 'in-progress', ?, ?)
         ON CONFLICT (lab_id) DO UPDATE SET code = excluded.code, code_saved_at = excluded.code_saved_at,
           status = CASE status WHEN 'not-started' THEN 'in-progress' ELSE status END`,
      ),
      ensureLab: db.prepare(`INSERT INTO lab (lab_id, status) VALUES (?, 'in-progress') ON CONFLICT (lab_id) DO UPDATE SET status = CASE status WHEN 'not-started' THEN 'in-progress' ELSE status END`),
      pass: db.prepare(`UPDATE lab SET status = 'passed', passed_at = coalesce(passed_at, ?) WHERE lab_id = ?`),
      addAttempt: db.prepare(
        'INSERT INTO attempt (lab_id, at, ok, outcome, checks_passed, checks_total, failed, findings, bugcheck) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      unlockHint: db.prepare(
        `INSERT INTO lab (lab_id, status, hints_unlocked) VALUES (?, 'not-started', min(1, ?))
         ON CONFLICT (lab_id) DO UPDATE SET hints_unlocked = min(hints_unlocked + 1, ?)`,
      ),
      settings: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM setting'),
      setSetting: db.prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  /** What was set aside when this store was opened, if anything was. */
  setAside: SetAside | null = null;

  /**
   * Opens (or makes) the store at `file`, bringing an older schema up to date. A file there
   * that cannot serve is set aside (`setAside` says why and where) and a new store made; one a
   * newer DMA Lab wrote is refused (ProgressStoreError) and left as it was.
   */
  static open(file: string, options: ProgressStoreOptions = {}): ProgressStore {
    mkdirSync(dirname(file), { recursive: true });
    try {
      return ProgressStore.openAsIs(file, options);
    } catch (e) {
      if (!(e instanceof UnusableStore)) throw e;
      const movedTo = ProgressStore.setFileAside(file, (options.now ?? Date.now)());
      const store = ProgressStore.openAsIs(file, options);
      store.setAside = { reason: e.message, movedTo };
      return store;
    }
  }

  private static openAsIs(file: string, options: ProgressStoreOptions): ProgressStore {
    const binding = options.nativeBinding ? { nativeBinding: options.nativeBinding } : {};
    // Looked at read-only first: a writer would replay the file's WAL into it and delete the
    // WAL on closing, and a file that cannot serve is to be set aside exactly as it was found.
    if (existsSync(file) && statSync(file).size > 0) ProgressStore.inspect(file, binding);
    let db: Database.Database;
    try {
      db = new Database(file, binding);
    } catch (e) {
      throw new ProgressStoreError(`cannot open the progress database ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      ProgressStore.migrate(db);
      db.pragma('journal_mode = WAL');
      // With WAL, NORMAL loses nothing on a crash of the app, only possibly the last commits on a power cut.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    } catch (e) {
      db.close();
      if (e instanceof ProgressStoreError || e instanceof UnusableStore) throw e;
      if (isSqliteError(e, 'SQLITE_NOTADB')) throw new UnusableStore('it is not an SQLite database');
      if (isSqliteError(e, 'SQLITE_CORRUPT') || isSqliteError(e, 'SQLITE_CORRUPT_INDEX')) throw new UnusableStore(`it is damaged (${(e as Error).message})`);
      throw new ProgressStoreError(`cannot open the progress database ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return new ProgressStore(db, options.now ?? Date.now);
  }

  /**
   * Renames the file (and its WAL and shared-memory files, which belong to it and must not
   * be replayed into a new store) to `<file>.set-aside-<UTC time>`; answers the new name.
   */
  private static setFileAside(file: string, now: number): string {
    const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
    let movedTo = `${file}.set-aside-${stamp}`;
    for (let n = 2; existsSync(movedTo); n++) movedTo = `${file}.set-aside-${stamp}-${n}`;
    renameSync(file, movedTo);
    for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, movedTo + suffix);
    return movedTo;
  }

  /** Throws UnusableStore when the file at the store's place cannot serve, ProgressStoreError when a newer DMA Lab wrote it. */
  private static inspect(file: string, binding: { nativeBinding?: string }): void {
    let db: Database.Database;
    try {
      db = new Database(file, { ...binding, readonly: true, fileMustExist: true });
    } catch (e) {
      throw new ProgressStoreError(`cannot open the progress database ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      const application = db.pragma('application_id', { simple: true }) as number;
      const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
      if (application !== APPLICATION_ID && (application !== 0 || tables > 0)) throw new UnusableStore("it is an SQLite database, but another program's, not a DMA Lab progress database");
      // A truncated or damaged file may open and read its header well: the pages say otherwise.
      const check = (db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]).map((r) => r.integrity_check);
      if (check.length !== 1 || check[0] !== 'ok') throw new UnusableStore(`it is damaged (${check.slice(0, 3).join('; ')})`);
      ProgressStore.checkVersion(db);
    } catch (e) {
      if (e instanceof UnusableStore || e instanceof ProgressStoreError) throw e;
      if (isSqliteError(e, 'SQLITE_NOTADB')) throw new UnusableStore('it is not an SQLite database');
      if (isSqliteError(e, 'SQLITE_CORRUPT') || isSqliteError(e, 'SQLITE_CORRUPT_INDEX')) throw new UnusableStore(`it is damaged (${(e as Error).message})`);
      throw new ProgressStoreError(`cannot open the progress database ${file}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      db.close();
    }
  }

  private static checkVersion(db: Database.Database): void {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new ProgressStoreError(
        `${db.name} was written by a newer DMA Lab (progress schema version ${version}; this one knows versions up to ${SCHEMA_VERSION}); it was left as it is. Update DMA Lab to open it.`,
      );
    }
  }

  /** Brings the schema to SCHEMA_VERSION, in one transaction (inspect() has found the file fit). */
  private static migrate(db: Database.Database): void {
    ProgressStore.checkVersion(db);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    db.transaction(() => {
      for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.pragma(`application_id = ${APPLICATION_ID}`);
    })();
  }

  close(): void {
    this.db.close();
  }

  /** A lab's progress (a lab never opened is not started, with no code saved). */
  lab(labId: string): LabProgress {
    const row = this.statements.lab.get(labId);
    const best = this.statements.best.get(labId);
    return {
      labId,
      status: row?.status ?? 'not-started',
      code: row?.code ?? null,
      codeSavedAt: row?.code_saved_at ?? null,
      hintsUnlocked: row?.hints_unlocked ?? 0,
      attempts: this.statements.count.get(labId)!.n,
      best: best ? toAttempt(best) : null,
      passedAt: row?.passed_at ?? null,
    };
  }

  /** Every lab the person has touched. */
  labs(): LabProgress[] {
    return this.statements.labs.all().map((r) => this.lab(r.lab_id));
  }

  /** The editor's code, autosaved: a lab with code is in progress (or stays passed). */
  saveCode(labId: string, code: string): void {
    this.statements.saveCode.run(labId, code, this.now());
  }

  /** A run's outcome: kept as an attempt; a passing one marks the lab passed (for good). */
  recordAttempt(labId: string, attempt: Omit<Attempt, 'at'>): LabProgress {
    const at = this.now();
    this.db.transaction(() => {
      this.statements.ensureLab.run(labId);
      this.statements.addAttempt.run(
        labId,
        at,
        attempt.ok ? 1 : 0,
        attempt.outcome,
        attempt.checksPassed,
        attempt.checksTotal,
        JSON.stringify(attempt.failed),
        JSON.stringify(attempt.findings),
        attempt.bugcheck,
      );
      if (attempt.ok) this.statements.pass.run(at, labId);
    })();
    return this.lab(labId);
  }

  /** The latest attempts, newest first. */
  attempts(labId: string, limit = 20): Attempt[] {
    return this.statements.recent.all(labId, limit).map(toAttempt);
  }

  /** Unlocks the next hint of a lab that has `available` of them; answers how many are unlocked. */
  unlockHint(labId: string, available: number): number {
    this.statements.unlockHint.run(labId, available, available);
    return this.statements.lab.get(labId)!.hints_unlocked;
  }

  /** The settings, each with its default where none was saved (or a saved one no longer fits). */
  settings(): Settings {
    const saved: Record<string, unknown> = {};
    for (const { key, value } of this.statements.settings.all()) {
      if (!(SETTING_KEYS as string[]).includes(key)) continue;
      const one = Settings.shape[key as keyof Settings].safeParse(JSON.parse(value));
      if (one.success) saved[key] = one.data;
    }
    return Settings.parse(saved);
  }

  /** Saves some settings; every one must fit, or none is saved. */
  setSettings(changes: SettingsChange): Settings {
    const checked = SettingsChange.parse(changes);
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(checked)) if (value !== undefined) this.statements.setSetting.run(key, JSON.stringify(value));
    })();
    return this.settings();
  }

  /** Everything, as one progress file. */
  exportProgress(): ProgressFile {
    const labs = this.statements.labs.all().map((r) => ({
      labId: r.lab_id,
      status: r.status,
      code: r.code,
      codeSavedAt: r.code_saved_at,
      hintsUnlocked: r.hints_unlocked,
      passedAt: r.passed_at,
    }));
    const attempts = (this.db.prepare('SELECT * FROM attempt ORDER BY id').all() as (AttemptRow & { lab_id: string })[]).map((r) => ({ labId: r.lab_id, ...toAttempt(r) }));
    return { format: PROGRESS_FILE_FORMAT, version: PROGRESS_FILE_VERSION, exportedAt: this.now(), labs, attempts, settings: this.settings() };
  }

  /**
   * Replaces everything with a progress file's contents, in one transaction: a file that does
   * not fit is refused with what is wrong in it, and what was stored stays as it was.
   */
  importProgress(input: unknown): void {
    const file = parseProgressFile(input);
    this.db.transaction(() => {
      this.db.exec('DELETE FROM attempt; DELETE FROM lab; DELETE FROM setting;');
      const lab = this.db.prepare('INSERT INTO lab (lab_id, status, code, code_saved_at, hints_unlocked, passed_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const l of file.labs) lab.run(l.labId, l.status, l.code, l.codeSavedAt, l.hintsUnlocked, l.passedAt);
      for (const a of file.attempts) {
        this.statements.addAttempt.run(a.labId, a.at, a.ok ? 1 : 0, a.outcome, a.checksPassed, a.checksTotal, JSON.stringify(a.failed), JSON.stringify(a.findings), a.bugcheck);
      }
      for (const [key, value] of Object.entries(file.settings)) this.statements.setSetting.run(key, JSON.stringify(value));
    })();
  }
}

/** Checks a progress file, saying what kind of file it is when it is not one. */
export function parseProgressFile(input: unknown): ProgressFile {
  const head = typeof input === 'object' && input !== null ? (input as { format?: unknown; version?: unknown }) : null;
  if (head?.format !== PROGRESS_FILE_FORMAT) {
    throw new ProgressFileError(`this is not a DMA Lab progress file (expected a JSON object with "format": "${PROGRESS_FILE_FORMAT}"); nothing was imported`);
  }
  if (typeof head.version === 'number' && head.version > PROGRESS_FILE_VERSION) {
    throw new ProgressFileError(
      `this progress file was written by a newer DMA Lab (file version ${head.version}; this one reads up to ${PROGRESS_FILE_VERSION}); nothing was imported. Update DMA Lab to import it.`,
    );
  }
  const parsed = ProgressFile.safeParse(input);
  if (!parsed.success) {
    const problems = problemsFromZod(parsed.error);
    throw new ProgressFileError(`the progress file does not fit, so nothing was imported:\n${problems.map((p) => `${p.path || '(the file)'}: ${p.message}`).join('\n')}`, problems);
  }
  return parsed.data;
}
