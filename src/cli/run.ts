import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { RunResult } from '../shared/runResult';
import { describeProblem } from '../shared/schemaError';
import { formatCompileError } from '../sim/driver/compileError';
import { loadScenarioFile, ScenarioFileError } from '../main/services/scenarioFile';
import { runSimulation } from '../main/services/simulation';
import { CliUsageError, type Command, parseOptions } from './command';

// `dmalab run`: one driver against one scenario, in a worker of its own. Exit 0 when every
// check passes, 1 when a check fails or the run bug-checks, 2 for bad input.

const MAX_DRIVER_BYTES = 1024 * 1024;

export const runCommand: Command = {
  summary: 'run a driver against a scenario: --scenario <file> --driver <file.ts> [--seed N] [--json]',
  async run(args, { appRoot }) {
    const { values } = parseOptions(args, {
      scenario: { type: 'string' },
      driver: { type: 'string' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    });
    if (values.scenario === undefined) throw new CliUsageError('--scenario <file> is required (a scenario in YAML or JSON)');
    if (values.driver === undefined) throw new CliUsageError('--driver <file.ts> is required (the driver in TypeScript)');
    if (!/^[0-9]+$/.test(values.seed) || Number(values.seed) > 0xffff_ffff) throw new CliUsageError(`--seed expects a whole number from 0 to 4294967295, got "${values.seed}"`);

    let loaded;
    try {
      loaded = await loadScenarioFile(values.scenario);
    } catch (err) {
      if (err instanceof ScenarioFileError) throw new CliUsageError(`the scenario does not validate:\n${err.problems.map(describeProblem).join('\n')}`);
      throw err;
    }
    const source = await readFile(values.driver, 'utf8').catch(() => {
      throw new CliUsageError(`cannot read the driver ${values.driver}`);
    });
    if (source.length > MAX_DRIVER_BYTES) throw new CliUsageError(`${values.driver} is larger than ${MAX_DRIVER_BYTES} bytes`);

    const reply = await runSimulation(
      {
        scenario: loaded.scenario,
        source,
        file: values.driver,
        seed: Number(values.seed),
        images: Object.fromEntries(loaded.images),
        files: {},
      },
      { workerPath: join(appRoot, 'out', 'main', 'simWorker.js') },
    );
    if (reply.kind === 'load-error') {
      const detail = reply.compileErrors.length > 0 ? reply.compileErrors.map(formatCompileError).join('\n') : `${values.driver}: ${reply.message}`;
      throw new CliUsageError(`the driver does not load:\n${detail}`);
    }
    if (reply.kind === 'crash') {
      console.error(`dmalab: ${reply.message}`);
      return 1;
    }
    const result = reply.result;
    if (values.json) console.log(JSON.stringify(result));
    else console.log(summary(result, basename(values.driver)));
    return result.ok ? 0 : 1;
  },
};

function summary(r: RunResult, file: string): string {
  const lines: string[] = [];
  const at = (line: number | null) => (line === null ? '' : ` (${file}:${line})`);
  for (const text of r.console) lines.push(`  | ${text.replace(/\n$/, '')}`);
  if (r.console.length > 0) lines.unshift('console:');
  if (r.bugcheck) {
    const b = r.bugcheck;
    const params = b.parameters.map((p) => `0x${(p >>> 0).toString(16).toUpperCase()}`).join(', ');
    lines.push('', `*** STOP 0x${b.code.toString(16).toUpperCase().padStart(8, '0')} (${params}) ${b.name}${at(b.line)}`, `    ${b.message}`);
  }
  if (r.violations.length > 0) {
    lines.push('', 'verifier findings:');
    for (const v of r.violations) lines.push(`  ${v.rule}${at(v.line)}: ${v.message}`);
  }
  if (r.irps.length > 0) {
    lines.push('', 'IRPs:');
    r.irps.forEach((irp, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${irp.major.padEnd(5)} ${String(irp.length).padStart(8)} bytes on ${irp.device}: ${irp.status ?? 'never completed'}, Information ${irp.information}`));
  }
  lines.push('', 'checks:');
  for (const c of r.checks) lines.push(`  ${c.ok ? 'pass' : 'FAIL'}  ${c.id}: ${c.message}`);
  const s = r.stats;
  lines.push(
    '',
    `${(s.simulatedNs / 1e6).toFixed(3)} ms simulated, ${s.dmaBytes} bytes moved by DMA, ${s.mapTransfers} MapTransfer calls, ${s.interrupts} interrupts, ${s.dpcs} DPCs, ${s.apiCalls} API calls`,
    r.ok ? 'ok' : 'FAILED',
  );
  return lines.join('\n');
}
