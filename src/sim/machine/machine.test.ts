import { describe, expect, it } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { programDmaChannel } from '../hw/dmaProgramming';
import { scanByte } from '../hw/scanner';
import { ArraySink, EventKind } from '../trace/sink';
import { faultsFor, Machine } from './machine';

// The whole machine from a scenario, run by a small interrupt-driven "driver" written with
// port I/O: a scan into a fragmented buffer, one DMA segment per physical run.
const scenario = Scenario.parse({
  machine: { memoryMiB: 32, cache: 'coherent' },
  devices: [{ type: 'scanner', name: 'scn0', port: 0x300, irq: 10, channel: 3, lineBytes: 2048 }],
  checks: [{ kind: 'data-integrity' }],
});

function run(seed: number) {
  const trace = new ArraySink();
  const m = Machine.fromScenario(scenario, seed, trace);
  const lines = 6;
  const va = m.space.allocate(lines * 2048, { kind: 'fragmented', byteOffset: 0x123 })!;
  // The buffer's physical runs, as a scatter/gather list would give them.
  const runs: { pa: number; length: number }[] = [];
  m.space.forEachRun(va, lines * 2048, (pa, length) => runs.push({ pa, length }));
  let next = 0;
  const programNext = () => {
    const { pa, length } = runs[next++]!;
    programDmaChannel(m.bus, 3, 0x44, pa, length); // single, write (I/O → memory)
    m.bus.outb(0x304, length & 0xff);
    m.bus.outb(0x305, length >> 8);
    m.bus.outb(0x306, 0);
  };
  let done = false;
  m.pic.onIntr = (level) => {
    if (!level) return;
    m.scheduler.schedule(2_000, () => {
      const ack = m.pic.acknowledge();
      if (ack === null || ack.spurious) return;
      expect(ack.vector).toBe(0x30 + 10);
      const status = m.bus.inb(0x301);
      m.bus.outb(0x301, 0);
      if (status & 0x04) done = true;
      else if (status & 0x02) {
        programNext();
        m.bus.outb(0x300, 0x06); // IEN | GO
      }
      m.bus.outb(0xa0, 0x20); // EOI to the slave, then the master
      m.bus.outb(0x20, 0x20);
    });
  };
  // Unmask IRQ 10 on the slave and the cascade on the master.
  m.bus.outb(0xa1, m.bus.inb(0xa1) & ~(1 << 2));
  m.bus.outb(0x21, m.bus.inb(0x21) & ~(1 << 2));
  m.bus.outb(0x302, lines);
  m.bus.outb(0x303, 0);
  programNext();
  m.bus.outb(0x300, 0x05); // IEN | START
  m.scheduler.runUntilIdle();
  return { m, va, done, trace, runs, lines };
}

describe('the machine', () => {
  it('moves a scan into a fragmented buffer through DMA, the PIC and a driver-like ISR', () => {
    const { m, va, done, runs, lines } = run(11);
    expect(done).toBe(true);
    expect(runs.length).toBeGreaterThan(2);
    const data = m.cpu.readBytes(va, lines * 2048)!;
    const seed = (m.devices.get('scn0') as { config: { seed: number } }).config.seed;
    expect(Array.from(data)).toEqual(Array.from({ length: lines * 2048 }, (_, i) => scanByte({ lineBytes: 2048, seed }, i)));
  });

  it('gives the same event stream for the same seed, and a different one for another seed', () => {
    const a = run(21).trace;
    const b = run(21).trace;
    expect(a.count).toBeGreaterThan(5000);
    expect(b.events).toEqual(a.events);
    expect(a.list(EventKind.InterruptAck).length).toBeGreaterThan(2);
    const c = run(22).trace;
    expect(c.events).not.toEqual(a.events);
  });
});

describe('devices from a scenario', () => {
  it('plugs the sound device in at its ports, channels and IRQ', () => {
    const m = Machine.fromScenario(
      Scenario.parse({ devices: [{ type: 'sound', name: 'sb0' }], checks: [{ kind: 'no-underrun' }] }),
      1,
    );
    expect(m.bus.ownerOf(0x22c)).toMatch(/./);
    // DSP reset: 1, then 0, then 0xAA appears in the read-data port.
    m.bus.outb(0x226, 1);
    m.scheduler.runUntil(m.scheduler.now + 10_000);
    m.bus.outb(0x226, 0);
    m.scheduler.runUntil(m.scheduler.now + 1_000_000);
    expect(m.bus.inb(0x22e) & 0x80).toBe(0x80);
    expect(m.bus.inb(0x22a)).toBe(0xaa);
  });
});

describe('the floppy from a scenario', () => {
  it('reads sector 1 of the given image into memory through DMA channel 2', () => {
    const image = new Uint8Array(1_474_560);
    for (let i = 0; i < 512; i++) image[i] = (i * 7 + 3) & 0xff;
    const m = Machine.fromScenario(
      Scenario.parse({ devices: [{ type: 'floppy', name: 'fdc0' }], checks: [{ kind: 'data-integrity' }] }),
      1,
      undefined,
      new Map([['fdc0', image]]),
    );
    const pa = 0x2_0000;
    // 8237: channel 2, single, write (I/O → memory), 512 bytes.
    programDmaChannel(m.bus, 2, 0x46, pa, 512);
    m.bus.outb(0x3f7, 0x00); // 500 kbit/s
    m.bus.outb(0x3f2, 0x1c); // out of reset, DMA gate, motor A
    m.scheduler.runUntil(m.scheduler.now + 400_000_000); // spin-up
    const command = (bytes: number[]) => bytes.forEach((b) => m.bus.outb(0x3f5, b));
    for (let i = 0; i < 4; i++) {
      command([0x08]); // SENSE INTERRUPT STATUS after the reset
      m.bus.inb(0x3f5);
      m.bus.inb(0x3f5);
    }
    command([0x03, 0xdf, 0x02]); // SPECIFY
    command([0x07, 0x00]); // RECALIBRATE
    m.scheduler.runUntil(m.scheduler.now + 100_000_000);
    command([0x08]);
    m.bus.inb(0x3f5);
    m.bus.inb(0x3f5);
    command([0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff]); // READ DATA C0 H0 R1 N2
    m.scheduler.runUntil(m.scheduler.now + 400_000_000);
    const result = Array.from({ length: 7 }, () => m.bus.inb(0x3f5));
    expect(result[0]! & 0xc0).toBe(0x00); // ST0: normal termination (the 8237's TC ended the command)
    expect(Array.from(m.memory.bytes.subarray(pa, pa + 512))).toEqual(Array.from(image.subarray(0, 512)));
    expect(m.memory.bytes[pa + 512]).toBe(0);
  });
});

describe('the CPU and DMA', () => {
  it('the CPU reading memory in the middle of a block transfer sees exactly the bytes moved so far', () => {
    const m = new Machine({ memoryMiB: 16, cache: 'coherent', seed: 1 });
    const va = m.space.allocate(4096, { kind: 'below-16m' })!;
    const pa = m.space.translate(va)!;
    let next = 0;
    m.dma.attach(1, { dmaFromDevice: (into) => into.forEach((_, i) => (into[i] = ++next & 0xff)), dmaToDevice: () => {} });
    programDmaChannel(m.bus, 1, 0x84, pa, 0x1000); // block, write (I/O → memory)
    m.dma.setDreq(1, true);
    // Hold latency 500 ns, then S1 and 3 clocks of 250 ns per byte: 100 bytes take 75.25 µs.
    m.scheduler.runUntil(m.scheduler.now + 500 + 250 + 100 * 750);
    const seen = m.cpu.readBytes(va, 102)!;
    expect(seen[99]).toBe(100);
    expect(seen[100]).toBe(0);
  });
});

describe("a scenario's faults", () => {
  it('go to the device they name, or the first; no-interrupt at a byte stops one transfer, without it every interrupt', () => {
    const scenario = Scenario.parse({
      devices: [{ type: 'floppy', name: 'fdc0' }, { type: 'scanner', name: 'scn0' }],
      faults: [
        { kind: 'no-interrupt', atByte: 3072 },
        { kind: 'io-error', atByte: 700 },
        { kind: 'no-interrupt', device: 'scn0' },
      ],
      checks: [{ kind: 'irp-status' }],
    });
    expect(faultsFor(scenario, 'fdc0', true)).toEqual({ noInterruptAtByte: 3072, ioErrorAtByte: 700 });
    expect(faultsFor(scenario, 'scn0', false)).toEqual({ neverInterrupt: true });
  });
});
