import type { Random } from '../machine/random';
import type { Scheduler } from '../machine/scheduler';
import type { TraceSink } from '../trace/sink';
import type { IoBus } from './ioBus';
import type { IsaDma } from './isaDma';

// What a subordinate ISA device is plugged into: the I/O bus for its ports, the system
// DMA controller for its channel(s) (DREQ out, DACK callbacks in), an interrupt line,
// the one clock, and the seeded generator. A device never reads the wall clock and
// never does host I/O: images and outputs are byte arrays handed in and out.

export interface IsaSlot {
  bus: IoBus;
  dma: IsaDma;
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
  /** Slows the device's data rate by this factor (≥ 1). */
  slowFactor?: number;
}
