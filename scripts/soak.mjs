// `npm run soak [-- --minutes N] [-- --json]`: build quietly, then run the soak test in the CLI
// with the collector exposed (its memory samples are each taken after a collection). Not
// part of `npm test`: it takes ten minutes by default. `--no-build` skips the build.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
if (!noBuild) {
  const build = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'error'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const soak = spawnSync(process.execPath, ['--expose-gc', join(root, 'bin', 'dmalab.mjs'), 'soak', ...args.filter((a) => a !== '--no-build')], { cwd: root, stdio: 'inherit' });
process.exit(soak.status ?? 1);
