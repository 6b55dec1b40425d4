import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CatalogProblem, LabDetail, LabSummary } from '../../../shared/lab';
import type { ScenarioDetail, ScenarioSummary } from '../../../shared/playground';
import type { SchemaProblem } from '../../../shared/schemaError';
import { useApi } from '../api';
import { useProgressStore } from './progress';

/**
 * The lab catalog and the lab that is open. It exists so that the catalog list and the
 * editor agree on which lab is current, and so that a slow answer for a lab the person
 * has already left never replaces the one they opened since.
 */
/** Runs `task` when the page has nothing else to do (soon, where requestIdleCallback is missing). */
function idle(task: () => void): void {
  if ('requestIdleCallback' in window) window.requestIdleCallback(task, { timeout: 5000 });
  else setTimeout(task, 200);
}

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

  /** The playground's scenarios, and the person's scenario files that no longer fit. */
  const scenarios = ref<ScenarioSummary[]>([]);
  const scenarioProblems = ref<SchemaProblem[]>([]);
  /** The open scenario, when the open piece of work is a playground scenario rather than a lab. */
  const scenario = ref<ScenarioDetail | null>(null);

  async function loadScenarios(): Promise<void> {
    try {
      const list = await useApi().call('playground.list', {});
      scenarios.value = list.scenarios;
      scenarioProblems.value = list.problems;
    } catch {
      // The catalog's own error says when the API is unreachable.
    }
  }

  /**
   * Opens a playground scenario. The editor and the panels treat it as they treat a lab: it
   * is given the shape of one, with no routines to write, no hints and its driver as the starter.
   */
  async function openScenario(id: string): Promise<void> {
    openingId.value = id;
    error.value = null;
    try {
      const detail = await useApi().call('playground.get', { id });
      if (openingId.value !== id) return;
      scenario.value = detail;
      savedCode.value = detail.saved;
      current.value = { id, title: detail.title, summary: '', order: 0, concepts: [], routines: { write: [], given: [] }, hintCount: 0, instructions: '', starterCode: detail.starter, reading: [], helpers: {}, diagrams: {} };
    } catch (err) {
      if (openingId.value === id) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (openingId.value === id) openingId.value = null;
    }
  }

  /** Keeps a scenario file the person chose; throws with the schema's messages when it does not fit. */
  async function openScenarioFile(fileName: string, text: string): Promise<void> {
    const { id } = await useApi().call('playground.open', { fileName, text });
    await loadScenarios();
    await openScenario(id);
  }

  async function saveScenarioDriver(id: string, code: string): Promise<void> {
    await useApi()
      .call('playground.saveDriver', { id, code })
      .catch(() => {});
  }

  /** Labs already fetched: a lab's text does not change while the app runs, so a second visit asks only for its saved code. */
  const details = new Map<string, Promise<LabDetail>>();
  const detail = (id: string): Promise<LabDetail> => {
    let found = details.get(id);
    if (!found) {
      found = useApi().call('labs.get', { id });
      details.set(id, found);
      found.catch(() => details.delete(id)); // a failure is asked again next time
    }
    return found;
  };

  /**
   * The code saved for each lab, as first read. The editor keeps a model per lab from its
   * first visit on, holding what is typed since, so a later visit needs nothing newer; an
   * import replaces both (forgetSaved).
   */
  const saved = new Map<string, Promise<string | null>>();
  const savedOf = (id: string): Promise<string | null> => {
    let found = saved.get(id);
    if (!found) {
      found = useProgressStore()
        .lab(id)
        .then((p) => p?.code ?? null);
      saved.set(id, found);
    }
    return found;
  };

  /** Imported progress: saved code is read again on the next visit. */
  function forgetSaved(): void {
    saved.clear();
  }

  /** Fetches every lab's text and saved code while the page is idle, so that a switch waits for nothing. */
  function prefetch(): void {
    const ids = labs.value.map((l) => l.id).filter((id) => !details.has(id));
    const next = () => {
      const id = ids.shift();
      if (id === undefined) return;
      void Promise.all([detail(id), savedOf(id)])
        .catch(() => undefined)
        .then(() => idle(next));
    };
    idle(next);
  }

  async function open(id: string): Promise<void> {
    openingId.value = id;
    error.value = null;
    try {
      // The lab and what the person last had in its editor, asked for together.
      const [lab, code] = await Promise.all([detail(id), savedOf(id)]);
      if (openingId.value === id) {
        savedCode.value = code;
        scenario.value = null;
        current.value = lab;
      }
    } catch (err) {
      if (openingId.value === id) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (openingId.value === id) openingId.value = null;
    }
  }

  return { labs, problems, loading, error, current, savedCode, openingId, load, open, prefetch, forgetSaved, scenarios, scenarioProblems, scenario, loadScenarios, openScenario, openScenarioFile, saveScenarioDriver };
});
