import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { dispatch } from '../main/api/dispatch';
import { createServices } from '../main/services';
import { startWebHost } from '../main/webhost/server';
import { appBenchmarks } from './benchApp';
import { driverBenchmarks } from './benchDriver';
import { simBenchmarks } from './benchSim';
import { storeBenchmarks } from './benchStore';
import { traceBenchmarks } from './benchTrace';
import { type CliContext, CliUsageError, parseOptions } from './command';

// `npm run bench`: every figure the issues name, measured in this process. With
// --json the last line on stdout is one object {name: {value, unit}} (DESIGN.md, "Rules").

export interface Benchmark {
  name: string;
  unit: string;
  /** What the figure means, for the table. */
  what: string;
  run(context: CliContext): Promise<number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

export const benchmarks: Benchmark[] = [
  {
    name: 'catalog.listMs',
    unit: 'ms',
    what: 'labs.list through the dispatcher, reading and validating every lab (median of 50)',
    async run({ appRoot }) {
      const { handlers } = createServices(appRoot);
      const times: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        const r = await dispatch(handlers, 'labs.list', {});
        if (!r.ok) throw new Error(r.error.message);
        times.push(performance.now() - t0);
      }
      return median(times);
    },
  },
  {
    name: 'api.wsCallsPerSec',
    unit: 'calls/s',
    what: 'labs.get round trips over the web host WebSocket, 16 in flight',
    async run({ appRoot }) {
      const { handlers, paths, catalog } = createServices(appRoot);
      const first = (await catalog.list()).labs[0];
      if (first === undefined) throw new Error('the catalog has no lab to fetch');
      const host = await startWebHost({ rendererDir: paths.rendererDir, handlers });
      try {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`);
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        const total = 4000;
        let sent = 0;
        let received = 0;
        const t0 = performance.now();
        await new Promise<void>((resolve, reject) => {
          const send = () => ws.send(JSON.stringify({ id: sent++, channel: 'labs.get', request: { id: first.id } }));
          ws.on('message', (data) => {
            if (!(JSON.parse(String(data)) as { result: { ok: boolean } }).result.ok) reject(new Error('a call failed'));
            if (++received === total) resolve();
            else if (sent < total) send();
          });
          for (let i = 0; i < 16; i++) send();
        });
        const seconds = (performance.now() - t0) / 1000;
        ws.close();
        return total / seconds;
      } finally {
        await host.close();
      }
    },
  },
  ...simBenchmarks,
  ...driverBenchmarks,
  ...traceBenchmarks,
  ...storeBenchmarks,
  ...appBenchmarks,
];

export async function runBench(args: string[], context: CliContext): Promise<number> {
  const { values } = parseOptions(args, { json: { type: 'boolean', default: false }, only: { type: 'string' }, exact: { type: 'boolean', default: false } });
  const chosen = benchmarks.filter((b) => (values.exact ? b.name === values.only : values.only === undefined || b.name.startsWith(values.only)));
  if (chosen.length === 0) throw new CliUsageError(`no benchmark matches "${values.only}"; the figures are ${benchmarks.map((b) => b.name).join(', ')}`);
  const figures: Record<string, { value: number; unit: string }> = {};
  for (const b of chosen) {
    // Each figure in a process of its own, so one benchmark's JIT and heap state cannot skew the next.
    const value = chosen.length === 1 ? await b.run(context) : measureInChild(b.name);
    figures[b.name] = { value: Math.round(value * 1000) / 1000, unit: b.unit };
    if (!values.json) console.log(`${b.name.padEnd(28)} ${String(figures[b.name]?.value).padStart(12)} ${b.unit.padEnd(10)} ${b.what}`);
  }
  if (values.json) console.log(JSON.stringify(figures));
  return 0;
}

function measureInChild(name: string): number {
  const r = spawnSync(process.execPath, [process.argv[1]!, 'bench', '--json', '--exact', '--only', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0) throw new Error(`benchmark ${name} failed (exit ${r.status})`);
  const figure = (JSON.parse(last) as Record<string, { value: number }>)[name];
  if (figure === undefined) throw new Error(`benchmark ${name} printed no figure`);
  return figure.value;
}
