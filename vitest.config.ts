import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code they test (`*.test.ts`); end-to-end specs are in e2e/.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
