import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunResult } from '../../shared/runResult';
import { Scenario } from '../../shared/scenario';
import { ruleOf } from '../verifier/rules';
import { BUGCHECK } from '../kernel/bugCheck';
import { runScenario, type Session } from '../run/session';
import { SandboxLoadError, type SandboxLimits } from './sandbox';

// Escape and denial attempts (DESIGN.md, "The sandbox"): the driver is untrusted code. Each
// case is a small driver run through runScenario; it must end in a result (a bug check, a
// finding, a problem, or the driver's own caught error), never in an exception escaping
// runScenario, a hang, or anything of the host reachable or changed. After every case the
// host is checked: a canary global the guest must never read, `process`, the built-in
// prototypes and the globals a driver would like to replace.

// Teaching mode: a misuse is a finding and the run goes on, so each case shows how far it got.
const scenario = Scenario.parse({ title: 'escape corpus', devices: [{ type: 'floppy' }], workload: [], checks: [{ kind: 'no-violations' }], verifier: 'teaching' });

/** What a finding says happened, without the rule's advice that follows it. */
const detailOf = (v: { rule: string; message: string }): string => v.message.slice(0, v.message.length - ruleOf(v.rule).advice.length - 2);

const MiB = 1024 * 1024;
/** Small budgets keep each case fast: ~200 ticks is a few ms of bytecode. */
const LIMITS: SandboxLimits = { memoryBytes: 64 * MiB, stackBytes: 256 * 1024, watchdogTicks: 200 };

interface RunOptions {
  limits?: Partial<SandboxLimits>;
  seed?: number;
  files?: Map<string, string>;
}

const SECRET = 'host-canary-5e1f0c9a';

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

const entry = (body: string) => `export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {\n${body}\nreturn STATUS_SUCCESS;\n}\n`;

/** A driver that attaches, and at IRP_MN_START_DEVICE runs `body` with `Device`, `Irp`, `Pdo` and `adapter()` in scope. */
const atStart = (body: string) => `
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  return STATUS_SUCCESS;
}
function AddDevice(DriverObject: DRIVER_OBJECT, Pdo: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_DISK, 0, false, fdo);
  IoAttachDeviceToDeviceStack(fdo.value!, Pdo);
  fdo.value!.DeviceExtension = Pdo;
  fdo.value!.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}
function DispatchPnp(Device: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  if (IoGetCurrentIrpStackLocation(Irp).MinorFunction === IRP_MN_START_DEVICE) {
    const Pdo = Device.DeviceExtension as DEVICE_OBJECT;
    const adapter = () => IoGetDmaAdapter(Pdo, { Version: DEVICE_DESCRIPTION_VERSION, Master: false, ScatterGather: false, DemandMode: false, AutoInitialize: false,
      Dma32BitAddresses: false, IgnoreCount: false, Reserved1: false, Dma64BitAddresses: false, BusNumber: 0, DmaChannel: 2, InterfaceType: Isa,
      DmaWidth: Width8Bits, DmaSpeed: Compatible, MaximumLength: 9216, DmaPort: 0 }, ref(0));
    ${body}
  }
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}
`;

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
  expect(Object.getOwnPropertyDescriptor(globalThis, '__hostCanary')?.get).toBe(canaryGetter);
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

beforeAll(() => {
  Object.defineProperty(globalThis, '__hostCanary', { get: canaryGetter, configurable: true, enumerable: false });
  for (const [, proto] of prototypes) host.protoNames.set(proto, Object.getOwnPropertyNames(proto));
});
beforeEach(() => {
  started = performance.now();
});
afterEach((context) => {
  timings.push([context.task.name, performance.now() - started]);
  expectHostIntact();
});
afterAll(() => {
  delete (globalThis as Record<string, unknown>).__hostCanary;
  const total = timings.reduce((n, [, ms]) => n + ms, 0);
  console.log(`sandbox escape corpus: ${timings.length} cases in ${(total / 1000).toFixed(1)} s\n${timings.map(([name, ms]) => `  ${ms.toFixed(0).padStart(6)} ms  ${name}`).join('\n')}`);
});

/** Each case also has a wall-clock bound: a contained attempt ends quickly. */
const CASE_MS = 5_000;

describe('sandbox escape and denial corpus', () => {
  it('host globals (process, require, module, global, the canary) are not reachable', async () => {
    const names = ['process', 'global', 'Buffer', 'setImmediate', 'fetch', 'WebAssembly', 'performance', 'crypto', 'navigator', 'window', 'std', 'os', 'print', 'scriptArgs', '__hostCanary', '__enter', '__load', 'host', 'rich', 'abi'];
    const s = await run(
      entry(`
      const names = ${JSON.stringify(names)};
      const g = globalThis as any;
      DbgPrint(names.map((n) => n + '=' + typeof g[n]).join(' '));
      DbgPrint('own=' + Object.getOwnPropertyNames(globalThis).filter((n) => names.includes(n)).join(','));
      DbgPrint('canary=' + String(g.__hostCanary) + ' ' + ('__hostCanary' in globalThis));
      // The driver's own CommonJS shims: require loads only lab files, module is its own.
      DbgPrint('require=' + typeof require + ' module=' + typeof module + ' exports=' + (module.exports === exports));
      try { require('fs'); DbgPrint('fs loaded'); } catch (e) { DbgPrint('require fs: ' + e); }
      try { require('node:child_process'); DbgPrint('child_process loaded'); } catch (e) { DbgPrint('require child_process: ' + e); }
      DbgPrint('via require=' + require.constructor('return typeof process')() + ' via module=' + module.constructor.constructor('return typeof require')());
      g.escaped = true;
    `),
    );
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
    for (const mod of ['fs', 'node:child_process', 'node:worker_threads', '../../../package.json', './helper/../../secret']) {
      const source = `import * as m from '${mod}';\nexport function DriverEntry() { DbgPrint(typeof m); return STATUS_SUCCESS; }\n`;
      const attempt = runScenario({ scenario, source, file: 'driver.ts', seed: 1, limits: LIMITS, files: new Map([['./helper', 'export const answer = 42;']]) });
      await expect(attempt).rejects.toBeInstanceOf(SandboxLoadError);
      await expect(attempt).rejects.toThrow(`Cannot find module '${mod}': a driver can import only its own lab files`);
    }
    // The control: the lab's own file does import.
    const s = await run(`import { answer } from './helper';\nexport function DriverEntry() { DbgPrint('answer ' + answer); return STATUS_SUCCESS; }\n`, {
      files: new Map([['./helper', 'export const answer = 42;']]),
    });
    expect(s.result.console).toEqual(['answer 42']);
  });

  it('import() never reaches the host: the promise only rejects, and no job runs during the run', async () => {
    const s = await run(`
export async function DriverEntry(): Promise<NTSTATUS> {
  const native = (0, eval)("import('fs')");
  native.then((m: unknown) => DbgPrint('native loaded ' + typeof m), (e: unknown) => DbgPrint('native rejected ' + e));
  try {
    const m = await import('node:child_process');
    DbgPrint('loaded ' + typeof m);
  } catch (e) {
    DbgPrint('rejected ' + e);
  }
  return STATUS_SUCCESS;
}
`);
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
    const s = await run(
      entry(`
      const probe = { grab(this: any) { return this.constructor.constructor; } };
      const viaThis = probe.grab();
      const viaGlobal = (globalThis as any).constructor.constructor;
      const viaDriverObject = (DriverObject as any).constructor.constructor;
      const viaRegistryPath = (RegistryPath as any).constructor.constructor;
      for (const F of [viaThis, viaGlobal, viaDriverObject, viaRegistryPath]) {
        DbgPrint([F('return typeof process')(), F('return typeof require')(), F('return typeof globalThis.__hostCanary')(), F('return this')() === globalThis].join(' '));
      }
    `),
    );
    expect(s.result.console).toEqual(Array(4).fill('undefined undefined undefined true'));
  });

  it('the Function constructor through an arrow function sees only the guest', async () => {
    const s = await run(
      entry(`
      const F = (() => 0).constructor as FunctionConstructor;
      DbgPrint(F('return typeof process + " " + typeof global + " " + typeof Buffer')());
      DbgPrint(String(F('try { return process.mainModule.require("child_process").execSync("id").toString(); } catch (e) { return "blocked: " + e.name; }')()));
    `),
    );
    expect(s.result.console).toEqual(['undefined undefined undefined', 'blocked: ReferenceError']);
  });

  it("the Function constructor through the host's WDK functions and the host's errors answers \"undefined\"", async () => {
    const s = await run(
      entry(`
      DbgPrint((DbgPrint as any).constructor('return typeof process')());
      DbgPrint((IoGetDmaAdapter as any).constructor('return typeof process')());
      DbgPrint((READ_PORT_UCHAR as any).constructor.constructor('return typeof require')());
      DbgPrint((ref as any).constructor('return typeof globalThis.__hostCanary')());
      // A routine the host refuses throws an error the host made: its constructor is the guest's too.
      const dpc = {} as KDPC;
      KeInitializeDpc(dpc, () => { KeBugCheckEx(0xE2, 1, 2, 3, 4); }, null);
      const old = ref(0);
      KeRaiseIrql(DISPATCH_LEVEL, old);
      KeInsertQueueDpc(dpc, null, null);
      try { KeLowerIrql(old.value); } catch (e) { (globalThis as any).pwned = (e as any).constructor.constructor('return typeof process')(); }
    `),
    );
    expect(s.result.console).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    expect(s.result.bugcheck?.name).toBe('MANUALLY_INITIATED_CRASH');
    expect(s.result.bugcheck?.parameters).toEqual([1, 2, 3, 4]);
  });

  it('async function, generator and async generator constructors see only the guest', async () => {
    const s = await run(
      entry(`
      const g = globalThis as any;
      const AsyncFunction = (async () => 0).constructor as any;
      const GeneratorFunction = (function* () { yield 0; }).constructor as any;
      const AsyncGeneratorFunction = (async function* () { yield 0; }).constructor as any;
      AsyncFunction('globalThis.r1 = typeof process + "/" + typeof require')();
      const gen = GeneratorFunction('yield typeof process; yield typeof globalThis.__hostCanary')();
      AsyncGeneratorFunction('globalThis.r3 = typeof process; yield 1')().next();
      DbgPrint([g.r1, gen.next().value, gen.next().value, g.r3].join(' '));
    `),
    );
    expect(s.result.console).toEqual(['undefined/undefined undefined undefined undefined']);
  });

  it('eval, direct and indirect, sees only the guest', async () => {
    const s = await run(
      entry(`
      DbgPrint([eval('typeof process'), (0, eval)('typeof require'), (0, eval)('typeof module'), (0, eval)('typeof globalThis.__hostCanary'), (0, eval)('this') === globalThis].join(' '));
      DbgPrint(String((0, eval)('new Function("return typeof process")()')));
    `),
    );
    expect(s.result.console).toEqual(['undefined undefined undefined undefined true', 'undefined']);
  });

  it("prototype pollution changes the driver's own world only, and the next run is clean", async () => {
    const s = await run(
      atStart(`
      const O = Object.prototype as any;
      O.polluted = 'yes';
      O.toJSON = function () { return null; }; // every JSON.stringify in the guest now answers "null"
      Object.defineProperty(O, 'then', { get() { return (r: any) => r('thenable'); }, configurable: true });
      (Array.prototype as any).map = function () { return ['polluted']; };
      (Array.prototype as any).push = function () { throw new Error('no push'); };
      (Function.prototype as any).toString = function () { return 'pwned'; };
      (Function.prototype as any).call = function () { return 'pwned'; };
      (String.prototype as any).slice = function () { return 'sliced'; };
      (JSON as any).parse = function () { return { id: 1, mapRegisters: 1e9 }; };
      const a = adapter();
      DbgPrint('adapter %s', String(a));
    `),
    );
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
    const s = await run(
      entry(`
      const g = globalThis as any;
      DbgPrint(['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'queueMicrotask', 'requestAnimationFrame', 'MessageChannel'].map((n) => typeof g[n]).join(' '));
      Promise.resolve().then(() => DbgPrint('a job ran'));
      (async () => { await null; DbgPrint('an await resumed'); })();
    `),
    );
    expect(s.result.console).toEqual([Array(7).fill('undefined').join(' ')]);
  });

  it('Atomics, SharedArrayBuffer, WeakRef and FinalizationRegistry are absent', async () => {
    const s = await run(
      entry(`
      const g = globalThis as any;
      DbgPrint(['Atomics', 'SharedArrayBuffer', 'WeakRef', 'FinalizationRegistry'].map((n) => n + '=' + typeof g[n]).join(' '));
      try { g.Atomics.wait(new Int32Array(4), 0, 0, 1e9); DbgPrint('waited'); } catch (e) { DbgPrint('wait: ' + (e as Error).name); }
    `),
    );
    expect(s.result.console).toEqual(['Atomics=undefined SharedArrayBuffer=undefined WeakRef=undefined FinalizationRegistry=undefined', 'wait: TypeError']);
  });

  it('Date.now() and Math.random() are deterministic, and the real clock is not reachable', async () => {
    const source = entry(`
      const RealDate = Object.getPrototypeOf(Date);
      DbgPrint([Date.now(), new Date().getTime(), Date(), Math.random(), Math.random(), Math.random()].join(' '));
      DbgPrint([RealDate === Function.prototype, Date.prototype.constructor === Date, Object.getPrototypeOf(Date.prototype).constructor === Object, new Date() instanceof Date, new Date(2020, 0, 2).getDate()].join(' '));
    `);
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
    const source = `export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  let i = 0;
  while (true) {
    i++; // LOOP
  }
}
`;
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
    const helpers = `function inner(n: number): number {
  for (;;) n = (n * 31) % 1009; // INNER
}
function middle(n: number): number { return inner(n) + 1; }
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS { return middle(3); }
`;
    const a = await run(helpers);
    expect(a.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: lineOf(helpers, '// INNER') });
    expect((await run(helpers)).result.bugcheck).toEqual(a.result.bugcheck);

    const dpc = `function Deferred(Dpc: KDPC): void {
  for (;;) {} // DPC LOOP
}
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  const dpc = {} as KDPC;
  KeInitializeDpc(dpc, Deferred, null);
  const old = ref(0);
  KeRaiseIrql(DISPATCH_LEVEL, old);
  KeInsertQueueDpc(dpc, null, null);
  KeLowerIrql(old.value); // the DPC runs here
  return STATUS_SUCCESS;
}
`;
    const b = await run(dpc);
    expect(b.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: lineOf(dpc, '// DPC LOOP') });
    expect(b.result.stats.dpcs).toBe(1);
  });

  it("a driver that catches the bug check's exception and loops again is still stopped", async () => {
    // The watchdog's interrupt cannot be caught at all.
    const plain = entry(`for (;;) { try { for (;;) {} } catch (e) { DbgPrint('caught ' + e); } }`);
    expect((await run(plain)).result.bugcheck?.code).toBe(BUGCHECK.DPC_WATCHDOG_VIOLATION);

    // A nested routine's bug check reaches the outer routine as an exception it can catch; looping then is stopped at once.
    const nested = `function Deferred(Dpc: KDPC): void {
  for (;;) {} // FIRST
}
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  const dpc = {} as KDPC;
  KeInitializeDpc(dpc, Deferred, null);
  const old = ref(0);
  KeRaiseIrql(DISPATCH_LEVEL, old);
  KeInsertQueueDpc(dpc, null, null);
  try { KeLowerIrql(old.value); } catch (e) {
    (globalThis as any).caught = String(e);
    for (;;) { try { DbgPrint('still running'); } catch {} } // AGAIN
  }
  return STATUS_SUCCESS;
}
`;
    const t = performance.now();
    const s = await run(nested);
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: lineOf(nested, '// FIRST') });
    expect(s.result.console).toEqual([]);

    // KeBugCheckEx caught, then a loop: the driver's own bug check stands.
    const own = entry(`try { KeBugCheckEx(0xDEAD, 1, 2, 3, 4); } catch { for (;;) {} }`);
    expect((await run(own)).result.bugcheck).toMatchObject({ code: 0xdead, parameters: [1, 2, 3, 4] });
  });

  it('a huge single allocation fails inside the guest (a caught error, or 0x4D), and the host stays up', async () => {
    const s = await run(
      entry(`
      const tries: [string, () => unknown][] = [
        ['array', () => new Array(1e9).fill(0)],
        ['string', () => 'x'.repeat(2 ** 29)],
        ['gigabyte string', () => 'x'.repeat(1 << 30)],
        ['buffer', () => new ArrayBuffer(2 ** 31 - 1)],
        ['typed array', () => new Float64Array(2 ** 28)],
      ];
      for (const [name, f] of tries) {
        try { f(); DbgPrint(name + ' allocated'); } catch (e) { DbgPrint(name + ': ' + (e as Error).name + ': ' + (e as Error).message); }
      }
    `),
    );
    expect(s.result.console).toHaveLength(5);
    for (const line of s.result.console) expect(line).toMatch(/: (InternalError: out of memory|RangeError: .*)$/);
    expect(s.sandbox.memoryBytes()).toBeLessThan(2 * LIMITS.memoryBytes);

    const uncaught = await run(entry(`const a = new Array(1e9).fill(0); DbgPrint(String(a.length));`));
    expect(uncaught.result.bugcheck).toMatchObject({ code: BUGCHECK.NO_PAGES_AVAILABLE, name: 'NO_PAGES_AVAILABLE' });
  });

  it('cumulative allocation in a loop is bug check 0x4D while the WebAssembly memory is still near the budget', async () => {
    for (const body of [
      `const keep: string[] = []; for (let i = 0; ; i++) keep.push('x'.repeat(1000) + i);`,
      `const keep: unknown[] = []; for (let i = 0; ; i++) { try { keep.push({ i, s: 'y'.repeat(500) + i, a: [i, i, i] }); } catch {} }`,
    ]) {
      const t = performance.now();
      const s = await run(entry(body), { limits: { watchdogTicks: 100_000 } });
      expect(performance.now() - t).toBeLessThan(CASE_MS);
      expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.NO_PAGES_AVAILABLE, name: 'NO_PAGES_AVAILABLE', line: 2 });
      // The hook sees the heap after it grew: at most one growth step past the budget, never the 2 GB an unchecked loop reaches.
      expect(s.sandbox.memoryBytes()).toBeGreaterThan(LIMITS.memoryBytes);
      expect(s.sandbox.memoryBytes()).toBeLessThan(LIMITS.memoryBytes * 1.25);
      expect(s.sandbox.halted?.report.code).toBe(BUGCHECK.NO_PAGES_AVAILABLE);
    }
  });

  it('deep recursion is 0x7F with a short message, however the recursion goes', async () => {
    for (const source of [
      `function down(n: number): number { return down(n + 1) + 1; }\nexport function DriverEntry(): NTSTATUS { return down(0); }\n`,
      `const o: any = { toString() { return String(o); } };\nexport function DriverEntry(): NTSTATUS { return String(o) as any; }\n`,
      `function viaHost(n: number): number { KeGetCurrentIrql(); return viaHost(n + 1); }\nexport function DriverEntry(): NTSTATUS { return viaHost(0); }\n`,
      `const p: any = new Proxy({}, { get(t, k) { return p[k]; } });\nexport function DriverEntry(): NTSTATUS { return p.x; }\n`,
    ]) {
      const s = await run(source);
      expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP, name: 'UNEXPECTED_KERNEL_MODE_TRAP', parameters: [8, 0, 0, 0] });
      expect(s.result.bugcheck!.message.length).toBeLessThan(200);
      expect(JSON.stringify(s.result).length).toBeLessThan(4096);
    }
  });

  it('throwing non-Error values out of DriverEntry is bug check 0x1E, whatever the value does when inspected', async () => {
    const thrown = [
      `new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); }, getOwnPropertyDescriptor() { throw new Error('trap'); }, has() { throw new Error('trap'); } })`,
      `{ get name() { throw new Error('name'); }, get message() { throw new Error('message'); }, get stack() { throw new Error('stack'); }, toJSON() { throw new Error('toJSON'); } }`,
      `{ get message() { for (;;) {} } }`,
      `{ message: 5, name: { toString() { return 'x'; } } }`,
      `{ toString: 1, valueOf: 2, message: { toString: 1 } }`,
      `null`,
      `undefined`,
      `Symbol('thrown')`,
      `10n ** 100n`,
      `Promise.resolve(1)`,
      `Promise.reject(new Error('inner'))`,
      `(() => { let a: any = []; for (let i = 0; i < 200000; i++) a = [a]; return a; })()`,
      `{ message: 'x'.repeat(5 * 1024 * 1024) }`,
    ];
    for (const value of thrown) {
      const s = await run(`export function DriverEntry(): NTSTATUS {\n  throw ${value};\n}\n`, { limits: { watchdogTicks: 4000 } });
      const bugcheck = s.result.bugcheck;
      expect(bugcheck, value).not.toBeNull();
      expect([BUGCHECK.KMODE_EXCEPTION_NOT_HANDLED, BUGCHECK.DPC_WATCHDOG_VIOLATION, BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP], value).toContain(bugcheck!.code);
      expect(bugcheck!.message.length, value).toBeLessThan(600);
    }
  });

  it('hostile values returned to the host become failure statuses or bug checks, never host exceptions', async () => {
    const values = [`new Proxy({}, { get() { throw new Error('trap'); } })`, `{ valueOf() { DbgPrint('valueOf ran'); throw new Error('v'); } }`, `Symbol('s')`, `10n`, `{ valueOf() { for (;;) {} } }`];
    for (const value of values) {
      const fromEntry = await run(entry(`return (${value}) as any;`));
      expect(fromEntry.result.checks.find((c) => c.id === 'run')?.message, value).toContain('DriverEntry returned 0xFFFFFFFF');
      expect(fromEntry.result.console, value).toEqual([]); // the host never coerced it

      const fromAdd = await run(entry(`DriverObject.DriverExtension.AddDevice = (() => (${value})) as any;`));
      expect(fromAdd.result.checks.find((c) => c.id === 'run')?.message, value).toContain('AddDevice for floppy0 returned 0xFFFFFFFF');

      const fromDispatch = await run(entry(`
        DriverObject.DriverExtension.AddDevice = (D: DRIVER_OBJECT, Pdo: DEVICE_OBJECT) => { const f = ref<DEVICE_OBJECT | null>(null); IoCreateDevice(D, 0, null, 0, 0, false, f); IoAttachDeviceToDeviceStack(f.value!, Pdo); return STATUS_SUCCESS; };
        DriverObject.MajorFunction[IRP_MJ_PNP] = ((d: DEVICE_OBJECT, irp: IRP) => { irp.IoStatus.Status = 0; IoCompleteRequest(irp, 0); return (${value}); }) as any;`));
      expect(fromDispatch.result.bugcheck, value).toBeNull();

      // AdapterControl's answer is coerced inside the guest: a throwing or looping valueOf is the driver's own exception or loop.
      const fromAdapterControl = await run(
        atStart(`
        const a = adapter()!;
        const old = ref(0);
        KeRaiseIrql(DISPATCH_LEVEL, old);
        a.DmaOperations.AllocateAdapterChannel(a, Device, 1, (() => (${value})) as any, null);
        KeLowerIrql(old.value);`),
      );
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
    for (const [call, outcome, code] of rows) {
      const s = await run(
        entry(`
        const pool = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'tag')!;
        try { ${call}; DbgPrint('returned'); } catch (e) { DbgPrint('caught ' + String(e).slice(0, 80)); }`),
      );
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
    const s = await run(
      atStart(`
      const a = adapter()!;
      const ops = a.DmaOperations;
      const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8192, 'dma')!;
      const unbuilt = IoAllocateMdl(va, 8192, false, false, null)!; // MmBuildMdlForNonPagedPool never called
      const built = IoAllocateMdl(va, 8192, false, false, null)!;
      MmBuildMdlForNonPagedPool(built);
      const size = ref(0), count = ref(0);
      const attempts: [string, () => unknown][] = [
        ['calc unbuilt', () => ops.CalculateScatterGatherList(a, unbuilt, va, 8192, size, count)],
        ['calc too long', () => ops.CalculateScatterGatherList(a, built, va, 1e12, size, count)],
        ['calc NaN', () => ops.CalculateScatterGatherList(a, built, NaN, NaN, size, count)],
        ['calc outside', () => ops.CalculateScatterGatherList(a, built, va - 4096, 100, size, count)],
        ['get unbuilt', () => ops.GetScatterGatherList(a, Device, unbuilt, va, 8192, () => DbgPrint('list control'), null, true)],
        ['build unbuilt', () => ops.BuildScatterGatherList(a, Device, unbuilt, va, 8192, () => DbgPrint('list control'), null, true, va, 4096)],
        ['common NaN', () => ops.AllocateCommonBuffer(a, NaN, ref(0), false)],
        ['common huge', () => ops.AllocateCommonBuffer(a, 1e300, ref(0), false)],
        ['free common', () => ops.FreeCommonBuffer(a, NaN, NaN, NaN, false)],
        ['free registers', () => ops.FreeMapRegisters(a, NaN, NaN)],
        ['channel NaN', () => ops.AllocateAdapterChannel(a, Device, NaN, () => KeepObject, null)],
      ];
      for (const [name, f] of attempts) {
        try { DbgPrint(name + ' = ' + String(f())); } catch (e) { DbgPrint(name + ' threw ' + e); }
      }
      const old = ref(0);
      KeRaiseIrql(DISPATCH_LEVEL, old);
      ops.AllocateAdapterChannel(a, Device, 3, (d: DEVICE_OBJECT, i: IRP | null, base: MAP_REGISTER_BASE) => {
        const length = ref(NaN);
        DbgPrint('map NaN = ' + ops.MapTransfer(a, built, base, va, length, true) + ' ' + length.value);
        DbgPrint('map Infinity = ' + ops.MapTransfer(a, built, base, Infinity, ref(Infinity), true));
        ops.FlushAdapterBuffers(a, built, base, va, NaN, true);
        ops.FreeMapRegisters(a, base, 3);
        ops.FreeAdapterChannel(a);
        return KeepObject;
      }, null);
      KeLowerIrql(old.value);
      ops.PutDmaAdapter(a);
    `),
    );
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
    const s = await run(
      entry(`
      const big = 'x'.repeat(10 * 1024 * 1024);
      DbgPrint(big);
      DbgPrint('%s', big);
      DbgPrint('%999999999d|', 7);
      DbgPrint('%s%s%s%s', big, big, big, big);
    `),
    );
    expect(performance.now() - t).toBeLessThan(2_000);
    expect(s.result.bugcheck).toBeNull();
    expect(s.result.console.map((l) => l.length)).toEqual([4096, 4096, 4096, 4096]);
    expect(s.result.console[0]).toBe('x'.repeat(4096));
  });

  it('JSON.parse of a deeply nested string stops the run (0x7F) instead of the host', async () => {
    const shallow = await run(entry(`DbgPrint(String(JSON.stringify(JSON.parse('['.repeat(200) + ']'.repeat(200))).length));`));
    expect(shallow.result.console).toEqual(['400']);

    for (const body of [
      `JSON.parse('['.repeat(100000) + ']'.repeat(100000));`,
      // Catching does not help: the module's stack ran out under QuickJS's own check.
      `try { JSON.parse('{"a":'.repeat(100000) + '1' + '}'.repeat(100000)); } catch (e) { DbgPrint('caught ' + e); }`,
      `let a: any = []; for (let i = 0; i < 100000; i++) a = [a]; try { DbgPrint(String(String(a).length)); } catch (e) { DbgPrint('caught ' + e); }`,
    ]) {
      const s = await run(entry(body), { limits: { watchdogTicks: 4000 } });
      expect(s.result.bugcheck, body).toMatchObject({ code: BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP, line: 2 });
      expect(s.sandbox.halted).not.toBeNull();
      // The stopped sandbox refuses further routines instead of running on a broken heap.
      expect(() => s.sandbox.enter(1, 0, 0, 0, 0)).toThrow(/STOP 0x0000007F/);
    }
    // The nesting can also come in a routine the kernel calls.
    const nested = await run(entry(`DriverObject.DriverExtension.AddDevice = () => JSON.parse('['.repeat(100000) + ']'.repeat(100000));`));
    expect(nested.result.bugcheck?.code).toBe(BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP);
  });

  it('redefining WDK globals changes only what the driver itself calls', async () => {
    const s = await run(`
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  (globalThis as any).IoCompleteRequest = () => DbgPrint('hijacked IoCompleteRequest');
  try { (globalThis as any).STATUS_SUCCESS = 1; } catch (e) { (globalThis as any).readOnly = String(e); }
  try { (globalThis as any).__line = { valueOf() { for (;;) {} } }; } catch {}
  DriverObject.DriverExtension.AddDevice = (D: DRIVER_OBJECT, Pdo: DEVICE_OBJECT) => {
    const f = ref<DEVICE_OBJECT | null>(null);
    IoCreateDevice(D, 0, null, 0, 0, false, f);
    IoAttachDeviceToDeviceStack(f.value!, Pdo);
    f.value!.Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
  };
  // No IRP_MJ_PNP routine: the surface completes the start IRP with its own IoCompleteRequest.
  return STATUS_SUCCESS;
}
`);
    expect(s.result.console).toEqual([]);
    expect(s.api.calls.get('IoCompleteRequest')).toBe(1); // the failed START, by the real routine (no REMOVE follows it)
    expect(s.result.checks.find((c) => c.id === 'run')?.message).toContain('IRP_MN_START_DEVICE for floppy0 completed with STATUS_INVALID_DEVICE_REQUEST');
    expect(s.result.bugcheck).toBeNull();

    const next = await run(entry(`DbgPrint('%s %d', typeof IoCompleteRequest, STATUS_SUCCESS);`));
    expect(next.result.console).toEqual(['function 0']);
  });

  it("the sandbox's own bindings are hidden, and __line cannot become driver code the host runs", async () => {
    const hidden = await run(entry(`DbgPrint(['__enter', '__load', 'host', 'rich', 'abi'].map((n) => typeof (globalThis as any)[n]).join(' '));`));
    expect(hidden.result.console).toEqual(['undefined undefined undefined undefined undefined']);

    // The host reads __line for every finding and bug check: an accessor there would run the driver inside the host.
    const source = `Object.defineProperty(globalThis, '__line', { get() { return READ_PORT_UCHAR(1e300); }, set(v: unknown) {}, configurable: true });
export function DriverEntry(): NTSTATUS { return STATUS_SUCCESS; }
`;
    const attempt = runScenario({ scenario, source, file: 'driver.ts', seed: 1, limits: LIMITS });
    await expect(attempt).rejects.toBeInstanceOf(SandboxLoadError);
    await expect(attempt).rejects.toThrow('TypeError: property is not configurable');

    const nonNumber = await run(entry(`((globalThis as any).__line = { valueOf() { for (;;) {} } }, READ_PORT_UCHAR(1e300));`));
    expect(nonNumber.result.violations.map((v) => ({ ...v, message: detailOf(v) }))).toEqual([{ rule: 'INVALID_ARGUMENT', message: 'READ_PORT_UCHAR: port 1e+300 is not an I/O port (0–0xFFFF)', line: null }]);
  });

  it('catastrophic regular-expression backtracking is stopped by the watchdog', async () => {
    const t = performance.now();
    const s = await run(entry(`DbgPrint(String(/^(a+)+$/.test('a'.repeat(64) + 'b')));`));
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: 2 });
  });

  it('a loop of host calls (polling a port forever) is stopped by the watchdog', async () => {
    const t = performance.now();
    const s = await run(entry(`for (;;) READ_PORT_UCHAR(0x3f4);`));
    expect(performance.now() - t).toBeLessThan(CASE_MS);
    expect(s.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: 2 });
    expect(s.result.stats.apiCalls).toBeGreaterThan(1000);
  });

  it("the module's top-level code is held to the same watchdog, and a bad throw there is a load error", async () => {
    const loop = await run(`let n = 0;\nfor (;;) n++; // TOP\nexport function DriverEntry(): NTSTATUS { return STATUS_SUCCESS; }\n`);
    expect(loop.result.bugcheck).toMatchObject({ code: BUGCHECK.DPC_WATCHDOG_VIOLATION, line: 2 });

    for (const value of ['null', `{ get message() { throw 1; } }`, `Promise.resolve(1)`]) {
      const attempt = runScenario({ scenario, source: `throw ${value};\nexport function DriverEntry() { return 0; }\n`, file: 'driver.ts', seed: 1, limits: LIMITS });
      await expect(attempt, value).rejects.toBeInstanceOf(SandboxLoadError);
    }
  });
});
