import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Random } from '../machine/random';
import { Scheduler } from '../machine/scheduler';
import { ArraySink, EventKind } from '../trace/sink';
import type { DeviceFaults, IsaSlot } from './isaDevice';
import { initializeDmaAsBios, programDmaChannel } from './dmaProgramming';
import { IoBus } from './ioBus';
import { IsaDma } from './isaDma';
import { sb16DefaultConfig, SoundBlaster16 } from './sb16';

// The Sound Blaster 16 model against labs/devices/sound.md, driven through port I/O only,
// as a driver would. The datasheet's numbers are written out here rather than imported,
// so a wrong constant in the model cannot pass its own test.

// Ports at the default base 220h (sound.md, "Ports")
const BASE = 0x220;
const MIXER_ADDRESS = BASE + 0x4;
const MIXER_DATA = BASE + 0x5;
const DSP_RESET = BASE + 0x6;
const DSP_READ_DATA = BASE + 0xa;
const DSP_WRITE = BASE + 0xc;
const DSP_WRITE_STATUS = BASE + 0xc;
const DSP_READ_STATUS = BASE + 0xe; // also acknowledges the 8-bit interrupt
const DSP_ACK16 = BASE + 0xf;
const BUSY = 0x80; // bit 7 of 2xC: the DSP cannot take a byte
const DATA_AVAILABLE = 0x80; // bit 7 of 2xE
const IRQ = 5;
// DSP commands (sound.md, "DSP commands")
const DAC8_SINGLE = 0x14;
const DAC8_AUTO = 0x1c;
const ADC8_SINGLE = 0x24;
const TIME_CONSTANT = 0x40;
const OUTPUT_RATE = 0x41;
const INPUT_RATE = 0x42;
const BLOCK_SIZE = 0x48;
const DMA16 = 0xb0;
const DMA8 = 0xc0;
const CMD_ADC = 0x08;
const CMD_AUTOINIT = 0x04;
const CMD_FIFO = 0x02;
const MODE_SIGNED = 0x10;
const MODE_STEREO = 0x20;
const PAUSE8 = 0xd0;
const SPEAKER_ON = 0xd1;
const CONTINUE16 = 0xd6;
const PAUSE16 = 0xd5;
const SPEAKER_STATUS = 0xd8;
const EXIT_AUTO16 = 0xd9;
const EXIT_AUTO8 = 0xda;
const IDENTIFY = 0xe0;
const GET_VERSION = 0xe1;
const FORCE_IRQ8 = 0xf2;
const FORCE_IRQ16 = 0xf3;
// Mixer (sound.md, "Mixer registers")
const MIXER_RESET = 0x00;
const MIXER_IRQ_SELECT = 0x80;
const MIXER_DMA_SELECT = 0x81;
const MIXER_IRQ_STATUS = 0x82;
const STATUS_8BIT = 0x01;
const STATUS_16BIT = 0x02;
// Timing (sound.md, "Timing")
const RESET_PULSE_NS = 3_000;
const RESET_DELAY_NS = 100_000;
const FIFO_BYTES = 64;
// 8237 (reference/hw/i8237a.md §3, §4.2)
const DMA2_SINGLE_MASK = 0xd4;
const WRITE = 0x04; // I/O → memory
const READ = 0x08; // memory → I/O
const AUTOINIT = 0x10;
const DEMAND = 0x00;
const SINGLE = 0x40;

const MiB = 1024 * 1024;
const MS = 1_000_000;
const ISR_LATENCY_NS = 10_000;

function machine(faults: DeviceFaults = {}) {
  const scheduler = new Scheduler();
  const trace = new ArraySink();
  const bus = new IoBus(scheduler, trace);
  const memory = { bytes: new Uint8Array(2 * MiB), size: 2 * MiB };
  const dma = new IsaDma(bus, scheduler, memory, trace);
  initializeDmaAsBios(bus);
  const irqLevels: { time: number; irq: number; level: boolean }[] = [];
  let isr: (() => void) | null = null;
  // The IRQ stand-in: records every level, and on a rising edge runs the "driver's ISR" a little later.
  const slot: IsaSlot = {
    bus,
    dma,
    scheduler,
    trace,
    random: new Random(7),
    setIrq(irq, level) {
      irqLevels.push({ time: scheduler.now, irq, level });
      if (level && isr) scheduler.schedule(ISR_LATENCY_NS, isr);
    },
  };
  const sb = new SoundBlaster16(slot, sb16DefaultConfig, faults);
  return {
    scheduler,
    trace,
    bus,
    memory,
    dma,
    sb,
    irqLevels,
    onInterrupt(handler: () => void) {
      isr = handler;
    },
    run(ns: number) {
      return scheduler.runUntil(scheduler.now + ns);
    },
  };
}

type M = ReturnType<typeof machine>;

/** Runs events until `done()` holds; fails instead of hanging. */
function runUntil(m: M, done: () => boolean, maxNs: number): void {
  const limit = m.scheduler.now + maxNs;
  while (!done()) {
    const next = m.scheduler.peekTime();
    if (next === null || next > limit) throw new Error(`not reached within ${maxNs} ns (now ${m.scheduler.now})`);
    m.scheduler.step();
  }
}

// ---- the driver's side ----

function dspWrite(m: M, value: number): void {
  for (let i = 0; i < 1000 && (m.bus.inb(DSP_WRITE_STATUS) & BUSY) !== 0; i++) m.run(1_000);
  m.bus.outb(DSP_WRITE, value);
}

/** Polls 2xE (which also acknowledges an 8-bit interrupt) for up to 1 ms. */
function dspRead(m: M): number {
  for (let i = 0; i < 1000; i++) {
    if ((m.bus.inb(DSP_READ_STATUS) & DATA_AVAILABLE) !== 0) return m.bus.inb(DSP_READ_DATA);
    m.run(1_000);
  }
  return -1;
}

function resetDsp(m: M): number {
  m.bus.outb(DSP_RESET, 1);
  m.run(RESET_PULSE_NS);
  m.bus.outb(DSP_RESET, 0);
  return dspRead(m);
}

function setRate(m: M, command: number, rate: number): void {
  dspWrite(m, command);
  dspWrite(m, rate >> 8);
  dspWrite(m, rate & 0xff);
}

/** Bxh/Cxh: command, mode, length−1 low, high. */
function startDma(m: M, command: number, mode: number, samples: number): void {
  dspWrite(m, command);
  dspWrite(m, mode);
  dspWrite(m, (samples - 1) & 0xff);
  dspWrite(m, ((samples - 1) >> 8) & 0xff);
}

function mixerRead(m: M, register: number): number {
  m.bus.outb(MIXER_ADDRESS, register);
  return m.bus.inb(MIXER_DATA);
}

/** The 8237 programming sequence (i8237a.md §19); channel 5 counts words at word addresses. */
function program(m: M, channel: number, mode: number, physical: number, transfers: number, unmask = true): void {
  programDmaChannel(m.bus, channel, mode, physical, transfers, unmask);
}

function pattern(bytes: number, seed: number): Uint8Array {
  const rng = new Random(seed);
  return Uint8Array.from({ length: bytes }, () => rng.int(0, 255));
}

/** Index of the first byte where a and b differ, or -1 when equal (lengths included). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function repeat(data: Uint8Array, bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => data[i % data.length]!);
}

const edges = (m: M) => m.irqLevels.map((e) => e.level);
const count = (m: M, kind: EventKind, channel: number, b = 1) => m.trace.list(kind).filter(([, , a, v]) => a === channel && v === b).length;

describe('DSP reset', () => {
  it('puts 0AAh in the read data port 100 µs after the 0 is written, with read-buffer status bit 7 set', () => {
    const m = machine();
    m.bus.outb(DSP_RESET, 1);
    m.run(RESET_PULSE_NS);
    m.bus.outb(DSP_RESET, 0);
    expect(m.bus.inb(DSP_WRITE_STATUS) & BUSY).toBe(BUSY); // initializing: takes no commands
    m.run(RESET_DELAY_NS - 1);
    expect(m.bus.inb(DSP_READ_STATUS) & DATA_AVAILABLE).toBe(0);
    m.run(1);
    expect(m.bus.inb(DSP_READ_STATUS) & DATA_AVAILABLE).toBe(DATA_AVAILABLE);
    expect(m.bus.inb(DSP_READ_DATA)).toBe(0xaa);
    expect(m.bus.inb(DSP_READ_STATUS) & DATA_AVAILABLE).toBe(0);
    expect(m.bus.inb(DSP_WRITE_STATUS) & BUSY).toBe(0);
    expect(m.sb.snapshot().dsp).toBe('ready');
  });

  it('ignores a pulse shorter than 3 µs: no 0AAh, a warning, and the DSP answers nothing until a proper reset', () => {
    const m = machine();
    m.bus.outb(DSP_RESET, 1);
    m.run(RESET_PULSE_NS - 1);
    m.bus.outb(DSP_RESET, 0);
    expect(dspRead(m)).toBe(-1);
    dspWrite(m, GET_VERSION);
    expect(m.bus.inb(DSP_READ_STATUS) & DATA_AVAILABLE).toBe(0);
    expect(m.sb.snapshot()).toMatchObject({ dsp: 'no-response' });
    expect(m.sb.snapshot().warnings).toBeGreaterThanOrEqual(1);
    expect(resetDsp(m)).toBe(0xaa);
  });

  it('stops a transfer in progress and drops DREQ and the interrupt line', () => {
    const m = machine();
    resetDsp(m);
    program(m, 5, SINGLE | READ | AUTOINIT, 0x2_0000, 512);
    startDma(m, DMA16 | CMD_AUTOINIT | CMD_FIFO, MODE_SIGNED, 256);
    dspWrite(m, FORCE_IRQ16);
    m.run(2 * MS);
    expect(m.sb.snapshot()).toMatchObject({ mode: 'playback', irqLine: true });
    m.bus.outb(DSP_RESET, 1);
    const snap = m.sb.snapshot();
    expect(snap).toMatchObject({ mode: 'idle', dreq: false, irqLine: false, dsp: 'in-reset' });
    expect(m.dma.snapshot().dma2.channels[1]!.dreq).toBe(false);
    expect(edges(m)).toEqual([true, false]);
  });
});

describe('identification and rates', () => {
  it('E1h answers version 4.05; E0h answers its argument inverted', () => {
    const m = machine();
    resetDsp(m);
    dspWrite(m, GET_VERSION);
    expect([dspRead(m), dspRead(m)]).toEqual([4, 5]);
    dspWrite(m, IDENTIFY);
    dspWrite(m, 0x5a);
    expect(dspRead(m)).toBe(0xa5);
    expect(m.sb.snapshot().dspVersion).toBe('4.05');
  });

  it('41h and 42h set the output and input rates, high byte first; 40h sets both from a time constant', () => {
    const m = machine();
    resetDsp(m);
    setRate(m, OUTPUT_RATE, 44_100);
    setRate(m, INPUT_RATE, 8_000);
    expect(m.sb.snapshot()).toMatchObject({ outputRate: 44_100, inputRate: 8_000 });
    dspWrite(m, TIME_CONSTANT);
    dspWrite(m, 256 - 45); // 1 000 000 / 45 = 22 222 Hz
    expect(m.sb.snapshot()).toMatchObject({ outputRate: 22_222, inputRate: 22_222 });
  });

  it('the DAC takes one frame per sample period, the first one period after the command', () => {
    const m = machine();
    resetDsp(m);
    setRate(m, OUTPUT_RATE, 8_000);
    program(m, 1, SINGLE | READ, 0x1_0000, 800);
    startDma(m, DMA8 | CMD_FIFO, 0, 800);
    const t0 = m.scheduler.now;
    m.scheduler.runUntil(t0 + 125_000 - 1);
    expect(m.sb.snapshot().framesOutput).toBe(0);
    m.scheduler.runUntil(t0 + 125_000);
    expect(m.sb.snapshot().framesOutput).toBe(1);
    m.scheduler.runUntil(t0 + 100 * MS - 1);
    expect(m.sb.snapshot().framesOutput).toBe(799);
    m.scheduler.runUntil(t0 + 100 * MS);
    expect(m.sb.snapshot()).toMatchObject({ framesOutput: 800, underruns: 0 });
    m.run(MS);
    expect(m.sb.snapshot()).toMatchObject({ framesOutput: 800, mode: 'idle' });
  });
});

describe('8-bit playback', () => {
  it('single-cycle C0h: bursts of single transfers, one interrupt when the block is fetched, acknowledged by reading 2xEh', () => {
    const m = machine();
    resetDsp(m);
    const N = 500;
    const data = pattern(N, 1);
    m.memory.bytes.set(data, 0x1_0000);
    setRate(m, OUTPUT_RATE, 8_000);
    program(m, 1, SINGLE | READ, 0x1_0000, N);
    dspWrite(m, SPEAKER_ON);
    startDma(m, DMA8 | CMD_FIFO, 0, N);
    const t0 = m.scheduler.now;
    runUntil(m, () => m.irqLevels.length > 0, 200 * MS);
    // The last byte is fetched while the FIFO still holds up to 64 bytes to play.
    expect(m.irqLevels[0]).toMatchObject({ irq: IRQ, level: true });
    const irqAt = m.irqLevels[0]!.time - t0;
    expect(irqAt).toBeLessThan((N * 1e9) / 8_000);
    expect(irqAt).toBeGreaterThan(((N - FIFO_BYTES) * 1e9) / 8_000);
    expect(mixerRead(m, MIXER_IRQ_STATUS) & 0x03).toBe(STATUS_8BIT);
    m.run(10 * MS);
    expect(edges(m)).toEqual([true]); // held until acknowledged
    m.bus.inb(DSP_READ_STATUS);
    expect(edges(m)).toEqual([true, false]);
    expect(mixerRead(m, MIXER_IRQ_STATUS) & 0x03).toBe(0);
    m.run(100 * MS);
    expect(firstDiff(m.sb.outputPcm(), data)).toBe(-1);
    expect(m.sb.snapshot()).toMatchObject({ mode: 'idle', underruns: 0, interrupts: 1, bytesPlayed: N, speaker: true });
    // Single mode: one DACK per byte; the DSP asks for the FIFO's worth, then half of it at a time.
    expect(count(m, EventKind.Dack, 1)).toBe(N);
    const requests = count(m, EventKind.Dreq, 1);
    expect(requests).toBeGreaterThanOrEqual(Math.ceil((N - FIFO_BYTES) / (FIFO_BYTES / 2)));
    expect(requests).toBeLessThanOrEqual(Math.ceil((N - FIFO_BYTES) / (FIFO_BYTES / 2)) + 2);
  });

  it('14h plays 8-bit unsigned mono single-cycle; 48h + 1Ch plays auto-initialize until DAh', () => {
    const m = machine();
    resetDsp(m);
    setRate(m, OUTPUT_RATE, 11_025);
    const single = pattern(300, 2);
    m.memory.bytes.set(single, 0x1_0000);
    program(m, 1, SINGLE | READ, 0x1_0000, 300);
    dspWrite(m, DAC8_SINGLE);
    dspWrite(m, (300 - 1) & 0xff);
    dspWrite(m, (300 - 1) >> 8);
    runUntil(m, () => m.irqLevels.length === 1, 100 * MS);
    m.bus.inb(DSP_READ_STATUS);
    m.run(50 * MS);
    expect(firstDiff(m.sb.outputPcm(), single)).toBe(-1);

    m.sb.clearOutput();
    const ring = pattern(200, 3);
    m.memory.bytes.set(ring, 0x1_2000);
    program(m, 1, SINGLE | READ | AUTOINIT, 0x1_2000, 200);
    let blocks = 0;
    m.onInterrupt(() => {
      blocks++;
      if (blocks === 3) dspWrite(m, EXIT_AUTO8); // block 4 is being fetched: it is the last
      m.bus.inb(DSP_READ_STATUS);
    });
    dspWrite(m, BLOCK_SIZE);
    dspWrite(m, (100 - 1) & 0xff);
    dspWrite(m, (100 - 1) >> 8);
    dspWrite(m, DAC8_AUTO);
    m.run(200 * MS);
    expect(blocks).toBe(4);
    expect(m.sb.snapshot()).toMatchObject({ mode: 'idle', underruns: 0, autoInit: true });
    expect(firstDiff(m.sb.outputPcm(), repeat(ring, 400))).toBe(-1);
  });

  it('single-cycle blocks chained from the ISR play back to back, without a gap or an underrun', () => {
    const m = machine();
    resetDsp(m);
    const BLOCK = 200;
    const data = pattern(BLOCK * 5, 13);
    m.memory.bytes.set(data, 0x1_0000);
    setRate(m, OUTPUT_RATE, 11_025);
    let block = 0;
    const next = () => {
      program(m, 1, SINGLE | READ, 0x1_0000 + block * BLOCK, BLOCK);
      startDma(m, DMA8 | CMD_FIFO, 0, BLOCK);
    };
    m.onInterrupt(() => {
      m.bus.inb(DSP_READ_STATUS);
      if (++block < 5) next();
    });
    next();
    m.run(200 * MS);
    expect(block).toBe(5);
    expect(m.sb.snapshot()).toMatchObject({ underruns: 0, framesOutput: BLOCK * 5, mode: 'idle' });
    expect(firstDiff(m.sb.outputPcm(), data)).toBe(-1);
  });

  it('works with the 8237 in demand mode: fewer, longer bursts', () => {
    const m = machine();
    resetDsp(m);
    const data = pattern(400, 4);
    m.memory.bytes.set(data, 0x1_0000);
    setRate(m, OUTPUT_RATE, 22_050);
    program(m, 1, DEMAND | READ, 0x1_0000, 400);
    startDma(m, DMA8 | CMD_FIFO, 0, 400);
    m.run(50 * MS);
    expect(firstDiff(m.sb.outputPcm(), data)).toBe(-1);
    expect(m.sb.snapshot().underruns).toBe(0);
    expect(count(m, EventKind.Dack, 1)).toBeLessThan(40);
  });
});

/** A common buffer of two halves on channel 5; the ISR acknowledges 16-bit interrupts and records their times. */
function autoInit16(m: M, opts: { rate: number; halfWords: number; seed: number; onBlock?: (n: number) => void }) {
  const ringBytes = opts.halfWords * 4;
  const ring = pattern(ringBytes, opts.seed);
  const at = 0x2_0000;
  m.memory.bytes.set(ring, at);
  const times: number[] = [];
  m.onInterrupt(() => {
    if ((mixerRead(m, MIXER_IRQ_STATUS) & STATUS_16BIT) === 0) return;
    times.push(m.scheduler.now);
    opts.onBlock?.(times.length);
    m.bus.inb(DSP_ACK16);
  });
  setRate(m, OUTPUT_RATE, opts.rate);
  program(m, 5, SINGLE | READ | AUTOINIT, at, opts.halfWords * 2);
  startDma(m, DMA16 | CMD_AUTOINIT | CMD_FIFO, MODE_SIGNED, opts.halfWords);
  return { ring, times, t0: m.scheduler.now };
}

describe('16-bit auto-initialize playback', () => {
  it('B6h over a ring buffer interrupts at each half, acknowledged by reading 2xFh, and plays the ring in order', () => {
    const m = machine();
    resetDsp(m);
    const half = 256;
    const { ring, times } = autoInit16(m, { rate: 22_050, halfWords: half, seed: 5 });
    m.run(8.5 * ((half * 1e9) / 22_050));
    expect(times.length).toBe(8);
    const period = (half * 1e9) / 22_050;
    for (let i = 1; i < times.length; i++) expect(Math.abs(times[i]! - times[i - 1]! - period)).toBeLessThan(3_000);
    expect(m.irqLevels.every((e) => e.irq === IRQ)).toBe(true);
    const out = m.sb.outputPcm();
    expect(out.length).toBeGreaterThan(7 * half * 2);
    expect(firstDiff(out, repeat(ring, out.length))).toBe(-1);
    const snap = m.sb.snapshot();
    expect(snap).toMatchObject({ mode: 'playback', autoInit: true, blockLength: half, blockBytes: half * 2, format: { bits: 16, channels: 1, signed: true }, underruns: 0, dmaChannel: 5 });
    expect(snap.blockPosition).toBeGreaterThanOrEqual(0);
    expect(snap.blockPosition).toBeLessThan(half * 2);
  });

  it('reading 2xEh does not acknowledge a 16-bit interrupt, and 2xFh does not acknowledge an 8-bit one', () => {
    const m = machine();
    resetDsp(m);
    dspWrite(m, FORCE_IRQ16);
    m.bus.inb(DSP_READ_STATUS);
    expect(mixerRead(m, MIXER_IRQ_STATUS) & 0x03).toBe(STATUS_16BIT);
    expect(edges(m)).toEqual([true]);
    m.bus.inb(DSP_ACK16);
    expect(edges(m)).toEqual([true, false]);
    dspWrite(m, FORCE_IRQ8);
    m.bus.inb(DSP_ACK16);
    expect(mixerRead(m, MIXER_IRQ_STATUS) & 0x03).toBe(STATUS_8BIT);
    m.bus.inb(DSP_READ_STATUS);
    expect(edges(m)).toEqual([true, false, true, false]);
  });

  it('D5h pauses (no DREQ, nothing played, no underruns), D6h continues, D9h ends after the current block', () => {
    const m = machine();
    resetDsp(m);
    const half = 256;
    let exitAt = -1;
    const run = autoInit16(m, {
      rate: 22_050,
      halfWords: half,
      seed: 6,
      onBlock: (n) => {
        if (n === exitAt) dspWrite(m, EXIT_AUTO16);
      },
    });
    m.run(20 * MS);
    dspWrite(m, PAUSE16);
    const paused = m.sb.snapshot();
    expect(paused).toMatchObject({ paused: true, dreq: false });
    const requestsBefore = count(m, EventKind.Dreq, 5);
    m.run(10 * MS);
    expect(m.sb.snapshot()).toMatchObject({ framesOutput: paused.framesOutput, underruns: 0, paused: true });
    expect(count(m, EventKind.Dreq, 5)).toBe(requestsBefore);
    dspWrite(m, PAUSE8); // the 8-bit pause does not touch a 16-bit transfer
    dspWrite(m, CONTINUE16);
    expect(m.sb.snapshot().warnings).toBe(1);
    m.run(5 * MS);
    expect(m.sb.snapshot().framesOutput).toBeGreaterThan(paused.framesOutput + 100);
    exitAt = run.times.length + 1;
    m.run(100 * MS);
    expect(run.times.length).toBe(exitAt + 1);
    const done = m.sb.snapshot();
    expect(done).toMatchObject({ mode: 'idle', underruns: 0, dreq: false, framesOutput: (exitAt + 1) * half });
    expect(firstDiff(m.sb.outputPcm(), repeat(run.ring, (exitAt + 1) * half * 2))).toBe(-1);
  });
});

describe('capture', () => {
  const gen = (frame: number, channel: number) => ((frame * 911 + channel * 12_345) % 65_536) - 32_768;
  const s16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];

  it('16-bit stereo single-cycle capture (BAh) delivers the generator frame by frame, byte-exact, then interrupts', () => {
    const m = machine();
    resetDsp(m);
    m.sb.setInput(gen);
    const frames = 300;
    setRate(m, INPUT_RATE, 11_025);
    program(m, 5, SINGLE | WRITE, 0x3_0000, frames * 2);
    startDma(m, DMA16 | CMD_ADC | CMD_FIFO, MODE_STEREO | MODE_SIGNED, frames * 2);
    runUntil(m, () => m.irqLevels.length > 0, 100 * MS);
    expect(mixerRead(m, MIXER_IRQ_STATUS) & 0x03).toBe(STATUS_16BIT);
    const expected = Uint8Array.from(Array.from({ length: frames }, (_, f) => [...s16(gen(f, 0)), ...s16(gen(f, 1))]).flat());
    expect(firstDiff(m.memory.bytes.subarray(0x3_0000, 0x3_0000 + frames * 4), expected)).toBe(-1);
    expect(m.memory.bytes[0x3_0000 + frames * 4]).toBe(0);
    m.bus.inb(DSP_ACK16);
    m.run(10 * MS);
    expect(m.sb.snapshot()).toMatchObject({ mode: 'idle', overruns: 0, bytesCaptured: frames * 4, interrupts: 1 });
  });

  it('8-bit formats take the high byte (unsigned adds 80h); 24h captures raw PCM handed in', () => {
    const m = machine();
    resetDsp(m);
    m.sb.setInput(gen);
    setRate(m, INPUT_RATE, 8_000);
    program(m, 1, SINGLE | WRITE, 0x1_0000, 100);
    startDma(m, DMA8 | CMD_ADC | CMD_FIFO, MODE_STEREO, 100);
    runUntil(m, () => m.irqLevels.length === 1, 100 * MS);
    m.bus.inb(DSP_READ_STATUS);
    const expected = Uint8Array.from({ length: 100 }, (_, i) => ((gen(i >> 1, i & 1) >> 8) + 0x80) & 0xff);
    expect(firstDiff(m.memory.bytes.subarray(0x1_0000, 0x1_0000 + 100), expected)).toBe(-1);

    const raw = pattern(150, 8);
    m.sb.setInput(raw);
    program(m, 1, SINGLE | WRITE, 0x1_1000, 150);
    dspWrite(m, ADC8_SINGLE);
    dspWrite(m, 149);
    dspWrite(m, 0);
    runUntil(m, () => m.irqLevels.length === 3, 100 * MS);
    expect(firstDiff(m.memory.bytes.subarray(0x1_1000, 0x1_1000 + 150), raw)).toBe(-1);
  });
});

describe("recent output and input (the Machine panel's scope)", () => {
  const gen = (frame: number, channel: number) => ((frame * 911 + channel * 12_345) % 65_536) - 32_768;
  /** Signed 16-bit from two bytes, little-endian. */
  const s16 = (lo: number, hi: number) => ((hi << 24) >> 16) | lo;

  it('answers nothing before anything was played or captured', () => {
    const m = machine();
    resetDsp(m);
    m.sb.setInput(gen);
    expect(m.sb.recentOutput(100)).toEqual(new Int16Array(0));
    expect(m.sb.recentInput(100)).toEqual(new Int16Array(0));
  });

  it('recentOutput: the left channel of the last frames the DAC output, 8-bit signed stereo, while playing and after', () => {
    const m = machine();
    resetDsp(m);
    const frames = 200;
    const data = pattern(frames * 2, 11);
    m.memory.bytes.set(data, 0x1_0000);
    setRate(m, OUTPUT_RATE, 8_000);
    program(m, 1, SINGLE | READ, 0x1_0000, frames * 2);
    startDma(m, DMA8 | CMD_FIFO, MODE_SIGNED | MODE_STEREO, frames * 2);
    const left = (f: number) => ((data[f * 2]! << 24) >> 24) << 8; // signed 8-bit, scaled to 16
    m.run(10 * MS);
    const played = m.sb.snapshot().framesOutput;
    expect(played).toBe(80);
    expect([...m.sb.recentOutput(20)]).toEqual(Array.from({ length: 20 }, (_, k) => left(played - 20 + k)));
    m.run(100 * MS);
    expect(m.sb.snapshot()).toMatchObject({ mode: 'idle', framesOutput: frames, underruns: 0 });
    expect([...m.sb.recentOutput(50)]).toEqual(Array.from({ length: 50 }, (_, k) => left(frames - 50 + k)));
    // Asked for more than was played: all of it, oldest first.
    expect([...m.sb.recentOutput(1000)]).toEqual(Array.from({ length: frames }, (_, f) => left(f)));
  });

  it('recentOutput: 16-bit signed mono from an auto-initialize ring, in ring order', () => {
    const m = machine();
    resetDsp(m);
    const { ring } = autoInit16(m, { rate: 22_050, halfWords: 128, seed: 12 });
    m.run(60 * MS);
    const snap = m.sb.snapshot();
    expect(snap.underruns).toBe(0);
    const n = 882; // 40 ms at 22 050 Hz
    const expected = Array.from({ length: n }, (_, k) => {
      const at = ((snap.framesOutput - n + k) * 2) % ring.length;
      return s16(ring[at]!, ring[at + 1]!);
    });
    expect(snap.framesOutput).toBeGreaterThan(n);
    expect([...m.sb.recentOutput(n)]).toEqual(expected);
    expect(m.sb.recentOutput(n).some((v) => v < 0)).toBe(true);
  });

  it("recentInput: the generator's left channel for the last frames the ADC took, while capturing and after", () => {
    const m = machine();
    resetDsp(m);
    m.sb.setInput(gen);
    const frames = 300;
    setRate(m, INPUT_RATE, 11_025);
    program(m, 5, SINGLE | WRITE, 0x3_0000, frames * 2);
    startDma(m, DMA16 | CMD_ADC | CMD_FIFO, MODE_STEREO | MODE_SIGNED, frames * 2);
    m.run(10 * MS);
    const taken = Math.floor((10 * MS * 11_025) / 1e9); // frame k is taken at (k+1) periods
    expect([...m.sb.recentInput(30)]).toEqual(Array.from({ length: 30 }, (_, k) => gen(taken - 30 + k, 0)));
    runUntil(m, () => m.irqLevels.length > 0, 100 * MS);
    m.bus.inb(DSP_ACK16);
    m.run(10 * MS);
    expect(m.sb.snapshot()).toMatchObject({ mode: 'idle', overruns: 0, bytesCaptured: frames * 4 });
    // The same samples the driver's buffer got, read back from memory.
    const got = Array.from({ length: 40 }, (_, k) => {
      const at = 0x3_0000 + (frames - 40 + k) * 4;
      return s16(m.memory.bytes[at]!, m.memory.bytes[at + 1]!);
    });
    expect([...m.sb.recentInput(40)]).toEqual(got);
    expect([...m.sb.recentInput(40)]).toEqual(Array.from({ length: 40 }, (_, k) => gen(frames - 40 + k, 0)));
    expect(m.sb.recentInput(1000).length).toBe(frames);
  });

  it('recentInput: raw PCM read back at its byte offsets, 8-bit unsigned mono and 16-bit signed stereo', () => {
    const m = machine();
    resetDsp(m);
    const raw8 = pattern(150, 13);
    m.sb.setInput(raw8);
    setRate(m, INPUT_RATE, 8_000);
    program(m, 1, SINGLE | WRITE, 0x1_1000, 150);
    dspWrite(m, ADC8_SINGLE);
    dspWrite(m, 149);
    dspWrite(m, 0);
    runUntil(m, () => m.irqLevels.length === 1, 100 * MS);
    m.bus.inb(DSP_READ_STATUS);
    expect(firstDiff(m.memory.bytes.subarray(0x1_1000, 0x1_1000 + 150), raw8)).toBe(-1);
    expect([...m.sb.recentInput(30)]).toEqual(Array.from({ length: 30 }, (_, k) => (raw8[120 + k]! - 128) << 8));

    const frames = 100;
    const raw16 = pattern(frames * 4, 14);
    m.sb.setInput(raw16);
    program(m, 5, SINGLE | WRITE, 0x3_0000, frames * 2);
    startDma(m, DMA16 | CMD_ADC | CMD_FIFO, MODE_STEREO | MODE_SIGNED, frames * 2);
    runUntil(m, () => m.irqLevels.length === 3, 100 * MS);
    m.bus.inb(DSP_ACK16);
    expect(firstDiff(m.memory.bytes.subarray(0x3_0000, 0x3_0000 + frames * 4), raw16)).toBe(-1);
    const left = (f: number) => s16(raw16[f * 4]!, raw16[f * 4 + 1]!);
    expect([...m.sb.recentInput(25)]).toEqual(Array.from({ length: 25 }, (_, k) => left(frames - 25 + k)));
    expect([...m.sb.recentInput(500)]).toEqual(Array.from({ length: frames }, (_, f) => left(f)));
  });
});

describe('underrun and overrun', () => {
  it('counts an underrun for each frame the masked channel did not deliver, and plays silence for it', () => {
    const m = machine();
    resetDsp(m);
    const data = pattern(4096, 9);
    m.memory.bytes.set(data, 0x2_0000);
    setRate(m, OUTPUT_RATE, 44_100);
    program(m, 5, SINGLE | READ | AUTOINIT, 0x2_0000, 2048, false); // left masked
    startDma(m, DMA16 | CMD_AUTOINIT | CMD_FIFO, MODE_SIGNED, 1024);
    const t0 = m.scheduler.now;
    m.scheduler.runUntil(t0 + 10 * MS); // 441 sample periods
    expect(m.sb.snapshot()).toMatchObject({ underruns: 441, framesOutput: 441, bytesPlayed: 0, dreq: true });
    expect(m.sb.outputPcm().every((b) => b === 0)).toBe(true);
    m.bus.outb(DMA2_SINGLE_MASK, 1); // unmask channel 5
    m.run(5 * MS);
    const snap = m.sb.snapshot();
    expect(snap.underruns).toBe(441);
    expect(firstDiff(m.sb.outputPcm().subarray(441 * 2), data.subarray(0, (snap.framesOutput - 441) * 2))).toBe(-1);
  });

  it('counts an overrun for each frame the full FIFO could not keep, and the data jumps over them', () => {
    const m = machine();
    resetDsp(m);
    const gen = (frame: number, channel: number) => (frame * 2 + channel) * 3;
    m.sb.setInput(gen);
    setRate(m, INPUT_RATE, 11_025);
    program(m, 5, SINGLE | WRITE, 0x3_0000, 256, false);
    startDma(m, DMA16 | CMD_ADC | CMD_FIFO, MODE_STEREO | MODE_SIGNED, 256);
    const t0 = m.scheduler.now;
    m.scheduler.runUntil(t0 + Math.floor(100e9 / 11_025)); // 100 frames of 4 bytes; the FIFO keeps 16
    expect(m.sb.snapshot()).toMatchObject({ overruns: 100 - FIFO_BYTES / 4, fifoFill: FIFO_BYTES });
    m.bus.outb(DMA2_SINGLE_MASK, 1);
    m.run(2 * MS);
    const word = (i: number) => m.memory.bytes[0x3_0000 + i * 2]! | (m.memory.bytes[0x3_0000 + i * 2 + 1]! << 8);
    expect(Array.from({ length: 34 }, (_, i) => word(i))).toEqual([
      ...Array.from({ length: 32 }, (_, i) => i * 3), // frames 0–15
      100 * 2 * 3, // then frame 100
      (100 * 2 + 1) * 3,
    ]);
    expect(m.sb.snapshot().overruns).toBe(84);
  });
});

describe('faults', () => {
  function play8(m: M, bytes: number, rate = 8_000): Uint8Array {
    const data = pattern(bytes, 10);
    m.memory.bytes.set(data, 0x1_0000);
    setRate(m, OUTPUT_RATE, rate);
    program(m, 1, SINGLE | READ, 0x1_0000, bytes);
    startDma(m, DMA8 | CMD_FIFO, 0, bytes);
    return data;
  }

  it('never interrupting: blocks still play, no IRQ edge, no status bit, forced interrupts neither', () => {
    const m = machine({ neverInterrupt: true });
    resetDsp(m);
    const data = play8(m, 300);
    dspWrite(m, FORCE_IRQ8);
    m.run(100 * MS);
    expect(firstDiff(m.sb.outputPcm(), data)).toBe(-1);
    expect(m.irqLevels).toEqual([]);
    expect(mixerRead(m, MIXER_IRQ_STATUS) & 0x03).toBe(0);
  });

  it('slow device: the sample clock runs slowFactor times slower', () => {
    const m = machine({ slowFactor: 2 });
    resetDsp(m);
    play8(m, 800);
    const t0 = m.scheduler.now;
    m.scheduler.runUntil(t0 + 100 * MS);
    expect(m.sb.snapshot().framesOutput).toBe(400);
    m.scheduler.runUntil(t0 + 200 * MS);
    expect(m.sb.snapshot().framesOutput).toBe(800);
  });

  it('I/O error at byte N: the DSP takes N bytes, stops, raises nothing more until a reset, and works again after it', () => {
    const m = machine({ ioErrorAtByte: 100 });
    resetDsp(m);
    play8(m, 500);
    m.run(200 * MS);
    const snap = m.sb.snapshot();
    expect(snap).toMatchObject({ error: true, mode: 'idle', dreq: false, interrupts: 0 });
    expect(snap.bytesPlayed).toBeLessThanOrEqual(100);
    expect(m.irqLevels).toEqual([]);
    expect(m.dma.snapshot().dma1.channels[1]!.dreq).toBe(false);
    startDma(m, DMA8 | CMD_FIFO, 0, 10); // ignored while failed
    m.run(10 * MS);
    expect(m.irqLevels).toEqual([]);
    expect(resetDsp(m)).toBe(0xaa);
    expect(m.sb.snapshot().error).toBe(false);
    m.sb.clearOutput();
    const data = play8(m, 200);
    m.run(100 * MS);
    expect(edges(m)).toEqual([true]);
    expect(firstDiff(m.sb.outputPcm(), data)).toBe(-1);
  });
});

describe('robustness', () => {
  it('ignores an unknown command (counted as a warning) and goes on answering', () => {
    const m = machine();
    resetDsp(m);
    dspWrite(m, 0x66);
    dspWrite(m, DMA16 | 0x01); // Bxh with the reserved bit set
    dspWrite(m, GET_VERSION);
    expect([dspRead(m), dspRead(m)]).toEqual([4, 5]);
    expect(m.sb.snapshot().warnings).toBe(2);
  });

  it('mixer: 80h/81h read back IRQ 5 and DMA 1/5 and ignore writes; other registers are stored; 00h resets them', () => {
    const m = machine();
    expect(mixerRead(m, MIXER_IRQ_SELECT)).toBe(0x02);
    expect(mixerRead(m, MIXER_DMA_SELECT)).toBe(0x22);
    m.bus.outb(MIXER_ADDRESS, MIXER_IRQ_SELECT);
    m.bus.outb(MIXER_DATA, 0x08);
    expect(mixerRead(m, MIXER_IRQ_SELECT)).toBe(0x02);
    m.bus.outb(MIXER_ADDRESS, 0x30);
    m.bus.outb(MIXER_DATA, 0xc0);
    expect(mixerRead(m, 0x30)).toBe(0xc0);
    expect(m.bus.inb(MIXER_ADDRESS)).toBe(0x30);
    m.bus.outb(MIXER_ADDRESS, MIXER_RESET);
    m.bus.outb(MIXER_DATA, 0);
    expect(mixerRead(m, 0x30)).toBe(0);
  });

  it('D8h reports the speaker; the speaker does not silence the output (an SB16 always plays)', () => {
    const m = machine();
    resetDsp(m);
    dspWrite(m, SPEAKER_STATUS);
    expect(dspRead(m)).toBe(0x00);
    dspWrite(m, SPEAKER_ON);
    dspWrite(m, SPEAKER_STATUS);
    expect(dspRead(m)).toBe(0xff);
  });

  it('toWav writes a canonical RIFF/WAVE header, with a pad byte after odd data', () => {
    const m = machine();
    resetDsp(m);
    const data = pattern(101, 11);
    m.memory.bytes.set(data, 0x1_0000);
    setRate(m, OUTPUT_RATE, 8_000);
    program(m, 1, SINGLE | READ, 0x1_0000, 101);
    startDma(m, DMA8 | CMD_FIFO, 0, 101);
    m.run(50 * MS);
    const wav = m.sb.toWav();
    const v = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    const text = (at: number) => String.fromCharCode(...wav.subarray(at, at + 4));
    expect([text(0), text(8), text(12), text(36)]).toEqual(['RIFF', 'WAVE', 'fmt ', 'data']);
    expect(v.getUint32(4, true)).toBe(36 + 101 + 1);
    expect([v.getUint32(16, true), v.getUint16(20, true), v.getUint16(22, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint16(32, true), v.getUint16(34, true)]).toEqual([16, 1, 1, 8_000, 8_000, 1, 8]);
    expect(v.getUint32(40, true)).toBe(101);
    expect(wav.length).toBe(44 + 102);
    expect(firstDiff(wav.subarray(44, 145), data)).toBe(-1);
  });

  it('random port traffic never throws or runs away', () => {
    const m = machine();
    const rng = new Random(4321);
    m.sb.setInput((f) => f);
    program(m, 1, SINGLE | READ | AUTOINIT, 0x1_0000, 1000);
    program(m, 5, SINGLE | WRITE | AUTOINIT, 0x2_0000, 1000);
    for (let i = 0; i < 20_000; i++) {
      const port = BASE + rng.int(0, 15);
      if (rng.int(0, 3) === 0) m.bus.inb(port);
      else m.bus.outb(port, rng.int(0, 255));
      if (rng.int(0, 15) === 0) expect(m.run(rng.int(0, 200_000))).not.toBe('runaway');
    }
    expect(() => m.sb.snapshot()).not.toThrow();
  });

  it('the same driver gives the same event stream, event for event', () => {
    const once = () => {
      const m = machine();
      resetDsp(m);
      autoInit16(m, { rate: 44_100, halfWords: 128, seed: 12 });
      m.run(30 * MS);
      return m.trace.events;
    };
    const a = once();
    expect(a.length).toBeGreaterThan(1000);
    expect(once()).toEqual(a);
  });
});

describe('with a real tool', () => {
  it('plays a 1 kHz sine, 16-bit stereo at 44.1 kHz, for 0.5 s through auto-init DMA; sox reads back exactly that', () => {
    const RATE = 44_100;
    const FRAMES = RATE / 2;
    const AMPLITUDE = 16_384;
    const BLOCK_FRAMES = 1_050; // 21 blocks make 0.5 s exactly
    const BLOCKS = FRAMES / BLOCK_FRAMES;
    const BLOCK_BYTES = BLOCK_FRAMES * 4;
    const RING = 0x4_0000; // two halves inside one 128 KiB page
    const pcm = new Uint8Array(FRAMES * 4);
    const view = new DataView(pcm.buffer);
    for (let n = 0; n < FRAMES; n++) {
      const phase = (2 * Math.PI * 1_000 * n) / RATE;
      view.setInt16(n * 4, Math.round(AMPLITUDE * Math.sin(phase)), true);
      view.setInt16(n * 4 + 2, Math.round(AMPLITUDE * Math.cos(phase)), true);
    }
    const m = machine();
    resetDsp(m);
    const fillHalf = (half: number, block: number) => m.memory.bytes.set(pcm.subarray(block * BLOCK_BYTES, (block + 1) * BLOCK_BYTES), RING + half * BLOCK_BYTES);
    fillHalf(0, 0);
    fillHalf(1, 1);
    let done = 0;
    // The driver's ISR: a block has been fetched, so its half of the ring is free for the block after next.
    m.onInterrupt(() => {
      if ((mixerRead(m, MIXER_IRQ_STATUS) & STATUS_16BIT) === 0) return;
      done++;
      if (done + 1 < BLOCKS) fillHalf((done - 1) % 2, done + 1);
      if (done === BLOCKS - 1) dspWrite(m, EXIT_AUTO16); // the last block is being fetched
      m.bus.inb(DSP_ACK16);
      if (done === BLOCKS) m.bus.outb(DMA2_SINGLE_MASK, 0x04 | 1);
    });
    program(m, 5, SINGLE | READ | AUTOINIT, RING, BLOCK_BYTES); // 2 halves, counted in words
    setRate(m, OUTPUT_RATE, RATE);
    startDma(m, DMA16 | CMD_AUTOINIT | CMD_FIFO, MODE_STEREO | MODE_SIGNED, BLOCK_FRAMES * 2);
    const t0 = m.scheduler.now;
    const wall = performance.now();
    m.scheduler.runUntil(t0 + 600 * MS);
    const snap = m.sb.snapshot();
    const wallMs = performance.now() - wall;
    console.log(`sb16: 0.5 s of 44.1 kHz 16-bit stereo simulated in ${wallMs.toFixed(1)} ms (${m.scheduler.eventsRun} events)`);
    expect(done).toBe(BLOCKS);
    expect(snap).toMatchObject({ mode: 'idle', underruns: 0, framesOutput: FRAMES, bytesPlayed: FRAMES * 4 });

    const wav = m.sb.toWav();
    expect(firstDiff(wav.subarray(44), pcm)).toBe(-1); // no lost or repeated sample
    const dir = mkdtempSync(join(tmpdir(), 'sb16-'));
    try {
      const file = join(dir, 'sine.wav');
      writeFileSync(file, wav);
      const info = (flag: string) => execFileSync('sox', ['--i', flag, file], { encoding: 'utf8' }).trim();
      expect(info('-r')).toBe('44100');
      expect(info('-c')).toBe('2');
      expect(info('-b')).toBe('16');
      expect(info('-s')).toBe(String(FRAMES));
      const stat = spawnSync('sox', [file, '-n', 'stat'], { encoding: 'utf8' });
      expect(stat.status).toBe(0);
      const rms = Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(stat.stderr)?.[1]);
      let sum = 0;
      for (let i = 0; i < pcm.length; i += 2) sum += (view.getInt16(i, true) / 32_768) ** 2;
      expect(rms).toBeCloseTo(Math.sqrt(sum / (pcm.length / 2)), 4);
      expect(rms).toBeCloseTo(AMPLITUDE / 32_768 / Math.SQRT2, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
