import { describe, expect, it } from 'vitest';
import { Scheduler } from '../machine/scheduler';
import { ArraySink } from '../trace/sink';
import { initializeDmaAsBios, programDmaChannel } from './dmaProgramming';
import { MODE_SINGLE, MODE_TYPE_READ, MODE_TYPE_WRITE } from './i8237';
import { IoBus } from './ioBus';
import { IsaDma, type DmaPeer } from './isaDma';
import type { DmaLines } from './isaDevice';
import { SharedDmaChannel } from './sharedDmaChannel';

// Two cards on channel 2: DREQ is the OR of the cards driving it, DACK reaches the cards
// that drive it, and two answering at once garble the data bus.

function rig() {
  const scheduler = new Scheduler();
  const trace = new ArraySink();
  const bus = new IoBus(scheduler, trace);
  const memory = { bytes: new Uint8Array(1 << 20), size: 1 << 20 };
  const dma = new IsaDma(bus, scheduler, memory, trace);
  initializeDmaAsBios(bus);
  const shared = new SharedDmaChannel(dma, 2);
  return { scheduler, bus, memory, dma, shared };
}

/** A card that sends `fill` bytes while its DREQ is up, and records what it gets. */
class Card implements DmaPeer {
  received: number[] = [];
  tc = 0;
  constructor(
    private readonly lines: DmaLines,
    private readonly fill: number,
  ) {
    lines.attach(2, this);
  }
  dreq(level: boolean): void {
    this.lines.setDreq(2, level);
  }
  dmaFromDevice(into: Uint8Array): void {
    into.fill(this.fill);
  }
  dmaToDevice(data: Uint8Array): void {
    this.received.push(...data);
  }
  dmaTerminalCount(): void {
    this.tc++;
    this.dreq(false);
  }
}

describe('SharedDmaChannel', () => {
  it('serves the one card that drives DREQ, and gives it T/C', () => {
    const r = rig();
    const a = new Card(r.shared.lines(), 0x3c);
    const b = new Card(r.shared.lines(), 0xc3);
    programDmaChannel(r.bus, 2, MODE_SINGLE | MODE_TYPE_WRITE, 0x1000, 16);
    b.dreq(true);
    r.scheduler.runUntil(1_000_000);
    expect([...r.memory.bytes.subarray(0x1000, 0x1010)]).toEqual(new Array(16).fill(0xc3));
    expect(r.memory.bytes[0x1010]).toBe(0);
    expect([a.tc, b.tc]).toEqual([0, 1]);
    expect(r.shared.conflicts).toBe(0);
  });

  it('keeps DREQ up while either card drives it', () => {
    const r = rig();
    const a = new Card(r.shared.lines(), 0x01);
    const b = new Card(r.shared.lines(), 0x02);
    a.dreq(true);
    b.dreq(true);
    a.dreq(false);
    programDmaChannel(r.bus, 2, MODE_SINGLE | MODE_TYPE_WRITE, 0x2000, 4);
    r.scheduler.runUntil(1_000_000);
    expect([...r.memory.bytes.subarray(0x2000, 0x2004)]).toEqual([2, 2, 2, 2]);
  });

  it('garbles the data when two cards answer one DACK, and counts the transfers', () => {
    const r = rig();
    const a = new Card(r.shared.lines(), 0x3c);
    const b = new Card(r.shared.lines(), 0x0f);
    programDmaChannel(r.bus, 2, MODE_SINGLE | MODE_TYPE_WRITE, 0x3000, 8);
    a.dreq(true);
    b.dreq(true);
    r.scheduler.runUntil(1_000_000);
    // Neither card's bytes: a line pulled low by either card reads low.
    expect([...r.memory.bytes.subarray(0x3000, 0x3008)]).toEqual(new Array(8).fill(0x0c));
    expect(r.shared.conflicts).toBe(8);
    expect([a.tc, b.tc]).toEqual([1, 1]);
  });

  it('hands memory-to-device bytes to the card that asked for them', () => {
    const r = rig();
    const a = new Card(r.shared.lines(), 0);
    const b = new Card(r.shared.lines(), 0);
    r.memory.bytes.set([1, 2, 3, 4], 0x4000);
    programDmaChannel(r.bus, 2, MODE_SINGLE | MODE_TYPE_READ, 0x4000, 4);
    a.dreq(true);
    r.scheduler.runUntil(1_000_000);
    expect(a.received).toEqual([1, 2, 3, 4]);
    expect(b.received).toEqual([]);
  });

  it('refuses a card that uses another channel', () => {
    const r = rig();
    expect(() => r.shared.lines().setDreq(3, true)).toThrow(/shared DMA channel 2 used channel 3/);
  });
});
