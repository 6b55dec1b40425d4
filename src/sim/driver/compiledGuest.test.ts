import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiledGuest } from '../../../vitePlugins';
import { compileDriver, isCompileErrors } from './compile';
import preludeCode from './guest/wdm.ts?compiled';

// The `wdm` surface is compiled when the app is built (vitePlugins.ts), no longer in each
// worker: what the sandbox loads must be what compiling it at run time gave.

/** The plugin's load hook, with a build context whose error() throws as Vite's does. */
async function load(id: string): Promise<unknown> {
  const hook = compiledGuest().load as (this: unknown, id: string) => Promise<unknown>;
  const context = {
    addWatchFile: () => {},
    error: (message: string) => {
      throw new Error(message);
    },
  };
  return hook.call(context, id);
}

describe('the wdm surface, compiled at build time', () => {
  it('is what compileDriver makes of guest/wdm.ts', () => {
    const atRunTime = compileDriver(readFileSync(join(__dirname, 'guest', 'wdm.ts'), 'utf8'), 'wdm.ts', false);
    expect(isCompileErrors(atRunTime)).toBe(false);
    expect(preludeCode).toBe(!isCompileErrors(atRunTime) && atRunTime.code);
    expect(preludeCode).toContain('IoGetDmaAdapter');
  });

  it('fails the build for a file that does not compile, naming it and the line, and leaves other imports alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmalab-guest-'));
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, 'export const ok = 1;\nexport function broken(: number {}\n');
    await expect(load(`${bad}?compiled`)).rejects.toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not compile: line 2: `));
    const good = join(dir, 'good.ts');
    writeFileSync(good, 'export const answer: number = 42;\n');
    const module = (await load(`${good}?compiled`)) as string;
    expect(module).toMatch(/^export default "/);
    expect(JSON.parse(module.slice('export default '.length, -1))).toContain('answer = 42');
    expect(await load(good)).toBeNull();
  });
});
