import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CatalogProblem, LabDetail, LabSummary } from '../../../shared/lab';
import { useApi } from '../api';
import { useProgressStore } from './progress';

/**
 * The lab catalog and the lab that is open. It exists so that the catalog list and the
 * editor agree on which lab is current, and so that a slow answer for a lab the person
 * has already left never replaces the one they opened since.
 */
export const useCatalogStore = defineStore('catalog', () => {
  const labs = ref<LabSummary[]>([]);
  const problems = ref<CatalogProblem[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const current = ref<LabDetail | null>(null);
  /** The code saved for the open lab (null: none, it opens with its starter). */
  const savedCode = ref<string | null>(null);
  const openingId = ref<string | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const result = await useApi().call('labs.list', {});
      labs.value = result.labs;
      problems.value = result.problems;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loading.value = false;
    }
  }

  async function open(id: string): Promise<void> {
    openingId.value = id;
    error.value = null;
    try {
      // The lab and what the person last had in its editor, asked for together.
      const [detail, progress] = await Promise.all([useApi().call('labs.get', { id }), useProgressStore().lab(id)]);
      if (openingId.value === id) {
        savedCode.value = progress?.code ?? null;
        current.value = detail;
      }
    } catch (err) {
      if (openingId.value === id) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (openingId.value === id) openingId.value = null;
    }
  }

  return { labs, problems, loading, error, current, savedCode, openingId, load, open };
});
