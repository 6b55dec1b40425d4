import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpoint, ExportCancelled, type Exporter, type TraceContext } from '../../sim/trace/export';
import { TraceRecorder } from '../../sim/trace/recorder';
import { EventKind } from '../../sim/trace/sink';
import { formatFromPath, TraceFileError, writeTraceFile } from './traceFile';

// Writing exports to disk: complete files appear under their name, failures leave nothing.

const context: TraceContext = { apiNames: [], entryNames: {}, console: [], findings: [], endTime: 100 };
let dir: string;
let trace: TraceRecorder;

/** Writes one line per event, like the real exporters, with the same progress and cancellation checks. */
const lines: Exporter = (t, _c, out) => {
  t.forEach((time, kind, a, _b, _x, i) => {
    checkpoint(out, i, t.count, 1024);
    out.write(`${time} ${kind} ${a}\n`);
  });
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dmalab-trace-'));
  trace = new TraceRecorder('bus');
  for (let i = 0; i < 10_000; i++) trace.record(i, EventKind.Dreq, i & 7, i & 1, 0);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeTraceFile', () => {
  it('writes the whole export under the name, reporting progress', () => {
    const path = join(dir, 'run.vcd');
    const seen: number[] = [];
    const { bytes } = writeTraceFile(path, lines, trace, context, { progress: (done) => seen.push(done) });
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(10_001);
    expect(bytes).toBe(Buffer.byteLength(text));
    expect(seen.length).toBeGreaterThan(5);
    expect(readdirSync(dir)).toEqual(['run.vcd']);
  });

  it('refuses a folder that does not exist, clearly, and creates nothing', () => {
    const path = join(dir, 'missing', 'run.vcd');
    expect(() => writeTraceFile(path, lines, trace, context)).toThrow(new TraceFileError(`cannot write ${path}: the folder ${join(dir, 'missing')} does not exist`));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves no partial file when the disk fills, and keeps what was there before', () => {
    const path = join(dir, 'run.csv');
    writeFileSync(path, 'the previous export\n');
    const full: Exporter = (t, c, out) => {
      out.write('index,time_ns\n');
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    expect(() => writeTraceFile(path, full, trace, context)).toThrow(`the disk is full: ${path} was not written`);
    expect(readdirSync(dir)).toEqual(['run.csv']);
    expect(readFileSync(path, 'utf8')).toBe('the previous export\n');
  });

  it('leaves no file when the export is cancelled halfway', () => {
    const path = join(dir, 'run.jsonl');
    let polls = 0;
    expect(() => writeTraceFile(path, lines, trace, context, { cancelled: () => ++polls > 3 })).toThrow(ExportCancelled);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('tells the format from the extension', () => {
    expect(['a.vcd', 'b.JSON', 'c.csv', 'd.jsonl', 'e.txt', 'f'].map(formatFromPath)).toEqual(['vcd', 'chrome', 'csv', 'jsonl', null, null]);
  });
});
