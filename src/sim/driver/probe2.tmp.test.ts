import { test } from 'vitest';
import variant from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten-core';
import { writeSync } from 'node:fs';

test('cap', async () => {
  const wasmMemory = new WebAssembly.Memory({ initial: 256, maximum: 1024 });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmMemory }));
  const rt = module.newRuntime();
  rt.setMemoryLimit(64 * 1024 * 1024);
  const ctx = rt.newContext();
  let ticks = 0;
  const t0 = performance.now();
  rt.setInterruptHandler(() => {
    ticks++;
    if (ticks % 20 === 0) writeSync(2, `tick ${ticks} mem ${module.getWasmMemory().buffer.byteLength} t ${(performance.now() - t0).toFixed(0)}\n`);
    return ticks > 400;
  });
  const r = ctx.evalCode(`const a = []; let errs = 0; for (let i = 0; ; i++) { try { a.push('x'.repeat(1000) + i); } catch (e) { errs++; } }`);
  writeSync(2, `done ${JSON.stringify(r.error ? ctx.dump(r.error) : 'ok')} ${(performance.now() - t0).toFixed(0)}\n`);
}, 60000);
