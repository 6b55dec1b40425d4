import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../shared/run';
import type { ExportEvent } from '../../shared/traceExport';
import { readVcd } from '../../sim/trace/vcdReader';
import type { ApiClient, SavePlace } from '../api/handlers';
import { DebugRunError } from './debugRun';
import { LabCatalog } from './labCatalog';
import { RunManager, RunNotFoundError } from './runManager';
import { WorkerPool } from './workerPool';

// Exporting a run's trace from the app, through RunManager and a real simulation worker:
// the file where the client chose, progress on the way, cancel and failure leaving nothing.

const root = join(__dirname, '..', '..', '..');
const workerPath = join(root, 'out', 'main', 'simWorker.js');
const pool = new WorkerPool(workerPath, 2, 0);
const runs = new RunManager(new LabCatalog(join(root, 'labs')), pool);
const folder = mkdtempSync(join(tmpdir(), 'dmalab-export-'));

/** A client that saves where the test says and keeps every event it hears. */
function client(choose: (fileName: string) => SavePlace | null = (fileName) => ({ path: join(folder, fileName), finish: () => null, abandon: () => {} })) {
  const heard: { name: string; payload: unknown }[] = [];
  const c: ApiClient = {
    emit: (name, payload) => heard.push({ name, payload }),
    onClose: () => {},
    chooseSavePlace: async (fileName) => choose(fileName),
  };
  const exportEvents = (id: number) => heard.filter((h) => h.name === 'export.event').map((h) => h.payload as ExportEvent).filter((e) => e.exportId === id);
  const ended = (id: number) =>
    new Promise<ExportEvent>((resolve) => {
      const look = () => {
        const end = exportEvents(id).find((e) => e.kind !== 'progress');
        if (end) resolve(end);
        else setTimeout(look, 5);
      };
      look();
    });
  const finished = (runId: number) =>
    new Promise<void>((resolve) => {
      const look = () => {
        if (heard.some((h) => h.name === 'run.event' && (h.payload as { runId: number; event: RunEvent }).runId === runId && (h.payload as { event: RunEvent }).event.kind === 'finished')) resolve();
        else setTimeout(look, 5);
      };
      look();
    });
  return { c, heard, exportEvents, ended, finished };
}

async function finishedRun(labId: string, who = client()) {
  const source = readFileSync(join(root, 'labs', labId, 'solution.ts'), 'utf8');
  const runId = await runs.start({ labId, source, breakpoints: [], stopAtStart: false, speed: 0, seed: 1 }, who.c);
  await who.finished(runId);
  return { runId, ...who };
}

beforeAll(() => {
  if (!existsSync(workerPath)) throw new Error('the app is not built: run "npm run build" before these tests');
});
afterAll(() => {
  runs.stopAll();
  rmSync(folder, { recursive: true, force: true });
});

describe('exporting a run\'s trace', () => {
  it('writes a VCD of a finished run where the client chose, with progress on the way, that a VCD reader reads back', async () => {
    const { runId, c, exportEvents, ended } = await finishedRun('07-autoinit-playback');
    const total = (await runs.trace(runId, c, 'all', 0, 0)).total;
    const { exportId, fileName } = await runs.exportTrace({ runId, format: 'vcd', detail: 'bus', vcdBuses: 'bits' }, c);
    expect(fileName).toBe('07-autoinit-playback.vcd');
    const end = await ended(exportId!);
    expect(end).toMatchObject({ kind: 'done', fileName, path: join(folder, fileName), download: null });
    // Every event recorded (the trace table leaves out a few of the kernel's bookkeeping entries).
    const events = end.kind === 'done' ? end.events : 0;
    expect(events).toBeGreaterThanOrEqual(total);
    expect(events).toBeLessThan(total * 1.01);
    const progress = exportEvents(exportId!).filter((e) => e.kind === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((e) => e.kind === 'progress' && e.total === events && e.done <= events)).toBe(true);

    const text = readFileSync(join(folder, fileName), 'latin1');
    expect(end.kind === 'done' && end.bytes).toBe(Buffer.byteLength(text, 'latin1'));
    const vcd = readVcd(text);
    expect(vcd.strange).toEqual([]);
    expect(vcd.bare).toEqual(expect.arrayContaining(['DREQ5', 'DACK5', 'TC5', 'IRQ5']));
    // The sound card's channel 5 asked for every word of two seconds of sound.
    expect(vcd.changes.get(vcd.names.find((n) => n.endsWith('DACK5'))!)!.filter(([, v]) => v === '1').length).toBeGreaterThan(100_000);
    // Nothing but the file: the temporary name is gone.
    expect(readdirSync(folder)).toEqual([fileName]);
    rmSync(join(folder, fileName));
  }, 60_000);

  it('keeps only the driver\'s and kernel\'s story at summary detail', async () => {
    const { runId, c, ended } = await finishedRun('02-packet-read');
    const total = (await runs.trace(runId, c, 'all', 0, 0)).total;
    const { exportId, fileName } = await runs.exportTrace({ runId, format: 'jsonl', detail: 'summary', vcdBuses: 'bits' }, c);
    const end = await ended(exportId!);
    const lines = readFileSync(join(folder, fileName), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(end).toMatchObject({ kind: 'done', events: lines.length });
    expect(lines.length).toBeLessThan(total);
    expect(lines.some((l) => l.kind === 'ApiCall')).toBe(true);
    expect(lines.filter((l) => ['PortWrite', 'PortRead', 'Dreq', 'Dack'].includes(l.kind))).toEqual([]);
    rmSync(join(folder, fileName));
  }, 60_000);

  it('leaves no file, partial or whole, when cancelled', async () => {
    const { runId, c, ended } = await finishedRun('08-autoinit-capture');
    const { exportId } = await runs.exportTrace({ runId, format: 'csv', detail: 'bus', vcdBuses: 'bits' }, c);
    runs.cancelExport(exportId!, c);
    expect(await ended(exportId!)).toEqual({ exportId, kind: 'cancelled' });
    expect(readdirSync(folder)).toEqual([]);
    // Over: it cannot be cancelled again.
    expect(() => runs.cancelExport(exportId!, c)).toThrow(RunNotFoundError);
  }, 60_000);

  it('says why when the file cannot be written, and leaves nothing', async () => {
    const missing = join(folder, 'no-such-folder');
    let abandoned = 0;
    const who = client((fileName) => ({ path: join(missing, fileName), finish: () => null, abandon: () => abandoned++ }));
    const { runId, c, ended } = await finishedRun('02-packet-read', who);
    const { exportId } = await runs.exportTrace({ runId, format: 'chrome', detail: 'bus', vcdBuses: 'bits' }, c);
    expect(await ended(exportId!)).toMatchObject({ kind: 'failed', message: expect.stringContaining(`the folder ${missing} does not exist`) });
    expect(abandoned).toBe(1);
  }, 60_000);

  it('does nothing when the person closes the save dialog, and refuses clients that cannot save and runs still going', async () => {
    const { runId, c } = await finishedRun('02-packet-read', client(() => null));
    expect(await runs.exportTrace({ runId, format: 'vcd', detail: 'bus', vcdBuses: 'bits' }, c)).toEqual({ exportId: null, fileName: '02-packet-read.vcd' });
    expect(readdirSync(folder)).toEqual([]);

    // A run going in real time cannot be exported until it stops.
    const going = client();
    const source = readFileSync(join(root, 'labs', '07-autoinit-playback', 'solution.ts'), 'utf8');
    const live = await runs.start({ labId: '07-autoinit-playback', source, breakpoints: [], stopAtStart: false, speed: 1, seed: 1 }, going.c);
    await expect(runs.exportTrace({ runId: live, format: 'vcd', detail: 'bus', vcdBuses: 'bits' }, going.c)).rejects.toThrow(DebugRunError);
    // Nor can another client export or cancel what is not its own.
    await expect(runs.exportTrace({ runId: live, format: 'vcd', detail: 'bus', vcdBuses: 'bits' }, c)).rejects.toThrow(RunNotFoundError);
    runs.control(live, 'stop', going.c);

    // A client with nowhere to put a file (the CLI's) is told so.
    const cannotSave = client();
    delete cannotSave.c.chooseSavePlace;
    const unsaved = await finishedRun('01-adapter-object', cannotSave);
    await expect(runs.exportTrace({ runId: unsaved.runId, format: 'vcd', detail: 'bus', vcdBuses: 'bits' }, cannotSave.c)).rejects.toThrow(/nowhere to save/);
  }, 60_000);
});
