import { describe, expect, it } from 'vitest';
import { Random } from '../machine/random';
import { Scheduler } from '../machine/scheduler';
import { ArraySink, EventKind } from '../trace/sink';
import { IoBus } from './ioBus';
import { type DmaPeer, IsaDma } from './isaDma';

// Conformance of the 8237A pair with reference/hw/i8237a.md, driven through port I/O
// only, as a driver or BIOS would. The datasheet's numbers are written out here rather
// than imported, so a wrong constant in the model cannot pass its own test.

// DMA1 ports (§3)
const DMA1_ADDR = (ch: number) => ch * 2;
const DMA1_COUNT = (ch: number) => ch * 2 + 1;
const DMA1_STATUS = 0x08;
const DMA1_COMMAND = 0x08;
const DMA1_REQUEST = 0x09;
const DMA1_SINGLE_MASK = 0x0a;
const DMA1_MODE = 0x0b;
const DMA1_CLEAR_FF = 0x0c;
const DMA1_TEMP = 0x0d;
const DMA1_MASTER_CLEAR = 0x0d;
const DMA1_CLEAR_MASK = 0x0e;
const DMA1_ALL_MASK = 0x0f;
// DMA2 ports: every register two ports apart
const DMA2_ADDR = (ch: number) => 0xc0 + (ch - 4) * 4;
const DMA2_COUNT = (ch: number) => 0xc2 + (ch - 4) * 4;
const DMA2_STATUS = 0xd0;
const DMA2_SINGLE_MASK = 0xd4;
const DMA2_MODE = 0xd6;
const DMA2_CLEAR_FF = 0xd8;
const DMA2_CLEAR_MASK = 0xdc;
// Page registers (§3)
const PAGE: Record<number, number> = { 0: 0x87, 1: 0x83, 2: 0x81, 3: 0x82, 5: 0x8b, 6: 0x89, 7: 0x8a };
// Mode byte (§4.2)
const VERIFY = 0x00;
const WRITE = 0x04; // I/O → memory
const READ = 0x08; // memory → I/O
const AUTOINIT = 0x10;
const DECREMENT = 0x20;
const DEMAND = 0x00;
const SINGLE = 0x40;
const BLOCK = 0x80;
const CASCADE = 0xc0;
// Command (§4.1)
const CMD_DISABLE = 0x04;
const CMD_ROTATING = 0x10;

const MiB = 1024 * 1024;

/** A device that supplies 1, 2, 3… and records what it is given; DREQ is driven by the test or by `pace`. */
class Device implements DmaPeer {
  supplied = 0;
  received: number[] = [];
  tcCount = 0;
  demandLimit = Infinity;
  constructor(private readonly onTransfer: (n: number) => void = () => {}) {}
  dmaFromDevice(into: Uint8Array): void {
    for (let i = 0; i < into.length; i++) into[i] = ++this.supplied & 0xff;
    this.onTransfer(into.length);
  }
  dmaToDevice(data: Uint8Array): void {
    this.received.push(...data);
    this.onTransfer(data.length);
  }
  dmaDemandLimit(): number {
    return this.demandLimit;
  }
  dmaTerminalCount(): void {
    this.tcCount++;
  }
}

function machine() {
  const scheduler = new Scheduler();
  const trace = new ArraySink();
  const bus = new IoBus(scheduler, trace);
  const memory = { bytes: new Uint8Array(32 * MiB), size: 32 * MiB };
  const dma = new IsaDma(bus, scheduler, memory, trace);
  // What the AT BIOS does (§18): channel 4 in cascade mode, unmasked.
  bus.outb(DMA2_MODE, CASCADE | 0);
  bus.outb(DMA2_SINGLE_MASK, 0);
  const run = (ns = 1e9) => scheduler.runUntil(scheduler.now + ns);
  return { scheduler, trace, bus, memory, dma, run };
}

type M = ReturnType<typeof machine>;

/** The classic programming sequence of §19 for channels 0–3 (bytes) and 5–7 (words). */
function program(m: M, channel: number, mode: number, physical: number, transfers: number): void {
  const { bus } = m;
  if (channel < 4) {
    bus.outb(DMA1_SINGLE_MASK, 0x04 | channel);
    bus.outb(DMA1_CLEAR_FF, 0);
    bus.outb(DMA1_MODE, mode | channel);
    bus.outb(DMA1_ADDR(channel), physical & 0xff);
    bus.outb(DMA1_ADDR(channel), (physical >> 8) & 0xff);
    bus.outb(PAGE[channel]!, (physical >> 16) & 0xff);
    bus.outb(DMA1_COUNT(channel), (transfers - 1) & 0xff);
    bus.outb(DMA1_COUNT(channel), ((transfers - 1) >> 8) & 0xff);
    bus.outb(DMA1_SINGLE_MASK, channel);
  } else {
    const word = (physical >> 1) & 0xffff;
    bus.outb(DMA2_SINGLE_MASK, 0x04 | (channel & 3));
    bus.outb(DMA2_CLEAR_FF, 0);
    bus.outb(DMA2_MODE, mode | (channel & 3));
    bus.outb(DMA2_ADDR(channel), word & 0xff);
    bus.outb(DMA2_ADDR(channel), word >> 8);
    bus.outb(PAGE[channel]!, (physical >> 16) & 0xff);
    bus.outb(DMA2_COUNT(channel), (transfers - 1) & 0xff);
    bus.outb(DMA2_COUNT(channel), ((transfers - 1) >> 8) & 0xff);
    bus.outb(DMA2_SINGLE_MASK, channel & 3);
  }
}

function read16(m: M, port: number, clearPort = port >= 0xc0 ? DMA2_CLEAR_FF : DMA1_CLEAR_FF): number {
  m.bus.outb(clearPort, 0);
  return m.bus.inb(port) | (m.bus.inb(port) << 8);
}

describe('8237A registers through the AT port map (§3, §5)', () => {
  it('writes and reads every channel address and count on both controllers', () => {
    const m = machine();
    for (const ch of [0, 1, 2, 3]) {
      m.bus.outb(DMA1_CLEAR_FF, 0);
      m.bus.outb(DMA1_ADDR(ch), 0x10 + ch);
      m.bus.outb(DMA1_ADDR(ch), 0x20 + ch);
      m.bus.outb(DMA1_COUNT(ch), 0x30 + ch);
      m.bus.outb(DMA1_COUNT(ch), 0x40 + ch);
    }
    for (const ch of [4, 5, 6, 7]) {
      m.bus.outb(DMA2_CLEAR_FF, 0);
      m.bus.outb(DMA2_ADDR(ch), 0x50 + ch);
      m.bus.outb(DMA2_ADDR(ch), 0x60 + ch);
      m.bus.outb(DMA2_COUNT(ch), 0x70 + ch);
      m.bus.outb(DMA2_COUNT(ch), 0x80 + ch);
    }
    for (const ch of [0, 1, 2, 3]) {
      expect(read16(m, DMA1_ADDR(ch))).toBe(((0x20 + ch) << 8) | (0x10 + ch));
      expect(read16(m, DMA1_COUNT(ch))).toBe(((0x40 + ch) << 8) | (0x30 + ch));
    }
    for (const ch of [4, 5, 6, 7]) {
      expect(read16(m, DMA2_ADDR(ch))).toBe(((0x60 + ch) << 8) | (0x50 + ch));
      expect(read16(m, DMA2_COUNT(ch))).toBe(((0x80 + ch) << 8) | (0x70 + ch));
    }
  });

  it('toggles the byte pointer on every address or count access, read or write, and not on control ports', () => {
    const m = machine();
    m.bus.outb(DMA1_CLEAR_FF, 0);
    m.bus.outb(DMA1_ADDR(1), 0x34); // low
    m.bus.inb(DMA1_STATUS); // control port: no toggle
    m.bus.outb(DMA1_MODE, SINGLE | 1);
    m.bus.outb(DMA1_ADDR(1), 0x12); // high
    expect(read16(m, DMA1_ADDR(1))).toBe(0x1234);
    m.bus.outb(DMA1_CLEAR_FF, 0);
    m.bus.inb(DMA1_ADDR(1)); // reads toggle too: the next write is the high byte
    m.bus.outb(DMA1_ADDR(1), 0x56);
    expect(read16(m, DMA1_ADDR(1))).toBe(0x5634);
  });

  it('keeps one byte pointer per controller', () => {
    const m = machine();
    m.bus.outb(DMA1_CLEAR_FF, 0);
    m.bus.outb(DMA2_CLEAR_FF, 0);
    m.bus.outb(DMA1_ADDR(0), 0xaa); // DMA1 now expects a high byte
    m.bus.outb(DMA2_ADDR(5), 0xbb); // DMA2 still expects a low byte
    m.bus.outb(DMA2_ADDR(5), 0x01);
    expect(read16(m, DMA2_ADDR(5))).toBe(0x01bb);
  });

  it('master clear clears command, status, request, temporary and the byte pointer, masks every channel, and keeps addresses, counts and modes', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(1, dev);
    program(m, 1, SINGLE | WRITE, 0x2000, 2);
    m.dma.setDreq(1, true);
    m.run();
    m.bus.outb(DMA1_COMMAND, CMD_ROTATING);
    m.bus.outb(DMA1_REQUEST, 0x04 | 3);
    m.bus.outb(DMA1_CLEAR_MASK, 0);
    m.bus.outb(DMA1_ADDR(0), 0x99); // leaves the byte pointer set
    m.bus.outb(DMA1_MASTER_CLEAR, 0);
    const snap = m.dma.snapshot().dma1;
    expect(snap.command).toBe(0);
    expect(snap.status & 0x0f).toBe(0);
    expect(snap.bytePointer).toBe(false);
    expect(snap.temporary).toBe(0);
    expect(snap.channels.map((c) => c.masked)).toEqual([true, true, true, true]);
    expect(snap.channels.map((c) => c.request)).toEqual([false, false, false, false]);
    expect(snap.channels[1]).toMatchObject({ currentAddress: 0x2002, baseAddress: 0x2000, baseCount: 1, mode: SINGLE | WRITE });
  });

  it('clear mask, write all mask and single mask set exactly the bits the datasheet says', () => {
    const m = machine();
    const masks = () => m.dma.snapshot().dma1.channels.map((c) => c.masked);
    m.bus.outb(DMA1_CLEAR_MASK, 0xff);
    expect(masks()).toEqual([false, false, false, false]);
    m.bus.outb(DMA1_ALL_MASK, 0xf5); // bits 7–4 ignored
    expect(masks()).toEqual([true, false, true, false]);
    m.bus.outb(DMA1_SINGLE_MASK, 0x04 | 1);
    m.bus.outb(DMA1_SINGLE_MASK, 0xf8 | 2); // bit 2 clear: unmask channel 2, bits 7–3 don't care
    expect(masks()).toEqual([true, true, false, false]);
    m.bus.outb(DMA2_CLEAR_MASK, 0);
    expect(m.dma.snapshot().dma2.channels.map((c) => c.masked)).toEqual([false, false, false, false]);
    expect(masks()).toEqual([true, true, false, false]); // DMA1 untouched
  });

  it('reads of write-only ports float (0xFF) and leave a trace event, not an exception', () => {
    const m = machine();
    for (const port of [0x09, 0x0a, 0x0b, 0x0c, 0x0e, 0x0f]) expect(m.bus.inb(port)).toBe(0xff);
    expect(m.trace.list(EventKind.DmaAnomaly)).toHaveLength(6);
  });

  it('the temporary register reads 0 after reset (no memory-to-memory has run)', () => {
    expect(machine().bus.inb(DMA1_TEMP)).toBe(0);
  });

  it('page registers 0x80–0x8F read back what was written', () => {
    const m = machine();
    for (let p = 0x80; p <= 0x8f; p++) m.bus.outb(p, p ^ 0x5a);
    for (let p = 0x80; p <= 0x8f; p++) expect(m.bus.inb(p)).toBe(p ^ 0x5a);
  });
});

describe('status register (§9)', () => {
  it('sets the TC bit at terminal count and clears TC bits on every read, returning the old value', () => {
    const m = machine();
    m.dma.attach(2, new Device());
    program(m, 2, SINGLE | WRITE, 0x1000, 1);
    m.dma.setDreq(2, true);
    m.run();
    expect(m.bus.inb(DMA1_STATUS) & 0x0f).toBe(0b0100);
    expect(m.bus.inb(DMA1_STATUS) & 0x0f).toBe(0);
  });

  it('shows a request bit for an active DREQ even when the channel is masked', () => {
    const m = machine();
    m.dma.setDreq(3, true); // channel 3 is masked since reset
    expect(m.bus.inb(DMA1_STATUS) >> 4).toBe(0b1000);
    m.dma.setDreq(3, false);
    expect(m.bus.inb(DMA1_STATUS) >> 4).toBe(0);
  });
});

describe('transfers (§10–§14)', () => {
  it('single mode write: the device fills memory, count reads FFFFh, address start+N, channel masked at TC', () => {
    const m = machine();
    const dev = new Device((n) => n && m.dma.setDreq(2, dev.supplied < 512));
    m.dma.attach(2, dev);
    program(m, 2, SINGLE | WRITE, 0x3_4000, 512);
    m.dma.setDreq(2, true);
    m.run();
    expect(Array.from(m.memory.bytes.subarray(0x3_4000, 0x3_4000 + 512))).toEqual(Array.from({ length: 512 }, (_, i) => (i + 1) & 0xff));
    expect(m.memory.bytes[0x3_4000 + 512]).toBe(0);
    expect(read16(m, DMA1_COUNT(2))).toBe(0xffff);
    expect(read16(m, DMA1_ADDR(2))).toBe(0x4200);
    expect(m.dma.snapshot().dma1.channels[2]!.masked).toBe(true);
    expect(dev.tcCount).toBe(1);
    // Single mode releases the bus after every transfer: one DACK per byte.
    expect(m.trace.list(EventKind.Dack).filter(([, , ch, on]) => ch === 2 && on === 1)).toHaveLength(512);
  });

  it('read transfer: memory goes to the device in order', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(1, dev);
    m.memory.bytes.set([9, 8, 7, 6, 5], 0x5_0010);
    program(m, 1, BLOCK | READ, 0x5_0010, 5);
    m.dma.setDreq(1, true);
    m.run();
    expect(dev.received).toEqual([9, 8, 7, 6, 5]);
  });

  it('verify transfer: counts and reaches TC, moves no data', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(3, dev);
    program(m, 3, BLOCK | VERIFY, 0x6000, 100);
    m.dma.setDreq(3, true);
    m.run();
    expect(dev.supplied + dev.received.length).toBe(0);
    expect(m.memory.bytes.subarray(0x6000, 0x6064).every((b) => b === 0)).toBe(true);
    expect(read16(m, DMA1_COUNT(3))).toBe(0xffff);
    expect(dev.tcCount).toBe(1);
  });

  it('a programmed count of 0 makes exactly one transfer', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(1, dev);
    program(m, 1, BLOCK | WRITE, 0x7000, 1);
    m.dma.setDreq(1, true);
    m.run();
    expect(dev.supplied).toBe(1);
    expect(m.memory.bytes[0x7000]).toBe(1);
    expect(m.memory.bytes[0x7001]).toBe(0);
  });

  it('autoinitialize reloads address and count from the base registers and leaves the channel unmasked', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(1, dev);
    program(m, 1, BLOCK | WRITE | AUTOINIT, 0x8000, 16);
    m.dma.setDreq(1, true);
    m.scheduler.runUntil(m.scheduler.now + 20_000); // one 16-byte block takes ~13 µs
    expect(dev.tcCount).toBeGreaterThanOrEqual(1);
    m.dma.setDreq(1, false);
    m.run();
    const ch = m.dma.snapshot().dma1.channels[1]!;
    expect(ch.masked).toBe(false);
    expect(ch.currentAddress).toBe(0x8000);
    expect(ch.currentCount).toBe(15);
    expect(m.bus.inb(DMA1_STATUS) & 0b0010).toBe(0b0010);
    // The ring was written over again from its start.
    expect(m.memory.bytes[0x8000]).toBe(((dev.tcCount - 1) * 16 + 1) & 0xff);
    expect(m.trace.list(EventKind.AutoInitialize).length).toBe(dev.tcCount);
  });

  it('address decrement stores the bytes downward', () => {
    const m = machine();
    m.dma.attach(1, new Device());
    program(m, 1, BLOCK | WRITE | DECREMENT, 0x9_0003, 4);
    m.dma.setDreq(1, true);
    m.run();
    expect(Array.from(m.memory.bytes.subarray(0x9_0000, 0x9_0004))).toEqual([4, 3, 2, 1]);
    expect(read16(m, DMA1_ADDR(1))).toBe(0xffff); // 0x0003 − 4, 16-bit wrap
  });

  it('wraps at 64 KiB without touching the page register (channels 0–3)', () => {
    const m = machine();
    m.dma.attach(1, new Device());
    program(m, 1, BLOCK | WRITE, 0x2_fff0, 0x20);
    m.dma.setDreq(1, true);
    m.run();
    expect(m.memory.bytes[0x2_ffff]).toBe(0x10);
    expect(m.memory.bytes[0x2_0000]).toBe(0x11); // wrapped to the start of the same 64 KiB page
    expect(m.memory.bytes[0x3_0000]).toBe(0); // never crossed into the next page
    expect(m.bus.inb(PAGE[1]!)).toBe(0x02);
    expect(m.trace.list(EventKind.DmaAnomaly).length).toBe(1);
  });

  it('16-bit channels count words, shift the address, ignore page bit 0, and wrap at 128 KiB', () => {
    const m = machine();
    m.dma.attach(5, new Device());
    // Physical 0x3_fffc: word address 0xfffe, page 0x03 (bit 0 ignored → A17–A23 = 0x02).
    program(m, 5, BLOCK | WRITE, 0x3_fffc, 4);
    m.dma.setDreq(5, true);
    m.run();
    expect(Array.from(m.memory.bytes.subarray(0x3_fffc, 0x4_0000))).toEqual([1, 2, 3, 4]);
    expect(Array.from(m.memory.bytes.subarray(0x2_0000, 0x2_0004))).toEqual([5, 6, 7, 8]); // wrapped inside the 128 KiB page
    expect(m.memory.bytes[0x4_0000]).toBe(0);
    expect(read16(m, DMA2_COUNT(5))).toBe(0xffff);
    expect(m.bus.inb(DMA2_STATUS) & 0x0f).toBe(0b0010); // channel 5 is DMA2's channel 1
  });

  it('block mode runs to TC once started even if DREQ drops; demand mode pauses and resumes', () => {
    const block = machine();
    const d1 = new Device();
    block.dma.attach(1, d1);
    program(block, 1, BLOCK | WRITE, 0xa000, 300);
    block.dma.setDreq(1, true);
    block.scheduler.runUntil(block.scheduler.now + 2_000); // granted, a few transfers in
    block.dma.setDreq(1, false);
    block.run();
    expect(d1.supplied).toBe(300);

    // Demand: the device's FIFO holds 100 bytes; it drops DREQ when the FIFO is empty.
    const demand = machine();
    let fifo = 100;
    const d2 = new Device((n) => {
      fifo -= n;
      if (fifo === 0) demand.dma.setDreq(1, false);
    });
    d2.demandLimit = 100;
    demand.dma.attach(1, d2);
    program(demand, 1, DEMAND | WRITE, 0xa000, 300);
    demand.dma.setDreq(1, true);
    demand.run();
    expect(d2.supplied).toBe(100);
    expect(read16(demand, DMA1_COUNT(1))).toBe(199); // paused, not ended: no TC, no autoinit
    expect(read16(demand, DMA1_ADDR(1))).toBe(0xa000 + 100);
    expect(d2.tcCount).toBe(0);
    expect(demand.dma.snapshot().dma1.channels[1]!.masked).toBe(false);
    for (const total of [200, 300]) {
      fifo = 100;
      demand.dma.setDreq(1, true);
      demand.run();
      expect(d2.supplied).toBe(total);
    }
    expect(d2.tcCount).toBe(1);
    expect(Array.from(demand.memory.bytes.subarray(0xa000 + 98, 0xa000 + 102))).toEqual([99, 100, 101, 102]);
  });

  it('a count that is not reprogrammed reads FFFFh and makes 65 536 transfers next time', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(1, dev);
    program(m, 1, BLOCK | WRITE, 0x1_0000, 16);
    m.dma.setDreq(1, true);
    m.run();
    m.dma.setDreq(1, false);
    expect(dev.supplied).toBe(16);
    m.bus.outb(DMA1_SINGLE_MASK, 1); // unmask again without reloading the count
    m.dma.setDreq(1, true);
    m.run();
    expect(dev.supplied).toBe(16 + 65_536);
  });

  it('reading the count while a block transfer runs gives the transfers made so far', () => {
    const m = machine();
    m.dma.attach(1, new Device());
    program(m, 1, BLOCK | WRITE, 0xb000, 1000);
    m.dma.setDreq(1, true);
    const start = m.scheduler.now;
    m.scheduler.runUntil(start + 500 + 250 * (1 + 3 * 40)); // hold latency, S1, 40 transfers of 3 clocks
    expect(read16(m, DMA1_COUNT(1))).toBe(999 - 40);
    expect(m.memory.bytes[0xb000 + 39]).toBe(40);
    expect(m.memory.bytes[0xb000 + 40]).toBe(0);
  });

  it('timing (§17): S1 once per 256 transfers, 3 clocks per transfer, 2 with compressed timing', () => {
    const CMD_COMPRESSED = 0x08;
    const duration = (command: number) => {
      const m = machine();
      m.bus.outb(DMA1_COMMAND, command);
      m.dma.attach(1, new Device());
      program(m, 1, BLOCK | WRITE, 0xc000, 512); // crosses A8–A15 twice: S1 at the start and at 0xc100
      m.dma.setDreq(1, true);
      const start = m.scheduler.now;
      m.run();
      const tc = m.trace.list(EventKind.TerminalCount)[0]![0];
      return tc - start;
    };
    const clock = 250;
    const hold = 500;
    expect(duration(0)).toBe(hold + clock * (2 + 512 * 3));
    expect(duration(CMD_COMPRESSED)).toBe(hold + clock * (2 + 512 * 2));
  });

  it('an illegal transfer type (11) is a trace event, never an exception', () => {
    const m = machine();
    m.dma.attach(1, new Device());
    expect(() => program(m, 1, BLOCK | 0x0c, 0xc000, 8)).not.toThrow();
    m.dma.setDreq(1, true);
    m.run();
    expect(m.trace.list(EventKind.DmaAnomaly)[0]).toEqual([expect.any(Number), EventKind.DmaAnomaly, 1, 1, BLOCK | 0x0c | 1]);
  });
});

describe('priority, cascade and software requests (§8, §16, §18)', () => {
  const order = (m: M) => m.trace.list(EventKind.Dack).filter(([, , , on]) => on === 1).map(([, , ch]) => ch);

  it('fixed priority serves 0, 1, 2, 3, then 5, 6, 7 through the cascade', () => {
    const m = machine();
    for (const ch of [7, 6, 5, 3, 2, 1, 0]) {
      m.dma.attach(ch, new Device());
      program(m, ch, BLOCK | WRITE, 0x10_0000 + ch * 0x2_0000, 4);
    }
    for (const ch of [7, 3, 5, 1, 6, 0, 2]) m.dma.setDreq(ch, true);
    m.run();
    expect(order(m)).toEqual([0, 1, 2, 3, 5, 6, 7]);
  });

  it('rotating priority makes the channel just served the lowest', () => {
    const m = machine();
    m.bus.outb(DMA1_COMMAND, CMD_ROTATING);
    for (const ch of [0, 1, 2]) {
      m.dma.attach(ch, new Device());
      program(m, ch, SINGLE | WRITE | AUTOINIT, 0x20_0000 + ch * 0x1_0000, 100);
      m.dma.setDreq(ch, true);
    }
    m.scheduler.runUntil(m.scheduler.now + 30_000);
    expect(order(m).slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('DMA1 is not served while channel 4 is masked or not in cascade mode', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(2, dev);
    program(m, 2, BLOCK | WRITE, 0x4000, 8);
    m.bus.outb(DMA2_SINGLE_MASK, 0x04 | 0);
    m.dma.setDreq(2, true);
    m.run();
    expect(dev.supplied).toBe(0);
    m.bus.outb(DMA2_SINGLE_MASK, 0);
    m.run();
    expect(dev.supplied).toBe(8);
  });

  it('a disabled controller serves nothing', () => {
    const m = machine();
    const dev = new Device();
    m.dma.attach(2, dev);
    m.bus.outb(DMA1_COMMAND, CMD_DISABLE);
    program(m, 2, BLOCK | WRITE, 0x4000, 8);
    m.dma.setDreq(2, true);
    m.run();
    expect(dev.supplied).toBe(0);
    m.bus.outb(DMA1_COMMAND, 0);
    m.run();
    expect(dev.supplied).toBe(8);
  });

  it('a software request runs a block transfer with no DREQ, even on a masked channel, and clears at TC', () => {
    const m = machine();
    program(m, 3, BLOCK | VERIFY, 0x4000, 10);
    m.bus.outb(DMA1_SINGLE_MASK, 0x04 | 3);
    m.bus.outb(DMA1_REQUEST, 0x04 | 3);
    m.run();
    expect(read16(m, DMA1_COUNT(3))).toBe(0xffff);
    expect(m.dma.snapshot().dma1.channels[3]!.request).toBe(false);
  });
});

describe('robustness and determinism', () => {
  it('random port writes to both controllers never throw', () => {
    const m = machine();
    const rng = new Random(1234);
    for (let ch = 0; ch < 8; ch++) m.dma.attach(ch, new Device());
    for (let i = 0; i < 20_000; i++) {
      const port = [rng.int(0x00, 0x0f), rng.int(0xc0, 0xdf), rng.int(0x80, 0x8f)][rng.int(0, 2)]!;
      if (rng.int(0, 3) === 0) m.bus.inb(port);
      else m.bus.outb(port, rng.int(0, 255));
      if (rng.int(0, 15) === 0) m.dma.setDreq(rng.int(0, 7), rng.int(0, 1) === 1);
      if (rng.int(0, 31) === 0) expect(m.run(rng.int(0, 50_000))).not.toBe('runaway');
    }
  });

  it('the same programming gives the same event stream, event for event', () => {
    const once = () => {
      const m = machine();
      const rng = new Random(99);
      for (const ch of [1, 2, 5]) {
        const dev = new Device((n) => n && m.scheduler.schedule(rng.int(1_000, 20_000), () => m.dma.setDreq(ch, true)));
        m.dma.attach(ch, dev);
        program(m, ch, (ch === 5 ? DEMAND : SINGLE) | WRITE | AUTOINIT, 0x30_0000 + ch * 0x2_0000, 64);
        m.dma.setDreq(ch, true);
      }
      m.run(2_000_000);
      return m.trace.events;
    };
    const a = once();
    expect(a.length).toBeGreaterThan(1000);
    expect(once()).toEqual(a);
  });
});

describe("the controller's write buffer (the WDK's model of a buffered system DMA controller)", () => {
  function buffered(bytes: number) {
    const scheduler = new Scheduler();
    const trace = new ArraySink();
    const bus = new IoBus(scheduler, trace);
    const memory = { bytes: new Uint8Array(MiB), size: MiB };
    const dma = new IsaDma(bus, scheduler, memory, trace, undefined, bytes);
    bus.outb(DMA2_MODE, CASCADE | 0);
    bus.outb(DMA2_SINGLE_MASK, 0);
    return { scheduler, trace, bus, memory, dma, run: (ns = 1e9) => scheduler.runUntil(scheduler.now + ns) };
  }

  it('keeps the last partial buffer out of memory until it is flushed', () => {
    const m = buffered(16);
    m.dma.attach(1, new Device());
    program(m, 1, BLOCK | WRITE, 0x1000, 100);
    m.dma.setDreq(1, true);
    m.run();
    expect(m.memory.bytes[0x1000 + 95]).toBe(96); // six full buffers reached memory
    expect(Array.from(m.memory.bytes.subarray(0x1000 + 96, 0x1000 + 100))).toEqual([0, 0, 0, 0]);
    expect(m.dma.bufferedBytes(1)).toBe(4);
    expect(m.dma.flushBuffer(1)).toBe(4);
    expect(Array.from(m.memory.bytes.subarray(0x1000 + 96, 0x1000 + 100))).toEqual([97, 98, 99, 100]);
    expect(m.trace.list(EventKind.DmaFlush)).toEqual([[expect.any(Number), EventKind.DmaFlush, 1, 0x1000 + 96, 4]]);
  });

  it('does not hold memory-to-device data, and is off by default (fly-by, as the 8237A)', () => {
    const m = machine();
    m.dma.attach(1, new Device());
    program(m, 1, BLOCK | WRITE, 0x1000, 3);
    m.dma.setDreq(1, true);
    m.run();
    expect(Array.from(m.memory.bytes.subarray(0x1000, 0x1003))).toEqual([1, 2, 3]);
    const b = buffered(16);
    const dev = new Device();
    b.dma.attach(1, dev);
    b.memory.bytes.set([7, 8, 9], 0x2000);
    program(b, 1, BLOCK | READ, 0x2000, 3);
    b.dma.setDreq(1, true);
    b.run();
    expect(dev.received).toEqual([7, 8, 9]);
  });
});

describe('memory-to-memory (§15)', () => {
  const CMD_MEM_TO_MEM = 0x01;
  const CMD_CH0_HOLD = 0x02;

  function setup(command: number) {
    const m = machine();
    m.memory.bytes.set([10, 20, 30, 40, 50], 0x1000);
    program(m, 0, BLOCK | READ, 0x1000, 5); // source
    program(m, 1, BLOCK | WRITE, 0x2000, 5); // destination: channel 1 counts
    m.bus.outb(DMA1_COMMAND, command);
    m.bus.outb(DMA1_REQUEST, 0x04 | 0); // software request on channel 0 starts it
    m.run();
    return m;
  }

  it('copies through the temporary register, counts on channel 1 and ends at its TC', () => {
    const m = setup(CMD_MEM_TO_MEM);
    expect(Array.from(m.memory.bytes.subarray(0x2000, 0x2005))).toEqual([10, 20, 30, 40, 50]);
    expect(m.bus.inb(DMA1_TEMP)).toBe(50); // the last byte moved
    expect(read16(m, DMA1_COUNT(1))).toBe(0xffff);
    expect(m.bus.inb(DMA1_STATUS) & 0x0f).toBe(0b0010);
    expect(m.trace.list(EventKind.Dack)).toEqual([]); // no DACK in memory-to-memory
  });

  it('with address hold, fills the destination with channel 0s first byte', () => {
    const m = setup(CMD_MEM_TO_MEM | CMD_CH0_HOLD);
    expect(Array.from(m.memory.bytes.subarray(0x2000, 0x2005))).toEqual([10, 10, 10, 10, 10]);
  });
});
