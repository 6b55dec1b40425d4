import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';

// Three builds, as electron-vite lays them out. The main build also emits the
// `dmalab` CLI (out/main/cli.js): it shares main's services but never loads Electron,
// and the simulation worker (out/main/simWorker.js), one per run.
export default defineConfig({
  main: {
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
    plugins: [vue()],
    build: {
      chunkSizeWarningLimit: 8192, // Monaco's TypeScript worker is large by nature
    },
  },
});
