#!/usr/bin/env node
// The `dmalab` command. The CLI is built with the app (out/main/cli.js).
import { existsSync } from 'node:fs';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('dmalab: the app is not built yet (out/main/cli.js is missing); run "npm run build" in the DMA Lab folder');
  process.exit(2);
}
await import(cli.href);
