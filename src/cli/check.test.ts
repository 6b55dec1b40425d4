import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunResult } from '../shared/runResult';
import { ProgressStore } from '../main/services/progressStore';

// `dmalab check` as an instructor runs it: the built bin, one worker per run.
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'dmalab.mjs');
const lab = join(root, 'labs', '01-adapter-object');
let dir: string;

const dmalab = (...args: string[]) => spawnSync(process.execPath, [bin, 'check', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DMALAB_DATA_DIR: dir } });

beforeAll(() => {
  if (!existsSync(join(root, 'out', 'main', 'simWorker.js'))) throw new Error('the app is not built: run "npm run build" before these tests');
  dir = mkdtempSync(join(tmpdir(), 'dmalab-check-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dmalab check', () => {
  it('grades the reference solution on every seed: exit 0, the run report plus per-seed results', () => {
    const check = dmalab('01-adapter-object', join(lab, 'solution.ts'), '--seeds', '3', '--json');
    expect(check.status).toBe(0);
    const report = JSON.parse(check.stdout) as RunResult & { seeds: { seed: number; ok: boolean; failed: string[] }[] };
    const { seeds, ...run } = report;
    expect(RunResult.parse(run).ok).toBe(true);
    expect(seeds).toEqual([1, 2, 3].map((seed) => ({ seed, ok: true, failed: [], bugcheck: null })));
  });

  it('records nothing unless asked; with --record the check is an attempt in the person\'s progress', () => {
    const store = join(dir, 'progress.sqlite');
    expect(dmalab('01-adapter-object', join(lab, 'starter.ts'), '--seeds', '1').status).toBe(1);
    expect(existsSync(store)).toBe(false);
    const failed = dmalab('01-adapter-object', join(lab, 'starter.ts'), '--seeds', '1', '--record');
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain(`recorded as an attempt at 01-adapter-object in ${store}`);
    expect(dmalab('01-adapter-object', join(lab, 'solution.ts'), '--seeds', '2', '--record', '--json').status).toBe(0);
    const progress = ProgressStore.open(store);
    try {
      expect(progress.lab('01-adapter-object')).toMatchObject({ status: 'passed', attempts: 2, best: { ok: true } });
      // Newest first.
      expect(progress.attempts('01-adapter-object').map((a) => a.ok)).toEqual([true, false]);
    } finally {
      progress.close();
    }
    // A class's folder is not one person's progress.
    const folder = dmalab('01-adapter-object', lab, '--record');
    expect(folder.status).toBe(2);
    expect(folder.stderr).toContain('--record keeps one driver');
  });

  it('fails the starter (exit 1), naming the check and the seed', () => {
    const check = dmalab('01-adapter-object', join(lab, 'starter.ts'), '--seeds', '2');
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/^seed {3}1: FAIL adapter-description$/m);
    expect(check.stdout).toMatch(/FAIL {2}adapter-description: IoGetDmaAdapter never returned an adapter for fdc0 \(seed 1\)/);
  });

  it('grades a folder of submissions and writes JUnit XML', () => {
    const submissions = join(dir, 'class');
    mkdirSync(join(submissions, 'bob'), { recursive: true });
    copyFileSync(join(lab, 'solution.ts'), join(submissions, 'alice.ts'));
    copyFileSync(join(lab, 'starter.ts'), join(submissions, 'bob', 'driver.ts'));
    writeFileSync(join(submissions, 'carol.ts'), 'export function DriverEntry(: NTSTATUS {}\n');
    const junit = join(dir, 'grades.xml');
    const check = dmalab('01-adapter-object', submissions, '--seeds', '2', '--junit', junit);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/^alice\s+pass$/m);
    expect(check.stdout).toMatch(/^bob\s+FAIL adapter-description$/m);
    expect(check.stdout).toMatch(/^carol\s+does not load$/m);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="01-adapter-object" tests="3" failures="1" errors="1">/);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toMatch(/<testcase classname="01-adapter-object" name="bob"><failure message="adapter-description">/);
    expect(xml).toMatch(/name="carol"><error message="does not load">[^<]*carol\.ts:1:\d+: error:/);
  }, 60_000);

  it('exits 2 for an unknown lab, a missing driver or bad options', () => {
    expect(dmalab('99-nothing', join(lab, 'solution.ts')).stderr).toMatch(/no lab "99-nothing"/);
    expect(dmalab('01-adapter-object', join(dir, 'none.ts')).status).toBe(2);
    expect(dmalab('01-adapter-object', join(lab, 'solution.ts'), '--seeds', '0').stderr).toMatch(/--seeds expects a whole number from 1 to 1000/);
    expect(dmalab('01-adapter-object').status).toBe(2);
  });
});
