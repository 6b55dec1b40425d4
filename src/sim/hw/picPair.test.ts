import { describe, expect, it } from 'vitest';
import { Random } from '../machine/random';
import { Scheduler } from '../machine/scheduler';
import { ArraySink, EventKind } from '../trace/sink';
import { IoBus } from './ioBus';
import { irqToDirql, irqToVector, busIrqToIrq, PicPair } from './picPair';

// The AT's 8259A pair and the Windows x86 PIC HAL mapping, from reference/hw/i8259a.md
// §10–§13, driven through ports 0x20/0x21/0xA0/0xA1 as the BIOS, the HAL or a driver
// would. The numbers are the fact sheet's, written out here.

const M_CMD = 0x20;
const M_DATA = 0x21;
const S_CMD = 0xa0;
const S_DATA = 0xa1;
const NON_SPECIFIC_EOI = 0x20;
const SPECIFIC_EOI = 0x60;
const READ_ISR = 0x0b;
const POLL = 0x0c;

// §13: ReactOS HalpInitializeLegacyPICs, port by port
const HAL_INIT_WRITES: [number, number][] = [
  [0x20, 0x11],
  [0x21, 0x30],
  [0x21, 0x04],
  [0x21, 0x01],
  [0x21, 0xff],
  [0xa0, 0x11],
  [0xa1, 0x38],
  [0xa1, 0x02],
  [0xa1, 0x01],
  [0xa1, 0xff],
];

// §12: BIOS initialization, for the tests that use the BIOS vectors 08h/70h
function biosInit(out: (port: number, value: number) => void, masterIcw4 = 0x01, slaveIcw4 = 0x01): void {
  out(M_CMD, 0x11);
  out(M_DATA, 0x08);
  out(M_DATA, 0x04);
  out(M_DATA, masterIcw4);
  out(S_CMD, 0x11);
  out(S_DATA, 0x70);
  out(S_DATA, 0x02);
  out(S_DATA, slaveIcw4);
}

function rig() {
  const clock = new Scheduler();
  const sink = new ArraySink();
  const bus = new IoBus(clock, sink);
  const pics = new PicPair(bus, clock, sink);
  const intr: boolean[] = [];
  pics.onIntr = (level) => intr.push(level);
  const out = (port: number, value: number) => bus.outb(port, value);
  return {
    clock,
    sink,
    bus,
    pics,
    intr,
    out,
    in: (port: number) => bus.inb(port),
    readIsr(cmd: number) {
      out(cmd, READ_ISR);
      return bus.inb(cmd);
    },
    /** Windows init, then the IMRs the HAL writes with IRQL at PASSIVE and every IRQ enabled (IDR 0). */
    windows() {
      pics.initializeAsWindows();
      out(M_DATA, 0x00);
      out(S_DATA, 0x00);
    },
    /** The HAL's dismiss: specific EOI to the slave then IR2 on the master, or to the master (§13). */
    halEoi(irq: number) {
      if (irq >= 8) {
        out(S_CMD, SPECIFIC_EOI | (irq - 8));
        out(M_CMD, SPECIFIC_EOI | 2);
      } else {
        out(M_CMD, SPECIFIC_EOI | irq);
      }
    },
  };
}

describe('AT wiring (§3, §12)', () => {
  it('decodes 0x20–0x21 as the master and 0xA0–0xA1 as the slave', () => {
    const r = rig();
    expect(r.bus.ownerOf(0x20)).toBe(r.bus.ownerOf(0x21));
    expect(r.bus.ownerOf(0xa0)).toBe(r.bus.ownerOf(0xa1));
    expect(r.bus.ownerOf(0x20)).not.toBe(r.bus.ownerOf(0xa0));
    expect(r.bus.ownerOf(0x22)).toBeNull();
    expect(r.bus.ownerOf(0xa2)).toBeNull();
  });

  it('hardware priority across the cascade is 0, 1, 8–15, 3–7 (§12 table)', () => {
    const r = rig();
    biosInit(r.out);
    for (let irq = 0; irq < 16; irq++) if (irq !== 2) r.pics.setIrq(irq, true);
    const order: number[] = [];
    while (r.pics.intr) {
      const ack = r.pics.acknowledge()!;
      order.push(ack.irq);
      r.halEoi(ack.irq);
    }
    expect(order).toEqual([0, 1, 8, 9, 10, 11, 12, 13, 14, 15, 3, 4, 5, 6, 7]);
  });

  it('a slave request reaches INTR through the master IR2, with the BIOS vector 70h + level', () => {
    const r = rig();
    biosInit(r.out);
    r.pics.setIrq(14, true);
    expect(r.pics.intr).toBe(true);
    expect(r.intr).toEqual([true]);
    expect(r.pics.acknowledge()).toEqual({ irq: 14, vector: 0x76, spurious: false });
    expect(r.pics.intr).toBe(false);
    expect(r.readIsr(M_CMD)).toBe(1 << 2);
    expect(r.readIsr(S_CMD)).toBe(1 << 6);
  });

  it('a cascaded interrupt needs an EOI to the slave and one to the master', () => {
    const r = rig();
    biosInit(r.out);
    r.pics.setIrq(10, true);
    r.pics.acknowledge();
    r.pics.setIrq(11, true);
    expect(r.pics.intr).toBe(false);
    r.out(S_CMD, NON_SPECIFIC_EOI);
    expect(r.pics.intr).toBe(false); // the master's IR2 is still in service
    r.out(M_CMD, NON_SPECIFIC_EOI);
    expect(r.pics.intr).toBe(true);
    expect(r.pics.acknowledge()!.irq).toBe(11);
  });

  it('in normal nesting the master ISR bit 2 holds off even a higher slave request', () => {
    const r = rig();
    biosInit(r.out);
    r.pics.setIrq(12, true);
    r.pics.acknowledge();
    r.pics.setIrq(8, true);
    expect(r.pics.intr).toBe(false);
    r.out(M_CMD, SPECIFIC_EOI | 2);
    expect(r.pics.intr).toBe(true);
    expect(r.pics.acknowledge()!.irq).toBe(8);
  });

  it('special fully nested mode lets a higher slave request through while IR2 is in service (§11)', () => {
    const r = rig();
    biosInit(r.out, 0x11);
    r.pics.setIrq(12, true);
    r.pics.acknowledge();
    r.pics.setIrq(8, true);
    expect(r.pics.intr).toBe(true);
    expect(r.pics.acknowledge()!.irq).toBe(8);
    r.pics.setIrq(13, true); // lower than the slave's IR4 in service: held off by the slave
    expect(r.pics.intr).toBe(false);
  });

  it('the bus IRQ2 pin is wired to IRQ 9 (§12)', () => {
    const r = rig();
    r.windows();
    r.pics.setIrq(2, true);
    expect(r.pics.acknowledge()).toEqual({ irq: 9, vector: 0x39, spurious: false });
    expect(busIrqToIrq(2)).toBe(9);
    expect(busIrqToIrq(5)).toBe(5);
  });

  it('the master and slave both in AEOI mode need no EOI', () => {
    const r = rig();
    biosInit(r.out, 0x03, 0x03);
    r.pics.setIrq(9, true);
    expect(r.pics.acknowledge()!.irq).toBe(9);
    expect(r.readIsr(M_CMD)).toBe(0);
    expect(r.readIsr(S_CMD)).toBe(0);
    r.pics.setIrq(10, true);
    expect(r.pics.intr).toBe(true);
  });

  it('cascaded polling: the master answers level 2, then the slave its own level (§6)', () => {
    const r = rig();
    biosInit(r.out);
    r.pics.setIrq(13, true);
    r.out(M_CMD, POLL);
    expect(r.in(M_CMD)).toBe(0x80 | 2);
    r.out(S_CMD, POLL);
    expect(r.in(S_CMD)).toBe(0x80 | 5);
  });

  it('traces IRQ line changes, acknowledges and EOIs', () => {
    const r = rig();
    r.windows();
    r.pics.setIrq(6, true);
    r.pics.setIrq(6, true); // no change, no event
    r.pics.acknowledge();
    r.halEoi(6);
    r.pics.setIrq(6, false);
    expect(r.sink.list(EventKind.IrqLine, EventKind.InterruptAck, EventKind.Eoi).map((e) => e.slice(1))).toEqual([
      [EventKind.IrqLine, 6, 1, 0],
      [EventKind.InterruptAck, 6, 0x36, 0],
      [EventKind.Eoi, 6, 0, 0],
      [EventKind.IrqLine, 6, 0, 0],
    ]);
  });
});

describe('spurious interrupts (§10)', () => {
  it('spurious IRQ 7: a master request gone before the INTA gives vector 0x37 and no ISR bit', () => {
    const r = rig();
    r.windows();
    r.pics.setIrq(4, true);
    r.pics.setIrq(4, false);
    expect(r.pics.acknowledge()).toEqual({ irq: 7, vector: 0x37, spurious: true });
    expect(r.readIsr(M_CMD) & 0x80).toBe(0);
    expect(r.sink.list(EventKind.SpuriousInterrupt).map((e) => e[2])).toEqual([7]);
  });

  it('a slave request gone before the INTA drops the cascade wire too: the master answers IR7', () => {
    const r = rig();
    r.windows();
    r.pics.setIrq(11, true);
    r.pics.setIrq(11, false);
    expect(r.pics.acknowledge()).toEqual({ irq: 7, vector: 0x37, spurious: true });
    expect(r.readIsr(M_CMD)).toBe(0);
  });

  it('spurious IRQ 15: a slave request gone inside the INTA sequence gives vector 0x3F, master IR2 in service', () => {
    const r = rig();
    r.windows();
    r.pics.setIrq(15, true);
    const ack = r.pics.acknowledge(() => r.pics.setIrq(15, false));
    expect(ack).toEqual({ irq: 15, vector: 0x3f, spurious: true });
    expect(r.readIsr(S_CMD) & 0x80).toBe(0);
    expect(r.readIsr(M_CMD)).toBe(1 << 2);
    expect(r.sink.list(EventKind.SpuriousInterrupt).map((e) => e[2])).toEqual([15]);
  });

  it('after a spurious IRQ 15 the master still needs its EOI for IR2 (the HAL sends 0x62)', () => {
    const r = rig();
    r.windows();
    r.pics.setIrq(15, true);
    r.pics.acknowledge(() => r.pics.setIrq(15, false));
    r.pics.setIrq(10, true);
    expect(r.pics.intr).toBe(false);
    r.out(M_CMD, SPECIFIC_EOI | 2);
    expect(r.pics.intr).toBe(true);
    expect(r.pics.acknowledge()!.irq).toBe(10);
  });

  it('acknowledge before the master is initialized answers null (nobody drives the bus)', () => {
    const r = rig();
    expect(r.pics.acknowledge()).toBeNull();
  });
});

describe('Windows x86 PIC HAL (§13)', () => {
  it('initializeAsWindows writes exactly ReactOS’s ICWs and masks through the ports', () => {
    const r = rig();
    r.pics.initializeAsWindows();
    expect(r.sink.list(EventKind.PortWrite).map((e) => [e[2], e[3]])).toEqual(HAL_INIT_WRITES);
    expect(r.in(M_DATA)).toBe(0xff);
    expect(r.in(S_DATA)).toBe(0xff);
    r.pics.setIrq(1, true);
    expect(r.pics.intr).toBe(false);
  });

  it('after the Windows init every IRQ is delivered at vector 0x30 + IRQ', () => {
    const r = rig();
    r.windows();
    for (let irq = 0; irq < 16; irq++) {
      if (irq === 2) continue;
      r.pics.setIrq(irq, true);
      const ack = r.pics.acknowledge();
      expect(ack).toEqual({ irq, vector: 0x30 + irq, spurious: false });
      expect(ack!.vector).toBe(irqToVector(irq));
      r.halEoi(irq);
      r.pics.setIrq(irq, false);
    }
    expect(r.readIsr(M_CMD)).toBe(0);
    expect(r.readIsr(S_CMD)).toBe(0);
  });

  it('irqToVector is 0x30 + IRQ for all 16 IRQs', () => {
    expect(Array.from({ length: 16 }, (_, irq) => irqToVector(irq))).toEqual([
      0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    ]);
  });

  it('irqToDirql is 27 − IRQ, with the clock at 28 and the profile timer at 27', () => {
    expect(Array.from({ length: 16 }, (_, irq) => irqToDirql(irq))).toEqual([28, 26, 25, 24, 23, 22, 21, 20, 27, 18, 17, 16, 15, 14, 13, 12]);
  });

  it('the mapping functions reject an IRQ outside 0–15', () => {
    expect(() => irqToVector(16)).toThrow(RangeError);
    expect(() => irqToDirql(-1)).toThrow(RangeError);
  });

  it('snapshot is a versioned plain object of both chips', () => {
    const r = rig();
    r.windows();
    r.pics.setIrq(3, true);
    const snap = r.pics.snapshot();
    expect(snap.version).toBe(1);
    expect(snap.intr).toBe(true);
    expect(snap.irqLines).toBe(1 << 3);
    expect(snap.master).toMatchObject({ name: 'master', vectorBase: 0x30, irr: 1 << 3, imr: 0, initStep: 'ready' });
    expect(snap.slave).toMatchObject({ name: 'slave', vectorBase: 0x38, icw3: 0x02 });
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('a run of random port writes, IRQ changes and acknowledges never throws (seeded)', () => {
    const ports = [M_CMD, M_DATA, S_CMD, S_DATA];
    for (const seed of [7, 42, 0x8259]) {
      const r = rig();
      const rnd = new Random(seed);
      expect(() => {
        if (seed !== 7) r.windows();
        for (let i = 0; i < 20_000; i++) {
          const op = rnd.int(0, 9);
          if (op < 4) r.out(ports[rnd.int(0, 3)]!, rnd.int(0, 255));
          else if (op < 6) r.in(ports[rnd.int(0, 3)]!);
          else if (op < 9) r.pics.setIrq(rnd.int(0, 15), rnd.int(0, 1) === 1);
          else r.pics.acknowledge(rnd.int(0, 3) === 0 ? () => r.pics.setIrq(rnd.int(0, 15), false) : undefined);
          if (r.pics.intr !== r.pics.snapshot().master.int) throw new Error(`INTR disagrees with the master's INT at step ${i}`);
        }
      }).not.toThrow();
    }
  });
});
