import { describe, expect, it } from 'vitest';
import type { LabDetail } from '../../shared/lab';
import { LabNotFoundError } from '../services/labCatalog';
import { dispatch } from './dispatch';
import type { ApiHandlers } from './handlers';

const detail: LabDetail = {
  id: '01-x',
  title: 'X',
  summary: 's',
  order: 1,
  concepts: ['c'],
  routines: { write: ['StartIo'], given: [] },
  hintCount: 0,
  instructions: '# X',
  starterCode: 'export {}',
  reading: [],
  helpers: {},
  diagrams: {},
};

const fake = (over: Partial<ApiHandlers> = {}): ApiHandlers => ({
  'labs.list': async () => ({ labs: [], problems: [] }),
  'labs.get': async () => detail,
  'run.start': async () => ({ runId: 1 }),
  'run.prepare': async () => ({}),
  'run.control': async () => ({}),
  'run.set': async () => ({}),
  'run.trace': async () => ({ total: 0, from: 0, rows: [] }),
  'run.signals': async () => ({ fromNs: 0, toNs: 0, endNs: 0, signals: [] }),
  'run.timeline': async () => ({ fromNs: 0, toNs: 0, endNs: 0, irql: { initial: 0, changes: [] }, interrupts: [], routines: [], routineNames: {}, dpcsQueued: [], truncated: false }),
  'run.memory': async () => ({ address: 0, bytes: [] }),
  'run.export': async () => ({ exportId: null, fileName: 'x.vcd' }),
  'run.exportCancel': async () => ({}),
  'progress.export': async () => ({ format: 'dmalab-progress', version: 1, exportedAt: 0, labs: [], attempts: [], settings: { theme: 'system', speed: 0, editorPercent: 56, lastLab: null } }),
  'progress.import': async () => ({ labs: [], problem: null, notice: null }),
  'playground.list': async () => ({ scenarios: [], problems: [] }),
  'playground.get': async ({ id }) => ({ id, title: 't', source: 'mine', devices: [], text: '', starter: '', starterFrom: 'skeleton', saved: null }),
  'playground.open': async () => ({ id: 'mine/x', replaced: false }),
  'playground.saveDriver': async () => ({}),
  'progress.overview': async () => ({ labs: [], problem: null, notice: null }),
  'progress.lab': async ({ labId }) => ({ labId, status: 'not-started', code: null, codeSavedAt: null, hintsUnlocked: 0, attempts: 0, best: null, passedAt: null }),
  'progress.saveCode': async () => ({}),
  'progress.hints': async () => ({ unlocked: [], total: 0 }),
  'labs.solution': async () => ({ solution: '' }),
  'progress.unlockHint': async () => ({ unlocked: [], total: 0 }),
  'settings.get': async () => ({ theme: 'system', speed: 0, editorPercent: 56, lastLab: null }),
  'settings.set': async () => ({ theme: 'system', speed: 0, editorPercent: 56, lastLab: null }),
  ...over,
});

describe('dispatch: every call checked against the contract', () => {
  it('runs a valid call', async () => {
    expect(await dispatch(fake(), 'labs.get', { id: '01-x' })).toEqual({ ok: true, value: detail });
  });

  it('refuses an unknown channel and says which exist', async () => {
    const r = await dispatch(fake(), 'fs.readFile', {});
    expect(r).toEqual({ ok: false, error: { code: 'unknown-channel', message: expect.stringContaining('labs.list, labs.get') } });
    expect((await dispatch(fake(), 42, {})).ok).toBe(false);
    expect((await dispatch(fake(), '__proto__', {})).ok).toBe(false);
  });

  it('refuses a request that does not fit, naming the field, without calling the handler', async () => {
    let called = false;
    const handlers = fake({
      'labs.get': async () => {
        called = true;
        return detail;
      },
    });
    for (const bad of [{}, { id: 7 }, { id: '../etc' }, { id: '01-x', extra: true }, null, 'x']) {
      const r = await dispatch(handlers, 'labs.get', bad);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('bad-request');
    }
    const r = await dispatch(handlers, 'labs.get', { id: 7 });
    expect(!r.ok && r.error.message).toMatch(/^labs\.get: the request does not fit the contract: id: /);
    expect(called).toBe(false);
  });

  it('does not let a handler answer outside the contract', async () => {
    const r = await dispatch(fake({ 'labs.get': async () => ({ ...detail, solution: 'leak' }) as LabDetail }), 'labs.get', { id: '01-x' });
    expect(r).toEqual({ ok: false, error: { code: 'internal', message: expect.stringMatching(/response does not fit/) } });
  });

  it('turns a missing lab into not-found and any other failure into an error value', async () => {
    const missing = await dispatch(fake({ 'labs.get': async () => Promise.reject(new LabNotFoundError('01-x')) }), 'labs.get', { id: '01-x' });
    expect(missing).toEqual({ ok: false, error: { code: 'not-found', message: 'no lab "01-x" in the catalog' } });
    const logged: string[] = [];
    const boom = await dispatch(fake({ 'labs.list': async () => Promise.reject(new Error('disk on fire')) }), 'labs.list', {}, (m) => logged.push(m));
    expect(boom).toEqual({ ok: false, error: { code: 'internal', message: 'labs.list: disk on fire' } });
    expect(logged).toEqual(['api: internal: labs.list: disk on fire']);
  });
});
