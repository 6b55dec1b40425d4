import variant from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import { BUGCHECK, BugCheck, bugCheckName, isBugCheck } from '../kernel/bugCheck';
import { type DriverCode, Entry } from '../kernel/driverCode';
import { WDM_CONSTANTS } from '../kernel/wdmConstants';
import { compileDriver, type CompileError, isCompileErrors, LINE_VARIABLE, STEP_FUNCTION } from './compile';
import type { HostApi, LeanFunction } from './hostApi';
import preludeCode from './guest/wdm.ts?compiled';

// The driver's sandbox (DESIGN.md, "The sandbox"): QuickJS compiled to WebAssembly, a
// fresh module per run, so the driver has its own heap and nothing of the host is
// reachable except the `wdm` surface handed in. The interrupt hook counts ticks against a
// budget (the watchdog: never the wall clock, so a runaway routine stops at the same point
// every run) and watches the WebAssembly memory, which QuickJS's own limit does not cap
// when a loop keeps allocating. Deep recursion hits the stack limit.
//
// Host calls use a lean path: quickjs-emscripten's generic callback wraps every argument
// in a handle and costs ~5 µs; the `wdm` routines take and return numbers only, so they
// read the arguments' doubles straight from the WebAssembly heap (~0.2 µs). This reaches
// into quickjs-emscripten 0.32.0's internals (hence the exact version in package.json);
// sandbox.test.ts fails first if they change.

export interface SandboxLimits {
  /** WebAssembly memory the run may grow to, in bytes. */
  memoryBytes: number;
  /** QuickJS stack, in bytes. */
  stackBytes: number;
  /** Interrupt-hook ticks (about 10,000 bytecode operations each) one routine may run. */
  watchdogTicks: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  memoryBytes: 256 * 1024 * 1024,
  stackBytes: 256 * 1024,
  watchdogTicks: 1000,
};

/** Modules the driver may import besides itself: './name' → TypeScript source. */
export type DriverFiles = ReadonlyMap<string, string>;

interface Internals {
  ffi: {
    QTS_ArgvGetJSValueConstPointer(argv: number, i: number): number;
    QTS_GetFloat64(ctx: number, value: number): number;
    QTS_NewFloat64(ctx: number, value: number): number;
    QTS_Throw(ctx: number, error: number): number;
  };
  ctx: { value: number };
  cToHostCallbacks: { callFunction(ctx: number, thisPtr: number, argc: number, argv: number, fnId: number): number };
  runtime: { hostRefs: { get(id: number): unknown } };
}

/** Name and message of whatever the guest threw, whatever its shape: a dump is the guest's own data. */
function errorText(error: unknown): { name: string; message: string } {
  if (typeof error === 'object' && error !== null) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return { name: typeof name === 'string' ? name.slice(0, 100) : 'Error', message: typeof message === 'string' ? message.slice(0, 500) : '' };
  }
  return { name: 'Error', message: String(error).slice(0, 500) };
}

type Lean = LeanFunction & { [LEAN]?: LeanFunction };
const LEAN = Symbol('lean');

export class SandboxLoadError extends Error {
  constructor(
    message: string,
    readonly compileErrors: CompileError[] = [],
  ) {
    super(message);
    this.name = 'SandboxLoadError';
  }
}

export class Sandbox implements DriverCode {
  /** Set when the run has stopped: every later host call and routine fails with it. */
  halted: BugCheck | null = null;
  /** Interrupt-hook ticks of the routine running now (reset when a top-level routine starts). */
  ticks = 0;
  /** The most ticks any routine took. */
  maxTicks = 0;
  /**
   * A debug build (load with `debug`) calls this before each of the driver's statements, with
   * its line; a debugger stops there by not returning until it is told to go on.
   */
  stepHook: ((line: number) => void) | null = null;
  private depth = 0;
  private enterFn: QuickJSHandle | null = null;
  private readonly disposables: QuickJSHandle[] = [];

  private constructor(
    readonly module: QuickJSWASMModule,
    readonly runtime: QuickJSRuntime,
    readonly context: QuickJSContext,
    readonly limits: SandboxLimits,
  ) {}

  static async create(limits: SandboxLimits = DEFAULT_LIMITS): Promise<Sandbox> {
    const module = await newQuickJSWASMModuleFromVariant(variant);
    const runtime = module.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(limits.stackBytes);
    const context = runtime.newContext();
    const sandbox = new Sandbox(module, runtime, context, limits);
    runtime.setInterruptHandler(() => sandbox.onInterrupt());
    sandbox.installLeanPath();
    return sandbox;
  }

  /** Bytes of WebAssembly memory the run uses now. */
  memoryBytes(): number {
    return this.module.getWasmMemory().buffer.byteLength;
  }

  private onInterrupt(): boolean {
    if (this.halted) return true;
    this.ticks++;
    if (this.memoryBytes() > this.limits.memoryBytes) {
      this.halt(BUGCHECK.NO_PAGES_AVAILABLE, `the driver used more than ${this.limits.memoryBytes / 1048576} MiB of memory`, this.memoryBytes());
      return true;
    }
    if (this.ticks > this.limits.watchdogTicks) {
      this.halt(BUGCHECK.DPC_WATCHDOG_VIOLATION, 'a driver routine ran too long without returning (an endless loop?)', 0, this.ticks);
      return true;
    }
    return false;
  }

  private halt(code: number, message: string, p1 = 0, p2 = 0): BugCheck {
    const line = this.line();
    this.halted ??= new BugCheck({ code, name: bugCheckName(code), parameters: [p1, p2, 0, 0], message, line: line > 0 ? line : null });
    return this.halted;
  }

  /** Replaces quickjs-emscripten's generic host-call path for functions made by leanFunction(). */
  private installLeanPath(): void {
    const internals = this.context as unknown as Internals;
    const { ffi } = internals;
    const ctx = internals.ctx.value;
    const refs = internals.runtime.hostRefs;
    const generic = internals.cToHostCallbacks.callFunction;
    const args: number[] = [];
    internals.cToHostCallbacks.callFunction = (c, thisPtr, argc, argv, fnId) => {
      const fn = (refs.get(fnId) as Lean)[LEAN];
      if (fn === undefined) return generic(c, thisPtr, argc, argv, fnId);
      try {
        if (this.halted) throw this.halted;
        args.length = argc;
        for (let i = 0; i < argc; i++) args[i] = ffi.QTS_GetFloat64(ctx, ffi.QTS_ArgvGetJSValueConstPointer(argv, i));
        return ffi.QTS_NewFloat64(ctx, fn(...args));
      } catch (error) {
        return this.throwIntoGuest(error, (e) => ffi.QTS_Throw(ctx, e));
      }
    };
  }

  private throwIntoGuest(error: unknown, raise: (errorPtr: number) => number): number {
    const bugCheck = isBugCheck(error) ? error : this.halt(BUGCHECK.KMODE_EXCEPTION_NOT_HANDLED, `internal error in the simulator: ${String(error)}`);
    this.halted ??= bugCheck;
    const handle = this.context.newError({ name: 'BugCheck', message: bugCheck.message });
    try {
      return raise(handle.value);
    } finally {
      handle.dispose();
    }
  }

  private leanObject(functions: Record<string, LeanFunction>): QuickJSHandle {
    const object = this.context.newObject();
    for (const [name, fn] of Object.entries(functions)) {
      const placeholder: Lean = () => 0;
      placeholder[LEAN] = fn;
      const handle = this.context.newFunction(name, placeholder as unknown as () => undefined);
      this.context.setProp(object, name, handle);
      handle.dispose();
    }
    return object;
  }

  private richObject(functions: Record<string, (...args: (string | number)[]) => string | void>): QuickJSHandle {
    const ctx = this.context;
    const object = ctx.newObject();
    for (const [name, fn] of Object.entries(functions)) {
      const handle = ctx.newFunction(name, (...handles) => {
        if (this.halted) throw new Error(this.halted.message);
        try {
          const result = fn(...handles.map((h) => (ctx.typeof(h) === 'number' ? ctx.getNumber(h) : ctx.getString(h))));
          return typeof result === 'string' ? ctx.newString(result) : undefined;
        } catch (error) {
          this.halted ??= isBugCheck(error) ? error : this.halt(BUGCHECK.KMODE_EXCEPTION_NOT_HANDLED, `internal error in the simulator: ${String(error)}`);
          throw new Error(this.halted.message, { cause: error });
        }
      });
      ctx.setProp(object, name, handle);
      handle.dispose();
    }
    return object;
  }

  private evaluate(code: string, file: string): QuickJSHandle {
    try {
      const result = this.context.evalCode(code, file, { type: 'global', strict: true });
      if (result.error) {
        const error = this.thrown(result.error);
        if (this.halted) throw this.halted;
        throw new SandboxLoadError(`${error.name}: ${error.message}`);
      }
      return result.value;
    } catch (error) {
      throw this.trapped(error);
    }
  }

  /** What the guest threw, as text (dump runs the guest's getters; it also disposes a promise). */
  private thrown(handle: QuickJSHandle): { name: string; message: string } {
    try {
      return errorText(this.context.dump(handle));
    } finally {
      if (handle.alive) handle.dispose();
    }
  }

  /**
   * A host-side failure out of the WebAssembly module stops the run, and the module is not
   * used again: the guest exhausted the host's native stack (deeply nested JSON.parse does,
   * below QuickJS's own stack check), the module trapped, or quickjs-emscripten threw.
   */
  private trapped(error: unknown): BugCheck | SandboxLoadError {
    if (isBugCheck(error) || error instanceof SandboxLoadError) return error;
    if (this.halted) return this.halted;
    const text = error instanceof Error ? `${error.name}: ${error.message}` : 'an unknown failure';
    if (/call stack|stack overflow/i.test(text)) return this.halt(BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP, 'the driver overflowed its stack (nesting too deep?)', 8);
    if (/out of memory|OOM|enlarge memory/i.test(text)) return this.halt(BUGCHECK.NO_PAGES_AVAILABLE, 'the driver ran out of memory');
    return this.halt(BUGCHECK.KMODE_EXCEPTION_NOT_HANDLED, `the driver's sandbox failed: ${text.slice(0, 200)}`);
  }

  /**
   * Loads the `wdm` surface and the driver. `source` is the driver's TypeScript; `files`
   * holds the modules it may import. Throws SandboxLoadError for code that does not
   * compile or load.
   */
  load(api: HostApi, source: string, file: string, seed: number, files: DriverFiles = new Map(), debug = false): void {
    const ctx = this.context;
    const compiled = compileDriver(source, file, true, debug);
    if (isCompileErrors(compiled)) throw new SandboxLoadError(`${file} does not compile`, compiled);
    const helpers: string[] = [];
    for (const [name, text] of files) {
      const c = compileDriver(text, name, false);
      if (isCompileErrors(c)) throw new SandboxLoadError(`${name} does not compile`, c);
      helpers.push(`${JSON.stringify(name)}: function (exports, require, module) {\n${c.code}\n}`);
    }

    // The guest's world: constants as read-only globals, a deterministic clock and
    // generator, and nothing that could block or observe the garbage collector.
    const constants = JSON.stringify(WDM_CONSTANTS);
    const setup = `(function (constants, seed) {
      "use strict";
      for (const name of Object.keys(constants)) Object.defineProperty(globalThis, name, { value: constants[name], writable: false, enumerable: false, configurable: false });
      // Writable for the line marks, but never an accessor: the host reads it at any time
      // (findings, DbgPrint, bug checks) and must not run driver code when it does.
      Object.defineProperty(globalThis, '${LINE_VARIABLE}', { value: 0, writable: true, enumerable: false, configurable: false });
      for (const name of ['Atomics', 'SharedArrayBuffer', 'WeakRef', 'FinalizationRegistry']) delete globalThis[name];
      let a = seed >>> 0, b = 0x9e3779b9, c = 0x243f6a88, d = 1;
      Math.random = function random() {
        const t = (((a + b) | 0) + d) | 0; d = (d + 1) | 0; a = b ^ (b >>> 9); b = (c + (c << 3)) | 0; c = (c << 21) | (c >>> 11); c = (c + t) | 0;
        return (t >>> 0) / 4294967296;
      };
      for (let i = 0; i < 12; i++) Math.random();
      const RealDate = Date;
      const epoch = 1735689600000; // the machine's clock starts at 2025-01-01 00:00 UTC
      // A stand-in, not a subclass: the real constructor and its wall clock must not be
      // reachable as Object.getPrototypeOf(Date) or as Date.prototype's constructor.
      const FixedDate = function Date(...args) {
        if (new.target === undefined) return new RealDate(epoch).toString();
        // Fields and zone-less strings are read as UTC, not as the host's local time.
        const value = args.length === 0 ? epoch : args.length >= 2 ? RealDate.UTC(...args) : typeof args[0] === 'string' ? FixedDate.parse(args[0]) : args[0];
        return Reflect.construct(RealDate, [value], new.target);
      };
      FixedDate.prototype = RealDate.prototype;
      FixedDate.now = function now() { return epoch; };
      FixedDate.UTC = RealDate.UTC;
      Object.defineProperty(RealDate.prototype, 'constructor', { value: FixedDate, writable: true, enumerable: false, configurable: true });
      globalThis.Date = FixedDate;
      // The machine's clock is UTC wherever the host is: local-time views read as UTC.
      const proto = RealDate.prototype;
      for (const part of ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds']) {
        proto['get' + part] = proto['getUTC' + part];
        if (part !== 'Day') proto['set' + part] = proto['setUTC' + part];
      }
      proto.getTimezoneOffset = function getTimezoneOffset() { return 0; };
      proto.toString = proto.toLocaleString = proto.toUTCString;
      proto.toDateString = proto.toLocaleDateString = function toDateString() { return this.toISOString().slice(0, 10); };
      proto.toTimeString = proto.toLocaleTimeString = function toTimeString() { return this.toISOString().slice(11, 19) + ' GMT+0000'; };
      const realParse = RealDate.parse;
      FixedDate.parse = function parse(text) { const s = String(text); return realParse(/(Z|[+-][0-9]{2}:?[0-9]{2}|GMT|UTC)\\s*$/i.test(s) || /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s) ? s : s + (/T[0-9]/.test(s) ? 'Z' : ' GMT')); };
      globalThis.console = { log(...args) { DbgPrint(args.map(String).join(' ') + '\\n'); } };
    })`;

    if (debug) {
      const step = this.leanObject({
        [STEP_FUNCTION]: (line: number) => {
          this.stepHook?.(line);
          return 0;
        },
      });
      const fn = ctx.getProp(step, STEP_FUNCTION);
      ctx.setProp(ctx.global, STEP_FUNCTION, fn);
      fn.dispose();
      step.dispose();
    }
    const host = this.leanObject(api.lean);
    const rich = this.richObject(api.rich as unknown as Record<string, (...args: (string | number)[]) => string | void>);
    const abi = ctx.newObject();
    const entries = ctx.newObject();
    for (const [name, value] of Object.entries(Entry)) ctx.setProp(entries, name, ctx.newNumber(value));
    ctx.setProp(abi, 'Entry', entries);
    entries.dispose();

    const surface = this.evaluate(`(function (exports, host, rich, abi) {\n${preludeCode}\n})`, 'wdm.js');
    this.call(surface, [ctx.global, host, rich, abi]);
    surface.dispose();
    host.dispose();
    rich.dispose();
    abi.dispose();

    const setupFn = this.evaluate(setup, 'setup.js');
    const constantsHandle = this.evaluate(`(${constants})`, 'constants.js');
    const seedHandle = ctx.newNumber(seed >>> 0);
    this.call(setupFn, [constantsHandle, seedHandle]);
    for (const h of [setupFn, constantsHandle, seedHandle]) h.dispose();

    this.enterFn = ctx.getProp(ctx.global, '__enter');
    this.disposables.push(this.enterFn);
    const loadFn = ctx.getProp(ctx.global, '__load');
    this.evaluate('delete globalThis.__enter; delete globalThis.__load;', 'hide.js').dispose();

    const main = `(function () {
      const factories = {${helpers.join(',\n')}};
      const cache = {};
      function require(name) {
        const key = String(name).replace(/\\.(ts|js)$/, '');
        if (!Object.prototype.hasOwnProperty.call(factories, key)) throw new Error("Cannot find module '" + name + "': a driver can import only its own lab files");
        if (!cache[key]) { const module = { exports: {} }; cache[key] = module; factories[key](module.exports, require, module); }
        return cache[key].exports;
      }
      const module = { exports: {} };
      (function (exports, require, module) {\n${compiled.code}\n})(module.exports, require, module);
      if (typeof module.exports.DriverEntry !== 'function') throw new TypeError('the driver must export a function DriverEntry(DriverObject, RegistryPath)');
      return module.exports;
    })()`;
    this.ticks = 0;
    const exportsHandle = this.evaluate(main, file);
    this.call(loadFn, [exportsHandle]);
    exportsHandle.dispose();
    loadFn.dispose();
    if (this.halted) throw this.halted;
  }

  private call(fn: QuickJSHandle, args: QuickJSHandle[]): void {
    try {
      const result = this.context.callFunction(fn, this.context.undefined, ...args);
      if (result.error) {
        const error = this.thrown(result.error);
        if (this.halted) throw this.halted;
        throw new SandboxLoadError(`${error.name}: ${error.message}`);
      }
      result.value.dispose();
    } catch (error) {
      throw this.trapped(error);
    }
  }

  line(): number {
    try {
      const handle = this.context.getProp(this.context.global, LINE_VARIABLE);
      const value = this.context.typeof(handle) === 'number' ? this.context.getNumber(handle) : 0;
      handle.dispose();
      return Number.isInteger(value) && value > 0 ? value : 0;
    } catch {
      return 0; // the module trapped: the line is lost, the bug check is not
    }
  }

  enter(entry: Entry, a: number, b: number, c: number, d: number): number {
    if (this.halted) throw this.halted;
    if (!this.enterFn) throw new Error('no driver is loaded');
    const ctx = this.context;
    if (this.depth === 0) this.ticks = 0;
    try {
      const handles = [entry, a, b, c, d].map((n) => ctx.newNumber(n));
      let result;
      this.depth++;
      try {
        result = ctx.callFunction(this.enterFn, ctx.undefined, ...handles);
      } finally {
        this.depth--;
        for (const h of handles) if (h.alive) h.dispose();
        this.maxTicks = Math.max(this.maxTicks, this.ticks);
      }
      if (result.error) {
        const error = this.thrown(result.error);
        if (this.halted) throw this.halted;
        throw this.exceptionBugCheck(error);
      }
      if (this.halted) {
        result.value.dispose();
        throw this.halted;
      }
      const value = ctx.typeof(result.value) === 'number' ? ctx.getNumber(result.value) : ctx.typeof(result.value) === 'boolean' ? Number(ctx.dump(result.value)) : 0;
      result.value.dispose();
      return value;
    } catch (error) {
      throw this.trapped(error);
    }
  }

  /** An exception the driver did not catch: a stack overflow is a double fault, anything else 0x1E. */
  private exceptionBugCheck({ name, message }: { name: string; message: string }): BugCheck {
    if (/stack overflow/i.test(message)) {
      return this.halt(BUGCHECK.UNEXPECTED_KERNEL_MODE_TRAP, 'the driver overflowed its stack (endless recursion?)', 8);
    }
    if (/out of memory/i.test(message)) {
      return this.halt(BUGCHECK.NO_PAGES_AVAILABLE, 'the driver ran out of memory');
    }
    return this.halt(BUGCHECK.KMODE_EXCEPTION_NOT_HANDLED, `the driver threw ${name}: ${message}`, 0xc0000005);
  }

  dispose(): void {
    for (const h of this.disposables) if (h.alive) h.dispose();
    this.context.dispose();
    this.runtime.dispose();
  }
}
