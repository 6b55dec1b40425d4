import { join } from 'node:path';
import type { RunOutcome } from '../../shared/run';
import type { Attempt } from '../../shared/progress';
import { userDataDir } from './dataDir';
import { ProgressStore, ProgressStoreError, type ProgressStoreOptions, STORE_FILE } from './progressStore';

// The progress store as the app's services hold it: opened on first use (a command that
// never asks about progress never makes a database), and when it cannot be opened the app
// goes on without it, each progress request answering why.

export class Progress {
  private store: ProgressStore | null = null;
  private failure: Error | null = null;

  constructor(
    /** The database file; the user's data folder's unless given. */
    readonly file: string = join(userDataDir(), STORE_FILE),
    private readonly options: ProgressStoreOptions = {},
    private readonly log: (message: string) => void = (m) => console.error(m),
  ) {}

  /** The store, opened now if it was not; throws (the same error every time) when it cannot be. */
  get(): ProgressStore {
    if (this.store) return this.store;
    if (this.failure) throw this.failure;
    try {
      this.store = ProgressStore.open(this.file, this.options);
      const notice = this.notice();
      if (notice !== null) this.log(`progress: ${notice}`);
      return this.store;
    } catch (e) {
      this.failure = e instanceof ProgressStoreError ? e : new ProgressStoreError(e instanceof Error ? e.message : String(e));
      this.log(`progress: ${this.failure.message}`);
      throw this.failure;
    }
  }

  /** What the person should know about the store as it was opened: a file set aside, and where. */
  notice(): string | null {
    const aside = this.store?.setAside;
    return aside ? `the progress database could not be used (${aside.reason}); it was set aside, unchanged, as ${aside.movedTo}, and a new one was started` : null;
  }

  /** Why the store cannot be used, or null when it can. */
  problem(): string | null {
    try {
      this.get();
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** Keeps a finished run as an attempt (a run the person stopped is not one). Never throws: a run's end must not fail for the store's sake. */
  recordRun(labId: string, outcome: RunOutcome): void {
    const attempt = attemptOf(outcome);
    if (attempt === null) return;
    try {
      this.get().recordAttempt(labId, attempt);
    } catch (e) {
      this.log(`progress: the attempt at ${labId} was not kept: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }
}

/** What an attempt keeps of a run's outcome. */
export function attemptOf(outcome: RunOutcome): Omit<Attempt, 'at'> | null {
  switch (outcome.kind) {
    case 'stopped':
      return null;
    case 'load-error':
    case 'crash':
      return { ok: false, outcome: outcome.kind, checksPassed: 0, checksTotal: 0, failed: [], findings: [], bugcheck: null };
    case 'result': {
      const r = outcome.result;
      return {
        ok: r.ok,
        outcome: 'result',
        checksPassed: r.checks.filter((c) => c.ok).length,
        checksTotal: r.checks.length,
        failed: r.checks.filter((c) => !c.ok).map((c) => c.id),
        findings: [...new Set(r.violations.map((v) => v.rule))],
        bugcheck: r.bugcheck?.name ?? null,
      };
    }
  }
}
