import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { runScenario, type Session } from '../run/session';
import { ExportCancelled, type ExportOptions, type TextOut, type TraceContext } from './export';
import { TraceRecorder } from './recorder';
import { DmaRegister, EventKind } from './sink';
import { exportVcd, TC_PULSE_NS } from './vcd';
import { readVcd, type Vcd } from './vcdReader';

// The VCD exporter against the tools the file is for: sigrok-cli (libsigrok's VCD reader,
// which takes only 1-bit signals) and GTKWave's vcd2fst/fst2vcd. Real runs of the reference
// drivers give the traces; what the tools read back is compared with what the recorder holds.
//
// sigrok is read through its own VCD output (`-O vcd`): it lists only changes, one line per
// sample that changed, with a closing timestamp that is the number of samples, so edges and
// time can be counted without a line per sample (-O bits or csv would print all of them).
// Two readings: `compress=1` shrinks every idle stretch to one sample, so every change of
// every signal stays apart (exact edge counts, samples = timestamps); `downsample=250` keeps
// real time at 250 ns resolution (one DMA clock, the shortest pulse the machine makes).

const SIGROK = 'sigrok-cli';
const TOOLS = [SIGROK, 'vcd2fst', 'fst2vcd'];
const INSTALL = 'install the Debian packages sigrok-cli and gtkwave (apt-get install sigrok-cli gtkwave; .ci/run does it)';
/** sigrok-cli's input chunk: libsigrok 0.5.2 drops the rest of one at the first vector. */
const SIGROK_CHUNK = 4 * 1024 * 1024;
const DOWNSAMPLE = 250;

function installed(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

function run(tool: string, args: string[]): string {
  if (!installed(tool)) throw new Error(`${tool} is missing: ${INSTALL}`);
  const result = spawnSync(tool, args, { encoding: 'latin1', maxBuffer: 1 << 30 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** A bus's value over time from its bits (`name[15]` … `name[0]`) or its vector. */
function busTimeline(vcd: Vcd, name: string, width: number): [number, number][] {
  if (vcd.changes.has(name)) return vcd.changes.get(name)!.map(([t, v]) => [t, Number(v)]);
  const events: [number, number, number][] = [];
  for (let bit = 0; bit < width; bit++) for (const [t, v] of vcd.changes.get(`${name}[${bit}]`)!) events.push([t, bit, Number(v)]);
  events.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  let value = 0;
  for (let i = 0; i < events.length; ) {
    const t = events[i]![0];
    for (; i < events.length && events[i]![0] === t; i++) value = (value & ~(1 << events[i]![1])) | (events[i]![2] << events[i]![1]);
    out.push([t, value]);
  }
  return out;
}

/** The value a timeline holds just before `time`. */
function before(timeline: [number, number][], time: number): number {
  let lo = 0;
  let hi = timeline.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeline[mid]![0] < time) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? NaN : timeline[lo - 1]![1];
}

/** toEqual for long lists, quick: the first difference, with a little context, or nothing. */
function expectSame<T>(actual: readonly T[] | undefined, expected: readonly T[], label: string): void {
  expect(actual, label).toBeDefined();
  const n = Math.max(actual!.length, expected.length);
  const same = (x: unknown, y: unknown) => x === y || (Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, k) => v === y[k]));
  let i = 0;
  while (i < n && same(actual![i], expected[i])) i++;
  if (i < n) expect(actual!.slice(Math.max(0, i - 1), i + 3), `${label}, from index ${i}`).toEqual(expected.slice(Math.max(0, i - 1), i + 3));
  expect(actual!.length, label).toBe(expected.length);
}

// ---- what the recorder holds ----

/**
 * A line's levels as a sampler sees them: the last level in each `resolution`-ns bucket,
 * listed where it differs from the bucket before (time 0: the initial level).
 */
function sampled(levels: [number, number][], resolution: number): [number, string][] {
  const out: [number, string][] = [[0, '0']];
  for (const [t, level] of levels) {
    const at = Math.floor(t / resolution) * resolution;
    if (out[out.length - 1]![0] === at) out.pop();
    if (out[out.length - 1]?.[1] !== String(level)) out.push([at, String(level)]);
  }
  return out;
}

/** [time, level] of a line from the recorder's events of `kind` whose `a` is `which`. */
function recorded(trace: TraceRecorder, kind: EventKind, which: number, level: (b: number) => number = (b) => (b ? 1 : 0)): [number, number][] {
  const out: [number, number][] = [];
  trace.forEach((t, k, a, b) => {
    if (k === kind && a === which) out.push([t, level(b)]);
  });
  return out;
}

function tcPulses(trace: TraceRecorder, channel: number): [number, number][] {
  return recorded(trace, EventKind.TerminalCount, channel).flatMap(([t]): [number, number][] => [
    [t, 1],
    [t + TC_PULSE_NS, 0],
  ]);
}

function irqlBit(trace: TraceRecorder, bit: number): [number, number][] {
  const out: [number, number][] = [];
  trace.forEach((t, k, a) => {
    if (k === EventKind.Irql) out.push([t, (a >> bit) & 1]);
  });
  return out;
}

function count(trace: TraceRecorder, kind: EventKind, which?: number, b?: number): number {
  let n = 0;
  trace.forEach((_t, k, a, bb) => {
    if (k === kind && (which === undefined || a === which) && (b === undefined || bb === b)) n++;
  });
  return n;
}

// ---- runs and files ----

const dir = mkdtempSync(join(tmpdir(), 'dmalab-vcd-'));

function fileOut(path: string): TextOut & { close(): void; progressCalls: number } {
  const fd = openSync(path, 'w');
  const out = {
    progressCalls: 0,
    write(text: string) {
      writeSync(fd, text);
    },
    progress() {
      out.progressCalls++;
    },
    close() {
      closeSync(fd);
    },
  };
  return out;
}

function exportTo(name: string, trace: TraceRecorder, context: TraceContext, options?: ExportOptions): string {
  const path = join(dir, name);
  const out = fileOut(path);
  try {
    exportVcd(trace, context, out, options);
  } finally {
    out.close();
  }
  return path;
}

interface Run {
  trace: TraceRecorder;
  session: Session;
  channel: number;
  irq: number;
}

async function runPlayground(name: string, driver: string, repeat = 1): Promise<Run> {
  const yaml = parse(readFileSync(`labs/playground/${name}.scenario.yaml`, 'utf8')) as { workload: unknown[]; timeLimitMs: number };
  yaml.workload = Array.from({ length: repeat }, () => yaml.workload).flat();
  yaml.timeLimitMs *= repeat;
  const scenario = Scenario.parse(yaml);
  const file = `labs/playground/${driver}.driver.ts`;
  const trace = new TraceRecorder('bus');
  const session = await runScenario({ scenario, source: readFileSync(file, 'utf8'), file, seed: 1, trace });
  expect(session.result.ok).toBe(true);
  const device = scenario.devices[0] as { irq: number; channel?: number; channel16?: number };
  return { trace, session, channel: device.channel16 ?? device.channel!, irq: device.irq };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('VCD export', () => {
  it('has its tools: sigrok-cli, vcd2fst and fst2vcd', () => {
    const missing = TOOLS.filter((tool) => !installed(tool));
    expect(missing, `missing ${missing.join(', ')}: ${INSTALL}`).toEqual([]);
  });

  describe('a scanner run (scatter/gather on channel 3, twice over: a file over sigrok’s 4 MiB chunk)', () => {
    let scan: Run;
    let bitsPath: string;
    let bits: Vcd;
    beforeAll(async () => {
      scan = await runPlayground('scanner-sg', 'scanner-sg', 2);
      bitsPath = exportTo('scanner.vcd', scan.trace, scan.session.traceContext);
      bits = readVcd(readFileSync(bitsPath, 'latin1'));
    }, 60_000);

    it('is well formed: unique names, changes only after the header, one per line, times increasing', () => {
      const text = readFileSync(bitsPath, 'latin1');
      const [head, body] = text.split('$enddefinitions $end\n') as [string, string];
      for (const line of head.trimEnd().split('\n')) expect(line).toMatch(/^\$\w+( .*)? \$end$/);
      expect(head).toContain('$timescale 1 ns $end');
      expect(new Set(bits.names).size).toBe(bits.names.length);
      expect(new Set(bits.bare).size).toBe(bits.bare.length); // sigrok ignores scopes
      expect(bits.bare.slice(0, 3)).toEqual(['DREQ0', 'DREQ1', 'DREQ2']);
      expect(bits.names).toContain('dma1.addr3[15]');
      expect(bits.names).toContain('cpu.IRQL[0]');
      expect(bits.names).not.toContain('dma1.addr0[0]'); // channels not in use have no buses
      expect([...bits.widths.values()].every((w) => w === 1)).toBe(true);
      expect(body).not.toContain('$comment');
      expect(bits.strange).toEqual([]);
      expect(bits.crowded).toBe(0);
      expect(bits.repeats).toBe(0);
      expect(body.startsWith('#0\n$dumpvars\n')).toBe(true);
      for (const name of bits.names) expect(bits.changes.get(name)![0]![0]).toBe(0); // every signal in $dumpvars
      expect(bits.times.findIndex((t, i) => i > 0 && t <= bits.times[i - 1]!)).toBe(-1);
      const lastChange = Math.max(...bits.names.map((n) => bits.changes.get(n)!.at(-1)![0]));
      expect(bits.times.at(-1)).toBe(scan.session.traceContext.endTime);
      expect(bits.times.at(-1)!).toBeGreaterThan(lastChange);
      expect(statSync(bitsPath).size).toBeGreaterThan(SIGROK_CHUNK);
    });

    it('shows the recorder’s edges and the controller’s counters', () => {
      const { trace, channel, irq } = scan;
      const dma = `dma${channel < 4 ? 1 : 2}`;
      const lines: [string, [number, number][]][] = [
        [`${dma}.DREQ${channel}`, recorded(trace, EventKind.Dreq, channel)],
        [`${dma}.DACK${channel}`, recorded(trace, EventKind.Dack, channel)],
        [`pic.IRQ${irq}`, recorded(trace, EventKind.IrqLine, irq)],
        [`${dma}.TC${channel}`, tcPulses(trace, channel)],
      ];
      for (const [name, levels] of lines) {
        expectSame(
          bits.changes.get(name)!.slice(1),
          levels.map(([t, l]) => [t, String(l)]),
          name,
        );
      }
      // The address before each burst is the one the burst started at; the final state is the controller's.
      const addr = busTimeline(bits, `${dma}.addr${channel}`, 16);
      const cnt = busTimeline(bits, `${dma}.count${channel}`, 16);
      const starts: [number, number][] = [];
      const shown: [number, number][] = [];
      trace.forEach((t, k, a, b) => {
        if (k !== EventKind.DmaBurst || a !== channel) return;
        starts.push([t, channel < 4 ? b & 0xffff : (b >>> 1) & 0xffff]);
        shown.push([t, before(addr, t)]);
      });
      expectSame(shown, starts, `addr${channel} at each burst`);
      expect(starts.length).toBeGreaterThan(100_000);
      const state = scan.session.machine.dma.snapshot().dma1.channels[channel]!;
      expect(addr.at(-1)![1]).toBe(state.currentAddress);
      expect(cnt.at(-1)![1]).toBe(state.currentCount);
      for (const [t] of recorded(trace, EventKind.TerminalCount, channel)) expect(before(cnt, t + 1)).toBe(0xffff);
    });

    it('reads back in sigrok complete, edge for edge, past the 4 MiB chunk', () => {
      const { trace, channel, irq } = scan;
      const t0 = Date.now();
      const sigrok = readVcd(run(SIGROK, ['-I', 'vcd:compress=1', '-i', bitsPath, '-O', 'vcd']));
      const ms = Date.now() - t0;
      expect(sigrok.bare).toEqual(bits.bare);
      // Every signal: sigrok's first sample lists them all, then every change the file has.
      const lost = bits.names.filter((name, i) => sigrok.changes.get(`libsigrok.${sigrok.bare[i]}`)!.length !== bits.changes.get(name)!.length);
      expect(lost).toEqual([]);
      // Each idle stretch became one sample: as many samples as timestamps after #0.
      expect(sigrok.times.at(-1)).toBe(bits.times.length - 1);
      // Against the recorder: rising and falling edges of the channel's lines.
      const edges = (name: string) => sigrok.changes.get(`libsigrok.${name}`)!.length - 1;
      expect(edges(`DREQ${channel}`)).toBe(count(trace, EventKind.Dreq, channel));
      expect(edges(`DACK${channel}`)).toBe(count(trace, EventKind.Dack, channel));
      expect(edges(`IRQ${irq}`)).toBe(count(trace, EventKind.IrqLine, irq));
      expect(edges(`TC${channel}`)).toBe(2 * count(trace, EventKind.TerminalCount, channel));
      expect(count(trace, EventKind.Dack, channel, 1)).toBeGreaterThan(100_000);
      // The buses, regrouped from sigrok's bits, end where the controller ends.
      const state = scan.session.machine.dma.snapshot().dma1.channels[channel]!;
      expect(busTimeline(sigrok, `libsigrok.addr${channel}`, 16).at(-1)![1]).toBe(state.currentAddress);
      expect(busTimeline(sigrok, `libsigrok.count${channel}`, 16).at(-1)![1]).toBe(state.currentCount);
      expect(ms).toBeLessThan(15_000);
    });

    it('reads back in sigrok in real time: every edge in its 250 ns sample, and the run’s length', () => {
      const { trace, channel, irq, session } = scan;
      const sigrok = readVcd(run(SIGROK, ['-I', `vcd:downsample=${DOWNSAMPLE}`, '-i', bitsPath, '-O', 'vcd']));
      const end = session.traceContext.endTime;
      expect(sigrok.times.at(-1)).toBe(Math.floor(end / DOWNSAMPLE) * DOWNSAMPLE);
      const lines: [string, [number, number][]][] = [
        [`DREQ${channel}`, recorded(trace, EventKind.Dreq, channel)],
        [`DACK${channel}`, recorded(trace, EventKind.Dack, channel)],
        [`TC${channel}`, tcPulses(trace, channel)],
        [`IRQ${irq}`, recorded(trace, EventKind.IrqLine, irq)],
        ...[0, 1, 2, 3, 4].map((bit): [string, [number, number][]] => [`IRQL[${bit}]`, irqlBit(trace, bit)]),
      ];
      for (const [name, levels] of lines) expectSame(sigrok.changes.get(`libsigrok.${name}`), sampled(levels, DOWNSAMPLE), name);
    });

    it('would lose most of it to sigrok as vectors (why bits are the default)', () => {
      const { trace, channel } = scan;
      const path = exportTo('scanner-vector.vcd', trace, scan.session.traceContext, { vcdBuses: 'vector' });
      const version = run(SIGROK, ['--version']);
      const sigrok = readVcd(run(SIGROK, ['-I', 'vcd:compress=1', '-i', path, '-O', 'vcd'])); // and it exits 0
      const seen = sigrok.changes.get(`libsigrok.DACK${channel}`)!.length - 1;
      if (/libsigrok 0\.5\./.test(version)) expect(seen).toBeLessThan(count(trace, EventKind.Dack, channel) / 2);
    });

    it('reports progress and stops when cancelled', () => {
      const total = scan.trace.count;
      const calls: [number, number][] = [];
      let written = 0;
      const out: TextOut = {
        write: (text) => void (written += text.length),
        progress: (done, all) => void calls.push([done, all]),
        cancelled: () => calls.length >= 3,
      };
      expect(() => exportVcd(scan.trace, scan.session.traceContext, out)).toThrow(ExportCancelled);
      expect(calls.length).toBe(3);
      expect(calls.every(([done, all]) => all === total && done < total)).toBe(true);
      expect(written).toBeLessThan(statSync(bitsPath).size / 2);
      const full: [number, number][] = [];
      exportVcd(scan.trace, scan.session.traceContext, { write() {}, progress: (d, t) => void full.push([d, t]) });
      expect(full.at(-1)).toEqual([total, total]);
      expect(full.length).toBeGreaterThan(total >> 16);
    });
  });

  describe('a Sound Blaster run (auto-initialize on 16-bit channel 5)', () => {
    let sound: Run;
    beforeAll(async () => {
      sound = await runPlayground('sound-playback', 'sound-common-buffer');
    }, 60_000);

    it('survives GTKWave’s vcd2fst and fst2vcd as vectors, change for change', () => {
      const path = exportTo('sound-vector.vcd', sound.trace, sound.session.traceContext, { vcdBuses: 'vector' });
      const fst = join(dir, 'sound.fst');
      run('vcd2fst', ['-v', path, '-f', fst]);
      const back = readVcd(run('fst2vcd', ['-f', fst]));
      const original = readVcd(readFileSync(path, 'latin1'));
      expect(original.widths.get('dma2.addr5')).toBe(16);
      expect(original.widths.get('cpu.IRQL')).toBe(5);
      expect(original.strange).toEqual([]);
      expect(original.crowded).toBe(0);
      expect(back.names).toEqual(original.names);
      expect([...back.widths]).toEqual([...original.widths]);
      for (const name of original.names) expectSame(back.changes.get(name), original.changes.get(name)!, name);
      expect(back.times.at(-1)).toBe(original.times.at(-1));
      // The closing timestamp: the run's end, or just after a change made at the very end.
      const lastChange = Math.max(...original.names.map((n) => original.changes.get(n)!.at(-1)![0]));
      expect(original.times.at(-1)).toBe(Math.max(sound.session.traceContext.endTime, lastChange + 1));
      expect(original.changes.get('dma2.TC5')!.length).toBe(1 + 2 * count(sound.trace, EventKind.TerminalCount, 5));
    });

    it('follows the counters through words, terminal counts and auto-initialize; bits and vectors agree', () => {
      const { trace, channel, session } = sound;
      const vector = readVcd(readFileSync(exportTo('sound.vcd', trace, session.traceContext, { vcdBuses: 'vector' }), 'latin1'));
      const bits = readVcd(readFileSync(exportTo('sound-bits.vcd', trace, session.traceContext), 'latin1'));
      const addr = busTimeline(vector, 'dma2.addr5', 16);
      const cnt = busTimeline(vector, 'dma2.count5', 16);
      expectSame(busTimeline(bits, 'dma2.addr5', 16), addr, 'addr5');
      expectSame(busTimeline(bits, 'dma2.count5', 16), cnt, 'count5');
      expectSame(busTimeline(bits, 'cpu.IRQL', 5), busTimeline(vector, 'cpu.IRQL', 5), 'IRQL');
      const state = session.machine.dma.snapshot().dma2.channels[channel - 4]!;
      const starts: [number, number][] = [];
      const shown: [number, number][] = [];
      trace.forEach((t, k, a, b) => {
        if (k !== EventKind.DmaBurst || a !== channel) return;
        starts.push([t, (b >>> 1) & 0xffff]); // word address: physical A1–A16
        shown.push([t, before(addr, t)]);
      });
      expectSame(shown, starts, 'addr5 at each burst');
      expect(starts.length).toBeGreaterThan(1000);
      const reloads = recorded(trace, EventKind.AutoInitialize, channel);
      expect(reloads.length).toBeGreaterThan(10);
      for (const [t] of reloads) {
        expect(before(addr, t + 1)).toBe(state.baseAddress);
        expect(before(cnt, t + 1)).toBe(state.baseCount);
      }
      expect(addr.at(-1)![1]).toBe(state.currentAddress);
      expect(cnt.at(-1)![1]).toBe(state.currentCount);
    });
  });

  it('derives the counters from byte writes, the byte pointer, bursts and auto-initialize', () => {
    const trace = new TraceRecorder('bus');
    const ev = (t: number, kind: EventKind, a: number, b = 0, c = 0) => trace.record(t, kind, a, b, c);
    // Channel 1: clear the byte pointer, mode = single, read, autoinit, decrement; address 1200h, count 3.
    ev(0, EventKind.Irql, 2);
    ev(100, EventKind.PortWrite, 0x0c, 0, 1);
    ev(100, EventKind.DmaRegisterWrite, 1, DmaRegister.Mode, 0x40 | 0x20 | 0x10 | 0x08);
    ev(100, EventKind.DmaRegisterWrite, 1, DmaRegister.Address, 0x0000);
    ev(100, EventKind.DmaRegisterWrite, 1, DmaRegister.Address, 0x1200);
    ev(100, EventKind.DmaRegisterWrite, 1, DmaRegister.Count, 0x0003);
    ev(100, EventKind.DmaRegisterWrite, 1, DmaRegister.Count, 0x0003);
    ev(100, EventKind.DmaRegisterWrite, 1, DmaRegister.Page, 0x12);
    ev(100, EventKind.DmaRegisterWrite, -1, DmaRegister.Mask, 0x0d); // chip-wide
    ev(200, EventKind.DmaBurst, 1, 0x121200, 1); // 1200h → 11FFh, count 2
    // A read of the count's low byte moves the byte pointer: the next byte written goes
    // into the high half of base (1200h → 8000h) and current (11FFh → 80FFh) alike.
    ev(300, EventKind.PortRead, 0x03, 0x02, 1);
    ev(300, EventKind.DmaRegisterWrite, 1, DmaRegister.Address, 0x80ff);
    ev(400, EventKind.DmaBurst, 1, 0x1280ff, 3); // → 80FCh, count FFFFh
    ev(400, EventKind.TerminalCount, 1);
    ev(400, EventKind.AutoInitialize, 1); // back to 8000h, 3
    ev(500, EventKind.Dreq, 5, 1);
    ev(500, EventKind.DmaBurst, 5, 0x20000, 8); // channel 5, no programming seen: words, 0 → 4
    ev(520, EventKind.Dreq, 5, 0);
    ev(520, EventKind.Dreq, 5, 1); // a glitch inside one nanosecond shows no change
    ev(600, EventKind.IrqLine, 15, 1);
    ev(600, EventKind.Irql, 27);
    const context: TraceContext = { apiNames: [], entryNames: {}, console: [], findings: [], endTime: 640 };
    for (const form of ['bits', 'vector'] as const) {
      let text = '';
      exportVcd(trace, context, { write: (s) => void (text += s) }, { vcdBuses: form });
      const vcd = readVcd(text);
      expect(busTimeline(vcd, 'dma1.addr1', 16)).toEqual([
        [0, 0],
        [100, 0x1200],
        [200, 0x11ff],
        [300, 0x80ff],
        [400, 0x8000],
      ]);
      expect(busTimeline(vcd, 'dma1.count1', 16)).toEqual([
        [0, 0],
        [100, 3],
        [200, 2],
        [400, 3],
      ]);
      expect(vcd.changes.get('dma1.TC1')).toEqual([
        [0, '0'],
        [400, '1'],
        [400 + TC_PULSE_NS, '0'],
      ]);
      expect(busTimeline(vcd, 'dma2.addr5', 16)).toEqual([
        [0, 0],
        [500, 4],
      ]);
      expect(busTimeline(vcd, 'dma2.count5', 16)).toEqual([
        [0, 0],
        [500, 0xfffc],
      ]);
      expect(vcd.changes.get('dma2.DREQ5')).toEqual([
        [0, '0'],
        [500, '1'],
      ]);
      expect(busTimeline(vcd, 'cpu.IRQL', 5)).toEqual([
        [0, 2],
        [600, 27],
      ]);
      expect(vcd.changes.get('pic.IRQ15')).toEqual([
        [0, '0'],
        [600, '1'],
      ]);
      expect(vcd.names.some((n) => n.includes('addr0') || n.includes('addr3'))).toBe(false);
      // The TC pulse ends after the run's end time: the closing timestamp comes after it.
      expect(vcd.times).toEqual([0, 100, 200, 300, 400, 500, 600, 400 + TC_PULSE_NS, 400 + TC_PULSE_NS + 1].sort((x, y) => x - y));
    }
  });
});
