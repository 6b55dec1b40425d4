import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunResult } from '../shared/runResult';

// `dmalab run` as a person runs it: the built bin in a process of its own, a worker per run.
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'dmalab.mjs');
const lab = join(root, 'labs', '01-adapter-object');
let dir: string;

const dmalab = (...args: string[]) => spawnSync(process.execPath, [bin, 'run', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DMALAB_DATA_DIR: dir } });
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  if (!existsSync(join(root, 'out', 'main', 'simWorker.js'))) throw new Error('the app is not built: run "npm run build" before these tests');
  dir = mkdtempSync(join(tmpdir(), 'dmalab-run-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dmalab run', () => {
  it('passes the lab 01 solution: exit 0, one JSON object that fits the contract', () => {
    const run = dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', join(lab, 'solution.ts'), '--json');
    expect(run.status).toBe(0);
    const result = RunResult.parse(JSON.parse(run.stdout));
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => c.id)).toEqual(['adapter-description', 'resources-released', 'no-violations']);
    expect(result.console[1]).toBe('fdc: adapter for channel 2, 4 map registers\n');
    expect(result.bugcheck).toBeNull();
  });

  it('fails the starter (exit 1) and says which check failed, in text', () => {
    const run = dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', join(lab, 'starter.ts'));
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}adapter-description: IoGetDmaAdapter never returned an adapter for fdc0/);
    expect(run.stdout).toMatch(/FAILED$/m);
  });

  it('exits 1 with the bug check and the line that caused it', () => {
    const driver = file('loop.ts', 'export function DriverEntry(): NTSTATUS {\n  let n = 0;\n  for (;;) {\n    n++;\n  }\n}\n');
    const run = dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', driver, '--json');
    expect(run.status).toBe(1);
    const result = RunResult.parse(JSON.parse(run.stdout));
    expect(result.bugcheck).toMatchObject({ code: 0x133, name: 'DPC_WATCHDOG_VIOLATION', line: 4 });
  });

  it('exits 2 for a driver that does not compile, with file:line:column and the message', () => {
    const driver = file('broken.ts', 'export function DriverEntry(): NTSTATUS {\n  return (STATUS_SUCCESS;\n}\n');
    const run = dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', driver);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`${driver.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: error: '\\)' expected`));
  });

  it('exits 2 for a scenario that does not validate, naming the path inside the file and what was expected', () => {
    const scenario = file('bad.yaml', 'devices:\n  - type: floppy\n    channel: 9\nchecks: []\n');
    const run = dmalab('--scenario', scenario, '--driver', join(lab, 'solution.ts'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${scenario}: devices[0].channel:`);
    expect(run.stderr).toContain(`${scenario}: checks: a scenario needs at least one check`);
    const json = file('bad.json', '{"devices": [');
    expect(dmalab('--scenario', json, '--driver', join(lab, 'solution.ts')).stderr).toMatch(/is not valid JSON/);
  });

  it('exits 2 for missing files and missing options', () => {
    expect(dmalab('--scenario', join(dir, 'none.yaml'), '--driver', join(lab, 'solution.ts')).stderr).toMatch(/none\.yaml: no such file/);
    expect(dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', join(dir, 'none.ts')).stderr).toMatch(/cannot read the driver/);
    const missing = dmalab('--driver', join(lab, 'solution.ts'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--scenario <file> is required/);
    expect(dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', join(lab, 'solution.ts'), '--seed', 'x').status).toBe(2);
  });

  it('exits 2 for a driver without DriverEntry', () => {
    const driver = file('noentry.ts', 'export function Nothing(): void {}\n');
    const run = dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', driver);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/must export a function DriverEntry/);
  });

  it('lists the verifier rules with their bug checks', () => {
    const rules = spawnSync(process.execPath, [bin, 'rules', '--json'], { cwd: root, encoding: 'utf8' });
    expect(rules.status).toBe(0);
    const rows = JSON.parse(rules.stdout) as { id: string; page: string; bugCheck: { code: number; name: string; parameter1: number | null } | null }[];
    expect(rows.find((r) => r.id === 'DMA_NOT_FLUSHED')).toMatchObject({ bugCheck: { code: 0xe6, name: 'DRIVER_VERIFIER_DMA_VIOLATION', parameter1: 0x0d } });
    expect(rows.find((r) => r.id === 'IRQL_MISMATCH')?.bugCheck).toMatchObject({ code: 0x0a, name: 'IRQL_NOT_LESS_OR_EQUAL' });
    expect(rows.find((r) => r.id === 'BUFFER_TOUCHED_WHILE_MAPPED')?.bugCheck).toBeNull();
    const text = spawnSync(process.execPath, [bin, 'rules'], { cwd: root, encoding: 'utf8' });
    expect(text.stdout).toMatch(/^DMA_ZERO_LENGTH\s+0xE6 \(0x21\)\s+Do not map a zero-length transfer/m);
  });

  it('records the run and exports the trace, in the format the file name implies or --format says', () => {
    const floppy = join(root, 'labs', 'playground');
    const args = ['--scenario', join(floppy, 'floppy-split.scenario.yaml'), '--driver', join(floppy, 'floppy-packet.driver.ts')];
    const vcd = join(dir, 'run.vcd');
    const run = dmalab(...args, '--trace', vcd);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^trace: \d+ events, \d+ bytes in /m);
    const text = readFileSync(vcd, 'utf8');
    expect(text).toMatch(/\$timescale\s+1 ns\s+\$end/);
    expect(text).toContain('$enddefinitions');
    const jsonl = join(dir, 'run.csv');
    expect(dmalab(...args, '--trace', jsonl, '--format', 'jsonl', '--detail', 'summary').status).toBe(0);
    const first = JSON.parse(readFileSync(jsonl, 'utf8').split('\n')[0]!) as Record<string, unknown>;
    expect(Object.keys(first).slice(0, 6)).toEqual(['index', 'time_ns', 'kind', 'a', 'b', 'c']);
  });

  it('refuses trace options it cannot honour before running anything (exit 2)', () => {
    const args = ['--scenario', join(lab, 'scenario.yaml'), '--driver', join(lab, 'solution.ts')];
    const unknown = dmalab(...args, '--trace', join(dir, 'run.txt'));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/cannot tell the format from the file name; use \.vcd, \.json \(Chrome trace\), \.csv or \.jsonl/);
    const folder = dmalab(...args, '--trace', join(dir, 'nowhere', 'run.vcd'));
    expect(folder.status).toBe(2);
    expect(folder.stderr).toMatch(/does not exist or cannot be written/);
    expect(dmalab(...args, '--trace', join(dir, 'x.vcd'), '--detail', 'everything').stderr).toMatch(/--detail expects summary, bus or cycle, got "everything"/);
    expect(dmalab(...args, '--trace', join(dir, 'x.vcd'), '--vcd-buses', 'wide').stderr).toMatch(/--vcd-buses expects bits or vector/);
    expect(readdirSync(dir).filter((f) => f.startsWith('x.') || f.startsWith('.x.'))).toEqual([]);
  });

  it('loads the modules a driver imports from beside it, as a lab\'s helper files', () => {
    const helpers = join(dir, 'with-helper');
    mkdirSync(helpers, { recursive: true });
    writeFileSync(join(helpers, 'fdc.ts'), "import { twice } from './math';\nexport function greeting(): string { return 'fdc helper ' + twice(21); }\n");
    writeFileSync(join(helpers, 'math.ts'), 'export function twice(n: number): number { return 2 * n; }\n');
    writeFileSync(join(helpers, 'driver.ts'), "import { greeting } from './fdc';\nexport function DriverEntry(): NTSTATUS {\n  DbgPrint('%s\\n', greeting());\n  return STATUS_SUCCESS;\n}\n");
    const run = dmalab('--scenario', join(lab, 'scenario.yaml'), '--driver', join(helpers, 'driver.ts'), '--json');
    expect((JSON.parse(run.stdout) as RunResult).console).toEqual(['fdc helper 42\n']);
  });
});
