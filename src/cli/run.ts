import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { RunResult } from '../shared/runResult';
import { describeProblem } from '../shared/schemaError';
import { formatCompileError } from '../sim/driver/compileError';
import { loadScenarioFile, ScenarioFileError } from '../main/services/scenarioFile';
import { runSimulation, type TraceRequest } from '../main/services/simulation';
import { formatFromPath } from '../main/services/traceFile';
import type { TraceFormat } from '../sim/trace/export';
import type { DetailLevel } from '../sim/trace/recorder';
import { CliUsageError, type Command, parseOptions } from './command';

// `dmalab run`: one driver against one scenario, in a worker of its own. Exit 0 when every
// check passes, 1 when a check fails or the run bug-checks, 2 for bad input.

const MAX_DRIVER_BYTES = 1024 * 1024;

export const runCommand: Command = {
  summary: 'run a driver against a scenario: --scenario <file> --driver <file.ts> [--seed N] [--json] [--trace <file> [--format vcd|chrome|csv|jsonl] [--detail summary|bus|cycle] [--vcd-buses bits|vector]]',
  async run(args, { appRoot }) {
    const { values } = parseOptions(args, {
      scenario: { type: 'string' },
      driver: { type: 'string' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      trace: { type: 'string' },
      format: { type: 'string' },
      detail: { type: 'string', default: 'bus' },
      'vcd-buses': { type: 'string', default: 'bits' },
    });
    const trace = values.trace === undefined ? undefined : await traceRequest(values.trace, values.format, values.detail, values['vcd-buses']);
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
        files: await localImports(values.driver, source),
        ...(trace ? { trace } : {}),
      },
      {
        workerPath: join(appRoot, 'out', 'main', 'simWorker.js'),
        onProgress: (done, total) => {
          if (process.stderr.isTTY) process.stderr.write(`\rtrace: ${Math.floor((done / Math.max(1, total)) * 100)}% of ${total} events`);
        },
      },
    );
    if (process.stderr.isTTY && trace) process.stderr.write('\n');
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
    if (reply.trace && 'error' in reply.trace) {
      console.error(`dmalab: the trace was not written: ${reply.trace.error}`);
      return 1;
    }
    if (reply.trace) console.error(`trace: ${reply.trace.events} events, ${reply.trace.bytes} bytes in ${reply.trace.path}`);
    return result.ok ? 0 : 1;
  },
};

/** The driver's own modules it imports as './name' (a lab's helper files), found beside it, transitively. */
export async function localImports(driverPath: string, source: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const pending = [source];
  while (pending.length > 0) {
    for (const m of pending.pop()!.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]\.\/([A-Za-z0-9_-]+)(?:\.ts)?['"]/g)) {
      const key = `./${m[1]!}`;
      if (key in files || Object.keys(files).length > 64) continue;
      const text = await readFile(join(dirname(resolve(driverPath)), `${m[1]!}.ts`), 'utf8').catch(() => null);
      if (text === null) continue; // the sandbox reports the missing module with its name
      files[key] = text;
      pending.push(text);
    }
  }
  return files;
}

const FORMATS = ['vcd', 'chrome', 'csv', 'jsonl'] as const;
const DETAILS = ['summary', 'bus', 'cycle'] as const;

/** Checks the trace options and that the folder can be written, before any simulation runs. */
async function traceRequest(path: string, format: string | undefined, detail: string, buses: string): Promise<TraceRequest> {
  const chosen = format ?? formatFromPath(path);
  if (chosen === null) throw new CliUsageError(`--trace ${path}: cannot tell the format from the file name; use .vcd, .json (Chrome trace), .csv or .jsonl, or --format vcd|chrome|csv|jsonl`);
  if (!(FORMATS as readonly string[]).includes(chosen)) throw new CliUsageError(`--format expects vcd, chrome, csv or jsonl, got "${chosen}"`);
  if (!(DETAILS as readonly string[]).includes(detail)) throw new CliUsageError(`--detail expects summary, bus or cycle, got "${detail}"`);
  if (buses !== 'bits' && buses !== 'vector') throw new CliUsageError(`--vcd-buses expects bits or vector, got "${buses}"`);
  const folder = dirname(resolve(path));
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw new CliUsageError(`--trace ${path}: the folder ${folder} does not exist or cannot be written`);
  }
  return { path: resolve(path), format: chosen as TraceFormat, detail: detail as DetailLevel, vcdBuses: buses };
}

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
