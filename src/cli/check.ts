import { existsSync, statSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { RunResult } from '../shared/runResult';
import { describeProblem } from '../shared/schemaError';
import { CatalogError, LabCatalog, LabNotFoundError } from '../main/services/labCatalog';
import { ScenarioFileError } from '../main/services/scenarioFile';
import type { Scenario } from '../shared/scenario';
import type { SimulationReply } from '../main/services/simulation';
import { WorkerPool } from '../main/services/workerPool';
import { attemptOf, Progress } from '../main/services/progress';
import { formatCompileError } from '../sim/driver/compileError';
import { CliUsageError, type Command, parseOptions } from './command';

// `dmalab check <lab-id> <driver.ts | folder>`: grades a driver against a lab's scenario on
// several seeds (a driver that passes by luck fails on another seed), each run in a worker
// of its own, several at once. A folder holds a class's submissions: one driver file each,
// or one folder each with a driver.ts; `--junit` writes JUnit XML for a CI service. Exit
// codes as `dmalab run`: 0 every check on every seed passed, 1 one did not, 2 bad input.

export interface SeedResult {
  seed: number;
  ok: boolean;
  failed: string[];
  bugcheck: string | null;
}

/** The report of `dmalab run` for the first failing seed (or the first seed), plus every seed's outcome. */
export type CheckReport = RunResult & { seeds: SeedResult[] };

/** What grading runs with: the lab's scenario, its disk images and its helper modules (the catalog's). */
interface Lab {
  id: string;
  scenario: Scenario;
  images: Record<string, Uint8Array>;
  files: Record<string, string>;
}

async function loadLab(labsDir: string, id: string): Promise<Lab> {
  try {
    return { id, ...(await new LabCatalog(labsDir).runInputs(id)) };
  } catch (err) {
    if (err instanceof LabNotFoundError) throw new CliUsageError(`no lab "${id}"; "dmalab labs" lists them`);
    if (err instanceof CatalogError) throw new CliUsageError(`the lab does not validate:\n${err.message}`);
    if (err instanceof ScenarioFileError) throw new CliUsageError(`the lab's scenario does not validate:\n${err.problems.map(describeProblem).join('\n')}`);
    throw err;
  }
}

class LoadFailure extends Error {}

/** Grades one driver on seeds 1..seeds; throws LoadFailure when it does not compile or load. */
async function grade(lab: Lab, source: string, file: string, seeds: number, pool: WorkerPool, onRun: () => void = () => {}): Promise<CheckReport> {
  const replies = await Promise.all(
    Array.from({ length: seeds }, (_, i) =>
      pool.run({ scenario: lab.scenario, source, file, seed: i + 1, images: lab.images, files: lab.files }).then((reply) => {
        onRun();
        return reply;
      }),
    ),
  );
  const results: RunResult[] = replies.map((reply: SimulationReply) => {
    if (reply.kind === 'load-error') {
      throw new LoadFailure(reply.compileErrors.length > 0 ? reply.compileErrors.map(formatCompileError).join('\n') : `${file}: ${reply.message}`);
    }
    if (reply.kind === 'crash') throw new Error(reply.message);
    return reply.result;
  });
  const seedResults = results.map((r, i) => ({
    seed: i + 1,
    ok: r.ok,
    failed: r.checks.filter((c) => !c.ok).map((c) => c.id),
    bugcheck: r.bugcheck?.name ?? null,
  }));
  const shown = results.find((r) => !r.ok) ?? results[0]!;
  const failingSeed = results.indexOf(shown) + 1;
  return {
    ...shown,
    ok: results.every((r) => r.ok),
    checks: shown.checks.map((c) => (c.ok ? c : { ...c, message: `${c.message} (seed ${failingSeed})` })),
    seeds: seedResults,
  };
}

/** A class's submissions: `name.ts` files, or folders holding `driver.ts`. */
async function submissionsIn(folder: string): Promise<{ name: string; path: string }[]> {
  const out: { name: string; path: string }[] = [];
  for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isFile() && entry.name.endsWith('.ts')) out.push({ name: entry.name.replace(/\.ts$/, ''), path: join(folder, entry.name) });
    else if (entry.isDirectory() && existsSync(join(folder, entry.name, 'driver.ts'))) out.push({ name: entry.name, path: join(folder, entry.name, 'driver.ts') });
  }
  return out;
}

const xml = (text: string) => text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

function junit(labId: string, graded: { name: string; report: CheckReport | null; error: string | null }[]): string {
  const failures = graded.filter((g) => g.report !== null && !g.report.ok).length;
  const errors = graded.filter((g) => g.report === null).length;
  const cases = graded.map((g) => {
    if (g.report === null) return `    <testcase classname="${xml(labId)}" name="${xml(g.name)}"><error message="does not load">${xml(g.error ?? '')}</error></testcase>`;
    if (g.report.ok) return `    <testcase classname="${xml(labId)}" name="${xml(g.name)}"/>`;
    const failed = g.report.checks.filter((c) => !c.ok);
    const what = [...failed.map((c) => `${c.id}: ${c.message}`), ...(g.report.bugcheck ? [`bug check ${g.report.bugcheck.name}: ${g.report.bugcheck.message}`] : [])].join('\n');
    return `    <testcase classname="${xml(labId)}" name="${xml(g.name)}"><failure message="${xml(failed.map((c) => c.id).join(', ') || 'bug check')}">${xml(what)}</failure></testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dmalab check" tests="${graded.length}" failures="${failures}" errors="${errors}">`,
    `  <testsuite name="${xml(labId)}" tests="${graded.length}" failures="${failures}" errors="${errors}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export const checkCommand: Command = {
  summary: 'grade a driver (or a folder of submissions) against a lab on several seeds',
  async run(args, { appRoot }) {
    const positionals = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--seeds', '--junit'].includes(args[i - 1]!)));
    const options = args.filter((a) => !positionals.includes(a));
    const { values } = parseOptions(options, { json: { type: 'boolean', default: false }, seeds: { type: 'string', default: '5' }, junit: { type: 'string' }, record: { type: 'boolean', default: false } });
    if (positionals.length !== 2) throw new CliUsageError('usage: dmalab check <lab-id> <driver.ts | folder of submissions> [--json] [--seeds N] [--junit <file>] [--record]');
    const [labId, target] = positionals as [string, string];
    if (!/^[0-9]+$/.test(values.seeds) || Number(values.seeds) < 1 || Number(values.seeds) > 1000) throw new CliUsageError(`--seeds expects a whole number from 1 to 1000, got "${values.seeds}"`);
    const seeds = Number(values.seeds);
    const lab = await loadLab(join(appRoot, 'labs'), labId);
    const pool = new WorkerPool(join(appRoot, 'out', 'main', 'simWorker.js'));
    if (!existsSync(target)) throw new CliUsageError(`no such file or folder: ${target}`);

    // Grading records nothing; --record keeps the check as an attempt at the lab in this
    // person's progress (the data folder's), as a run in the app would be kept.
    const record = values.record ? new Progress() : null;
    if (record && statSync(target).isDirectory()) throw new CliUsageError('--record keeps one driver\'s check in your own progress; it does not apply to a folder of submissions');
    const problem = record?.problem() ?? null;
    if (problem !== null) throw new CliUsageError(`--record: progress cannot be kept: ${problem}`);

    if (!statSync(target).isDirectory()) {
      const source = await readFile(target, 'utf8');
      let report: CheckReport;
      try {
        report = await grade(lab, source, target, seeds, pool);
      } catch (err) {
        if (err instanceof LoadFailure) {
          record?.get().recordAttempt(lab.id, { ok: false, outcome: 'load-error', checksPassed: 0, checksTotal: 0, failed: [], findings: [], bugcheck: null });
          record?.close();
          throw new CliUsageError(`the driver does not load:\n${err.message}`);
        }
        throw err;
      }
      if (record) {
        record.get().recordAttempt(lab.id, attemptOf({ kind: 'result', result: report })!);
        record.close();
        if (!values.json) console.log(`recorded as an attempt at ${lab.id} in ${record.file}`);
      }
      if (values.json) console.log(JSON.stringify(report));
      else {
        for (const s of report.seeds) console.log(`seed ${String(s.seed).padStart(3)}: ${s.ok ? 'pass' : `FAIL ${[...s.failed, ...(s.bugcheck ? [s.bugcheck] : [])].join(', ')}`}`);
        for (const c of report.checks) console.log(`  ${c.ok ? 'pass' : 'FAIL'}  ${c.id}: ${c.message}`);
        if (report.bugcheck) console.log(`  *** STOP ${report.bugcheck.name}${report.bugcheck.line ? ` (line ${report.bugcheck.line})` : ''}: ${report.bugcheck.message}`);
        for (const v of report.violations) console.log(`  ${v.rule}${v.line ? ` (line ${v.line})` : ''}: ${v.message}`);
        console.log(report.ok ? `${basename(target)}: ok on ${seeds} seed(s)` : `${basename(target)}: FAILED`);
      }
      if (values.junit) writeFileSync(values.junit, junit(lab.id, [{ name: basename(target).replace(/\.ts$/, ''), report, error: null }]));
      return report.ok ? 0 : 1;
    }

    // A class: every run of every submission goes through one pool of workers, so the
    // machine stays busy whatever the mix of seeds and submissions.
    const submissions = await submissionsIn(resolve(target));
    if (submissions.length === 0) throw new CliUsageError(`${target} holds no submissions (name.ts files, or folders with a driver.ts)`);
    const total = submissions.length * seeds;
    let runs = 0;
    let done = 0;
    const progress = () => {
      if (!process.stderr.isTTY) return;
      const bar = '#'.repeat(Math.round((runs / total) * 30)).padEnd(30, '.');
      process.stderr.write(`\rgrading ${bar} ${done}/${submissions.length} submissions, ${runs}/${total} runs`);
    };
    progress();
    const graded = await Promise.all(
      submissions.map(async (s) => {
        const name = s.name;
        try {
          const report = await grade(lab, await readFile(s.path, 'utf8'), s.path, seeds, pool, () => {
            runs++;
            progress();
          });
          return { name, report, error: null };
        } catch (err) {
          if (!(err instanceof LoadFailure)) throw err;
          return { name, report: null, error: err.message };
        } finally {
          done++;
          progress();
        }
      }),
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (values.json) console.log(JSON.stringify({ lab: lab.id, seeds, submissions: graded }));
    else for (const g of graded) console.log(`${g.name.padEnd(24)} ${g.report === null ? 'does not load' : g.report.ok ? 'pass' : `FAIL ${g.report.checks.filter((c) => !c.ok).map((c) => c.id).join(', ')}${g.report.bugcheck ? ` ${g.report.bugcheck.name}` : ''}`}`);
    if (values.junit) writeFileSync(values.junit, junit(lab.id, graded));
    return graded.every((g) => g.report?.ok === true) ? 0 : 1;
  },
};
