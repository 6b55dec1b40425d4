import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SimulationReply, SimulationRequest } from './simulation';
import { WorkerPool } from './workerPool';

// The pool with a stand-in worker script, so that what is tested is the pool: how many run at
// once, the order, the spare, and what a crashed or hung worker leaves behind.

const STAND_IN = `import { parentPort, workerData } from 'node:worker_threads';
// The drivers a spare was given to compile ahead, in order (the one it was made with first).
const compiled = workerData?.ahead ? [workerData.ahead.file + ':' + workerData.ahead.source] : [];
const go = (request, warm) => {
  if (request.source === 'crash') throw new Error('the driver took the worker down');
  if (request.source === 'hang') for (;;);
  const result = { seed: request.seed, warm, ...(compiled.length > 0 ? { compiled } : {}) };
  setTimeout(() => parentPort.postMessage({ kind: 'result', result }), 40);
};
if (workerData?.warm) {
  const take = (message) => {
    if (message.kind === 'compile') return void compiled.push(message.file + ':' + message.source);
    parentPort.off('message', take);
    go(message, true);
  };
  parentPort.on('message', take);
} else go(workerData, false);
`;

const script = join(mkdtempSync(join(tmpdir(), 'dmalab-pool-')), 'standIn.mjs');
writeFileSync(script, STAND_IN);

const request = (seed: number, source = 'ok'): SimulationRequest => ({ scenario: {} as SimulationRequest['scenario'], source, file: 'driver.ts', seed, images: {}, files: {} });
const seedOf = (reply: SimulationReply) => (reply.kind === 'result' ? (reply.result as unknown as { seed: number }).seed : reply.kind);

describe('the worker pool', () => {
  it('runs batch simulations no more than its width at once, and answers each its own result', async () => {
    const pool = new WorkerPool(script, 2);
    const replies = await Promise.all([1, 2, 3, 4, 5].map((seed) => pool.run(request(seed))));
    expect(replies.map(seedOf)).toEqual([1, 2, 3, 4, 5]);
    expect(pool.mostAtOnce).toBe(2);
    expect(pool.running).toBe(0);
    expect(pool.queued).toBe(0);
  });

  it('answers a crashed worker as a failed run and goes on with the rest', async () => {
    const pool = new WorkerPool(script, 1);
    const replies = await Promise.all([pool.run(request(1)), pool.run(request(2, 'crash')), pool.run(request(3))]);
    expect(seedOf(replies[0]!)).toBe(1);
    expect(replies[1]).toMatchObject({ kind: 'crash', message: expect.stringContaining('the driver took the worker down') });
    expect(seedOf(replies[2]!)).toBe(3);
    expect(pool.running).toBe(0);
  });

  it('ends a hung worker at the wall-clock backstop, says so, and frees its place', async () => {
    const pool = new WorkerPool(script, 1);
    const [hung, next] = await Promise.all([pool.run(request(1, 'hang'), { wallLimitMs: 500 }), pool.run(request(2))]);
    expect(hung).toEqual({ kind: 'crash', message: "the simulation did not finish within 0.5 s of wall time and was stopped by the host's backstop" });
    expect(seedOf(next)).toBe(2);
  });

  it("starts a person's run at once in the warm spare, even with the cores taken by batch runs", async () => {
    const pool = new WorkerPool(script, 1);
    pool.prepare();
    const batch = [pool.run(request(1)), pool.run(request(2))];
    expect(pool.queued).toBe(1);
    const mine = await pool.run(request(9), {}, 'interactive');
    expect(mine).toEqual({ kind: 'result', result: { seed: 9, warm: true } });
    // It did not wait for the queue: the second batch run is still to finish.
    expect(pool.mostAtOnce).toBe(2);
    await Promise.all(batch);
    pool.close();
  });

  it('warms the spares at once when it has none, so that a run and its shadow both start warm', async () => {
    const pool = new WorkerPool(script, 2, 2);
    pool.prepare();
    const [run, shadow] = await Promise.all([pool.run(request(1), {}, 'interactive'), pool.run(request(2), {}, 'interactive')]);
    expect(run).toEqual({ kind: 'result', result: { seed: 1, warm: true } });
    expect(shadow).toEqual({ kind: 'result', result: { seed: 2, warm: true } });
    // While a run goes, spares warm one at a time, and only when none other is: the stand-in
    // never says it is ready, so after one spare the next run starts cold.
    const going = pool.run(request(3), {}, 'interactive');
    pool.prepare();
    pool.prepare();
    const [fourth, fifth] = await Promise.all([pool.run(request(4), {}, 'interactive'), pool.run(request(5), {}, 'interactive')]);
    expect(await going).toEqual({ kind: 'result', result: { seed: 3, warm: false } });
    expect([fourth, fifth]).toEqual([
      { kind: 'result', result: { seed: 4, warm: true } },
      { kind: 'result', result: { seed: 5, warm: false } },
    ]);
    pool.close();
  });

  it('hands the driver being written to every spare, once per version, and to the spares made later', async () => {
    const pool = new WorkerPool(script, 2, 1);
    pool.compileAhead({ source: 'v1', file: 'driver.ts' });
    pool.prepare(); // the stand-in never says it is ready: the spare is warming
    pool.compileAhead({ source: 'v2', file: 'driver.ts' });
    pool.compileAhead({ source: 'v2', file: 'driver.ts' });
    pool.compileAhead({ source: 'v3', file: 'driver.ts' });
    const first = await pool.run(request(1, 'v3'), {}, 'interactive');
    expect(first).toEqual({ kind: 'result', result: { seed: 1, warm: true, compiled: ['driver.ts:v1', 'driver.ts:v2', 'driver.ts:v3'] } });
    // A spare made now starts from the newest version; a version it has already is not sent again.
    pool.prepare();
    pool.compileAhead({ source: 'v3', file: 'driver.ts' });
    const second = await pool.run(request(2, 'v3'), {}, 'interactive');
    expect(second).toEqual({ kind: 'result', result: { seed: 2, warm: true, compiled: ['driver.ts:v3'] } });
    pool.close();
  });
});
