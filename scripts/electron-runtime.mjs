// The Electron runtime binary is optional: where it can be downloaded the app runs in
// its window; where it cannot (a closed network, ELECTRON_SKIP_BINARY_DOWNLOAD=1), the
// same renderer runs in a browser through the web host.
//
//   node scripts/electron-runtime.mjs install   (npm's postinstall) fetch it if possible
//   node scripts/electron-runtime.mjs status    say whether it is there
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const electronDir = () => dirname(require.resolve('electron/package.json'));

export function electronVersion() {
  return JSON.parse(readFileSync(join(electronDir(), 'package.json'), 'utf8')).version;
}

/** The runtime's executable, or null; never triggers a download (require('electron') would). */
export function electronBinary() {
  const dir = electronDir();
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, 'dist'), readFileSync(pathFile, 'utf8'));
  return existsSync(exe) ? exe : null;
}

export function install() {
  if (electronBinary() !== null) return;
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    console.log('dmalab: Electron runtime not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD); "npm start" will use the web host.');
    return;
  }
  const r = spawnSync(process.execPath, [join(electronDir(), 'install.js')], { stdio: 'pipe', timeout: 600_000 });
  if (r.status === 0 && electronBinary() !== null) console.log(`dmalab: Electron ${electronVersion()} runtime installed.`);
  else console.log('dmalab: Electron runtime could not be downloaded; "npm start" will serve the app to a browser instead.');
}

/**
 * better-sqlite3 built for Electron's ABI, beside (not over) the Node build that tests
 * and the CLI use. The app passes it as `nativeBinding` (src/main/services/appPaths.ts).
 */
export function ensureElectronSqlite() {
  const version = electronVersion();
  const dir = join(root, '.electron-abi', `better-sqlite3-${version}`);
  if (existsSync(join(dir, 'build', 'Release', 'better_sqlite3.node'))) return;
  const source = dirname(require.resolve('better-sqlite3/package.json'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const part of ['binding.gyp', 'package.json', 'src', 'deps']) cpSync(join(source, part), join(dir, part), { recursive: true });
  const nodeGyp = process.env.npm_config_node_gyp ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  console.log(`dmalab: building better-sqlite3 for Electron ${version}…`);
  const env = { ...process.env, npm_config_nodedir: '' }; // Electron's headers, not Node's
  const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', '--runtime=electron', `--target=${version}`, '--dist-url=https://electronjs.org/headers'], { cwd: dir, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building better-sqlite3 for Electron ${version} failed (exit ${r.status})`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  if (command === 'install') install();
  else if (command === 'status') console.log(electronBinary() ?? 'not installed');
  else {
    console.error('usage: node scripts/electron-runtime.mjs install|status');
    process.exit(2);
  }
}
