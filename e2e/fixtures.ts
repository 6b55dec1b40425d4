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

/** Starts `dmalab serve --port 0` as a person would, with a data folder of its own (or the one given). */
export async function startHost(dataDir = mkdtempSync(join(tmpdir(), 'dmalab-e2e-')), env: Record<string, string> = {}): Promise<Host & { child: ChildProcess }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'dmalab.mjs'), 'serve', '--port', '0'], {
    cwd: root,
    env: { ...process.env, DMALAB_DATA_DIR: dataDir, ...env },
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

/** Stops a host and waits for it to be gone (its progress database closed). */
export async function stopHost(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
}

// A host per test: each starts with an empty data folder, so that no test sees another's progress.
export const test = base.extend<{ host: Host }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixture's dependencies from this pattern
  host: async ({}, use) => {
    const { child, ...host } = await startHost();
    await use(host);
    await stopHost(child);
    rmSync(host.dataDir, { recursive: true, force: true });
  },
});

export { expect } from '@playwright/test';
