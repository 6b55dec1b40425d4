import type { Random } from '../machine/random';
import type { Scheduler } from '../machine/scheduler';
import type { TraceSink } from '../trace/sink';
import type { IoBus } from './ioBus';
import type { DmaPeer } from './isaDma';

// What a subordinate ISA device is plugged into: the I/O bus for its ports, the system
// DMA controller for its channel(s) (DREQ out, DACK callbacks in), an interrupt line,
// the one clock, and the seeded generator. A device never reads the wall clock and
// never does host I/O: images and outputs are byte arrays handed in and out.

/** A card's DMA lines: DREQ out, and DACK/T/C in through the peer it attaches. */
export interface DmaLines {
  attach(channel: number, peer: DmaPeer | null): void;
  setDreq(channel: number, level: boolean): void;
}

export interface IsaSlot {
  bus: IoBus;
  dma: DmaLines;
  scheduler: Scheduler;
  trace: TraceSink;
  random: Random;
  /** Drives the device's IRQ line (edge-triggered on the AT: raise, then lower to re-arm). */
  setIrq(irq: number, level: boolean): void;
}

/** Faults a scenario can inject into any device (DESIGN.md, "Devices"). */
export interface DeviceFaults {
  /** The transfer fails with the device's own error status after this many bytes. */
  ioErrorAtByte?: number;
  /** The device never raises its interrupt. */
  neverInterrupt?: boolean;
  /**
   * Once, after this many data bytes: the transfer under way stops where it is and never
   * ends, so its interrupt never comes; a reset of the device brings it back (the floppy).
   */
  noInterruptAtByte?: number;
  /** Slows the device's data rate by this factor (≥ 1). */
  slowFactor?: number;
}
