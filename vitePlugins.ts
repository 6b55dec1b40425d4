import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Plugin } from 'vite';
import { compileDriver, isCompileErrors } from './src/sim/driver/compile.ts';

const QUERY = '?compiled';

/**
 * `import code from './guest/wdm.ts?compiled'`: the file as the sandbox runs it, compiled when
 * the app is built (exactly as compileDriver(source, file, false) would at run time), so that
 * no simulation worker spends its start compiling the `wdm` surface (76 KB of TypeScript, about
 * a third of a second in a fresh worker). A file that does not compile fails the build.
 */
export function compiledGuest(): Plugin {
  return {
    name: 'dmalab-compiled-guest',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith(QUERY)) return null;
      const file = id.slice(0, -QUERY.length);
      this.addWatchFile(file);
      const compiled = compileDriver(await readFile(file, 'utf8'), basename(file), false);
      if (isCompileErrors(compiled)) this.error(`${file} does not compile: ${compiled.map((e) => `line ${e.line}: ${e.message}`).join('; ')}`);
      return `export default ${JSON.stringify(compiled.code)};`;
    },
  };
}
