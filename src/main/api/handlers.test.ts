import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createServices } from '../services';
import { ProgressStore, SCHEMA_VERSION } from '../services/progressStore';
import { dispatch } from './dispatch';

// The progress channels against the real catalog and a store in a folder of their own.

const appRoot = new URL('../../..', import.meta.url).pathname;
const hintsOf = (id: string) => (parse(readFileSync(join(appRoot, 'labs', id, 'lab.yaml'), 'utf8')) as { hints: string[] }).hints;
const folder = () => mkdtempSync(join(tmpdir(), 'dmalab-handlers-'));

describe('the progress channels', () => {
  it('give a hint only once it is asked for, one at a time, and remember it', async () => {
    const { handlers, progress } = createServices(appRoot, { progressFile: join(folder(), 'progress.sqlite') });
    const hints = hintsOf('02-packet-read');
    expect(hints.length).toBeGreaterThan(1);
    expect(await dispatch(handlers, 'progress.hints', { labId: '02-packet-read' })).toEqual({ ok: true, value: { unlocked: [], total: hints.length } });
    expect(await dispatch(handlers, 'progress.unlockHint', { labId: '02-packet-read' })).toEqual({ ok: true, value: { unlocked: hints.slice(0, 1), total: hints.length } });
    expect(await dispatch(handlers, 'progress.hints', { labId: '02-packet-read' })).toEqual({ ok: true, value: { unlocked: hints.slice(0, 1), total: hints.length } });
    for (let i = 0; i < hints.length + 2; i++) await dispatch(handlers, 'progress.unlockHint', { labId: '02-packet-read' });
    expect(await dispatch(handlers, 'progress.hints', { labId: '02-packet-read' })).toEqual({ ok: true, value: { unlocked: hints, total: hints.length } });
    expect((await dispatch(handlers, 'progress.hints', { labId: '99-no-such-lab' })).ok).toBe(false);
    progress.close();
  });

  it('give the reference solution only once the lab is passed or after five attempts', async () => {
    const { handlers, progress } = createServices(appRoot, { progressFile: join(folder(), 'progress.sqlite') });
    const solution = readFileSync(join(appRoot, 'labs', '02-packet-read', 'solution.ts'), 'utf8');
    const failed = { ok: false, outcome: 'result' as const, checksPassed: 1, checksTotal: 4, failed: ['data-integrity'], findings: [], bugcheck: null };
    for (let i = 0; i < 4; i++) progress.get().recordAttempt('02-packet-read', failed);
    expect(await dispatch(handlers, 'labs.solution', { labId: '02-packet-read' })).toEqual({
      ok: false,
      error: { code: 'bad-request', message: 'labs.solution: the reference solution of 02-packet-read opens once you pass the lab or after 5 attempts (you have made 4)' },
    });
    progress.get().recordAttempt('02-packet-read', failed);
    expect(await dispatch(handlers, 'labs.solution', { labId: '02-packet-read' })).toEqual({ ok: true, value: { solution } });
    progress.get().recordAttempt('01-adapter-object', { ...failed, ok: true, checksPassed: 4, failed: [] });
    expect((await dispatch(handlers, 'labs.solution', { labId: '01-adapter-object' })).ok).toBe(true);
    progress.close();
  });

  it('export one person\'s progress and import it in another data folder; a file that does not fit changes nothing', async () => {
    const a = createServices(appRoot, { progressFile: join(folder(), 'progress.sqlite') });
    a.progress.get().saveCode('03-packet-write-coherency', '// mine');
    a.progress.get().recordAttempt('01-adapter-object', { ok: true, outcome: 'result', checksPassed: 4, checksTotal: 4, failed: [], findings: [], bugcheck: null });
    const exported = await dispatch(a.handlers, 'progress.export', {});
    expect(exported).toMatchObject({ ok: true, value: { format: 'dmalab-progress', version: 1 } });
    // Through JSON, as a file would carry it.
    const file = JSON.parse(JSON.stringify((exported as { value: unknown }).value)) as unknown;

    const b = createServices(appRoot, { progressFile: join(folder(), 'progress.sqlite') });
    b.progress.get().saveCode('05-controller-buffer-flush', '// what b had');
    const stored = () => ({ ...b.progress.get().exportProgress(), exportedAt: 0 });
    const before = stored();
    for (const wrong of [{ file: { name: 'a scenario' } }, { file: { ...(file as object), version: 7 } }, { file: { ...(file as object), labs: [{ labId: 3 }] } }, { file: 'text' }]) {
      const refused = await dispatch(b.handlers, 'progress.import', wrong);
      expect(refused).toMatchObject({ ok: false, error: { code: 'bad-request', message: expect.stringMatching(/progress file|newer DMA Lab|labs/) } });
    }
    expect(stored()).toEqual(before);

    const imported = await dispatch(b.handlers, 'progress.import', { file });
    expect(imported).toMatchObject({ ok: true, value: { problem: null } });
    const labs = (imported as { value: { labs: { labId: string; status: string; code: string | null }[] } }).value.labs;
    expect(labs.find((l) => l.labId === '01-adapter-object')).toMatchObject({ status: 'passed' });
    expect(labs.find((l) => l.labId === '03-packet-write-coherency')).toMatchObject({ code: '// mine' });
    // Replaced, not merged: what b had before is gone.
    expect(labs.find((l) => l.labId === '05-controller-buffer-flush')).toBeUndefined();
    a.progress.close();
    b.progress.close();
  });

  it('say so when a damaged database was set aside and progress started afresh', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'progress.sqlite'), 'my notes');
    const { handlers, progress } = createServices(appRoot, { progressFile: join(dir, 'progress.sqlite') });
    const overview = await dispatch(handlers, 'progress.overview', {});
    expect(overview).toMatchObject({ ok: true, value: { labs: [], problem: null, notice: expect.stringMatching(/could not be used \(it is not an SQLite database\); it was set aside, unchanged, as .*progress\.sqlite\.set-aside-/) } });
    expect(await dispatch(handlers, 'progress.saveCode', { labId: '02-packet-read', code: '//' })).toEqual({ ok: true, value: {} });
    const aside = readdirSync(dir).find((f) => f.startsWith('progress.sqlite.set-aside-'))!;
    expect(readFileSync(join(dir, aside), 'utf8')).toBe('my notes');
    progress.close();
  });

  it('say why progress is not kept when a newer DMA Lab wrote the database, and the catalog still works', async () => {
    const dir = folder();
    const file = join(dir, 'progress.sqlite');
    ProgressStore.open(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const { handlers } = createServices(appRoot, { progressFile: file });
    const overview = await dispatch(handlers, 'progress.overview', {});
    expect(overview).toMatchObject({ ok: true, value: { labs: [], problem: expect.stringContaining('was written by a newer DMA Lab'), notice: null } });
    const save = await dispatch(handlers, 'progress.saveCode', { labId: '02-packet-read', code: '//' });
    expect(save).toMatchObject({ ok: false, error: { message: expect.stringContaining('was written by a newer DMA Lab') } });
    expect((await dispatch(handlers, 'labs.list', {})).ok).toBe(true);
  });
});

describe('the playground channels', () => {
  it('keep a scenario that fits, refuse one that does not with where and why, and want one target per run', async () => {
    const { handlers, progress } = createServices(appRoot, { progressFile: join(folder(), 'progress.sqlite') });
    const text = readFileSync(join(appRoot, 'labs', 'playground', 'scanner-sg.scenario.yaml'), 'utf8');
    expect(await dispatch(handlers, 'playground.open', { fileName: 'scan.yaml', text })).toEqual({ ok: true, value: { id: 'mine/scan', replaced: false } });
    expect(await dispatch(handlers, 'playground.list', {})).toMatchObject({ ok: true, value: { scenarios: expect.arrayContaining([expect.objectContaining({ id: 'mine/scan', source: 'mine' })]) } });
    const refused = await dispatch(handlers, 'playground.open', { fileName: 'scan2.yaml', text: text.replace(/irq: \d+/, 'irq: 99') });
    expect(refused).toMatchObject({ ok: false, error: { code: 'bad-request', message: expect.stringMatching(/^playground\.open: the scenario does not fit:\nscan2\.yaml: devices\[0\]\.irq: /) } });
    expect(await dispatch(handlers, 'playground.get', { id: 'mine/scan2' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const both = await dispatch(handlers, 'run.start', { labId: '02-packet-read', scenarioId: 'mine/scan', source: '' });
    expect(both).toMatchObject({ ok: false, error: { code: 'bad-request', message: expect.stringContaining('name either a labId or a scenarioId, not both') } });
    progress.close();
  });
});
