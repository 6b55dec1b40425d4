import { test } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { runScenario } from '../run/session';

const scenario = Scenario.parse({ devices: [{ type: 'floppy' }], checks: [{ kind: 'no-violations' }] });
const limits = { memoryBytes: 64 * 1024 * 1024, stackBytes: 256 * 1024, watchdogTicks: 200 };
const probes: Record<string, string> = {
  process: `export function DriverEntry() { DbgPrint(typeof process + ' ' + typeof require + ' ' + typeof module + ' ' + typeof global + ' ' + Object.getOwnPropertyNames(globalThis).join(',')); return STATUS_SUCCESS; }`,
  ctor: `export function DriverEntry() { const F = (DbgPrint as any).constructor; DbgPrint(String(F('return typeof process')()) + ' ' + (IoGetDmaAdapter as any).constructor('return typeof process')()); DbgPrint(String((function(){ return this; })())); return STATUS_SUCCESS; }`,
  importFs: `import * as fs from 'fs'; export function DriverEntry() { DbgPrint(typeof fs); return STATUS_SUCCESS; }`,
  dynImport: `export async function x() {} export function DriverEntry() { const p = import('fs'); DbgPrint(String(p)); p.then(m => DbgPrint('loaded ' + typeof m), e => DbgPrint('err ' + e)); return STATUS_SUCCESS; }`,
  loopTop: `while (true) {} export function DriverEntry() { return STATUS_SUCCESS; }`,
  loop: `export function DriverEntry() { let i = 0; while (true) { i++; } }`,
  catchLoop: `export function DriverEntry() { for (;;) { try { while (true) {} } catch (e) { DbgPrint('caught ' + e); } } }`,
  big: `export function DriverEntry() { try { const a = new Array(1e9).fill(0); DbgPrint('len ' + a.length); } catch (e) { DbgPrint('err ' + e); } try { const s = 'x'.repeat(1 << 30); DbgPrint('s ' + s.length); } catch (e) { DbgPrint('err ' + e); } return STATUS_SUCCESS; }`,
  grow: `export function DriverEntry() { const a: string[] = []; for (let i = 0; ; i++) a.push('x'.repeat(1000) + i); }`,
  recurse: `function f(n: number): number { return f(n + 1) + 1; } export function DriverEntry() { return f(0); }`,
  throwProxy: `export function DriverEntry() { throw new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); }, getOwnPropertyDescriptor() { throw new Error('trap'); }, has() { throw new Error('trap'); } }); }`,
  throwGetter: `export function DriverEntry() { throw { get name() { throw new Error('n'); }, get message() { for(;;){} }, get stack() { throw 1; }, toJSON() { for(;;){} } }; }`,
  returnProxy: `export function DriverEntry() { return new Proxy({}, { get() { throw new Error('trap'); } }) as any; }`,
  returnValueOf: `export function DriverEntry() { return { valueOf() { for(;;){} } } as any; }`,
  returnSymbol: `export function DriverEntry() { return Symbol('x') as any; }`,
  returnBigInt: `export function DriverEntry() { return 5n as any; }`,
  stall: `export function DriverEntry() { KeStallExecutionProcessor(NaN); KeStallExecutionProcessor(1e300); KeStallExecutionProcessor(-Infinity); return STATUS_SUCCESS; }`,
  dbg: `export function DriverEntry() { DbgPrint('x'.repeat(10 * 1024 * 1024)); return STATUS_SUCCESS; }`,
  json: `export function DriverEntry() { try { JSON.parse('['.repeat(1e6) + ']'.repeat(1e6)); } catch (e) { DbgPrint('err ' + e); } return STATUS_SUCCESS; }`,
  timers: `export function DriverEntry() { DbgPrint([typeof setTimeout, typeof setInterval, typeof queueMicrotask, typeof Atomics, typeof SharedArrayBuffer, typeof WeakRef, typeof FinalizationRegistry, Date.now(), Math.random(), new Date().toISOString()].join(' ')); return STATUS_SUCCESS; }`,
  dbgDate: `export function DriverEntry() { DbgPrint('%s', { toString() { return typeof process; } }); DbgPrint(Symbol() as any); return STATUS_SUCCESS; }`,
};
for (const [name, source] of Object.entries(probes)) {
  test(name, async () => {
    const t = performance.now();
    try {
      const s = await runScenario({ scenario, source, file: 'driver.ts', seed: 1, limits });
      const r = s.result;
      console.log(name, (performance.now() - t).toFixed(0), JSON.stringify({ bugcheck: r.bugcheck, console: r.console.map((c) => c.slice(0, 300)), checks: r.checks, violations: r.violations, mem: s.sandbox.memoryBytes() }));
    } catch (e) {
      console.log(name, (performance.now() - t).toFixed(0), 'THREW', String(e).slice(0, 500));
    }
  });
}
