// `npm run bench [-- --json]`: build quietly, then run every benchmark in the CLI.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'error'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (build.status !== 0) process.exit(build.status ?? 1);
const bench = spawnSync(process.execPath, [join(root, 'bin', 'dmalab.mjs'), 'bench', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(bench.status ?? 1);
