import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { ntStatusName } from '../kernel/wdmConstants';
import { runScenario, type Session } from '../run/session';
import { exportChrome } from './chrome';
import { ExportCancelled, type TextOut } from './export';
import { TraceRecorder } from './recorder';
import { EventKind } from './sink';

// The Chrome trace exporter against real runs of the reference drivers: the floppy packet
// driver (every IRP through StartIo, ISRs and DPCs, a bus-level trace of some 330,000
// events) and the scanner's scatter/gather driver made to bug-check inside
// AdapterListControl, three routines deep. The file must be what the trace event format
// asks for and parse in Chromium's own JSON parser.

interface ChromeEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  id?: number | string;
  s?: string;
  args?: Record<string, unknown>;
}

interface Run {
  session: Session;
  trace: TraceRecorder;
}

/** A DbgPrint line with a quote, a comma, a backslash, a tab and a line break, added to the floppy driver's DriverEntry. */
const AWKWARD_PRINT = String.raw`DbgPrint('fdc: "quoted", comma\\back\tslash\nsecond line\n');`;
const AWKWARD_TEXT = 'fdc: "quoted", comma\\back\tslash\nsecond line\n';

async function run(name: string, driver: string, edit: (source: string) => string = (s) => s): Promise<Run> {
  const scenario = Scenario.parse(parse(readFileSync(`labs/playground/${name}.scenario.yaml`, 'utf8')));
  const source = edit(readFileSync(`labs/playground/${driver}.driver.ts`, 'utf8'));
  const trace = new TraceRecorder('bus');
  const session = await runScenario({ scenario, source, file: `${driver}.driver.ts`, seed: 1, trace });
  return { session, trace };
}

/** Exports into memory (a test's convenience; the exporter itself writes pieces). */
function exportText(r: Run, out: Partial<TextOut> = {}): { text: string; writes: number; largest: number } {
  const parts: string[] = [];
  let largest = 0;
  exportChrome(r.trace, r.session.traceContext, {
    ...out,
    write(text) {
      parts.push(text);
      largest = Math.max(largest, text.length);
    },
  });
  return { text: parts.join(''), writes: parts.length, largest };
}

function countKind(trace: TraceRecorder, kind: EventKind): number {
  let n = 0;
  trace.forEach((_t, k) => {
    if (k === kind) n++;
  });
  return n;
}

/** Checks the trace event format's rules (every problem, then one assertion) and answers the events by phase. */
function validate(events: ChromeEvent[]): Map<string, ChromeEvent[]> {
  const problems: string[] = [];
  const byPhase = new Map<string, ChromeEvent[]>();
  const stacks = new Map<string, ChromeEvent[]>();
  const open = new Map<string, ChromeEvent>();
  let lastTs = 0;
  for (const [i, e] of events.entries()) {
    const fail = (what: string) => problems.push(`event ${i} ${JSON.stringify(e).slice(0, 200)}: ${what}`);
    if (typeof e.name !== 'string' || e.name.length === 0) fail('no name');
    if (!['B', 'E', 'b', 'e', 'C', 'i', 'M'].includes(e.ph)) fail('unexpected phase');
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) fail('pid and tid must be integers');
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) fail('ts must be a number of µs');
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null)) fail('args must be an object');
    const list = byPhase.get(e.ph) ?? [];
    byPhase.set(e.ph, list);
    list.push(e);
    if (e.ph === 'M') {
      if (!['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index'].includes(e.name)) fail('unknown metadata');
      continue;
    }
    // Written in time order: B/E with equal times keep their order in every viewer's stable sort.
    if (e.ts < lastTs) fail(`earlier than the event before (${lastTs})`);
    lastTs = e.ts;
    switch (e.ph) {
      case 'B':
      case 'E': {
        const track = `${e.pid}/${e.tid}`;
        const stack = stacks.get(track) ?? [];
        stacks.set(track, stack);
        if (e.ph === 'B') stack.push(e);
        else {
          const begin = stack.pop();
          if (begin === undefined) fail('an E without its B');
          else if (begin.name !== e.name || e.ts < begin.ts) fail(`does not close ${JSON.stringify(begin)}`);
        }
        break;
      }
      case 'b':
      case 'e': {
        if (typeof e.cat !== 'string' || e.id === undefined) fail('an async event needs cat and id');
        const key = `${e.pid}/${e.cat}/${e.id}`;
        const begin = open.get(key);
        if (e.ph === 'b') {
          if (begin !== undefined) fail('async id already open');
          open.set(key, e);
        } else if (begin === undefined) fail('an e without its b');
        else {
          if (begin.name !== e.name || e.ts < begin.ts) fail(`does not close ${JSON.stringify(begin)}`);
          open.delete(key);
        }
        break;
      }
      case 'C':
        if (e.args === undefined || Object.keys(e.args).length === 0) fail('a counter without values');
        else if (!Object.values(e.args).every((v) => typeof v === 'number' && Number.isFinite(v))) fail('counter values must be numbers');
        break;
      case 'i':
        if (!['t', 'p', 'g'].includes(e.s ?? '')) fail('an instant needs a scope');
        break;
    }
  }
  for (const [track, stack] of stacks) if (stack.length > 0) problems.push(`slices left open on track ${track}: ${stack.map((e) => e.name).join(', ')}`);
  if (open.size > 0) problems.push(`async slices left open: ${[...open.keys()].join(', ')}`);
  expect(problems.slice(0, 20)).toEqual([]);
  return byPhase;
}

describe('Chrome trace export of the floppy packet driver', () => {
  let r: Run;
  let exported: ReturnType<typeof exportText>;
  let events: ChromeEvent[];
  let byPhase: Map<string, ChromeEvent[]>;

  beforeAll(async () => {
    r = await run('floppy-packet', 'floppy-packet', (s) => s.replace("DbgPrint('fdc: channel", `${AWKWARD_PRINT}\n  DbgPrint('fdc: channel`));
    exported = exportText(r);
    const json = JSON.parse(exported.text) as { traceEvents: ChromeEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> };
    expect(json.displayTimeUnit).toBe('ns');
    expect(json.otherData.recordedEvents).toBe(r.trace.count);
    events = json.traceEvents;
    byPhase = validate(events);
  }, 60_000);

  it('runs the driver as the playground scenario expects', () => {
    expect(r.session.result.ok).toBe(true);
    expect(r.session.traceContext.console).toContain(AWKWARD_TEXT);
  });

  it('streams in pieces of bounded size', () => {
    expect(exported.writes).toBeGreaterThan(10);
    expect(exported.largest).toBeLessThan(70_000);
  });

  it('has one slice per routine call, on the track of its IRQL, nested as the calls were', () => {
    expect(byPhase.get('B')!.length).toBe(countKind(r.trace, EventKind.RoutineEnter));
    const names = (tid: number) => new Set(byPhase.get('B')!.filter((e) => e.tid === tid).map((e) => e.name));
    expect([...names(1)].sort()).toEqual(['AddDevice', 'DeviceFlags', 'DispatchRoutine', 'DriverEntry', 'Unload']);
    expect(names(2)).toContain('DeferredRoutine');
    expect(names(2)).toContain('StartIo');
    expect(names(2)).toContain('AdapterControl');
    expect([...names(3)]).toEqual(['InterruptService']);
    // Routines with time inside them: ISRs talk to the controller port by port.
    const ends = byPhase.get('E')!.filter((e) => e.tid === 3);
    const begins = byPhase.get('B')!.filter((e) => e.tid === 3);
    expect(ends.some((e, i) => e.ts > begins[i]!.ts)).toBe(true);
    expect(ends.every((e) => e.args?.result === 'TRUE (claimed)')).toBe(true);
    const dispatch = byPhase.get('B')!.find((e) => e.name === 'DispatchRoutine' && String(e.args?.arguments).includes('IRP_MJ_READ'));
    expect(dispatch).toBeDefined();
  });

  it('makes every IRP an async slice with major, length, status and Information', () => {
    const begins = byPhase.get('b')!;
    const ends = byPhase.get('e')!;
    expect(begins.length).toBe(r.session.io.irps.size);
    expect(begins.length).toBe(r.session.irps.length + 2); // the workload, IRP_MN_START_DEVICE and IRP_MN_REMOVE_DEVICE
    expect(ends.length).toBe(begins.length);
    for (const irp of r.session.io.irps.values()) {
      const b = begins.find((e) => e.id === irp.id)!;
      const e = ends.find((x) => x.id === irp.id)!;
      expect(b.cat).toBe('irp');
      expect(b.args).toMatchObject({ irp: irp.id, length: irp.length });
      expect(b.args!.major).toMatch(/^IRP_MJ_(READ|WRITE|PNP)$/);
      expect(e.args).toEqual({ status: ntStatusName(irp.status), information: irp.information });
      expect(e.ts).toBeGreaterThanOrEqual(b.ts);
    }
  });

  it('has IRQL, DMA bytes and map registers as counters', () => {
    const counters = byPhase.get('C')!;
    const irql = counters.filter((e) => e.name === 'IRQL');
    expect(irql.length).toBe(countKind(r.trace, EventKind.Irql) + 1);
    expect(new Set(irql.map((e) => e.args!.IRQL))).toEqual(new Set([0, 2, 21]));
    const bytes = counters.filter((e) => e.name === 'DMA bytes moved, channel 2');
    expect(bytes.length).toBe(countKind(r.trace, EventKind.DmaBurst));
    // Cumulative: never falls, and ends at what the controller moved.
    expect(bytes.every((e, i) => i === 0 || (e.args!.bytes as number) > (bytes[i - 1]!.args!.bytes as number))).toBe(true);
    expect(bytes.at(-1)!.args!.bytes).toBe(r.session.result.stats.dmaBytes);
    const registers = counters.filter((e) => e.name === 'Map registers in use');
    expect(registers.length).toBe(countKind(r.trace, EventKind.MapRegisters));
    expect(registers.at(-1)!.args!.registers).toBe(0);
    expect(Math.max(...registers.map((e) => e.args!.registers as number))).toBeGreaterThan(0);
    expect(counters.filter((e) => e.name === 'IRQ6 line').length).toBe(countKind(r.trace, EventKind.IrqLine));
  });

  it('has the API calls, DbgPrint lines and hardware events as instants', () => {
    const instants = byPhase.get('i')!;
    const apiNames = new Set(r.session.traceContext.apiNames);
    const calls = instants.filter((e) => apiNames.has(e.name));
    expect(calls.length).toBe(countKind(r.trace, EventKind.ApiCall));
    const write = calls.find((e) => e.name === 'WRITE_PORT_UCHAR')!;
    expect(write.args).toMatchObject({ line: expect.any(Number), result: 0 });
    expect(write.args!.call).toMatch(/^WRITE_PORT_UCHAR\(0x3f\w, 0x\w+, 0x0\) → 0x0$/);
    expect(Array.isArray(write.args!.arguments)).toBe(true);
    const print = instants.find((e) => e.args?.text === AWKWARD_TEXT)!;
    expect(print.name).toBe('fdc: "quoted", comma\\back\tslash');
    expect(print.tid).toBe(1); // DriverEntry's track
    expect(instants.filter((e) => e.name.startsWith('INTA IRQ6')).length).toBe(countKind(r.trace, EventKind.InterruptAck));
    expect(instants.filter((e) => e.name === 'TC channel 2').length).toBe(countKind(r.trace, EventKind.TerminalCount));
  });

  it('parses in Chromium with the same events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmalab-chrome-'));
    const file = join(dir, 'trace.json');
    writeFileSync(file, exported.text);
    const browser = await chromium.launch({
      executablePath: process.env.DMALAB_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      // The file, served as it lies on disk, to a page that fetches and parses it.
      await page.route('http://trace.test/**', (route) =>
        new URL(route.request().url()).pathname === '/trace.json' ? route.fulfill({ path: file, contentType: 'application/json' }) : route.fulfill({ body: '<!doctype html><title>trace</title>', contentType: 'text/html' }),
      );
      await page.goto('http://trace.test/');
      const seen = await page.evaluate(async () => {
        const text = await (await fetch('/trace.json')).text();
        const json = JSON.parse(text) as { traceEvents: { ph: string; id?: number }[]; displayTimeUnit: string };
        const phases: Record<string, number> = {};
        for (const e of json.traceEvents) phases[e.ph] = (phases[e.ph] ?? 0) + 1;
        return { length: text.length, events: json.traceEvents.length, unit: json.displayTimeUnit, phases };
      });
      expect(seen.length).toBe(exported.text.length);
      expect(seen.events).toBe(events.length);
      expect(seen.unit).toBe('ns');
      expect(seen.phases).toEqual(Object.fromEntries([...byPhase].map(([ph, list]) => [ph, list.length])));
      expect(seen.phases.b).toBe(r.session.io.irps.size);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reports progress and stops with ExportCancelled when asked', () => {
    const progress: [number, number][] = [];
    exportText(r, { progress: (done, total) => progress.push([done, total]) });
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.every(([, total]) => total === r.trace.count)).toBe(true);
    expect(progress.at(-1)).toEqual([r.trace.count, r.trace.count]);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThan(progress[i - 1]![0]);

    let polls = 0;
    const writes: string[] = [];
    const cancelled = () => {
      try {
        exportChrome(r.trace, r.session.traceContext, { write: (t) => writes.push(t), cancelled: () => ++polls > 2 });
      } catch (error) {
        return error;
      }
      return null;
    };
    expect(cancelled()).toBeInstanceOf(ExportCancelled);
    expect(polls).toBe(3);
    expect(writes.length).toBeGreaterThan(0); // it had begun
  });
});

describe('Chrome trace export of a run that bug-checks three routines deep', () => {
  let r: Run;
  let byPhase: Map<string, ChromeEvent[]>;

  beforeAll(async () => {
    // DispatchRoutine → IoStartPacket → StartIo → GetScatterGatherList → AdapterListControl → KeBugCheckEx.
    r = await run('scanner-sg', 'scanner-sg', (s) => s.replace('  ext.ScatterGather = ScatterGather;\n', '  ext.ScatterGather = ScatterGather;\n  KeBugCheckEx(0xE2, 1, 2, 3, 4);\n'));
    byPhase = validate((JSON.parse(exportText(r).text) as { traceEvents: ChromeEvent[] }).traceEvents);
  }, 60_000);

  it('ends the routines the bug check unwound, and the IRPs never completed, at the end of the trace', () => {
    expect(r.session.result.bugcheck?.code).toBe(0xe2);
    const unfinished = byPhase.get('E')!.filter((e) => e.args?.unfinished === true);
    expect(unfinished.map((e) => [e.name, e.tid])).toEqual([
      ['AdapterListControl', 2],
      ['StartIo', 2],
      ['DispatchRoutine', 1],
    ]);
    const end = r.session.traceContext.endTime / 1000;
    expect(unfinished.every((e) => e.ts === end)).toBe(true);
    const open = byPhase.get('e')!.filter((e) => e.args?.status === 'not completed');
    expect(open.length).toBe(1); // the first read; the others were never sent
    const bugcheck = byPhase.get('i')!.find((e) => e.name.startsWith('BUGCHECK'))!;
    expect(bugcheck).toMatchObject({ name: 'BUGCHECK 0xE2 MANUALLY_INITIATED_CRASH', s: 'g', args: { code: '0xe2' } });
  });
});
