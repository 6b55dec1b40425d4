import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { LabProgress, LabStatus, ProgressFile } from '../../../shared/progress';
import { useApi } from '../api';

/**
 * The person's progress as the page shows it: each lab's status for the catalog, the code
 * saved for the lab that opens, and the autosave of what they type. When progress cannot be
 * kept (the database is not usable), `problem` says why and the page goes on without it.
 */
export const useProgressStore = defineStore('progress', () => {
  const statuses = ref<Record<string, LabStatus>>({});
  /** Every lab the person has touched, as the overview shows it. */
  const labs = shallowRef<LabProgress[]>([]);
  const problem = ref<string | null>(null);
  /** What happened to the store as it opened (a damaged file set aside), until the person dismisses it. */
  const notice = ref<string | null>(null);
  let dismissed: string | null = null;
  /** The last autosave that failed, and why. */
  const saveError = ref<string | null>(null);

  function show(overview: { labs: LabProgress[]; problem: string | null; notice: string | null }): void {
    labs.value = overview.labs;
    statuses.value = Object.fromEntries(overview.labs.map((l) => [l.labId, l.status]));
    problem.value = overview.problem;
    notice.value = overview.notice === dismissed ? null : overview.notice;
  }

  function dismissNotice(): void {
    dismissed = notice.value;
    notice.value = null;
  }

  async function refresh(): Promise<void> {
    try {
      show(await useApi().call('progress.overview', {}));
    } catch {
      // The API itself is unreachable: the page says so where it loads the catalog.
    }
  }

  /** A lab's progress, or null when it cannot be read (the lab then opens with its starter). */
  async function lab(labId: string): Promise<LabProgress | null> {
    try {
      return await useApi().call('progress.lab', { labId });
    } catch {
      return null;
    }
  }

  async function saveCode(labId: string, code: string): Promise<void> {
    try {
      await useApi().call('progress.saveCode', { labId, code });
      saveError.value = null;
      if ((statuses.value[labId] ?? 'not-started') === 'not-started') statuses.value = { ...statuses.value, [labId]: 'in-progress' };
    } catch (err) {
      saveError.value = err instanceof Error ? err.message : String(err);
    }
  }

  /** Everything, as one progress file's contents. */
  async function exportFile(): Promise<ProgressFile> {
    return useApi().call('progress.export', {});
  }

  /** Replaces everything with a progress file's contents; throws, changing nothing, when the file does not fit. */
  async function importFile(file: unknown): Promise<void> {
    show(await useApi().call('progress.import', { file }));
  }

  return { statuses, labs, problem, notice, dismissNotice, saveError, refresh, lab, saveCode, exportFile, importFile };
});
