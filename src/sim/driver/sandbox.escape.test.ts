import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type RunnerTask, type RunnerTestFile } from 'vitest';
import { parse } from 'yaml';
import type { RunResult } from '../../shared/runResult';
import { Scenario } from '../../shared/scenario';
import { ruleOf } from '../verifier/rules';
import { BUGCHECK } from '../kernel/bugCheck';
import { runScenario, type Session } from '../run/session';
import {
  CUMULATIVE_ALLOCATIONS,
  DEEP_NESTINGS,
  DEEP_RECURSIONS,
  ESCAPE_CORPUS,
  ESCAPE_LIMITS,
  ESCAPE_SCENARIO,
  type EscapeCase,
  FOREIGN_MODULES,
  HOST_CANARY_GLOBAL,
  HOST_CANARY_SECRET,
  HOST_GLOBAL_NAMES,
  HOSTILE_RETURN_VALUES,
  HOSTILE_WDK_CALLS,
  THROWN_VALUES,
  TOP_LEVEL_THROWS,
} from './escapeCorpus';
import { SandboxLoadError, type SandboxLimits } from './sandbox';

// Escape and denial attempts (DESIGN.md, "The sandbox"): the driver is untrusted code. Each
// case is a small driver run through runScenario; it must end in a result (a bug check, a
// finding, a problem, or the driver's own caught error), never in an exception escaping
// runScenario, a hang, or anything of the host reachable or changed. After every case the
// host is checked: a canary global the guest must never read, `process`, the built-in
// prototypes and the globals a driver would like to replace. The drivers are the corpus's
// (escapeCorpus.ts), looked up here by name; sandboxPool.test.ts runs the same ones in the
// app's worker pool.

// Teaching mode: a misuse is a finding and the run goes on, so each case shows how far it got.
const scenario = Scenario.parse(ESCAPE_SCENARIO);

/** What a finding says happened, without the rule's advice that follows it. */
const detailOf = (v: { rule: string; message: string }): string => v.message.slice(0, v.message.length - ruleOf(v.rule).advice.length - 2);

/** Small budgets keep each case fast: ~200 ticks is a few ms of bytecode. */
const LIMITS: SandboxLimits = ESCAPE_LIMITS;

interface RunOptions {
  limits?: Partial<SandboxLimits>;
  seed?: number;
  files?: Map<string, string>;
}

const SECRET = HOST_CANARY_SECRET;

/** Corpus cases looked up so far: after a full run of this file, every case has been. */
const used = new Set<string>();

/** The corpus case of that name. */
function corpusCase(name: string): EscapeCase {
  const found = ESCAPE_CORPUS.find((c) => c.name === name);
  if (!found) throw new Error(`no case "${name}" in the escape corpus`);
  used.add(name);
  return found;
}

/** The source of the corpus case of that name. */
const sourceOf = (name: string): string => corpusCase(name).source;

/** The options the corpus gives the case of that name (its helper files, limits and seed). */
function optionsOf(name: string): RunOptions {
  const c = corpusCase(name);
  return {
    ...(c.files ? { files: new Map(Object.entries(c.files)) } : {}),
    ...(c.limits ? { limits: c.limits } : {}),
    ...(c.seed !== undefined ? { seed: c.seed } : {}),
  };
}

/** Runs the corpus case of that name with the corpus's options. */
const runCase = (name: string): Promise<Session> => run(sourceOf(name), optionsOf(name));

async function run(source: string, options: RunOptions = {}): Promise<Session> {
  const session = await runScenario({ scenario, source, file: 'driver.ts', seed: options.seed ?? 1, limits: { ...LIMITS, ...options.limits }, files: options.files });
  expectContainedResult(session.result);
  return session;
}

/** What every result must be: plain data, nothing of the host in it, no simulator failure blamed on the driver's input. */
function expectContainedResult(result: RunResult): void {
  const text = JSON.stringify(result);
  expect(text).not.toContain(SECRET);
  expect(text).not.toMatch(/internal error in the simulator/);
  expect(text.length).toBeLessThan(64 * 1024);
  for (const line of result.console) expect(line.length).toBeLessThanOrEqual(4096);
}

/** 1-based line of the first source line containing `marker`. */
function lineOf(source: string, marker: string): number {
  const index = source.split('\n').findIndex((l) => l.includes(marker));
  if (index < 0) throw new Error(`marker ${marker} not in source`);
  return index + 1;
}

// ---- The host's side: a canary the guest must never read, and what must stay as it is --------

let canaryReads = 0;
const canary = Object.freeze({ secret: SECRET });
const canaryGetter = () => {
  canaryReads++;
  return canary;
};
const host = {
  process,
  pid: process.pid,
  exit: process.exit,
  cwd: process.cwd(),
  path: process.env.PATH,
  stringify: JSON.stringify,
  jsonParse: JSON.parse,
  dateNow: Date.now,
  Date,
  random: Math.random,
  FunctionCtor: Function,
  protoNames: new Map<object, string[]>(),
};
const prototypes: [string, object][] = [
  ['Object', Object.prototype],
  ['Array', Array.prototype],
  ['Function', Function.prototype],
  ['String', String.prototype],
  ['Promise', Promise.prototype],
  ['Error', Error.prototype],
];
/** Names a driver below tries to plant; none may appear on the host. */
const PLANTED = ['pwned', 'polluted', 'hijacked', 'escaped', 'IoCompleteRequest', 'DbgPrint', 'STATUS_SUCCESS', '__line', '__enter', '__load'];

function expectHostIntact(): void {
  const g = globalThis as Record<string, unknown>;
  expect(canaryReads).toBe(0);
  expect(Object.getOwnPropertyDescriptor(globalThis, HOST_CANARY_GLOBAL)?.get).toBe(canaryGetter);
  expect(g.process).toBe(host.process);
  expect(process.pid).toBe(host.pid);
  expect(process.exit).toBe(host.exit);
  expect(process.cwd()).toBe(host.cwd);
  expect(process.env.PATH).toBe(host.path);
  expect(JSON.stringify).toBe(host.stringify);
  expect(JSON.parse).toBe(host.jsonParse);
  expect(Date).toBe(host.Date);
  expect(Date.now).toBe(host.dateNow);
  expect(Math.random).toBe(host.random);
  expect(Function).toBe(host.FunctionCtor);
  for (const [name, proto] of prototypes) expect(Object.getOwnPropertyNames(proto), `${name}.prototype`).toEqual(host.protoNames.get(proto));
  for (const name of PLANTED) {
    expect(g[name], `globalThis.${name}`).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>)[name], `Object.prototype.${name}`).toBeUndefined();
  }
  expect([1, 2, 3].map((x) => x * 2)).toEqual([2, 4, 6]);
  expect(JSON.stringify({ a: 1 })).toBe('{"a":1}');
}

const timings: [string, number][] = [];
let started = 0;
let file: RunnerTestFile | undefined;

beforeAll(() => {
  Object.defineProperty(globalThis, HOST_CANARY_GLOBAL, { get: canaryGetter, configurable: true, enumerable: false });
  for (const [, proto] of prototypes) host.protoNames.set(proto, Object.getOwnPropertyNames(proto));
});
beforeEach(() => {
  started = performance.now();
});
afterEach((context) => {
  timings.push([context.task.name, performance.now() - started]);
  file = context.task.file;
  expectHostIntact();
});
afterAll(() => {
  delete (globalThis as Record<string, unknown>)[HOST_CANARY_GLOBAL];
  // Every driver of the corpus is one this file runs (checked when the whole file ran and passed).
  const tests = (t: RunnerTask): RunnerTask[] => (t.type === 'suite' ? t.tasks.flatMap(tests) : [t]);
  if (file && file.tasks.flatMap(tests).every((t) => t.mode === 'run' && t.result?.state === 'pass')) {
    expect(ESCAPE_CORPUS.map((c) => c.name).filter((name) => !used.has(name)), 'corpus cases this file never ran').toEqual([]);
  }
  const total = timings.reduce((n, [, ms]) => n + ms, 0);
  console.log(`sandbox escape corpus: ${timings.length} cases in ${(total / 1000).toFixed(1)} s\n${timings.map(([name, ms]) => `  ${ms.toFixed(0).padStart(6)} ms  ${name}`).join('\n')}`);
});

/** Each case also has a wall-clock bound: a contained attempt ends quickly. */
const CASE_MS = 5_000;

describe('sandbox escape and denial corpus', () => {
  it('host globals (process, require, module, global, the canary) are not reachable', async () => {
    const names = HOST_GLOBAL_NAMES;
    const s = await runCase('host globals');
    const c = s.result.console;
    expect(c[0]).toBe(names.map((n) => `${n}=undefined`).join(' '));
    expect(c[1]).toBe('own=');
    expect(c[2]).toBe('canary=undefined false');
    expect(c[3]).toBe('require=function module=object exports=true');
    expect(c[4]).toBe("require fs: Error: Cannot find module 'fs': a driver can import only its own lab files");
    expect(c[5]).toBe("require child_process: Error: Cannot find module 'node:child_process': a driver can import only its own lab files");
    expect(c[6]).toBe('via require=undefined via module=undefined');
    expect(s.result.bugcheck).toBeNull();
  });

  it("static imports of 'fs' and 'node:child_process' fail to load; only the lab's own files import", async () => {
    for (const mod of FOREIGN_MODULES) {
      const name = `static import: ${mod}`;
      const attempt = runScenario({ scenario, source: sourceOf(name), file: 'driver.ts', seed: 1, limits: LIMITS, files: optionsOf(name).files });
      await expect(attempt).rejects.toBeInstanceOf(SandboxLoadError);
      await expect(attempt).rejects.toThrow(`Cannot find module '${mod}': a driver can import only its own lab files`);
    }
    // The control: the lab's own file does import.
    const s = await runCase("static import of the lab's own file");
    expect(s.result.console).toEqual(['answer 42']);
  });

  it('import() never reaches the host: the promise only rejects, and no job runs during the run', async () => {
    const s = await runCase('dynamic import');
    // An async DriverEntry answers a promise, which is no NTSTATUS.
    expect(s.result.checks.find((c) => c.id === 'run')?.message).toContain('DriverEntry returned 0xFFFFFFFF');
    expect(s.result.console).toEqual([]);
    // Even if the host did run the guest's jobs, both imports fail.
    s.sandbox.runtime.executePendingJobs();
    expect(s.kernel.console).toContain("rejected Error: Cannot find module 'node:child_process': a driver can import only its own lab files");
    expect(s.kernel.console.some((l) => l.startsWith('native rejected'))).toBe(true);
    expect(s.kernel.console.some((l) => l.includes('loaded'))).toBe(false);
  });

  it('the Function constructor through this.constructor.constructor sees only the guest', async () => {
    const s = await runCase('Function constructor through this.constructor.constructor');
    expect(s.result.console).toEqual(Array(4).fill('undefined undefined undefined true'));
  });

  it('the Function constructor through an arrow function sees only the guest', async () => {
    const s = await runCase('Function constructor through an arrow function');
    expect(s.result.console).toEqual(['undefined undefined undefined', 'blocked: ReferenceError']);
  });

  it("the Function constructor through the host's WDK functions and the host's errors answers \"undefined\"", async () => {
    const s = await runCase("Function constructor through the host's WDK functions and errors");
    expect(s.result.console).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    expect(s.result.bugcheck?.name).toBe('MANUALLY_INITIATED_CRASH');
    expect(s.result.bugcheck?.parameters).toEqual([1, 2, 3, 4]);
  });

  it('async function, generator and async generator constructors see only the guest', async () => {
    const s = await runCase('async function, generator and async generator constructors');
    expect(s.result.console).toEqual(['undefined/undefined undefined undefined undefined']);
  });

  it('eval, direct and indirect, sees only the guest', async () => {
    const s = await runCase('eval, direct and indirect');
    expect(s.result.console).toEqual(['undefined undefined undefined undefined true', 'undefined']);
  });

  it("prototype pollution changes the driver's own world only, and the next run is clean", async () => {
    const s = await runCase('prototype pollution');
    // IoGetDmaAdapter's description reached the host as the JSON "null": a finding, not a crash.
    expect(s.result.violations.map(detailOf)).toContain('IoGetDmaAdapter: DeviceDescription is not a DEVICE_DESCRIPTION');
    expect(s.hal.adapters.size).toBe(0);
    expect(s.result.bugcheck).toBeNull();

    // A fresh run does not inherit any of it.
    const lab = (file: string) => readFileSync(`labs/01-adapter-object/${file}`, 'utf8');
    const clean = await runScenario({ scenario: Scenario.parse(parse(lab('scenario.yaml'))), source: lab('solution.ts'), file: 'solution.ts', seed: 1 });
    expect(clean.result.ok).toBe(true);
    expect(clean.result.console).toEqual(['fdc: DriverEntry \\Registry\\Machine\\System\\CurrentControlSet\\Services\\dmalab\n', 'fdc: adapter for channel 2, 4 map registers\n']);
  });

  it('timers and the job queue are absent or inert', async () => {
    const s = await runCase('timers and the job queue');
    expect(s.result.console).toEqual([Array(7).fill('undefined').join(' ')]);
  });

  it('Atomics, SharedArrayBuffer, WeakRef and FinalizationRegistry are absent', async () => {
    const s = await runCase('Atomics, SharedArrayBuffer, WeakRef and FinalizationRegistry');
    expect(s.result.console).toEqual(['Atomics=undefined SharedArrayBuffer=undefined WeakRef=undefined FinalizationRegistry=undefined', 'wait: TypeError']);
  });

  it('Date.now() and Math.random() are deterministic, and the real clock is not reachable', async () => {
    const source = sourceOf('the clock and Math.random');
    const a = await run(source, { seed: 7 });
    const b = await run(source, { seed: 7 });
    const c = await run(source, { seed: 8 });
    expect(a.result.console).toEqual(b.result.console);
    // The machine's clock: 2025-01-01 00:00 UTC, shown in UTC whatever the host's time zone.
    expect(a.result.console[0]).toMatch(/^1735689600000 1735689600000 Wed, 01 Jan 2025 00:00:00 GMT /);
    expect(a.result.console[1]).toBe('true true true true 2');
    expect(c.result.console[0]).not.toBe(a.result.console[0]); // another seed, other numbers
  });

  it('an infinite loop in DriverEntry is bug check 0x133 at the same line with the same parameters, every run', async () => {
    const source = sourceOf('infinite loop in DriverEntry');
    const t = performance.now();
    const a = await run(source);
    const b = await run(source);
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    expect(a.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, name: 'DPC_WATCHDOG_VIOLATION', line: lineOf(source, '// LOOP') });
    expect(b.result.bugcheck).toEqual(a.result.bugcheck);
    expect(a.result.bugcheck!.parameters[1]).toBe(LIMITS.watchdogTicks + 1);
    expect(a.sandbox.ticks).toBe(b.sandbox.ticks);
  });

  it('an infinite loop in a nested call, and in a routine the kernel runs nested (a DPC), is stopped at its line', async () => {
    const helpers = sourceOf('infinite loop in a nested call');
    const a = await run(helpers);
    expect(a.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: lineOf(helpers, '// INNER') });
    expect((await run(helpers)).result.bugcheck).toEqual(a.result.bugcheck);

    const dpc = sourceOf('infinite loop in a DPC');
    const b = await run(dpc);
    expect(b.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: lineOf(dpc, '// DPC LOOP') });
    expect(b.result.stats.dpcs).toBe(1);
  });

  it("a driver that catches the bug check's exception and loops again is still stopped", async () => {
    // The watchdog's interrupt cannot be caught at all.
    const plain = sourceOf('loop again after catching the watchdog');
    expect((await run(plain)).result.bugcheck?.code).toBe(BUGCHECK.DPC_WATCHDOG_VIOLATION);

    // A nested routine's bug check reaches the outer routine as an exception it can catch; looping then is stopped at once.
    const nested = sourceOf("loop again after catching a nested routine's bug check");
    const t = performance.now();
    const s = await run(nested);
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: lineOf(nested, '// FIRST') });
    expect(s.result.console).toEqual([]);

    // KeBugCheckEx caught, then a loop: the driver's own bug check stands.
    const own = sourceOf('loop after catching KeBugCheckEx');
    expect((await run(own)).result.bugcheck).toMatchObject({ code: 0xdead, parameters: [1, 2, 3, 4] });
  });

  it('a huge single allocation fails inside the guest (a caught error, or 0x4D), and the host stays up', async () => {
    const s = await runCase('huge single allocations, caught');
    expect(s.result.console).toHaveLength(5);
    for (const line of s.result.console) expect(line).toMatch(/: (InternalError: out of memory|RangeError: .*)$/);
    expect(s.sandbox.memoryBytes()).toBeLessThan(2 * LIMITS.memoryBytes);

    const uncaught = await runCase('huge single allocation, uncaught');
    expect(uncaught.result.bugcheck).toMatchObject({ code: BUGCHECK.NO_PAGES_AVAILABLE, name: 'NO_PAGES_AVAILABLE' });
  });

  it('cumulative allocation in a loop is bug check 0x4D while the WebAssembly memory is still near the budget', async () => {
    for (const [i] of CUMULATIVE_ALLOCATIONS.entries()) {
      const t = performance.now();
      // The corpus raises the watchdog to 100,000 ticks for these: the memory budget is what stops them.
      const s = await runCase(`cumulative allocation: ${i + 1}`);
      expect(performance.now() - t).toBeLessThan(CASE_MS);
      expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.NO_PAGES_AVAILABLE, name: 'NO_PAGES_AVAILABLE', line: 2 });
      // The hook sees the heap after it grew: at most one growth step past the budget, never the 2 GB an unchecked loop reaches.
      expect(s.sandbox.memoryBytes()).toBeGreaterThan(LIMITS.memoryBytes);
      expect(s.sandbox.memoryBytes()).toBeLessThan(LIMITS.memoryBytes * 1.25);
      expect(s.sandbox.halted?.report.code).toBe(BUGCHECK.NO_PAGES_AVAILABLE);
    }
  });

  it('deep recursion is 0x7F with a short message, however the recursion goes', async () => {
    for (const [i] of DEEP_RECURSIONS.entries()) {
      const s = await runCase(`deep recursion: ${i + 1}`);
      expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP, name: 'UNEXPECTED_KERNEL_MODE_TRAP', parameters: [8, 0, 0, 0] });
      expect(s.result.bugcheck!.message.length).toBeLessThan(200);
      expect(JSON.stringify(s.result).length).toBeLessThan(4096);
    }
  });

  it('throwing non-Error values out of DriverEntry is bug check 0x1E, whatever the value does when inspected', async () => {
    const thrown = THROWN_VALUES;
    for (const value of thrown) {
      // The corpus raises the watchdog to 4,000 ticks for these.
      const s = await runCase(`thrown from DriverEntry: ${value}`);
      const bugcheck = s.result.bugcheck;
      expect(bugcheck, value).not.toBeNull();
      expect([BUGCHECK.KMODE_EXCEPTION_NOT_HANDLED, BUGCHECK.DPC_WATCHDOG_VIOLATION, BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP], value).toContain(bugcheck!.code);
      expect(bugcheck!.message.length, value).toBeLessThan(600);
    }
  });

  it('hostile values returned to the host become failure statuses or bug checks, never host exceptions', async () => {
    const values = HOSTILE_RETURN_VALUES;
    for (const value of values) {
      const fromEntry = await runCase(`returned from DriverEntry: ${value}`);
      expect(fromEntry.result.checks.find((c) => c.id === 'run')?.message, value).toContain('DriverEntry returned 0xFFFFFFFF');
      expect(fromEntry.result.console, value).toEqual([]); // the host never coerced it

      const fromAdd = await runCase(`returned from AddDevice: ${value}`);
      expect(fromAdd.result.checks.find((c) => c.id === 'run')?.message, value).toContain('AddDevice for floppy0 returned 0xFFFFFFFF');

      const fromDispatch = await runCase(`returned from a dispatch routine: ${value}`);
      expect(fromDispatch.result.bugcheck, value).toBeNull();

      // AdapterControl's answer is coerced inside the guest: a throwing or looping valueOf is the driver's own exception or loop.
      const fromAdapterControl = await runCase(`returned from AdapterControl: ${value}`);
      const r = fromAdapterControl.result;
      expect(r.bugcheck !== null || r.violations.length > 0, value).toBe(true);
    }
  });

  it('hostile arguments to WDK routines end in a caught guest error, a finding or a bug check', async () => {
    type Outcome = 'caught' | 'finding' | 'bugcheck' | 'returned';
    const rows: [string, Outcome, number?][] = [
      [`READ_PORT_UCHAR(Symbol('port') as any)`, 'caught'],
      [`READ_PORT_UCHAR(1e300)`, 'finding'],
      [`READ_PORT_UCHAR(NaN)`, 'finding'],
      [`READ_PORT_UCHAR(0x3f4n as any)`, 'returned'],
      [`READ_PORT_UCHAR({ valueOf() { IoCreateDevice(DriverObject, 0, null, 0, 0, false, ref(null)); KeStallExecutionProcessor(1); return 0x3f4; } } as any)`, 'returned'],
      [`WRITE_PORT_UCHAR(-Infinity, NaN)`, 'finding'],
      [`RtlCopyMemory(NaN, NaN, NaN)`, 'bugcheck', BUGCHECK.PAGE_FAULT_IN_NONPAGED_AREA],
      [`RtlCopyMemory(pool, pool + 8, 1e15)`, 'bugcheck', BUGCHECK.PAGE_FAULT_IN_NONPAGED_AREA],
      [`RtlCopyMemory(Symbol() as any, pool, 1)`, 'caught'],
      [`RtlFillMemory(pool, Infinity, 0)`, 'bugcheck', BUGCHECK.PAGE_FAULT_IN_NONPAGED_AREA],
      [`RtlFillMemory(pool, 16, Symbol() as any)`, 'caught'],
      [`RtlCompareMemory(pool, pool, -1)`, 'bugcheck', BUGCHECK.PAGE_FAULT_IN_NONPAGED_AREA],
      [`READ_MEMORY_ULONG((2n ** 64n) as any)`, 'bugcheck', BUGCHECK.PAGE_FAULT_IN_NONPAGED_AREA],
      [`DbgPrint(String(ExAllocatePool2(POOL_FLAG_NON_PAGED, 1e300, 'tag')))`, 'returned'],
      [`ExFreePool(NaN)`, 'bugcheck', BUGCHECK.BAD_POOL_CALLER],
      [`IoAllocateMdl(NaN, 1e300, false, false, null)`, 'finding'],
      [`IoCreateDevice(new Proxy({}, { get() { throw new Error('trap'); } }) as any, NaN, Symbol() as any, 1n as any, Infinity, {} as any, ref(null))`, 'caught'],
      [`IoCreateDevice(DriverObject, 0, null, 0, 0, false, Symbol() as any)`, 'caught'],
      [`IoDeleteDevice({ valueOf() { return 1; } } as any)`, 'finding'],
      [`KeStallExecutionProcessor(NaN)`, 'finding'],
      [`KeRaiseIrql(NaN, ref(0))`, 'bugcheck', BUGCHECK.IRQL_NOT_LESS_OR_EQUAL],
      [`KeLowerIrql(1e300)`, 'bugcheck', BUGCHECK.IRQL_NOT_LESS_OR_EQUAL],
      [`const t = {} as KTIMER; KeInitializeTimer(t); KeSetTimerEx(t, NaN, 1e300, null)`, 'finding'],
      [`const t = {} as KTIMER; KeInitializeTimer(t); KeSetTimerEx(t, -10, 1e-7, null)`, 'finding'],
      [`KeBugCheckEx(Symbol() as any, 0, 0, 0, 0)`, 'caught'],
      [`KeBugCheckEx((2n ** 70n) as any, NaN, Infinity, -0, 1e300)`, 'bugcheck'],
      [`DbgPrint('%d %s', Symbol(), 1)`, 'caught'],
      [`DbgPrint(new Proxy({}, { get() { throw new Error('fmt'); } }) as any)`, 'caught'],
      [`IoGetDmaAdapter(new Proxy({}, { get() { throw new Error('pdo'); } }) as any, new Proxy({}, { get() { throw new Error('desc'); } }) as any, ref(0))`, 'caught'],
      [`IoGetDmaAdapter({} as any, { DmaChannel: 1e300, MaximumLength: NaN, Version: Symbol() } as any, ref(0))`, 'caught'],
      [`IoGetDmaAdapter(null as any, { DmaChannel: 1e300, MaximumLength: NaN } as any, ref(0))`, 'finding'],
    ];
    expect(rows.map(([call]) => call)).toEqual(HOSTILE_WDK_CALLS);
    for (const [call, outcome, code] of rows) {
      const s = await runCase(`WDK call: ${call}`);
      const r = s.result;
      // The pool this harness allocates is never freed: that leak is reported at unload for every row.
      const findings = r.violations.filter((v) => v.rule !== 'RESOURCES_LEAKED');
      const seen: Outcome = r.bugcheck ? 'bugcheck' : findings.length > 0 ? 'finding' : r.console.some((l) => l.startsWith('caught')) ? 'caught' : 'returned';
      expect(seen, call).toBe(outcome);
      if (code !== undefined) expect(r.bugcheck?.code, call).toBe(code);
    }
  });

  it('hostile arguments to the DMA routines are findings, not a host that never returns', async () => {
    const t = performance.now();
    const s = await runCase('hostile arguments to the DMA routines');
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    const r = s.result;
    expect(r.bugcheck).toBeNull();
    const messages = r.violations.map(detailOf);
    expect(messages).toContain("CalculateScatterGatherList: the MDL's pages are not built: call MmBuildMdlForNonPagedPool first (or use the IRP's MDL)");
    expect(messages).toContain("CalculateScatterGatherList: CurrentVa and Length are not inside the MDL's buffer");
    // An unlocked MDL is Driver Verifier's 0xE6/0x0E (DMA_BUFFER_NOT_LOCKED) in GetScatterGatherList as in MapTransfer.
    expect(messages).toContain('GetScatterGatherList was given an MDL whose pages were never locked or built');
    expect(messages.filter((m) => /^MapTransfer: CurrentVa (\d+|Infinity) and Length (NaN|Infinity) must be whole numbers$/.test(m))).toHaveLength(2);
    expect(r.console).not.toContain('list control');
    expect(r.console.filter((l) => l.includes(' threw '))).toEqual([]);
    expect(Number.isFinite(r.stats.dmaBytes)).toBe(true);
  });

  it('a DbgPrint of 10 MB is cut to one console line, quickly', async () => {
    const t = performance.now();
    const s = await runCase('DbgPrint of 10 MB');
    expect(performance.now() - t).toBeLessThan(2_000);
    expect(s.result.bugcheck).toBeNull();
    expect(s.result.console.map((l) => l.length)).toEqual([4096, 4096, 4096, 4096]);
    expect(s.result.console[0]).toBe('x'.repeat(4096));
  });

  it('JSON.parse of a deeply nested string stops the run (0x7F) instead of the host', async () => {
    const shallow = await runCase('JSON.parse, shallow');
    expect(shallow.result.console).toEqual(['400']);

    // The second catches the error: that does not help, the module's stack ran out under QuickJS's own check.
    for (const [i, body] of DEEP_NESTINGS.entries()) {
      // The corpus raises the watchdog to 4,000 ticks for these.
      const s = await runCase(`deep nesting: ${i + 1}`);
      expect(s.result.bugcheck, body).toMatchObject({ code: BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP, line: 2 });
      expect(s.sandbox.halted).not.toBeNull();
      // The stopped sandbox refuses further routines instead of running on a broken heap.
      expect(() => s.sandbox.enter(1, 0, 0, 0, 0)).toThrow(/STOP 0x0000007F/);
    }
    // The nesting can also come in a routine the kernel calls.
    const nested = await runCase('deep nesting in AddDevice');
    expect(nested.result.bugcheck?.code).toBe(BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP);
  });

  it('redefining WDK globals changes only what the driver itself calls', async () => {
    const s = await runCase('redefined WDK globals');
    expect(s.result.console).toEqual([]);
    expect(s.api.calls.get('IoCompleteRequest')).toBe(1); // the failed START, by the real routine (no REMOVE follows it)
    expect(s.result.checks.find((c) => c.id === 'run')?.message).toContain('IRP_MN_START_DEVICE for floppy0 completed with STATUS_INVALID_DEVICE_REQUEST');
    expect(s.result.bugcheck).toBeNull();

    const next = await runCase('WDK globals in the next run');
    expect(next.result.console).toEqual(['function 0']);
  });

  it("the sandbox's own bindings are hidden, and __line cannot become driver code the host runs", async () => {
    const hidden = await runCase("the sandbox's own bindings");
    expect(hidden.result.console).toEqual(['undefined undefined undefined undefined undefined']);

    // The host reads __line for every finding and bug check: an accessor there would run the driver inside the host.
    const source = sourceOf('__line as an accessor');
    const attempt = runScenario({ scenario, source, file: 'driver.ts', seed: 1, limits: LIMITS });
    await expect(attempt).rejects.toBeInstanceOf(SandboxLoadError);
    await expect(attempt).rejects.toThrow('TypeError: property is not configurable');

    const nonNumber = await runCase('__line as a value that loops');
    expect(nonNumber.result.violations.map((v) => ({ ...v, message: detailOf(v) }))).toEqual([{ rule: 'INVALID_ARGUMENT', message: 'READ_PORT_UCHAR: port 1e+300 is not an I/O port (0–0xFFFF)', line: null }]);
  });

  it('a driver nested too deeply for the compiler is a compile error that says so, not a crash', async () => {
    const attempt = runCase('nesting too deep to compile');
    await expect(attempt).rejects.toBeInstanceOf(SandboxLoadError);
    const error = (await attempt.catch((e: unknown) => e)) as SandboxLoadError;
    expect(error.message).toBe('driver.ts does not compile');
    expect(error.compileErrors).toEqual([{ file: 'driver.ts', line: 1, column: 1, message: 'the compiler ran out of stack: the code nests too deeply (brackets, calls or blocks thousands of levels deep)' }]);
  });

  it('catastrophic regular-expression backtracking is stopped by the watchdog', async () => {
    const t = performance.now();
    const s = await runCase('catastrophic regular-expression backtracking');
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: 2 });
  });

  it('a loop of host calls (polling a port forever) is stopped by the watchdog', async () => {
    const t = performance.now();
    const s = await runCase('polling a port forever');
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: 2 });
    expect(s.result.stats.apiCalls).toBeGreaterThan(1000);
  });

  it("the module's top-level code is held to the same watchdog, and a bad throw there is a load error", async () => {
    const loop = await runCase('infinite loop at the top level');
    expect(loop.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: 2 });

    for (const value of TOP_LEVEL_THROWS) {
      const attempt = runScenario({ scenario, source: sourceOf(`thrown at the top level: ${value}`), file: 'driver.ts', seed: 1, limits: LIMITS });
      await expect(attempt, value).rejects.toBeInstanceOf(SandboxLoadError);
    }
  });
});
