import { describe, expect, it } from 'vitest';
import { Random } from '../machine/random';
import { Scheduler } from '../machine/scheduler';
import { ArraySink } from '../trace/sink';
import { initializeDmaAsBios, programDmaChannel } from './dmaProgramming';
import { IoBus } from './ioBus';
import { IsaDma } from './isaDma';
import { Scanner, scanByte } from './scanner';

// The SCN-1 as its datasheet (labs/devices/scanner.md) describes it, driven by port I/O
// and a hand-programmed DMA channel 3. Register numbers are written out from the datasheet.
const BASE = 0x300;
const CTRL = BASE + 0;
const STATUS = BASE + 1;
const LINES_LO = BASE + 2;
const LINES_HI = BASE + 3;
const SEG_LO = BASE + 4;
const SEG_HI = BASE + 5;
const SEG_XHI = BASE + 6;
const ID = BASE + 7;
const START = 0x01;
const GO = 0x02;
const IEN = 0x04;
const ABORT = 0x08;
const RESET = 0x80;
const BUSY = 0x01;
const WAITING = 0x02;
const DONE = 0x04;
const ERROR = 0x08;
const TC = 0x10;
const IRQ_PENDING = 0x80;
const IRQ = 10;
const MiB = 1024 * 1024;

function machine(faults = {}, config = {}) {
  const scheduler = new Scheduler();
  const trace = new ArraySink();
  const bus = new IoBus(scheduler, trace);
  const memory = { bytes: new Uint8Array(16 * MiB), size: 16 * MiB };
  const dma = new IsaDma(bus, scheduler, memory, trace);
  initializeDmaAsBios(bus);
  const irqs: number[] = [];
  let irqLevel = false;
  let onIrq: () => void = () => {};
  const slot = {
    bus,
    dma,
    scheduler,
    trace,
    random: new Random(7),
    setIrq(irq: number, level: boolean) {
      expect(irq).toBe(IRQ);
      if (level && !irqLevel) {
        irqs.push(scheduler.now);
        scheduler.schedule(0, () => onIrq());
      }
      irqLevel = level;
    },
  };
  const scanner = new Scanner(slot, { base: BASE, irq: IRQ, dmaChannel: 3, lineBytes: 256, bytesPerSecond: 250_000, seed: 3, ...config }, faults);
  return { scheduler, bus, memory, dma, scanner, irqs, setOnIrq: (f: () => void) => (onIrq = f) };
}

type M = ReturnType<typeof machine>;

/** Channel 3, single mode, write (I/O → memory). */
function programDma(m: M, physical: number, bytes: number, mode = 0x44): void {
  programDmaChannel(m.bus, 3, mode, physical, bytes);
}

function setSegment(m: M, bytes: number): void {
  m.bus.outb(SEG_LO, bytes & 0xff);
  m.bus.outb(SEG_HI, (bytes >> 8) & 0xff);
  m.bus.outb(SEG_XHI, bytes >> 16);
}

function startScan(m: M, lines: number, segment: number): void {
  m.bus.outb(LINES_LO, lines & 0xff);
  m.bus.outb(LINES_HI, lines >> 8);
  setSegment(m, segment);
  m.bus.outb(CTRL, IEN | START);
}

const expected = (offset: number, length: number) => Array.from({ length }, (_, i) => scanByte({ lineBytes: 256, seed: 3 }, offset + i));

describe('SCN-1 scanner', () => {
  it('identifies itself and starts idle', () => {
    const m = machine();
    expect(m.bus.inb(ID)).toBe(0x5c);
    expect(m.bus.inb(STATUS)).toBe(0);
  });

  it('captures a scan into scattered pieces of memory, waiting between segments while the driver reprograms the 8237', () => {
    const m = machine();
    const lines = 4;
    // A fragmented buffer: four pieces in different 64 KiB pages, the way a scatter/gather list looks.
    const pieces = [
      { pa: 0x12_0f00, length: 0x100 },
      { pa: 0x34_0000, length: 0x180 },
      { pa: 0x05_8800, length: 0x100 },
      { pa: 0x2a_0010, length: 0x80 },
    ];
    let next = 0;
    const startPiece = () => {
      const piece = pieces[next++]!;
      programDma(m, piece.pa, piece.length);
      setSegment(m, piece.length);
    };
    m.setOnIrq(() => {
      const status = m.bus.inb(STATUS);
      m.bus.outb(STATUS, 0); // acknowledge
      if (status & DONE) return;
      expect(status & (WAITING | BUSY)).toBe(WAITING | BUSY);
      startPiece();
      m.bus.outb(CTRL, IEN | GO);
    });
    const first = pieces[next++]!;
    programDma(m, first.pa, first.length);
    startScan(m, lines, first.length);
    m.scheduler.runUntilIdle();
    let offset = 0;
    for (const piece of pieces) {
      expect(Array.from(m.memory.bytes.subarray(piece.pa, piece.pa + piece.length))).toEqual(expected(offset, piece.length));
      offset += piece.length;
    }
    expect(offset).toBe(lines * 256);
    const snap = m.scanner.snapshot();
    expect(snap).toMatchObject({ delivered: 1024, linesCaptured: 4, overruns: 0, segments: 3 });
    expect(m.bus.inb(STATUS) & (DONE | BUSY | ERROR)).toBe(DONE);
    expect(m.irqs).toHaveLength(4); // three segment pauses and the end
    // 1024 bytes at 4 µs each, plus the pauses: the scan took at least the sensor's time.
    expect(m.scheduler.now).toBeGreaterThanOrEqual(1024 * 4000);
  });

  it('loses nothing while it waits: the motor stops, however long the driver takes', () => {
    const m = machine();
    m.setOnIrq(() => {
      m.bus.outb(STATUS, 0);
      if (m.bus.inb(STATUS) & DONE) return;
      m.scheduler.schedule(5_000_000, () => {
        programDma(m, 0x20_0000 + 0x80, 0x80);
        m.bus.outb(CTRL, IEN | GO);
      });
    });
    programDma(m, 0x20_0000, 0x80);
    startScan(m, 1, 0x80);
    m.scheduler.runUntilIdle();
    expect(Array.from(m.memory.bytes.subarray(0x20_0000, 0x20_0100))).toEqual(expected(0, 256));
    expect(m.scanner.snapshot().overruns).toBe(0);
  });

  it('pauses with TC set when the 8237 reaches terminal count before the segment ends, and keeps the bytes it holds', () => {
    const m = machine();
    programDma(m, 0x10_0000, 100); // the driver programmed less than the segment
    startScan(m, 1, 256);
    m.scheduler.runUntilIdle();
    expect(m.bus.inb(STATUS) & (WAITING | TC | IRQ_PENDING)).toBe(WAITING | TC | IRQ_PENDING);
    m.bus.outb(STATUS, 0);
    programDma(m, 0x10_0000 + 100, 156);
    setSegment(m, 156);
    m.bus.outb(CTRL, IEN | GO);
    m.scheduler.runUntilIdle();
    expect(Array.from(m.memory.bytes.subarray(0x10_0000, 0x10_0100))).toEqual(expected(0, 256));
    expect(m.bus.inb(STATUS) & DONE).toBe(DONE);
  });

  it('overruns, stops and reports ERROR when the DMA channel is not served', () => {
    const m = machine();
    startScan(m, 2, 512); // channel 3 stays masked
    m.scheduler.runUntilIdle();
    const status = m.bus.inb(STATUS);
    expect(status & (ERROR | BUSY)).toBe(ERROR);
    expect(m.scanner.snapshot()).toMatchObject({ overruns: 1, delivered: 0, produced: 64 });
    expect(m.irqs).toHaveLength(1);
  });

  it('an injected I/O error stops the scan at that byte with ERROR', () => {
    const m = machine({ ioErrorAtByte: 100 });
    programDma(m, 0x10_0000, 256);
    startScan(m, 1, 256);
    m.scheduler.runUntilIdle();
    expect(m.bus.inb(STATUS) & (ERROR | BUSY)).toBe(ERROR);
    expect(m.scanner.snapshot().delivered).toBe(100);
  });

  it('a device that never interrupts still finishes, but raises no IRQ', () => {
    const m = machine({ neverInterrupt: true });
    programDma(m, 0x10_0000, 256);
    startScan(m, 1, 256);
    m.scheduler.runUntilIdle();
    expect(m.irqs).toEqual([]);
    expect(m.bus.inb(STATUS) & (DONE | IRQ_PENDING)).toBe(DONE | IRQ_PENDING);
  });

  it('a slow device takes longer by its factor', () => {
    const fast = machine();
    const slow = machine({ slowFactor: 3 });
    for (const m of [fast, slow]) {
      programDma(m, 0x10_0000, 256);
      startScan(m, 1, 256);
      m.scheduler.runUntilIdle();
    }
    expect(slow.scheduler.now).toBeGreaterThan(2.5 * fast.scheduler.now);
  });

  it('abort stops at once; reset returns to idle with the IRQ line low', () => {
    const m = machine();
    programDma(m, 0x10_0000, 256);
    startScan(m, 1, 256);
    m.scheduler.runUntil(100_000);
    m.bus.outb(CTRL, ABORT);
    expect(m.bus.inb(STATUS) & BUSY).toBe(0);
    const delivered = m.scanner.snapshot().delivered;
    m.scheduler.runUntilIdle();
    expect(m.scanner.snapshot().delivered).toBe(delivered);
    m.bus.outb(CTRL, RESET);
    expect(m.bus.inb(STATUS)).toBe(0);
  });

  it('starting with no lines or no segment length is an error, not a hang', () => {
    const m = machine();
    m.bus.outb(CTRL, IEN | START);
    expect(m.bus.inb(STATUS) & (ERROR | BUSY)).toBe(ERROR);
  });
});
