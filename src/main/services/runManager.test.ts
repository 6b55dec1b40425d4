import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabCatalog } from './labCatalog';
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
});
