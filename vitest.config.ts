import { defineConfig } from 'vitest/config';
import { compiledGuest } from './vitePlugins.ts';

// Unit tests sit beside the code they test (`*.test.ts`); end-to-end specs are in e2e/.
export default defineConfig({
  plugins: [compiledGuest()],
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
