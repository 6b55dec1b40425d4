import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../machine/random';
import { Scheduler } from '../machine/scheduler';
import { ArraySink, EventKind } from '../trace/sink';
import { Fdc82077, fdcDefaultConfig } from './fdc82077';
import { initializeDmaAsBios, programDmaChannel } from './dmaProgramming';
import { IoBus } from './ioBus';
import type { DeviceFaults, IsaSlot } from './isaDevice';
import { IsaDma } from './isaDma';

// The 82077AA model against labs/devices/floppy.md, driven through port I/O only, as a
// driver would: the FDC's registers, the 8237's channel 2 and page register, and an IRQ 6
// line that records its levels. The datasheet's numbers are written out here rather than
// imported, so a wrong constant in the model cannot pass its own test.

// FDC ports (PC-AT mode)
const SRA = 0x3f0;
const SRB = 0x3f1;
const DOR = 0x3f2;
const MSR = 0x3f4;
const DSR = 0x3f4;
const FIFO = 0x3f5;
const DIR = 0x3f7;
const CCR = 0x3f7;
// DOR
const DOR_NRESET = 0x04;
const DOR_DMAGATE = 0x08;
const DOR_MOTEN0 = 0x10;
const DOR_RUN = DOR_NRESET | DOR_DMAGATE | DOR_MOTEN0; // drive 0 selected, motor on: 0x1C
// MSR
const RQM = 0x80;
const DIO = 0x40;
const NDMA = 0x20;
const CB = 0x10;
const D0B = 0x01;
const D1B = 0x02;
// DSR / CCR
const DSR_RESET = 0x80;
const RATE_500K = 0x00;
// DIR
const DSKCHG = 0x80;
// SRA / SRB (PS/2 layout)
const SRA_INT_PENDING = 0x80;
const SRA_NTRK0 = 0x10;
const SRB_MOT_EN0 = 0x01;
// Commands
const READ_DATA = 0x06;
const WRITE_DATA = 0x05;
const SPECIFY = 0x03;
const SENSE_DRIVE_STATUS = 0x04;
const RECALIBRATE = 0x07;
const SENSE_INTERRUPT = 0x08;
const SEEK = 0x0f;
const VERSION = 0x10;
const CONFIGURE = 0x13;
const MT = 0x80;
const MFM = 0x40;
// Status bits
const ST0_HD = 0x04;
const ST0_EC = 0x10;
const ST0_SE = 0x20;
const IC_ABNORMAL = 0x40;
const IC_INVALID = 0x80;
const IC_POLLING = 0xc0;
const ST1_MA = 0x01;
const ST1_ND = 0x04;
const ST1_OR = 0x10;
const ST1_DE = 0x20;
const ST1_EN = 0x80;
const ST2_WC = 0x10;
const ST2_DD = 0x20;
const ST3_ONES = 0x28; // bits 5 and 3 read 1
const ST3_T0 = 0x10;
const ST3_HD = 0x04;
// The BIOS's SPECIFY: SRT = 0xD (3 ms a step), HUT = 0xF (240 ms), HLT = 1 (2 ms), DMA mode
const SPECIFY_1 = 0xdf;
const SPECIFY_2 = 0x02;
const STEP_NS = 3_000_000;
const HLT_NS = 2_000_000;
// Geometry and timing of labs/devices/floppy.md
const SECTOR = 512;
const SPT = 18;
const IMAGE_BYTES = 80 * 2 * SPT * SECTOR;
const BYTE_NS = 16_000;
const HEADER_BYTES = 60;
const CRC_BYTES = 2;
const GAP3_BYTES = 108;
const INDEX_GAP_BYTES = 224;
const SPINUP_NS = 300_000_000;
const SEARCH_FAIL_NS = 400_000_000;
// 8237 DMA1, channel 2 (reference/hw/i8237a.md §3, §4.2)
const DMA_SINGLE_MASK = 0x0a;
const DMA_MODE = 0x0b;
const MODE_READ_FROM_DEVICE = 0x46; // single, write (I/O → memory), channel 2
const MODE_WRITE_TO_DEVICE = 0x4a; // single, read (memory → I/O), channel 2

const MiB = 1024 * 1024;
const ms = 1_000_000;

/** A disk whose every byte says where it is, so a misplaced sector shows. */
function patternImage(): Uint8Array {
  const image = new Uint8Array(IMAGE_BYTES);
  for (let i = 0; i < image.length; i++) image[i] = (Math.imul(i + 1, 2654435761) >>> 24) & 0xff;
  return image;
}

const lbaOf = (c: number, h: number, r: number) => (c * 2 + h) * SPT + (r - 1);

function machine(options: { image?: Uint8Array; faults?: DeviceFaults } = {}) {
  const scheduler = new Scheduler();
  const trace = new ArraySink();
  const bus = new IoBus(scheduler, trace);
  const memory = { bytes: new Uint8Array(4 * MiB), size: 4 * MiB };
  const dma = new IsaDma(bus, scheduler, memory, trace);
  initializeDmaAsBios(bus);
  const irq = { level: false, rises: [] as number[], falls: [] as number[], other: 0 };
  const slot: IsaSlot = {
    bus,
    dma,
    scheduler,
    trace,
    random: new Random(1),
    setIrq(line, level) {
      if (line !== 6) irq.other++;
      if (level === irq.level) throw new Error(`IRQ ${line} driven ${level ? 'high' : 'low'} twice`);
      irq.level = level;
      (level ? irq.rises : irq.falls).push(scheduler.now);
    },
  };
  const image = options.image ?? patternImage();
  const original = Uint8Array.from(image);
  const fdc = new Fdc82077(slot, fdcDefaultConfig, image, options.faults);
  return { scheduler, trace, bus, memory, dma, fdc, image, original, irq };
}

type M = ReturnType<typeof machine>;

/** Runs event by event until `pred` holds; fails instead of hanging. */
function until(m: M, pred: () => boolean, maxNs = 5_000 * ms): void {
  const end = m.scheduler.now + maxNs;
  while (!pred()) {
    const next = m.scheduler.peekTime();
    if (next === null) throw new Error('nothing left to run and the condition never held');
    if (next > end) throw new Error(`condition not met within ${maxNs} ns`);
    m.scheduler.step();
  }
}

const run = (m: M, ns: number) => m.scheduler.runUntil(m.scheduler.now + ns);
const msr = (m: M) => m.bus.inb(MSR);

/** The data sheet's "send byte" loop: RQM = 1 and DIO = 0 before every byte. */
function send(m: M, bytes: number[]): void {
  for (const b of bytes) {
    expect(msr(m) & (RQM | DIO)).toBe(RQM);
    m.bus.outb(FIFO, b);
  }
}

/** The "get byte" loop: read while RQM = 1 and DIO = 1. */
function results(m: M): number[] {
  const out: number[] = [];
  while ((msr(m) & (RQM | DIO)) === (RQM | DIO)) out.push(m.bus.inb(FIFO));
  return out;
}

function sense(m: M): number[] {
  send(m, [SENSE_INTERRUPT]);
  return results(m);
}

function waitIrq(m: M, maxNs?: number): number {
  const n = m.irq.rises.length;
  until(m, () => m.irq.rises.length > n, maxNs);
  return m.irq.rises.at(-1)!;
}

/** Reset, four senses, 500 kbit/s, SPECIFY, motor up to speed, RECALIBRATE. */
function init(m: M): void {
  m.bus.outb(DOR, 0);
  m.bus.outb(DOR, DOR_RUN);
  waitIrq(m);
  for (let i = 0; i < 4; i++) sense(m);
  m.bus.outb(CCR, RATE_500K);
  send(m, [SPECIFY, SPECIFY_1, SPECIFY_2]);
  send(m, [RECALIBRATE, 0]);
  waitIrq(m);
  expect(sense(m)).toEqual([ST0_SE, 0]);
  run(m, SPINUP_NS);
}

function seek(m: M, cylinder: number, head = 0): number[] {
  send(m, [SEEK, head << 2, cylinder]);
  waitIrq(m);
  return sense(m);
}

/** The classic 8237 sequence for channel 2: mask, clear flip-flop, mode, address, page, count − 1, unmask. */
function programDma(m: M, mode: number, physical: number, bytes: number, unmask = true): void {
  programDmaChannel(m.bus, 2, mode, physical, bytes, unmask);
}

interface Rw {
  c: number;
  h: number;
  r: number;
  eot?: number;
  mt?: boolean;
  write?: boolean;
  mfm?: boolean;
}

/** Issues READ DATA or WRITE DATA and waits for its result phase; returns the result and the times. */
function transfer(m: M, p: Rw): { result: number[]; start: number; end: number } {
  const op = (p.write ? WRITE_DATA : READ_DATA) | (p.mt ? MT : 0) | (p.mfm === false ? 0 : MFM);
  send(m, [op, p.h << 2, p.c, p.h, p.r, 2, p.eot ?? SPT, 0x1b, 0xff]);
  const start = m.scheduler.now;
  until(m, () => (msr(m) & (RQM | DIO)) === (RQM | DIO));
  const end = m.scheduler.now;
  return { result: results(m), start, end };
}

/** Index of the first byte where two arrays differ, or -1: big images compared without a deep-equality walk. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const memoryAt = (m: M, address: number, length: number) => Array.from(m.memory.bytes.subarray(address, address + length));
const imageAt = (bytes: Uint8Array, lba: number, sectors: number) => Array.from(bytes.subarray(lba * SECTOR, (lba + sectors) * SECTOR));

describe('ports, reset and the DMA gate', () => {
  it('decodes 0x3F0–0x3F2, 0x3F4–0x3F5 and 0x3F7, and leaves 0x3F6 (the IDE alternate status) to others', () => {
    const m = machine();
    for (const port of [0x3f0, 0x3f1, 0x3f2, 0x3f4, 0x3f5, 0x3f7]) expect(m.bus.ownerOf(port)).toMatch(/82077AA/);
    expect(m.bus.ownerOf(0x3f6)).toBeNull();
    expect(m.bus.ownerOf(0x3f3)).toBeNull();
  });

  it('holds the controller in reset from power-on: DOR 00h, MSR 00h, data register writes ignored', () => {
    const m = machine();
    expect(m.bus.inb(DOR)).toBe(0);
    expect(msr(m)).toBe(0);
    m.bus.outb(FIFO, SENSE_INTERRUPT);
    run(m, 10 * ms);
    expect(msr(m)).toBe(0);
    expect(m.irq.rises).toHaveLength(0);
    expect(m.fdc.snapshot().phase).toBe('reset');
  });

  it('leaving reset raises IRQ 6 once; four SENSE INTERRUPT STATUS give C0h–C3h with PCN 0, a fifth is invalid', () => {
    const m = machine();
    m.bus.outb(DOR, DOR_RUN);
    expect(msr(m)).toBe(RQM);
    waitIrq(m);
    expect(m.irq.level).toBe(true);
    send(m, [SENSE_INTERRUPT]);
    expect(m.irq.level).toBe(false); // the command clears INT
    expect(results(m)).toEqual([IC_POLLING | 0, 0]);
    for (const drive of [1, 2, 3]) expect(sense(m)).toEqual([IC_POLLING | drive, 0]);
    expect(sense(m)).toEqual([IC_INVALID]);
    expect(msr(m)).toBe(RQM);
    run(m, 10 * ms);
    expect(m.irq.rises).toHaveLength(1);
  });

  it('a DSR software reset clears itself, keeps the DOR, clears the PCNs and interrupts with the same four results', () => {
    const m = machine();
    init(m);
    expect(seek(m, 10)).toEqual([ST0_SE, 10]);
    m.bus.outb(DSR, DSR_RESET | RATE_500K);
    expect(msr(m)).toBe(RQM); // self-clearing
    expect(m.bus.inb(DOR)).toBe(DOR_RUN);
    waitIrq(m);
    expect([0, 1, 2, 3].map(() => sense(m))).toEqual([0, 1, 2, 3].map((d) => [IC_POLLING | d, 0]));
    expect(m.fdc.snapshot().cylinders).toEqual([0, 0, 0, 0]);
    expect(m.fdc.snapshot().headPositions[0]).toBe(10); // the heads did not move: only a RECALIBRATE brings them home
  });

  it('DOR bit 3 gates INT: the reset interrupt reaches IRQ 6 only when the gate opens', () => {
    const m = machine();
    m.bus.outb(DOR, DOR_NRESET | DOR_MOTEN0);
    run(m, 10 * ms);
    expect(m.irq.rises).toHaveLength(0);
    expect(m.bus.inb(SRA) & SRA_INT_PENDING).toBe(0);
    expect(m.fdc.snapshot().interruptPending).toBe(true);
    m.bus.outb(DOR, DOR_RUN);
    expect(m.irq.rises).toEqual([m.scheduler.now]);
    expect(m.bus.inb(SRA) & SRA_INT_PENDING).toBe(SRA_INT_PENDING);
  });

  it('DOR bit 3 gates DRQ too: a read with the gate closed overruns', () => {
    const m = machine();
    init(m);
    m.bus.outb(DOR, DOR_NRESET | DOR_MOTEN0);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    send(m, [READ_DATA | MFM, 0, 0, 0, 1, 2, SPT, 0x1b, 0xff]);
    until(m, () => (msr(m) & DIO) !== 0);
    expect(m.trace.list(EventKind.Dreq)).toHaveLength(0);
    expect(results(m).slice(0, 2)).toEqual([IC_ABNORMAL, ST1_OR]);
  });

  it('motor and drive select bits show in SRB and the snapshot; DOR reads back as written', () => {
    const m = machine();
    m.bus.outb(DOR, DOR_RUN | 0x20);
    expect(m.bus.inb(DOR)).toBe(DOR_RUN | 0x20);
    expect(m.bus.inb(SRB) & SRB_MOT_EN0).toBe(SRB_MOT_EN0);
    expect(m.fdc.snapshot()).toMatchObject({ motors: 0b0011, selectedDrive: 0 });
  });
});

describe('MSR handshake (RQM, DIO, CB, drive busy)', () => {
  it('READ DATA: 80h idle, 90h in the command phase, 10h in execution, D0h in the result phase, 80h after', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    expect(msr(m)).toBe(RQM);
    const bytes = [READ_DATA | MFM, 0, 0, 0, 1, 2, SPT, 0x1b, 0xff];
    m.bus.outb(FIFO, bytes[0]!);
    for (const b of bytes.slice(1)) {
      expect(msr(m)).toBe(RQM | CB);
      m.bus.outb(FIFO, b);
    }
    expect(msr(m)).toBe(CB);
    run(m, 5 * ms);
    expect(msr(m)).toBe(CB);
    expect(msr(m) & NDMA).toBe(0);
    until(m, () => (msr(m) & RQM) !== 0);
    expect(msr(m)).toBe(RQM | DIO | CB);
    for (let i = 0; i < 6; i++) {
      m.bus.inb(FIFO);
      expect(msr(m)).toBe(RQM | DIO | CB);
    }
    m.bus.inb(FIFO);
    expect(msr(m)).toBe(RQM);
  });

  it('SEEK has no result phase: CB clears at once and the drive stays busy until SENSE INTERRUPT STATUS', () => {
    const m = machine();
    init(m);
    send(m, [SEEK, 0, 20]);
    expect(msr(m)).toBe(RQM | D0B);
    waitIrq(m);
    expect(msr(m)).toBe(RQM | D0B);
    expect(sense(m)).toEqual([ST0_SE, 20]);
    expect(msr(m)).toBe(RQM);
  });

  it('an invalid opcode answers ST0 = 80h in a one-byte result phase, with no interrupt', () => {
    const m = machine();
    init(m);
    const rises = m.irq.rises.length;
    for (const opcode of [0x1f, 0x00, CONFIGURE, SEEK | MT]) {
      m.bus.outb(FIFO, opcode);
      expect(msr(m)).toBe(RQM | DIO | CB);
      expect(results(m)).toEqual([IC_INVALID]);
      expect(msr(m)).toBe(RQM);
    }
    expect(m.irq.rises).toHaveLength(rises);
  });

  it('SENSE INTERRUPT STATUS with no interrupt pending is invalid: 80h, one byte', () => {
    const m = machine();
    init(m);
    expect(sense(m)).toEqual([IC_INVALID]);
  });

  it('VERSION answers 90h: an enhanced controller', () => {
    const m = machine();
    init(m);
    send(m, [VERSION]);
    expect(results(m)).toEqual([0x90]);
  });

  it('bytes at the wrong phase are ignored and counted as warnings, and lose nothing', () => {
    const m = machine();
    init(m);
    const before = m.fdc.snapshot().warnings;
    m.bus.inb(FIFO); // idle: nothing to read
    send(m, [SENSE_DRIVE_STATUS, 0]);
    m.bus.outb(FIFO, SPECIFY); // result phase: RQM = 1 but DIO = 1
    expect(results(m)).toEqual([ST3_ONES | ST3_T0]);
    expect(m.fdc.snapshot().warnings).toBe(before + 2);
    expect(msr(m)).toBe(RQM);
  });
});

describe('SPECIFY, RECALIBRATE, SEEK, SENSE DRIVE STATUS, DIR', () => {
  it('SPECIFY has no result phase; its step rate times the seek: |NCN − PCN| × (16 − SRT) ms, then the interrupt', () => {
    const m = machine();
    init(m);
    send(m, [SEEK, 0, 40]);
    let start = m.scheduler.now;
    expect(waitIrq(m) - start).toBe(40 * STEP_NS);
    expect(sense(m)).toEqual([ST0_SE, 40]);
    send(m, [SPECIFY, 0x8f, SPECIFY_2]); // SRT 8: 8 ms a step
    expect(msr(m)).toBe(RQM);
    send(m, [SEEK, 0, 30]);
    start = m.scheduler.now;
    expect(waitIrq(m) - start).toBe(10 * 8 * ms);
    expect(sense(m)).toEqual([ST0_SE, 30]);
    expect(m.fdc.snapshot().specify).toEqual({ srt: 8, hut: 15, hlt: 1, nonDma: false });
  });

  it('SEEK ends with SE and the PCN; ST0 shows head 0 even when the command named head 1', () => {
    const m = machine();
    init(m);
    expect(seek(m, 7, 1)).toEqual([ST0_SE, 7]);
  });

  it('a SEEK to the cylinder the head is on still interrupts', () => {
    const m = machine();
    init(m);
    send(m, [SEEK, 0, 0]);
    const start = m.scheduler.now;
    expect(waitIrq(m)).toBe(start);
    expect(sense(m)).toEqual([ST0_SE, 0]);
  });

  it('RECALIBRATE steps back to track 0; with no track 0 signal it gives up after 79 steps with SE, EC, abnormal', () => {
    const m = machine();
    init(m);
    seek(m, 33);
    send(m, [RECALIBRATE, 0]);
    let start = m.scheduler.now;
    expect(waitIrq(m) - start).toBe(33 * STEP_NS);
    expect(sense(m)).toEqual([ST0_SE, 0]);
    // Drive 1 has nothing on the cable: TRK0 never comes.
    m.bus.outb(DOR, DOR_RUN | 0x01);
    send(m, [RECALIBRATE, 1]);
    expect(msr(m) & D1B).toBe(D1B);
    start = m.scheduler.now;
    expect(waitIrq(m) - start).toBe(79 * STEP_NS);
    expect(sense(m)).toEqual([IC_ABNORMAL | ST0_SE | ST0_EC | 1, 0]);
  });

  it('SENSE DRIVE STATUS reports ST3 with track 0, head and drive bits', () => {
    const m = machine();
    init(m);
    send(m, [SENSE_DRIVE_STATUS, 0x04]);
    expect(results(m)).toEqual([ST3_ONES | ST3_T0 | ST3_HD]);
    seek(m, 5);
    send(m, [SENSE_DRIVE_STATUS, 0]);
    expect(results(m)).toEqual([ST3_ONES]);
    expect(m.bus.inb(SRA) & SRA_NTRK0).toBe(SRA_NTRK0);
  });

  it('SPECIFY with ND = 1 is refused: the controller stays in DMA mode and counts a warning', () => {
    const m = machine();
    init(m);
    const before = m.fdc.snapshot().warnings;
    send(m, [SPECIFY, SPECIFY_1, SPECIFY_2 | 0x01]);
    expect(m.fdc.snapshot().warnings).toBe(before + 1);
    expect(m.fdc.snapshot().specify.nonDma).toBe(true);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    const { result } = transfer(m, { c: 0, h: 0, r: 1 });
    expect(result.slice(0, 3)).toEqual([0, 0, 0]);
    expect(m.trace.list(EventKind.Dack).filter(([, , ch, on]) => ch === 2 && on === 1)).toHaveLength(SECTOR);
  });

  it('DIR bit 7 reports a disk change from power-on until the first step pulse', () => {
    const m = machine();
    init(m); // a RECALIBRATE at track 0 issues no step
    expect(m.bus.inb(DIR) & DSKCHG).toBe(DSKCHG);
    seek(m, 1);
    expect(m.bus.inb(DIR) & DSKCHG).toBe(0);
  });
});

describe('READ DATA and WRITE DATA through DMA channel 2 in single mode', () => {
  it('reads one sector: memory matches the image, one DMA cycle per byte 16 µs apart, IRQ 6 at the result phase', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    const op = READ_DATA | MFM;
    send(m, [op, 0, 0, 0, 1, 2, SPT, 0x1b, 0xff]);
    const start = m.scheduler.now;
    const rise = waitIrq(m);
    // Head load (HLT, the head was unloaded since the reset), the ID field, 512 bytes, the CRC.
    expect(rise - start).toBe(HLT_NS + (HEADER_BYTES + SECTOR + CRC_BYTES) * BYTE_NS);
    expect(msr(m)).toBe(RQM | DIO | CB);
    const first = m.bus.inb(FIFO);
    expect(m.irq.level).toBe(false); // reading the first result byte clears INT
    expect([first, ...results(m)]).toEqual([0, 0, 0, 0, 0, 2, 2]);
    expect(memoryAt(m, 0x1_0000, SECTOR)).toEqual(imageAt(m.image, 0, 1));
    expect(m.memory.bytes[0x1_0000 + SECTOR]).toBe(0);
    expect(m.trace.list(EventKind.Dack).filter(([, , ch, on]) => ch === 2 && on === 1)).toHaveLength(SECTOR);
    const dreqRises = m.trace.list(EventKind.Dreq).filter(([, , ch, on]) => ch === 2 && on === 1).map(([t]) => t);
    expect(dreqRises).toHaveLength(SECTOR);
    expect(new Set(dreqRises.slice(1).map((t, i) => t - dreqRises[i]!))).toEqual(new Set([BYTE_NS]));
    expect(dreqRises[0]! - start).toBe(HLT_NS + (HEADER_BYTES + 1) * BYTE_NS);
    expect(m.trace.list(EventKind.TerminalCount)).toHaveLength(1);
    expect(m.fdc.snapshot()).toMatchObject({ sectorsRead: 1, bytesRead: SECTOR, lastResult: [0, 0, 0, 0, 0, 2, 2], overruns: 0 });
  });

  it('a second read while the head is still loaded skips HLT', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    transfer(m, { c: 0, h: 0, r: 1 });
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    const { start, end } = transfer(m, { c: 0, h: 0, r: 2 });
    expect(end - start).toBe((HEADER_BYTES + SECTOR + CRC_BYTES) * BYTE_NS);
  });

  it('reads a whole track (head 1 of cylinder 3) in 194.688 ms; T/C on the last byte of EOT gives C+1, R=1', () => {
    const m = machine();
    init(m);
    seek(m, 3, 1);
    programDma(m, MODE_READ_FROM_DEVICE, 0x2_0000, SPT * SECTOR);
    const { result, start, end } = transfer(m, { c: 3, h: 1, r: 1, eot: SPT });
    expect(result).toEqual([ST0_HD, 0, 0, 4, 1, 1, 2]);
    expect(memoryAt(m, 0x2_0000, SPT * SECTOR)).toEqual(imageAt(m.image, lbaOf(3, 1, 1), SPT));
    const trackBytes = HEADER_BYTES + SECTOR + CRC_BYTES + (SPT - 1) * (GAP3_BYTES + HEADER_BYTES + SECTOR + CRC_BYTES);
    expect(trackBytes * BYTE_NS).toBe(194_688_000);
    expect(end - start).toBe(HLT_NS + trackBytes * BYTE_NS); // HLT again: the heads stepped
  });

  it('multi-track: MT reads head 0 then head 1 of a cylinder; the result after the last sector of head 1 is C+1, H=0, R=1', () => {
    const m = machine();
    init(m);
    seek(m, 2);
    programDma(m, MODE_READ_FROM_DEVICE, 0x2_0000, 2 * SPT * SECTOR);
    const { result, start, end } = transfer(m, { c: 2, h: 0, r: 1, mt: true });
    expect(result).toEqual([ST0_HD, 0, 0, 3, 0, 1, 2]);
    expect(memoryAt(m, 0x2_0000, 2 * SPT * SECTOR)).toEqual(imageAt(m.image, lbaOf(2, 0, 1), 2 * SPT));
    const perSector = GAP3_BYTES + HEADER_BYTES + SECTOR + CRC_BYTES;
    const bytes = HEADER_BYTES + SECTOR + CRC_BYTES + (SPT - 1) * perSector + INDEX_GAP_BYTES + SPT * perSector;
    expect(end - start).toBe(HLT_NS + bytes * BYTE_NS);
  });

  it('multi-track across the head boundary: R17–18 of head 0 and R1–2 of head 1, ended by T/C', () => {
    const m = machine();
    init(m);
    seek(m, 2);
    programDma(m, MODE_READ_FROM_DEVICE, 0x2_0000, 4 * SECTOR);
    const { result } = transfer(m, { c: 2, h: 0, r: 17, mt: true });
    expect(result).toEqual([ST0_HD, 0, 0, 2, 1, 3, 2]);
    expect(memoryAt(m, 0x2_0000, 4 * SECTOR)).toEqual(imageAt(m.image, lbaOf(2, 0, 17), 4));
  });

  it('T/C on the last byte of head 0 with MT: the result names head 1, sector 1', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x2_0000, SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 18, mt: true }).result).toEqual([0, 0, 0, 0, 1, 1, 2]);
  });

  it('WRITE DATA takes the bytes from memory into the image, and nothing else changes', () => {
    const m = machine();
    init(m);
    seek(m, 4);
    const data = Array.from({ length: 2 * SECTOR }, (_, i) => (i * 7 + 3) & 0xff);
    m.memory.bytes.set(data, 0x3_0000);
    programDma(m, MODE_WRITE_TO_DEVICE, 0x3_0000, 2 * SECTOR);
    const { result } = transfer(m, { c: 4, h: 1, r: 5, eot: 6, write: true });
    expect(result).toEqual([ST0_HD, 0, 0, 5, 1, 1, 2]);
    const lba = lbaOf(4, 1, 5);
    expect(imageAt(m.image, lba, 2)).toEqual(data);
    expect(firstDifference(m.image.subarray(0, lba * SECTOR), m.original.subarray(0, lba * SECTOR))).toBe(-1);
    expect(firstDifference(m.image.subarray((lba + 2) * SECTOR), m.original.subarray((lba + 2) * SECTOR))).toBe(-1);
    expect(m.fdc.snapshot()).toMatchObject({ sectorsWritten: 2, bytesWritten: 2 * SECTOR });
    // And it reads back.
    programDma(m, MODE_READ_FROM_DEVICE, 0x4_0000, 2 * SECTOR);
    transfer(m, { c: 4, h: 1, r: 5, eot: 6 });
    expect(memoryAt(m, 0x4_0000, 2 * SECTOR)).toEqual(data);
  });

  it('T/C ends a read before EOT: one sector with EOT 18 terminates normally with R+1', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    const { result, start, end } = transfer(m, { c: 0, h: 0, r: 4, eot: SPT });
    expect(result).toEqual([0, 0, 0, 0, 0, 5, 2]);
    expect(end - start).toBe(HLT_NS + (HEADER_BYTES + SECTOR + CRC_BYTES) * BYTE_NS);
    expect(m.fdc.snapshot().sectorsRead).toBe(1);
  });

  it('T/C inside a sector: a read stops transferring but finishes the sector; a write pads it with zeros', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 100);
    const read = transfer(m, { c: 0, h: 0, r: 1 });
    expect(read.result).toEqual([0, 0, 0, 0, 0, 2, 2]);
    expect(memoryAt(m, 0x1_0000, 100)).toEqual(imageAt(m.image, 0, 1).slice(0, 100));
    expect(m.memory.bytes.subarray(0x1_0000 + 100, 0x1_0000 + SECTOR).every((b) => b === 0)).toBe(true);
    expect(read.end - read.start).toBe(HLT_NS + (HEADER_BYTES + SECTOR + CRC_BYTES) * BYTE_NS);

    m.memory.bytes.fill(0xa5, 0x3_0000, 0x3_0000 + 100);
    programDma(m, MODE_WRITE_TO_DEVICE, 0x3_0000, 100);
    const write = transfer(m, { c: 0, h: 0, r: 9, write: true });
    expect(write.result).toEqual([0, 0, 0, 0, 0, 10, 2]);
    const sector = imageAt(m.image, 8, 1);
    expect(sector.slice(0, 100).every((b) => b === 0xa5)).toBe(true);
    expect(sector.slice(100).every((b) => b === 0)).toBe(true);
  });

  it('past EOT without T/C the command ends with EN: ST0 40h, ST1 80h, the ID after EOT', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 4 * SECTOR);
    const { result } = transfer(m, { c: 0, h: 0, r: 1, eot: 2 });
    expect(result).toEqual([IC_ABNORMAL, ST1_EN, 0, 1, 0, 1, 2]);
    expect(memoryAt(m, 0x1_0000, 2 * SECTOR)).toEqual(imageAt(m.image, 0, 2));
    expect(m.memory.bytes[0x1_0000 + 2 * SECTOR]).toBe(0);
  });

  it('a sector number that does not exist: ND after the index has passed twice, and no data', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    for (const r of [19, 0]) {
      const { result, start, end } = transfer(m, { c: 0, h: 0, r });
      expect(result).toEqual([IC_ABNORMAL, ST1_ND, 0, 0, 0, r, 2]);
      expect(end - start).toBeGreaterThanOrEqual(SEARCH_FAIL_NS);
      expect(end - start).toBeLessThanOrEqual(SEARCH_FAIL_NS + HLT_NS);
    }
    expect(m.trace.list(EventKind.Dreq)).toHaveLength(0);
  });

  it('reading without seeking first finds the wrong cylinder: ND with ST2 WC', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    expect(transfer(m, { c: 5, h: 0, r: 1 }).result).toEqual([IC_ABNORMAL, ST1_ND, ST2_WC, 5, 0, 1, 2]);
  });

  it('overrun: with channel 2 masked nobody takes the byte, OR ends the command when the next byte arrives', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR, false);
    const { result, start, end } = transfer(m, { c: 0, h: 0, r: 1 });
    expect(result).toEqual([IC_ABNORMAL, ST1_OR, 0, 0, 0, 1, 2]);
    expect(end - start).toBe(HLT_NS + (HEADER_BYTES + 2) * BYTE_NS);
    expect(m.irq.rises.at(-1)).toBe(end);
    expect(m.fdc.snapshot().overruns).toBe(1);
  });

  it('a write underrun also sets OR, and the sector cut short then reads with a CRC error', () => {
    const m = machine();
    init(m);
    programDma(m, MODE_WRITE_TO_DEVICE, 0x3_0000, SECTOR, false);
    expect(transfer(m, { c: 0, h: 0, r: 3, write: true }).result).toEqual([IC_ABNORMAL, ST1_OR, 0, 0, 0, 3, 2]);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 3 }).result).toEqual([IC_ABNORMAL, ST1_DE, ST2_DD, 0, 0, 3, 2]);
    // A full rewrite mends it.
    programDma(m, MODE_WRITE_TO_DEVICE, 0x3_0000, SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 3, write: true }).result[0]).toBe(0);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 3 }).result[0]).toBe(0);
  });

  it('the data rate must match the medium: at the power-on 250 kbit/s, or with FM, no address mark is found (MA)', () => {
    const m = machine();
    m.bus.outb(DOR, DOR_RUN);
    waitIrq(m);
    for (let i = 0; i < 4; i++) sense(m);
    send(m, [SPECIFY, SPECIFY_1, SPECIFY_2]);
    run(m, SPINUP_NS);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 1 }).result).toEqual([IC_ABNORMAL, ST1_MA, 0, 0, 0, 1, 2]);
    m.bus.outb(CCR, RATE_500K);
    expect(transfer(m, { c: 0, h: 0, r: 1, mfm: false }).result).toEqual([IC_ABNORMAL, ST1_MA, 0, 0, 0, 1, 2]);
    expect(transfer(m, { c: 0, h: 0, r: 1 }).result).toEqual([0, 0, 0, 0, 0, 2, 2]);
  });

  it('with the motor off there are no index pulses: the command waits, and runs once the motor is up to speed', () => {
    const m = machine();
    init(m);
    m.bus.outb(DOR, DOR_NRESET | DOR_DMAGATE); // motor off
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    send(m, [READ_DATA | MFM, 0, 0, 0, 1, 2, SPT, 0x1b, 0xff]);
    run(m, 2_000 * ms);
    expect(msr(m)).toBe(CB);
    expect(m.fdc.snapshot().transfer).toMatchObject({ stalled: true });
    m.bus.outb(DOR, DOR_RUN);
    const on = m.scheduler.now;
    until(m, () => (msr(m) & DIO) !== 0);
    // Spin-up, then HLT: the head was never loaded, the command stalled before loading it.
    expect(m.scheduler.now - on).toBe(SPINUP_NS + HLT_NS + (HEADER_BYTES + SECTOR + CRC_BYTES) * BYTE_NS);
    expect(results(m)).toEqual([0, 0, 0, 0, 0, 2, 2]);
  });
});

describe('faults a scenario injects', () => {
  it('an I/O error at byte N: a CRC error in that sector (ST1 DE, ST2 DD, abnormal), and a retry succeeds', () => {
    const m = machine({ faults: { ioErrorAtByte: 700 } });
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 2 * SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 1 }).result).toEqual([IC_ABNORMAL, ST1_DE, ST2_DD, 0, 0, 2, 2]);
    const got = memoryAt(m, 0x1_0000, 2 * SECTOR);
    const want = imageAt(m.image, 0, 2);
    expect(got.slice(0, 700)).toEqual(want.slice(0, 700));
    expect(got[700]).toBe(want[700]! ^ 0xff);
    expect(got.slice(701)).toEqual(want.slice(701));
    expect(m.fdc.snapshot().crcErrors).toBe(1);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 2 * SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 1 }).result).toEqual([0, 0, 0, 0, 0, 3, 2]);
    expect(memoryAt(m, 0x1_0000, 2 * SECTOR)).toEqual(want);
  });

  it('an I/O error during a write is a CRC error in the ID field: ST1 DE alone, and the sector is not written', () => {
    const m = machine({ faults: { ioErrorAtByte: SECTOR + 10 } });
    init(m);
    m.memory.bytes.fill(0x5a, 0x3_0000, 0x3_0000 + 2 * SECTOR);
    programDma(m, MODE_WRITE_TO_DEVICE, 0x3_0000, 2 * SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 1, write: true }).result).toEqual([IC_ABNORMAL, ST1_DE, 0, 0, 0, 2, 2]);
    expect(imageAt(m.image, 0, 1).every((b) => b === 0x5a)).toBe(true);
    expect(imageAt(m.image, 1, 1)).toEqual(imageAt(m.original, 1, 1));
  });

  it('a device that never interrupts: IRQ 6 stays low, yet MSR and the result bytes are right', () => {
    const m = machine({ faults: { neverInterrupt: true } });
    m.bus.outb(DOR, DOR_RUN);
    run(m, 1 * ms);
    expect(sense(m)).toEqual([IC_POLLING, 0]);
    for (let i = 0; i < 3; i++) sense(m);
    m.bus.outb(CCR, RATE_500K);
    send(m, [SPECIFY, SPECIFY_1, SPECIFY_2]);
    run(m, SPINUP_NS);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 1 }).result).toEqual([0, 0, 0, 0, 0, 2, 2]);
    expect(m.irq.rises).toHaveLength(0);
    expect(memoryAt(m, 0x1_0000, SECTOR)).toEqual(imageAt(m.image, 0, 1));
  });

  it('no interrupt at byte N: the command stops there and never ends, until a reset; then the drive works again', () => {
    const m = machine({ faults: { noInterruptAtByte: 2 * SECTOR + 100 } });
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 2 * SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 1 }).result).toEqual([0, 0, 0, 0, 0, 3, 2]); // bytes 0–1023 of the run: not yet
    m.memory.bytes.fill(0, 0x1_0000, 0x1_0000 + 2 * SECTOR);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 2 * SECTOR);
    const rises = m.irq.rises.length;
    send(m, [READ_DATA | MFM, 0, 0, 0, 5, 2, SPT, 0x1b, 0xff]);
    run(m, 2_000 * ms);
    // Byte 1024 + 100 of the run: byte 100 of the second transfer's first sector.
    expect(msr(m)).toBe(CB);
    expect(m.irq.rises).toHaveLength(rises);
    expect(m.fdc.snapshot().transfer).toMatchObject({ stalled: true, sector: 5 });
    expect(memoryAt(m, 0x1_0000, 100)).toEqual(imageAt(m.image, 4, 1).slice(0, 100));
    expect(m.memory.bytes[0x1_0000 + 100]).toBe(0);
    // The motor going off and on again does not help: the disk is stuck.
    m.bus.outb(DOR, DOR_NRESET | DOR_DMAGATE);
    m.bus.outb(DOR, DOR_RUN);
    run(m, 2_000 * ms);
    expect(msr(m)).toBe(CB);
    // A reset ends the command; the drive runs again.
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 2 * SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 5 }).result).toEqual([0, 0, 0, 0, 0, 7, 2]);
    expect(memoryAt(m, 0x1_0000, 2 * SECTOR)).toEqual(imageAt(m.image, 4, 2));
  });

  it('no interrupt at byte N during a write: the sector is left part-written and the command waits for a reset', () => {
    const m = machine({ faults: { noInterruptAtByte: 10 } });
    init(m);
    m.memory.bytes.fill(0x5a, 0x3_0000, 0x3_0000 + SECTOR);
    programDma(m, MODE_WRITE_TO_DEVICE, 0x3_0000, SECTOR);
    send(m, [WRITE_DATA | MFM, 0, 0, 0, 1, 2, SPT, 0x1b, 0xff]);
    run(m, 2_000 * ms);
    expect(msr(m)).toBe(CB);
    expect(m.irq.rises.at(-1)!).toBeLessThan(SPINUP_NS); // none since init
    expect(imageAt(m.image, 0, 1).slice(0, 10).every((b) => b === 0x5a)).toBe(true);
    expect(imageAt(m.image, 0, 1).slice(10)).toEqual(imageAt(m.original, 0, 1).slice(10));
    init(m);
    programDma(m, MODE_WRITE_TO_DEVICE, 0x3_0000, SECTOR);
    expect(transfer(m, { c: 0, h: 0, r: 1, write: true }).result).toEqual([0, 0, 0, 0, 0, 2, 2]);
    expect(imageAt(m.image, 0, 1).every((b) => b === 0x5a)).toBe(true);
  });

  it('a slow device divides the data rate: a byte every 32 µs at factor 2', () => {
    const m = machine({ faults: { slowFactor: 2 } });
    init(m);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    const { result, start, end } = transfer(m, { c: 0, h: 0, r: 1 });
    expect(result).toEqual([0, 0, 0, 0, 0, 2, 2]);
    expect(end - start).toBe(HLT_NS + (HEADER_BYTES + SECTOR + CRC_BYTES) * 2 * BYTE_NS);
    const rises = m.trace.list(EventKind.Dreq).filter(([, , , on]) => on === 1).map(([t]) => t);
    expect(rises[1]! - rises[0]!).toBe(2 * BYTE_NS);
    expect(memoryAt(m, 0x1_0000, SECTOR)).toEqual(imageAt(m.image, 0, 1));
  });
});

describe('snapshot, determinism and robustness', () => {
  it('the snapshot names the command and phase, the cylinders, motors, counters and last result', () => {
    const m = machine();
    init(m);
    seek(m, 12);
    programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, SECTOR);
    send(m, [READ_DATA | MFM, 0, 12, 0, 1, 2, SPT, 0x1b, 0xff]);
    run(m, 5 * ms);
    const during = m.fdc.snapshot();
    expect(during).toMatchObject({ version: 1, phase: 'execution', command: 'READ DATA', cylinders: [12, 0, 0, 0], motors: 1, dataRateKbps: 500 });
    expect(during.transfer).toMatchObject({ write: false, cylinder: 12, head: 0, sector: 1 });
    until(m, () => (msr(m) & DIO) !== 0);
    expect(m.fdc.snapshot()).toMatchObject({ phase: 'result', command: 'READ DATA' });
    results(m);
    expect(m.fdc.snapshot()).toMatchObject({ phase: 'idle', command: null, sectorsRead: 1, lastResult: [0, 0, 0, 12, 0, 2, 2] });
  });

  it('the same programming gives the same event stream, event for event', () => {
    const once = () => {
      const m = machine();
      init(m);
      seek(m, 1);
      programDma(m, MODE_READ_FROM_DEVICE, 0x1_0000, 3 * SECTOR);
      transfer(m, { c: 1, h: 0, r: 7 });
      return m.trace.events;
    };
    const a = once();
    expect(a.length).toBeGreaterThan(1000);
    expect(once()).toEqual(a);
  });

  it('random port traffic never throws and never runs away', () => {
    const m = machine();
    const rng = new Random(77);
    for (let i = 0; i < 20_000; i++) {
      const port = [SRA, SRB, DOR, MSR, FIFO, DIR, DMA_MODE, DMA_SINGLE_MASK][rng.int(0, 7)]!;
      if (rng.int(0, 2) === 0) m.bus.inb(port);
      else m.bus.outb(port, rng.int(0, 255));
      if (rng.int(0, 31) === 0) expect(run(m, rng.int(0, 30 * ms))).not.toBe('runaway');
    }
    expect(m.fdc.snapshot().version).toBe(1);
  });
});

describe('a real FAT12 floppy made with mkfs.fat and mcopy', () => {
  const toolEnv = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, MTOOLS_SKIP_CHECK: '1' };

  /** Reads `count` sectors from `lba` into `address`: one MT READ DATA per cylinder, as a driver splits a request. */
  function readLbas(m: M, lba: number, count: number, address: number): void {
    while (count > 0) {
      const c = Math.floor(lba / (2 * SPT));
      const h = Math.floor(lba / SPT) % 2;
      const r = (lba % SPT) + 1;
      const inCylinder = Math.min(count, (c + 1) * 2 * SPT - lba);
      if (m.fdc.snapshot().cylinders[0] !== c) expect(seek(m, c)).toEqual([ST0_SE, c]);
      programDma(m, MODE_READ_FROM_DEVICE, address, inCylinder * SECTOR);
      const { result } = transfer(m, { c, h, r, mt: true });
      expect(result[0]! & ~ST0_HD).toBe(0); // normal termination
      expect(result.slice(1, 3)).toEqual([0, 0]);
      lba += inCylinder;
      count -= inCylinder;
      address += inCylinder * SECTOR;
    }
  }

  it('reads the boot sector, FATs and root directory (sectors 0–35) and a file, byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmalab-fdc-'));
    try {
      const imagePath = join(dir, 'floppy.img');
      const sourcePath = join(dir, 'name.bin');
      const rng = new Random(2024);
      const content = Uint8Array.from({ length: 23_456 }, () => rng.int(0, 255));
      writeFileSync(sourcePath, content);
      execFileSync('mkfs.fat', ['-C', '-F', '12', imagePath, '1440'], { env: toolEnv, stdio: 'pipe' });
      execFileSync('mcopy', ['-i', imagePath, sourcePath, '::/NAME.BIN'], { env: toolEnv, stdio: 'pipe' });
      const file = new Uint8Array(readFileSync(imagePath));
      expect(file.length).toBe(IMAGE_BYTES);

      const m = machine({ image: Uint8Array.from(file) });
      init(m);
      const meta = 0x2_0000;
      readLbas(m, 0, 36, meta);
      const bytes = m.memory.bytes;
      expect(Array.from(bytes.subarray(meta, meta + 36 * SECTOR))).toEqual(Array.from(file.subarray(0, 36 * SECTOR)));

      // The BPB, the FAT and the root directory as read through the controller.
      const u16 = (o: number) => bytes[meta + o]! | (bytes[meta + o + 1]! << 8);
      expect([bytes[meta + 510], bytes[meta + 511]]).toEqual([0x55, 0xaa]);
      expect(u16(11)).toBe(SECTOR);
      const perCluster = bytes[meta + 13]!;
      const reserved = u16(14);
      const fats = bytes[meta + 16]!;
      const rootEntries = u16(17);
      const perFat = u16(22);
      const rootLba = reserved + fats * perFat;
      const dataLba = rootLba + (rootEntries * 32) / SECTOR;
      const fat = meta + reserved * SECTOR;
      const fatEntry = (n: number) => {
        const v = bytes[fat + Math.floor(n * 1.5)]! | (bytes[fat + Math.floor(n * 1.5) + 1]! << 8);
        return n % 2 === 0 ? v & 0xfff : v >> 4;
      };
      let entry = -1;
      for (let e = 0; e < rootEntries; e++) {
        const name = String.fromCharCode(...bytes.subarray(meta + rootLba * SECTOR + e * 32, meta + rootLba * SECTOR + e * 32 + 11));
        if (name === 'NAME    BIN') entry = meta + rootLba * SECTOR + e * 32;
      }
      expect(entry).toBeGreaterThan(0);
      const size = (bytes[entry + 28]! | (bytes[entry + 29]! << 8) | (bytes[entry + 30]! << 16)) + bytes[entry + 31]! * 0x1000000;
      expect(size).toBe(content.length);

      // Follow the cluster chain, reading runs of consecutive sectors through DMA.
      const lbas: number[] = [];
      for (let cluster = bytes[entry + 26]! | (bytes[entry + 27]! << 8); cluster < 0xff8; cluster = fatEntry(cluster)) {
        for (let s = 0; s < perCluster; s++) lbas.push(dataLba + (cluster - 2) * perCluster + s);
      }
      expect(lbas.length).toBe(Math.ceil(content.length / (SECTOR * perCluster)) * perCluster);
      const fileAt = 0x3_0000;
      for (let i = 0; i < lbas.length; ) {
        let run = 1;
        while (i + run < lbas.length && lbas[i + run] === lbas[i]! + run) run++;
        readLbas(m, lbas[i]!, run, fileAt + i * SECTOR);
        i += run;
      }
      const got = bytes.subarray(fileAt, fileAt + lbas.length * SECTOR);
      expect(Array.from(got.subarray(0, size))).toEqual(Array.from(content));
      lbas.forEach((lba, i) => expect(Array.from(got.subarray(i * SECTOR, (i + 1) * SECTOR))).toEqual(imageAt(file, lba, 1)));
      expect(m.fdc.snapshot()).toMatchObject({ overruns: 0, crcErrors: 0 });
      expect(firstDifference(m.image, file)).toBe(-1); // reading changed nothing
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
