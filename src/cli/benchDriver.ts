import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse as parseYaml } from 'yaml';
import { Scenario } from '../shared/scenario';
import { runScenario } from '../sim/run/session';
import type { Benchmark } from './bench';

// Figures of the driver runtime (issue "Drivers run"): a sandboxed driver calling the
// real `wdm` surface, and the sound device's common-buffer driver streaming. Each figure
// is a difference of two runs of different sizes, so that loading QuickJS and compiling
// the driver (done once per run) do not count.

const floppyOnly = Scenario.parse({ devices: [{ type: 'floppy' }], checks: [{ kind: 'no-violations' }] });

/** A driver whose DriverEntry makes 4 × `n` calls through the surface: a port, the IRQL, memory both ways. */
const apiLoop = (n: number) => `export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 4096, 'Bnch');
  if (va === null) return STATUS_INSUFFICIENT_RESOURCES;
  let sum = 0;
  for (let i = 0; i < ${n}; i++) {
    sum += READ_PORT_UCHAR(0x3f4);
    sum += KeGetCurrentIrql();
    WRITE_MEMORY_ULONG(va + ((i * 4) & 0xffc), i);
    sum += READ_MEMORY_ULONG(va + ((i * 4) & 0xffc));
  }
  ExFreePool(va);
  DbgPrint('%u\\n', sum);
  return STATUS_SUCCESS;
}
`;

async function wallMs(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export const driverBenchmarks: Benchmark[] = [
  {
    name: 'driver.apiCallsPerSec',
    unit: 'calls/s',
    what: 'wdm calls per wall second from a sandboxed driver (ports, IRQL, memory; median of 5)',
    async run() {
      const small = 10_000;
      const large = 60_000;
      const once = async (n: number) => {
        let calls = 0;
        const ms = await wallMs(async () => {
          const s = await runScenario({ scenario: floppyOnly, source: apiLoop(n), file: 'bench.ts', seed: 1 });
          if (s.result.bugcheck) throw new Error(`the benchmark driver stopped: ${s.result.bugcheck.message}`);
          calls = s.result.stats.apiCalls;
          s.sandbox.dispose();
        });
        return { ms, calls };
      };
      await once(small); // warm the JIT
      const rates: number[] = [];
      for (let i = 0; i < 5; i++) {
        const a = await once(small);
        const b = await once(large);
        rates.push(((b.calls - a.calls) / (b.ms - a.ms)) * 1000);
      }
      return median(rates);
    },
  },
  {
    name: 'driver.playbackSecondWallMs',
    unit: 'ms',
    what: 'wall ms per simulated second of 44.1 kHz 16-bit stereo common-buffer playback, driver servicing half-buffer interrupts (median of 5)',
    async run({ appRoot }) {
      const dir = join(appRoot, 'labs', 'playground');
      const base = Scenario.parse(parseYaml(readFileSync(join(dir, 'sound-playback-1s.scenario.yaml'), 'utf8')));
      const source = readFileSync(join(dir, 'sound-common-buffer.driver.ts'), 'utf8');
      const seconds = (s: Scenario) => s.workload.reduce((n, w) => n + w.length, 0) / 176_400;
      const twice = Scenario.parse({ ...base, workload: [...base.workload, ...base.workload], timeLimitMs: base.timeLimitMs * 2 });
      const once = async (scenario: Scenario) =>
        wallMs(async () => {
          const s = await runScenario({ scenario, source, file: 'sound-common-buffer.driver.ts', seed: 1 });
          if (!s.result.ok) throw new Error(`the playback run failed: ${JSON.stringify(s.result.checks.filter((c) => !c.ok))}`);
          s.sandbox.dispose();
        });
      await once(base);
      const perSecond: number[] = [];
      for (let i = 0; i < 5; i++) {
        const a = await once(base);
        const b = await once(twice);
        perSecond.push((b - a) / (seconds(twice) - seconds(base)));
      }
      return median(perSecond);
    },
  },
];
