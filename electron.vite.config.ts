import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { compiledGuest } from './vitePlugins.ts';

/**
 * The editor (Monaco and its TypeScript mode) is a dynamic import, so that the page draws
 * before it is ready; but it is what the person waits for. Its chunks are named in the page's
 * head as module preloads, so that the browser fetches and compiles them alongside the app's
 * own script rather than after it has run.
 */
function preloadEditor(): Plugin {
  return {
    name: 'dmalab-preload-editor',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const chunks = Object.values(ctx.bundle ?? {}).flatMap((c) => (c.type === 'chunk' ? [c] : []));
        const byFile = new Map(chunks.map((c) => [c.fileName, c]));
        const wanted = new Set<string>();
        const add = (file: string) => {
          if (wanted.has(file) || !byFile.has(file) || byFile.get(file)!.isEntry) return;
          wanted.add(file);
          for (const i of byFile.get(file)!.imports) add(i);
        };
        for (const c of chunks) if (c.facadeModuleId?.endsWith('LabEditor.vue') || c.name.startsWith('tsMode')) add(c.fileName);
        return [...wanted].map((file) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `./${file}` }, injectTo: 'head' as const }));
      },
    },
  };
}

// Three builds, as electron-vite lays them out. The main build also emits the
// `dmalab` CLI (out/main/cli.js): it shares main's services but never loads Electron,
// and the simulation worker (out/main/simWorker.js), one per run.
export default defineConfig({
  main: {
    plugins: [compiledGuest()],
    build: {
      rolldownOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          cli: resolve('src/cli/index.ts'),
          simWorker: resolve('src/main/services/simWorker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot be an ES module.
      rolldownOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    plugins: [vue(), preloadEditor()],
    build: {
      chunkSizeWarningLimit: 8192, // Monaco's TypeScript worker is large by nature
      // Monaco is megabytes of script: minified, the page has half as much to parse.
      minify: true,
    },
  },
});
