import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type DmaLabApi } from '../../../shared/api';
import type { LabDetail, LabSummary } from '../../../shared/lab';
import { provideApi } from '../api';
import { useCatalogStore } from './catalog';

const summary = (id: string, order: number): LabSummary => ({
  id,
  title: id,
  summary: 's',
  order,
  concepts: [],
  routines: { write: ['StartIo'], given: [] },
  hintCount: 0,
});
const detail = (id: string): LabDetail => ({ ...summary(id, 1), instructions: '', starterCode: `// ${id}`, reading: [], helpers: {}, diagrams: {} });

/** An API whose labs.get answers only when the test says so. */
function controllableApi() {
  const waiting = new Map<string, (d: LabDetail) => void>();
  const calls: string[] = [];
  const api: DmaLabApi = {
    call: (async (channel: string, request: { id?: string; labId?: string }) => {
      calls.push(`${channel} ${request.id ?? request.labId ?? ''}`.trim());
      if (channel === 'labs.list') return { labs: [summary('01-a', 1), summary('02-b', 2)], problems: [] };
      // Lab 02-b was worked on before: its code was saved.
      if (channel === 'progress.lab') {
        const saved = request.labId === '02-b';
        return { labId: request.labId, status: saved ? 'in-progress' : 'not-started', code: saved ? '// mine' : null, codeSavedAt: saved ? 1 : null, hintsUnlocked: 0, attempts: 0, best: null, passedAt: null };
      }
      if (request.id === '99-gone') throw new ApiError('not-found', 'no lab "99-gone" in the catalog');
      return new Promise<LabDetail>((resolve) => waiting.set(request.id!, resolve));
    }) as DmaLabApi['call'],
    on: () => () => {},
  };
  return { api, calls, answer: (id: string) => waiting.get(id)!(detail(id)) };
}

describe('catalog store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('loads the catalog', async () => {
    provideApi(controllableApi().api);
    const store = useCatalogStore();
    await store.load();
    expect(store.labs.map((l) => l.id)).toEqual(['01-a', '02-b']);
    expect(store.loading).toBe(false);
  });

  it('keeps the lab opened last when an earlier answer arrives late', async () => {
    const { api, answer } = controllableApi();
    provideApi(api);
    const store = useCatalogStore();
    const first = store.open('01-a');
    const second = store.open('02-b');
    answer('02-b');
    await second;
    answer('01-a');
    await first;
    expect(store.current?.id).toBe('02-b');
    expect(store.openingId).toBeNull();
    // …with the code saved for it, not the earlier lab's.
    expect(store.savedCode).toBe('// mine');
  });

  it('asks for a lab\'s text and saved code once (the editor keeps what is typed since), and again after an import', async () => {
    const { api, calls, answer } = controllableApi();
    provideApi(api);
    const store = useCatalogStore();
    const first = store.open('01-a');
    answer('01-a');
    await first;
    await store.open('01-a');
    expect(calls.filter((c) => c === 'labs.get 01-a')).toHaveLength(1);
    expect(calls.filter((c) => c === 'progress.lab 01-a')).toHaveLength(1);
    store.forgetSaved();
    await store.open('01-a');
    expect(calls.filter((c) => c === 'progress.lab 01-a')).toHaveLength(2);
    // A lab that could not be had is asked for again.
    await store.open('99-gone');
    await store.open('99-gone');
    expect(calls.filter((c) => c === 'labs.get 99-gone')).toHaveLength(2);
  });

  it('shows the API error for a lab that is not there', async () => {
    provideApi(controllableApi().api);
    const store = useCatalogStore();
    await store.open('99-gone');
    expect(store.error).toBe('no lab "99-gone" in the catalog');
    expect(store.current).toBeNull();
  });
});
