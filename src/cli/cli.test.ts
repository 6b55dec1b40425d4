import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The CLI as a person runs it: the built `dmalab` bin, in a process of its own.
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'dmalab.mjs');
let dataDir: string;

const dmalab = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DMALAB_DATA_DIR: dataDir } });

beforeAll(() => {
  if (!existsSync(join(root, 'out', 'main', 'cli.js'))) throw new Error('the CLI is not built: run "npm run build" before these tests');
  dataDir = mkdtempSync(join(tmpdir(), 'dmalab-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('dmalab', () => {
  it('lists the labs, as text and as JSON', () => {
    const text = dmalab('labs');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^01-adapter-object\s+The adapter object$/m);
    const json = dmalab('labs', '--json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).labs[0]).toMatchObject({ id: '01-adapter-object', order: 1 });
  });

  it('exits 2 with a clear message for an unknown command or option', () => {
    const cmd = dmalab('frobnicate');
    expect(cmd.status).toBe(2);
    expect(cmd.stderr).toMatch(/^dmalab: unknown command "frobnicate"/);
    const opt = dmalab('labs', '--nope');
    expect(opt.status).toBe(2);
    expect(opt.stderr).toMatch(/--nope/);
    const port = dmalab('serve', '--port', 'eighty');
    expect(port.status).toBe(2);
    expect(port.stderr).toContain('--port expects a number from 0 to 65535, got "eighty"');
  });

  it('serve prints the URL with its token on a line of its own and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd: root, env: { ...process.env, DMALAB_DATA_DIR: dataDir } });
    const firstLine = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    expect(firstLine).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/\?token=[A-Za-z0-9_-]+$/);
    const page = await fetch(firstLine);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>DMA Lab</title>');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('bench --json prints one JSON object of figures as its last line', () => {
    const r = dmalab('bench', '--json', '--only', 'catalog.');
    expect(r.status).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const figures = JSON.parse(last) as Record<string, { value: number; unit: string }>;
    expect(figures['catalog.listMs']).toEqual({ value: expect.any(Number), unit: 'ms' });
    expect(figures['catalog.listMs']!.value).toBeGreaterThan(0);
  });
});
