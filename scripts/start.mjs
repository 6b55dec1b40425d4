// `npm start`: the desktop app where the Electron runtime is installed, otherwise the
// same renderer in a browser through the web host.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary, ensureElectronSqlite } from './electron-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const electronVite = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');

if (electronBinary() !== null) {
  ensureElectronSqlite();
  run(process.execPath, [electronVite, 'preview']); // builds, then opens the window
} else {
  console.log('Electron runtime not installed: serving DMA Lab to a browser on the web host instead.');
  run(process.execPath, [electronVite, 'build', '--logLevel', 'warn']);
  const host = spawn(process.execPath, [join(root, 'bin', 'dmalab.mjs'), 'serve', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => host.kill(signal));
  host.on('exit', (code) => process.exit(code ?? 0));
}
