import type { ScenarioInput } from '../../shared/scenario';
import type { SandboxLimits } from './sandbox';

// The sandbox's escape and denial corpus (DESIGN.md, "The sandbox"): small hostile drivers,
// as plain data. sandbox.escape.test.ts runs each one through runScenario with the limits
// given here and says in detail what must come of it; sandboxPool.test.ts runs each one as
// the app runs a driver (RunManager, a debug run in a worker of the pool) and checks that it
// ends in a result or a load error, never a crash. A case's source is the exact text the
// sandbox loads: its line numbers are part of what the tests expect.

export interface EscapeCase {
  /** Unique; a case built from a list is named `<group>: <the list's entry>`. */
  readonly name: string;
  /** The driver, as the person would type it (driver.ts). */
  readonly source: string;
  /** Modules the driver may import besides itself: './name' → TypeScript source. */
  readonly files?: Readonly<Record<string, string>>;
  /** Limits of its own over ESCAPE_LIMITS (the app's runs use DEFAULT_LIMITS instead). */
  readonly limits?: Partial<SandboxLimits>;
  /** The run's seed; 1 unless given. */
  readonly seed?: number;
}

/**
 * The machine every case runs on: one floppy controller, no workload, in teaching mode (a
 * misuse is a finding and the run goes on, so each case shows how far it got).
 */
export const ESCAPE_SCENARIO: ScenarioInput = { title: 'escape corpus', devices: [{ type: 'floppy' }], workload: [], checks: [{ kind: 'no-violations' }], verifier: 'teaching' };

const MiB = 1024 * 1024;
/** Small budgets keep each case fast: ~200 ticks is a few ms of bytecode. */
export const ESCAPE_LIMITS: SandboxLimits = { memoryBytes: 64 * MiB, stackBytes: 256 * 1024, watchdogTicks: 200 };

/**
 * The host global the cases look for (the tests define it, as a getter that counts its
 * reads, on the host's globalThis) and the value it holds, which no result may contain.
 */
export const HOST_CANARY_GLOBAL = '__hostCanary';
export const HOST_CANARY_SECRET = 'host-canary-5e1f0c9a';

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

// ---- Lists some cases are built from ----------------------------------------------------------

/** Host globals, and the sandbox's own bindings, the first case looks for by name. */
export const HOST_GLOBAL_NAMES = ['process', 'global', 'Buffer', 'setImmediate', 'fetch', 'WebAssembly', 'performance', 'crypto', 'navigator', 'window', 'std', 'os', 'print', 'scriptArgs', '__hostCanary', '__enter', '__load', 'host', 'rich', 'abi'];

/** Modules a driver may not import (the helper file is the lab's own, './helper'). */
export const FOREIGN_MODULES = ['fs', 'node:child_process', 'node:worker_threads', '../../../package.json', './helper/../../secret'];
const HELPER_FILES = { './helper': 'export const answer = 42;' };

/** Loops that keep allocating until the budget stops them. */
export const CUMULATIVE_ALLOCATIONS = [
  `const keep: string[] = []; for (let i = 0; ; i++) keep.push('x'.repeat(1000) + i);`,
  `const keep: unknown[] = []; for (let i = 0; ; i++) { try { keep.push({ i, s: 'y'.repeat(500) + i, a: [i, i, i] }); } catch {} }`,
];

/** Drivers that recurse without end, each its own way. */
export const DEEP_RECURSIONS = [
  `function down(n: number): number { return down(n + 1) + 1; }\nexport function DriverEntry(): NTSTATUS { return down(0); }\n`,
  `const o: any = { toString() { return String(o); } };\nexport function DriverEntry(): NTSTATUS { return String(o) as any; }\n`,
  `function viaHost(n: number): number { KeGetCurrentIrql(); return viaHost(n + 1); }\nexport function DriverEntry(): NTSTATUS { return viaHost(0); }\n`,
  `const p: any = new Proxy({}, { get(t, k) { return p[k]; } });\nexport function DriverEntry(): NTSTATUS { return p.x; }\n`,
];

/** Values DriverEntry throws that are no Error, each hostile to whoever inspects it. */
export const THROWN_VALUES = [
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

/** Values the driver's routines answer the host with instead of an NTSTATUS. */
export const HOSTILE_RETURN_VALUES = [`new Proxy({}, { get() { throw new Error('trap'); } })`, `{ valueOf() { DbgPrint('valueOf ran'); throw new Error('v'); } }`, `Symbol('s')`, `10n`, `{ valueOf() { for (;;) {} } }`];

/** Where a hostile value is returned to the host from, and the driver that does it. */
export const HOSTILE_RETURN_SITES: readonly { site: string; driver: (value: string) => string }[] = [
  { site: 'DriverEntry', driver: (value) => entry(`return (${value}) as any;`) },
  { site: 'AddDevice', driver: (value) => entry(`DriverObject.DriverExtension.AddDevice = (() => (${value})) as any;`) },
  {
    site: 'a dispatch routine',
    driver: (value) =>
      entry(`
        DriverObject.DriverExtension.AddDevice = (D: DRIVER_OBJECT, Pdo: DEVICE_OBJECT) => { const f = ref<DEVICE_OBJECT | null>(null); IoCreateDevice(D, 0, null, 0, 0, false, f); IoAttachDeviceToDeviceStack(f.value!, Pdo); return STATUS_SUCCESS; };
        DriverObject.MajorFunction[IRP_MJ_PNP] = ((d: DEVICE_OBJECT, irp: IRP) => { irp.IoStatus.Status = 0; IoCompleteRequest(irp, 0); return (${value}); }) as any;`),
  },
  {
    site: 'AdapterControl',
    driver: (value) =>
      atStart(`
        const a = adapter()!;
        const old = ref(0);
        KeRaiseIrql(DISPATCH_LEVEL, old);
        a.DmaOperations.AllocateAdapterChannel(a, Device, 1, (() => (${value})) as any, null);
        KeLowerIrql(old.value);`),
  },
];

/** Calls of WDK routines with hostile arguments; each runs in DriverEntry with a pool block `pool` in scope. */
export const HOSTILE_WDK_CALLS = [
  `READ_PORT_UCHAR(Symbol('port') as any)`,
  `READ_PORT_UCHAR(1e300)`,
  `READ_PORT_UCHAR(NaN)`,
  `READ_PORT_UCHAR(0x3f4n as any)`,
  `READ_PORT_UCHAR({ valueOf() { IoCreateDevice(DriverObject, 0, null, 0, 0, false, ref(null)); KeStallExecutionProcessor(1); return 0x3f4; } } as any)`,
  `WRITE_PORT_UCHAR(-Infinity, NaN)`,
  `RtlCopyMemory(NaN, NaN, NaN)`,
  `RtlCopyMemory(pool, pool + 8, 1e15)`,
  `RtlCopyMemory(Symbol() as any, pool, 1)`,
  `RtlFillMemory(pool, Infinity, 0)`,
  `RtlFillMemory(pool, 16, Symbol() as any)`,
  `RtlCompareMemory(pool, pool, -1)`,
  `READ_MEMORY_ULONG((2n ** 64n) as any)`,
  `DbgPrint(String(ExAllocatePool2(POOL_FLAG_NON_PAGED, 1e300, 'tag')))`,
  `ExFreePool(NaN)`,
  `IoAllocateMdl(NaN, 1e300, false, false, null)`,
  `IoCreateDevice(new Proxy({}, { get() { throw new Error('trap'); } }) as any, NaN, Symbol() as any, 1n as any, Infinity, {} as any, ref(null))`,
  `IoCreateDevice(DriverObject, 0, null, 0, 0, false, Symbol() as any)`,
  `IoDeleteDevice({ valueOf() { return 1; } } as any)`,
  `KeStallExecutionProcessor(NaN)`,
  `KeRaiseIrql(NaN, ref(0))`,
  `KeLowerIrql(1e300)`,
  `const t = {} as KTIMER; KeInitializeTimer(t); KeSetTimerEx(t, NaN, 1e300, null)`,
  `const t = {} as KTIMER; KeInitializeTimer(t); KeSetTimerEx(t, -10, 1e-7, null)`,
  `KeBugCheckEx(Symbol() as any, 0, 0, 0, 0)`,
  `KeBugCheckEx((2n ** 70n) as any, NaN, Infinity, -0, 1e300)`,
  `DbgPrint('%d %s', Symbol(), 1)`,
  `DbgPrint(new Proxy({}, { get() { throw new Error('fmt'); } }) as any)`,
  `IoGetDmaAdapter(new Proxy({}, { get() { throw new Error('pdo'); } }) as any, new Proxy({}, { get() { throw new Error('desc'); } }) as any, ref(0))`,
  `IoGetDmaAdapter({} as any, { DmaChannel: 1e300, MaximumLength: NaN, Version: Symbol() } as any, ref(0))`,
  `IoGetDmaAdapter(null as any, { DmaChannel: 1e300, MaximumLength: NaN } as any, ref(0))`,
];

/** DriverEntry bodies that nest without end in ways only QuickJS's own stack check sees. */
export const DEEP_NESTINGS = [
  `JSON.parse('['.repeat(100000) + ']'.repeat(100000));`,
  // Catching does not help: the module's stack ran out under QuickJS's own check.
  `try { JSON.parse('{"a":'.repeat(100000) + '1' + '}'.repeat(100000)); } catch (e) { DbgPrint('caught ' + e); }`,
  `let a: any = []; for (let i = 0; i < 100000; i++) a = [a]; try { DbgPrint(String(String(a).length)); } catch (e) { DbgPrint('caught ' + e); }`,
];

/** Values the module's top-level code throws. */
export const TOP_LEVEL_THROWS = ['null', `{ get message() { throw 1; } }`, `Promise.resolve(1)`];

// ---- The corpus ---------------------------------------------------------------------------------

export const ESCAPE_CORPUS: readonly EscapeCase[] = [
  {
    name: 'host globals',
    source: entry(`
      const names = ${JSON.stringify(HOST_GLOBAL_NAMES)};
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
  },
  ...FOREIGN_MODULES.map(
    (mod): EscapeCase => ({
      name: `static import: ${mod}`,
      source: `import * as m from '${mod}';\nexport function DriverEntry() { DbgPrint(typeof m); return STATUS_SUCCESS; }\n`,
      files: HELPER_FILES,
    }),
  ),
  {
    name: "static import of the lab's own file",
    source: `import { answer } from './helper';\nexport function DriverEntry() { DbgPrint('answer ' + answer); return STATUS_SUCCESS; }\n`,
    files: HELPER_FILES,
  },
  {
    name: 'dynamic import',
    source: `
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
`,
  },
  {
    name: 'Function constructor through this.constructor.constructor',
    source: entry(`
      const probe = { grab(this: any) { return this.constructor.constructor; } };
      const viaThis = probe.grab();
      const viaGlobal = (globalThis as any).constructor.constructor;
      const viaDriverObject = (DriverObject as any).constructor.constructor;
      const viaRegistryPath = (RegistryPath as any).constructor.constructor;
      for (const F of [viaThis, viaGlobal, viaDriverObject, viaRegistryPath]) {
        DbgPrint([F('return typeof process')(), F('return typeof require')(), F('return typeof globalThis.__hostCanary')(), F('return this')() === globalThis].join(' '));
      }
    `),
  },
  {
    name: 'Function constructor through an arrow function',
    source: entry(`
      const F = (() => 0).constructor as FunctionConstructor;
      DbgPrint(F('return typeof process + " " + typeof global + " " + typeof Buffer')());
      DbgPrint(String(F('try { return process.mainModule.require("child_process").execSync("id").toString(); } catch (e) { return "blocked: " + e.name; }')()));
    `),
  },
  {
    name: "Function constructor through the host's WDK functions and errors",
    source: entry(`
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
  },
  {
    name: 'async function, generator and async generator constructors',
    source: entry(`
      const g = globalThis as any;
      const AsyncFunction = (async () => 0).constructor as any;
      const GeneratorFunction = (function* () { yield 0; }).constructor as any;
      const AsyncGeneratorFunction = (async function* () { yield 0; }).constructor as any;
      AsyncFunction('globalThis.r1 = typeof process + "/" + typeof require')();
      const gen = GeneratorFunction('yield typeof process; yield typeof globalThis.__hostCanary')();
      AsyncGeneratorFunction('globalThis.r3 = typeof process; yield 1')().next();
      DbgPrint([g.r1, gen.next().value, gen.next().value, g.r3].join(' '));
    `),
  },
  {
    name: 'eval, direct and indirect',
    source: entry(`
      DbgPrint([eval('typeof process'), (0, eval)('typeof require'), (0, eval)('typeof module'), (0, eval)('typeof globalThis.__hostCanary'), (0, eval)('this') === globalThis].join(' '));
      DbgPrint(String((0, eval)('new Function("return typeof process")()')));
    `),
  },
  {
    name: 'prototype pollution',
    source: atStart(`
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
  },
  {
    name: 'timers and the job queue',
    source: entry(`
      const g = globalThis as any;
      DbgPrint(['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'queueMicrotask', 'requestAnimationFrame', 'MessageChannel'].map((n) => typeof g[n]).join(' '));
      Promise.resolve().then(() => DbgPrint('a job ran'));
      (async () => { await null; DbgPrint('an await resumed'); })();
    `),
  },
  {
    name: 'Atomics, SharedArrayBuffer, WeakRef and FinalizationRegistry',
    source: entry(`
      const g = globalThis as any;
      DbgPrint(['Atomics', 'SharedArrayBuffer', 'WeakRef', 'FinalizationRegistry'].map((n) => n + '=' + typeof g[n]).join(' '));
      try { g.Atomics.wait(new Int32Array(4), 0, 0, 1e9); DbgPrint('waited'); } catch (e) { DbgPrint('wait: ' + (e as Error).name); }
    `),
  },
  {
    name: 'the clock and Math.random',
    seed: 7,
    source: entry(`
      const RealDate = Object.getPrototypeOf(Date);
      DbgPrint([Date.now(), new Date().getTime(), Date(), Math.random(), Math.random(), Math.random()].join(' '));
      DbgPrint([RealDate === Function.prototype, Date.prototype.constructor === Date, Object.getPrototypeOf(Date.prototype).constructor === Object, new Date() instanceof Date, new Date(2020, 0, 2).getDate()].join(' '));
    `),
  },
  {
    name: 'infinite loop in DriverEntry',
    source: `export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  let i = 0;
  while (true) {
    i++; // LOOP
  }
}
`,
  },
  {
    name: 'infinite loop in a nested call',
    source: `function inner(n: number): number {
  for (;;) n = (n * 31) % 1009; // INNER
}
function middle(n: number): number { return inner(n) + 1; }
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS { return middle(3); }
`,
  },
  {
    name: 'infinite loop in a DPC',
    source: `function Deferred(Dpc: KDPC): void {
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
`,
  },
  { name: 'loop again after catching the watchdog', source: entry(`for (;;) { try { for (;;) {} } catch (e) { DbgPrint('caught ' + e); } }`) },
  {
    name: "loop again after catching a nested routine's bug check",
    source: `function Deferred(Dpc: KDPC): void {
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
`,
  },
  { name: 'loop after catching KeBugCheckEx', source: entry(`try { KeBugCheckEx(0xDEAD, 1, 2, 3, 4); } catch { for (;;) {} }`) },
  {
    name: 'huge single allocations, caught',
    source: entry(`
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
  },
  { name: 'huge single allocation, uncaught', source: entry(`const a = new Array(1e9).fill(0); DbgPrint(String(a.length));`) },
  // The watchdog is raised so that the memory budget is what stops these.
  ...CUMULATIVE_ALLOCATIONS.map((body, i): EscapeCase => ({ name: `cumulative allocation: ${i + 1}`, source: entry(body), limits: { watchdogTicks: 100_000 } })),
  ...DEEP_RECURSIONS.map((source, i): EscapeCase => ({ name: `deep recursion: ${i + 1}`, source })),
  ...THROWN_VALUES.map((value): EscapeCase => ({ name: `thrown from DriverEntry: ${value}`, source: `export function DriverEntry(): NTSTATUS {\n  throw ${value};\n}\n`, limits: { watchdogTicks: 4000 } })),
  ...HOSTILE_RETURN_VALUES.flatMap((value) => HOSTILE_RETURN_SITES.map(({ site, driver }): EscapeCase => ({ name: `returned from ${site}: ${value}`, source: driver(value) }))),
  ...HOSTILE_WDK_CALLS.map(
    (call): EscapeCase => ({
      name: `WDK call: ${call}`,
      source: entry(`
        const pool = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'tag')!;
        try { ${call}; DbgPrint('returned'); } catch (e) { DbgPrint('caught ' + String(e).slice(0, 80)); }`),
    }),
  ),
  {
    name: 'hostile arguments to the DMA routines',
    source: atStart(`
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
  },
  {
    name: 'DbgPrint of 10 MB',
    source: entry(`
      const big = 'x'.repeat(10 * 1024 * 1024);
      DbgPrint(big);
      DbgPrint('%s', big);
      DbgPrint('%999999999d|', 7);
      DbgPrint('%s%s%s%s', big, big, big, big);
    `),
  },
  { name: 'JSON.parse, shallow', source: entry(`DbgPrint(String(JSON.stringify(JSON.parse('['.repeat(200) + ']'.repeat(200))).length));`) },
  ...DEEP_NESTINGS.map((body, i): EscapeCase => ({ name: `deep nesting: ${i + 1}`, source: entry(body), limits: { watchdogTicks: 4000 } })),
  { name: 'deep nesting in AddDevice', source: entry(`DriverObject.DriverExtension.AddDevice = () => JSON.parse('['.repeat(100000) + ']'.repeat(100000));`) },
  {
    name: 'redefined WDK globals',
    source: `
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
`,
  },
  { name: 'WDK globals in the next run', source: entry(`DbgPrint('%s %d', typeof IoCompleteRequest, STATUS_SUCCESS);`) },
  { name: "the sandbox's own bindings", source: entry(`DbgPrint(['__enter', '__load', 'host', 'rich', 'abi'].map((n) => typeof (globalThis as any)[n]).join(' '));`) },
  {
    // The host reads __line for every finding and bug check: an accessor there would run the driver inside the host.
    name: '__line as an accessor',
    source: `Object.defineProperty(globalThis, '__line', { get() { return READ_PORT_UCHAR(1e300); }, set(v: unknown) {}, configurable: true });
export function DriverEntry(): NTSTATUS { return STATUS_SUCCESS; }
`,
  },
  { name: '__line as a value that loops', source: entry(`((globalThis as any).__line = { valueOf() { for (;;) {} } }, READ_PORT_UCHAR(1e300));`) },
  { name: 'catastrophic regular-expression backtracking', source: entry(`DbgPrint(String(/^(a+)+$/.test('a'.repeat(64) + 'b')));`) },
  { name: 'polling a port forever', source: entry(`for (;;) READ_PORT_UCHAR(0x3f4);`) },
  { name: 'nesting too deep to compile', source: `const x = ${'['.repeat(100000)}${']'.repeat(100000)};\n` + entry('') },
  { name: 'infinite loop at the top level', source: `let n = 0;\nfor (;;) n++; // TOP\nexport function DriverEntry(): NTSTATUS { return STATUS_SUCCESS; }\n` },
  ...TOP_LEVEL_THROWS.map((value): EscapeCase => ({ name: `thrown at the top level: ${value}`, source: `throw ${value};\nexport function DriverEntry() { return 0; }\n` })),
];

