// `npm test`: typecheck, lint, build, unit tests, end-to-end tests. Every step runs
// even when an earlier one fails, so one run shows everything that is wrong; the last
// line counts the tests: "total: N passed, M failed".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reports = join(root, '.test-report');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);

const steps = [
  { name: 'typecheck', cmd: ['npm', 'run', '--silent', 'typecheck'] },
  { name: 'lint', cmd: ['npm', 'run', '--silent', 'lint'] },
  { name: 'build', cmd: [process.execPath, bin('electron-vite', 'bin/electron-vite.js'), 'build', '--logLevel', 'warn'] },
  {
    name: 'unit',
    cmd: [process.execPath, bin('vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile=${join(reports, 'unit.json')}`],
    counts: () => {
      const r = JSON.parse(readFileSync(join(reports, 'unit.json'), 'utf8'));
      return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
    },
  },
  {
    name: 'e2e',
    cmd: [process.execPath, bin('@playwright/test', 'cli.js'), 'test', '--reporter=list,json'],
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: join(reports, 'e2e.json') },
    counts: () => {
      const { stats } = JSON.parse(readFileSync(join(reports, 'e2e.json'), 'utf8'));
      return { passed: stats.expected + stats.flaky, failed: stats.unexpected, skipped: stats.skipped };
    },
  },
];

const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
for (const step of steps) {
  console.log(`\n── ${step.name} ──`);
  const r = spawnSync(step.cmd[0], step.cmd.slice(1), { cwd: root, stdio: 'inherit', env: { ...process.env, ...step.env } });
  let counts = null;
  if (step.counts) {
    try {
      counts = step.counts();
    } catch {
      counts = null; // the runner died before writing its report
    }
  }
  const ok = r.status === 0;
  if (counts) {
    // A runner that exits non-zero with no failed test (a crash, an error outside a test) still fails.
    if (!ok && counts.failed === 0) counts.failed = 1;
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    lines.push(`${step.name}: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
  } else {
    if (!ok) total.failed += 1;
    lines.push(`${step.name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`}`);
  }
}

console.log('\n── summary ──');
for (const line of lines) console.log(line);
console.log(`total: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed === 0 && total.skipped === 0 && total.passed > 0 ? 0 : 1);
