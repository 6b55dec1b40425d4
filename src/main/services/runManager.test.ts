import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiHandlers } from '../api/handlers';
import { dispatch } from '../api/dispatch';
import { LabCatalog } from './labCatalog';
import type { Playground } from './playground';
import type { Progress } from './progress';
import { RunManager } from './runManager';
import { WorkerPool } from './workerPool';

// What the warm spare workers rehearse: the lab the person has open, the latest one.

const labs = join(__dirname, '..', '..', '..', 'labs');

describe('the spares the run manager prepares', () => {
  it('rehearse the lab open now, also after the first spares were made', async () => {
    // A worker file that does not exist: nothing is started, only what to rehearse is chosen.
    const pool = new WorkerPool(join(labs, 'no-such-worker.js'), 1, 0);
    const runs = new RunManager(new LabCatalog(labs), pool);
    const rehearsed = () => pool.rehearsal?.file;
    runs.prepareSoon('02-packet-read', 0);
    runs.prepareSoon('03-packet-write-coherency', 0); // opened before the first spares were made
    await expect.poll(rehearsed).toBe('solution.ts');
    await expect.poll(() => (pool.rehearsal?.source ?? '').split('\n')[0]).toContain('Lab 03');
    runs.prepareSoon('07-autoinit-playback', 0);
    await expect.poll(() => (pool.rehearsal?.source ?? '').split('\n')[0]).toContain('Lab 07');
    expect(pool.rehearsal?.scenario.timeLimitMs).toBeLessThanOrEqual(200);
    runs.stopAll();
  });

  it('get ready for the lab the page says is open (run.prepare), not for the labs it reads ahead', async () => {
    const pool = new WorkerPool(join(labs, 'no-such-worker.js'), 1, 0);
    const catalog = new LabCatalog(labs);
    const runs = new RunManager(catalog, pool);
    const handlers = createApiHandlers({ catalog, runs, playground: {} as Playground, progress: {} as Progress });
    const call = async (channel: 'labs.get' | 'run.prepare', request: unknown) => {
      const answer = await dispatch(handlers, channel, request);
      if (!answer.ok) throw new Error(answer.error.message);
    };
    const source = 'export function DriverEntry() { return STATUS_SUCCESS; }';
    await call('run.prepare', { labId: '02-packet-read', source });
    // The page reads the other labs while it is idle: that opens none of them.
    for (const id of ['03-packet-write-coherency', '07-autoinit-playback']) await call('labs.get', { id });
    // The first spares are made two seconds after a lab opens.
    const lab02 = await catalog.runInputs('02-packet-read');
    await expect.poll(() => pool.upcoming?.scenario.title, { timeout: 5000 }).toBe(lab02.scenario.title);
    expect(pool.upcoming).toEqual({ scenario: lab02.scenario, seed: 1, images: lab02.images });
    expect((pool.rehearsal?.source ?? '').split('\n')[0]).toContain('Lab 02');
    // Opening lab 07 (in the editor) moves them on.
    await call('run.prepare', { labId: '07-autoinit-playback', source });
    const lab07 = await catalog.runInputs('07-autoinit-playback');
    await expect.poll(() => pool.upcoming?.scenario.title).toBe(lab07.scenario.title);
    expect((pool.rehearsal?.source ?? '').split('\n')[0]).toContain('Lab 07');
    runs.stopAll();
  });
});
