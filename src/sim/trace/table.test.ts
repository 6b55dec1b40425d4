import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { runScenario, type Session } from '../run/session';
import { type Exporter, ExportCancelled } from './export';
import { EVENT_NAMES, TraceRecorder } from './recorder';
import { EventKind } from './sink';
import { csvField, exportCsv, exportJsonLines, TABLE_COLUMNS } from './table';

// CSV and JSON Lines of a real run: the scanner's scatter/gather reference driver
// (labs/playground/scanner-sg.driver.ts) on its playground scenario, a bus-level trace of
// some 440,000 events, with its Unload message made awkward for CSV: a comma, quotes and a
// line break inside the text.

const AWKWARD_TEXT = 'scn: Unload, "bye"\nsecond line\n';

interface Row {
  index: number;
  time_ns: number;
  kind: string;
  a: number;
  b: number;
  c: number;
  detail: string;
}

function exportText(exporter: Exporter, session: Session, trace: TraceRecorder): { text: string; writes: number; largest: number } {
  const parts: string[] = [];
  exporter(trace, session.traceContext, { write: (text) => parts.push(text) });
  return { text: parts.join(''), writes: parts.length, largest: Math.max(...parts.map((p) => p.length)) };
}

describe('CSV and JSON Lines of the scanner scatter/gather driver', () => {
  let session: Session;
  let trace: TraceRecorder;
  let csv: ReturnType<typeof exportText>;
  let jsonl: ReturnType<typeof exportText>;
  let records: string[][];
  let rows: Row[];

  beforeAll(async () => {
    const scenario = Scenario.parse(parse(readFileSync('labs/playground/scanner-sg.scenario.yaml', 'utf8')));
    const source = readFileSync('labs/playground/scanner-sg.driver.ts', 'utf8').replace(String.raw`DbgPrint('scn: Unload\n');`, String.raw`DbgPrint('scn: Unload, "bye"\nsecond line\n');`);
    trace = new TraceRecorder('bus');
    session = await runScenario({ scenario, source, file: 'scanner-sg.driver.ts', seed: 1, trace });
    csv = exportText(exportCsv, session, trace);
    jsonl = exportText(exportJsonLines, session, trace);
    // Strict RFC 4180: CRLF between records, every record as wide as the header.
    records = parseCsv(csv.text, { record_delimiter: '\r\n', relax_quotes: false, relax_column_count: false, skip_empty_lines: false });
    const lines = jsonl.text.split('\n');
    expect(lines.pop()).toBe('');
    rows = lines.map((line) => JSON.parse(line) as Row);
  }, 60_000);

  it('runs the driver as the playground scenario expects, awkward line included', () => {
    expect(session.result.ok).toBe(true);
    expect(session.traceContext.console).toContain(AWKWARD_TEXT);
  });

  it('has a header and one record per recorded event, in the same columns as the JSON Lines', () => {
    expect(records[0]).toEqual([...TABLE_COLUMNS]);
    expect(records.length).toBe(trace.count + 1);
    expect(rows.length).toBe(trace.count);
    const header = TABLE_COLUMNS.join();
    expect(rows.filter((row) => Object.keys(row).join() !== header).slice(0, 5)).toEqual([]);
    const differ = rows.filter((row, i) => TABLE_COLUMNS.some((column, j) => String(row[column]) !== records[i + 1]![j]));
    expect(differ.slice(0, 5)).toEqual([]);
  });

  it('holds the recorder’s events exactly', () => {
    const wrong: number[] = [];
    trace.forEach((time, kind, a, b, c, index) => {
      const row = rows[index]!;
      if (row.index !== index || row.time_ns !== time || row.kind !== EVENT_NAMES[kind] || row.a !== a || row.b !== b || row.c !== c) wrong.push(index);
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(rows.every((row, i) => i === 0 || row.time_ns >= rows[i - 1]!.time_ns)).toBe(true);
  });

  it('reads each event in words', () => {
    const detail = (kind: string, match: (row: Row) => boolean = () => true) => rows.find((r) => r.kind === kind && match(r))?.detail;
    expect(detail('RoutineEnter')).toBe('DriverEntry()');
    expect(detail('RoutineEnter', (r) => r.a === 3 && r.c > 4)).toMatch(/^DispatchRoutine\(device \d+, IRP \d+ \(IRP_MJ_READ\)\)$/);
    expect(detail('RoutineExit', (r) => r.a === 7)).toBe('InterruptService returned TRUE (claimed) at IRQL 17');
    expect(detail('IrpStart', (r) => r.b === 3)).toMatch(/^IRP \d+ sent: IRP_MJ_READ, length \d+$/);
    expect(detail('IrpComplete', (r) => r.c > 0)).toMatch(/^IRP \d+ completed: STATUS_SUCCESS, Information \d+$/);
    expect(detail('ApiCall', (r) => r.detail.startsWith('WRITE_PORT_UCHAR'))).toMatch(/^WRITE_PORT_UCHAR\(0x3\w\w, 0x\w+, 0x0\) → 0x0, line \d+$/);
    expect(detail('ApiArgs')).toMatch(/ arguments 1–3$/);
    expect(detail('PortWrite')).toMatch(/^out 0x\w{3} ← 0x\w{2} \(1 byte\)$/);
    expect(detail('DmaBurst')).toMatch(/^channel 3: 1 byte at 0x[0-9a-f]{8}$/);
    expect(detail('Dreq')).toBe('DREQ3 asserted');
    expect(detail('IrqLine')).toBe('IRQ10 high');
    expect(detail('Irql', (r) => r.a === 2)).toBe('IRQL 2 (DISPATCH_LEVEL)');
    expect(detail('DmaRegisterWrite', (r) => r.b === 3)).toMatch(/^channel 3 page ← 0x\w+$/);
    expect(detail('TerminalCount')).toBe('channel 3: terminal count');
    expect(detail('DbgPrint', (r) => r.detail.startsWith('scn: DriverEntry'))).toBe(session.traceContext.console[0]);
  });

  it('keeps a DbgPrint line with a comma, quotes and a line break whole', () => {
    const index = rows.findIndex((r) => r.kind === 'DbgPrint' && r.detail === AWKWARD_TEXT);
    expect(index).toBeGreaterThanOrEqual(0);
    expect(records[index + 1]![6]).toBe(AWKWARD_TEXT);
    expect(csv.text).toContain(`,"scn: Unload, ""bye""\nsecond line\n"\r\n`);
    expect(jsonl.text).toContain(String.raw`"detail":"scn: Unload, \"bye\"\nsecond line\n"}`);
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a\rb')).toBe('"a\rb"');
  });

  it('streams in pieces of bounded size', () => {
    for (const out of [csv, jsonl]) {
      expect(out.writes).toBeGreaterThan(10);
      expect(out.largest).toBeLessThan(70_000);
    }
  });

  for (const [name, exporter] of [
    ['CSV', exportCsv],
    ['JSON Lines', exportJsonLines],
  ] as const) {
    it(`${name}: reports progress and stops with ExportCancelled when asked`, () => {
      const progress: [number, number][] = [];
      exporter(trace, session.traceContext, { write: () => {}, progress: (done, total) => progress.push([done, total]) });
      expect(progress.length).toBeGreaterThan(3);
      expect(progress.every(([, total]) => total === trace.count)).toBe(true);
      expect(progress.at(-1)).toEqual([trace.count, trace.count]);
      expect(progress.every(([done], i) => i === 0 || done > progress[i - 1]![0])).toBe(true);

      let polls = 0;
      let written = 0;
      let error: unknown = null;
      try {
        exporter(trace, session.traceContext, { write: (t) => (written += t.length), cancelled: () => ++polls > 2 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExportCancelled);
      expect(polls).toBe(3);
      expect(written).toBeGreaterThan(0);
    });
  }

  it('describes a kind the scenario never produced', () => {
    const tiny = new TraceRecorder('cycle');
    tiny.record(5, EventKind.DmaCycle, 1, 0x12345, 1);
    tiny.record(6, EventKind.Violation, 0, 42, 0);
    tiny.record(7, EventKind.BugCheck, 0xe6, 42, 0);
    tiny.record(8, EventKind.DmaAnomaly, -2, 4, 0x10);
    const context = { ...session.traceContext, findings: [{ rule: 'MAP_REGISTERS_LEAKED', message: 'A message, "quoted".', line: 42 }] };
    const parts: string[] = [];
    exportCsv(tiny, context, { write: (t) => parts.push(t) });
    expect(parseCsv(parts.join(''), { record_delimiter: '\r\n' }).map((r) => r[6])).toEqual([
      'detail',
      'channel 1: 1 byte at 0x00012345',
      'MAP_REGISTERS_LEAKED: A message, "quoted".',
      'bug check 0xE6 DRIVER_VERIFIER_DMA_VIOLATION, line 42',
      'DMA2: AddressWrap (0x10)',
    ]);
  });
});
