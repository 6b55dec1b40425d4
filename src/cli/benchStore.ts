import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ProgressStore, STORE_FILE } from '../main/services/progressStore';
import type { Benchmark } from './bench';

// Figures of the progress store (issue "Progress in SQLite").

export const storeBenchmarks: Benchmark[] = [
  {
    name: 'store.autosaveP99Ms',
    unit: 'ms',
    what: "99th percentile of an autosave of the editor's code (8 KiB) with 10,000 earlier attempts in the database (2,000 saves)",
    async run() {
      const dir = mkdtempSync(join(tmpdir(), 'dmalab-bench-store-'));
      try {
        const store = ProgressStore.open(join(dir, STORE_FILE));
        const labs = Array.from({ length: 12 }, (_v, i) => `lab-${i}`);
        for (let i = 0; i < 10_000; i++) {
          store.recordAttempt(labs[i % labs.length]!, { ok: i % 7 === 0, outcome: 'result', checksPassed: i % 5, checksTotal: 5, failed: ['data-integrity'], findings: ['MAP_TRANSFER_WITHOUT_FLUSH'], bugcheck: null });
        }
        const code = '// a driver of a few hundred lines\n'.repeat(240);
        const times: number[] = [];
        for (let i = 0; i < 2000; i++) {
          const t0 = performance.now();
          store.saveCode(labs[i % labs.length]!, `${code}// save ${i}\n`);
          times.push(performance.now() - t0);
        }
        store.close();
        times.sort((a, b) => a - b);
        return times[Math.floor(times.length * 0.99)]!;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
