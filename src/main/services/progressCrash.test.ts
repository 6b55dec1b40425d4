import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { build } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressStore, STORE_FILE } from './progressStore';

// Progress survives the app being killed: a child process writes as the app does (autosaves,
// attempts, settings, hints; src/main/services/testing/progressWriter.ts) and is killed with
// SIGKILL at a random point, 200 times over one database. After every kill the database opens
// as it is (nothing set aside), passes PRAGMA integrity_check, and holds every write the child
// had acknowledged: a write may be committed without its acknowledgement having been seen, so
// what is found is the acknowledged write or a later one, never an earlier one.

const root = join(__dirname, '..', '..', '..');
const KILLS = 200;
let writer = '';
const folder = mkdtempSync(join(tmpdir(), 'dmalab-crash-'));

/** mulberry32: the same kills on every run of the test. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  // The writer is TypeScript: bundled once, its packages left to node_modules.
  const out = join(root, 'out', 'test');
  mkdirSync(out, { recursive: true });
  writer = join(out, 'progressWriter.mjs');
  await build({
    input: join(__dirname, 'testing', 'progressWriter.ts'),
    platform: 'node',
    external: (id) => !id.startsWith('.') && !id.startsWith('/'),
    output: { file: writer, format: 'esm' },
    logLevel: 'silent',
  });
}, 60_000);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Acknowledged {
  /** Per lab: the newest autosave acknowledged (its write number). */
  code: Map<string, number>;
  /** Per lab: attempts acknowledged, over every life of the writer. */
  attempts: Map<string, number>;
  hints: Map<string, number>;
  /** The newest setting acknowledged. */
  setting: number;
}

/** Runs the writer until it has acknowledged `acks` writes, then kills it. */
function lifeOf(file: string, first: number, acks: number, seen: Acknowledged): Promise<{ last: number; opened: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [writer, file, join(root, 'labs'), String(first)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    let count = 0;
    let last = first - 1;
    let opened = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [kind, n, lab] = line.split(' ') as [string, string, string];
        if (kind === 'open') {
          opened = line;
          continue;
        }
        if (count >= acks) continue; // after the kill was sent: not counted as seen
        const i = Number(n);
        last = i;
        count++;
        if (kind === 'code') seen.code.set(lab, i);
        else if (kind === 'attempt') seen.attempts.set(lab, (seen.attempts.get(lab) ?? 0) + 1);
        else if (kind === 'hint') seen.hints.set(lab, (seen.hints.get(lab) ?? 0) + 1);
        else if (kind === 'setting') seen.setting = i;
        if (count === acks) child.kill('SIGKILL');
      }
    });
    child.once('error', reject);
    child.once('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve({ last, opened }) : reject(new Error(`the writer ended by itself (${signal ?? _code}) after ${count} writes`))));
  });
}

describe('progress and a crashing app', () => {
  it(`keeps every acknowledged write through ${KILLS} kills at random points, and the database stays whole`, async () => {
    const file = join(folder, STORE_FILE);
    const seen: Acknowledged = { code: new Map(), attempts: new Map(), hints: new Map(), setting: -1 };
    const next = random(20261125);
    let first = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const { last, opened } = await lifeOf(file, first, 1 + Math.floor(next() * 60), seen);
      first = last + 2; // past anything committed but not seen acknowledged
      // The writer found the database as it was left: nothing set aside, no problem.
      expect(opened, `life ${kill}`).toBe('open ok none');

      const check = new Database(file, { readonly: true });
      expect(check.pragma('integrity_check', { simple: true }), `integrity after kill ${kill}`).toBe('ok');
      check.close();
      const store = ProgressStore.open(file);
      try {
        expect(store.setAside, `kill ${kill}`).toBeNull();
        for (const [lab, n] of seen.code) {
          const found = Number(/^\/\/ write (\d+)/.exec(store.lab(lab).code ?? '')?.[1] ?? -1);
          expect(found, `the autosave of ${lab} after kill ${kill}`).toBeGreaterThanOrEqual(n);
        }
        for (const [lab, n] of seen.attempts) expect(store.lab(lab).attempts, `attempts at ${lab} after kill ${kill}`).toBeGreaterThanOrEqual(n);
        for (const [lab, n] of seen.hints) expect(store.lab(lab).hintsUnlocked, `hints of ${lab} after kill ${kill}`).toBeGreaterThanOrEqual(Math.min(n, 4));
        if (seen.setting >= 0) expect(Number(store.settings().lastLab?.replace('write-', '') ?? -1)).toBeGreaterThanOrEqual(seen.setting);
      } finally {
        store.close();
      }
    }
    // It did write a good deal: every kind, many times.
    expect([...seen.attempts.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(500);
  }, 600_000);
});
