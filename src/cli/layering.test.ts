import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The lint configuration is what keeps DESIGN.md's layers apart; these cases make
// sure it still catches a bad import, and still allows a good one.
const root = new URL('../..', import.meta.url).pathname;
const eslint = new ESLint({ cwd: root });

async function rulesBroken(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('layering lint', () => {
  it('keeps Node, Electron, main and the wall clock out of src/sim', async () => {
    expect(await rulesBroken('src/sim/machine/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n")).toContain('import-x/no-nodejs-modules');
    expect(await rulesBroken('src/sim/machine/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toContain('no-restricted-imports');
    expect(await rulesBroken('src/sim/machine/x.ts', "import { createServices } from '../../main/services';\nexport const a = createServices;\n")).toContain('import-x/no-restricted-paths');
    expect(await rulesBroken('src/sim/machine/x.ts', 'export const a = Math.random();\n')).toContain('no-restricted-properties');
    expect(await rulesBroken('src/sim/machine/x.ts', 'export const a = new Date();\n')).toContain('no-restricted-globals');
    expect(await rulesBroken('src/sim/machine/x.ts', 'export const a = document.body;\n')).toContain('no-restricted-globals');
  });

  it('keeps the renderer and the preload away from sim and main', async () => {
    expect(await rulesBroken('src/renderer/src/x.ts', "import { dispatch } from '../../main/api/dispatch';\nexport const a = dispatch;\n")).toContain('import-x/no-restricted-paths');
    expect(await rulesBroken('src/preload/x.ts', "import { createServices } from '../main/services';\nexport const a = createServices;\n")).toContain('import-x/no-restricted-paths');
    expect(await rulesBroken('src/renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n")).toContain('no-restricted-imports');
  });

  it('keeps src/shared free of everything but itself', async () => {
    expect(await rulesBroken('src/shared/x.ts', "import { createServices } from '../main/services';\nexport const a = createServices;\n")).toContain('import-x/no-restricted-paths');
    expect(await rulesBroken('src/shared/x.ts', "import { join } from 'node:path';\nexport const a = join;\n")).toContain('import-x/no-nodejs-modules');
  });

  it('allows the imports the design allows', async () => {
    expect(await rulesBroken('src/sim/machine/x.ts', "import { Scenario } from '../../shared/scenario';\nexport const a = Scenario;\n")).toEqual([]);
    expect(await rulesBroken('src/renderer/src/x.ts', "import { api } from '../../shared/api';\nexport const a = api;\n")).toEqual([]);
    expect(await rulesBroken('src/main/x.ts', "import { api } from '../shared/api';\nexport const a = api;\n")).toEqual([]);
  });
});
