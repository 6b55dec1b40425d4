import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';

const root = join(import.meta.dirname, '..');

export interface Host {
  /** The URL `dmalab serve` printed, token included. */
  url: string;
  origin: string;
  dataDir: string;
}

/** Starts `dmalab serve --port 0` as a person would, with a data folder of its own. */
async function startHost(): Promise<Host & { child: ChildProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dmalab-e2e-'));
  const child = spawn(process.execPath, [join(root, 'bin', 'dmalab.mjs'), 'serve', '--port', '0'], {
    cwd: root,
    env: { ...process.env, DMALAB_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('http://'));
      if (line !== undefined) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`dmalab serve exited with ${code} before printing its URL`)));
  });
  return { url, origin: new URL(url).origin, dataDir, child };
}

export const test = base.extend<object, { host: Host }>({
  host: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixture's dependencies from this pattern
    async ({}, use) => {
      const { child, ...host } = await startHost();
      await use(host);
      child.kill('SIGTERM');
      rmSync(host.dataDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
