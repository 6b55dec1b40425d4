import type { PortDevice } from './ioBus';

// The AT's DMA page registers: a 74LS612 at 0x80–0x8F outside the 8237s, which supplies
// address lines A16–A23 (reference/hw/i8237a.md §3). All sixteen locations read back
// what was written; only the ones below feed a channel. The 8237 never carries into them.

export const PAGE_PORT_BASE = 0x80;

/** Page register port of each DMA channel; channel 4 is the cascade and never addresses memory. */
export const PAGE_PORT: Readonly<Record<number, number>> = {
  0: 0x87,
  1: 0x83,
  2: 0x81,
  3: 0x82,
  5: 0x8b,
  6: 0x89,
  7: 0x8a,
};

export class PageRegisters implements PortDevice {
  private readonly latches = new Uint8Array(16);

  constructor(private readonly onWrite: (port: number, value: number) => void = () => {}) {}

  /** The page byte of a channel (0 for channel 4). */
  page(channel: number): number {
    const port = PAGE_PORT[channel];
    return port === undefined ? 0 : this.latches[port - PAGE_PORT_BASE]!;
  }

  ioRead(port: number): number {
    return this.latches[port - PAGE_PORT_BASE]!;
  }

  ioWrite(port: number, value: number): void {
    this.latches[port - PAGE_PORT_BASE] = value;
    this.onWrite(port, value);
  }
}
