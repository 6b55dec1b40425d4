import { dma1Config, dma2Config, MASK_SET, MODE_CASCADE, Reg } from './i8237';
import type { IoBus } from './ioBus';
import { PAGE_PORT } from './pageRegisters';

// How software programs a system DMA channel on the AT (reference/hw/i8237a.md §19): the
// sequence BIOS code, Linux's set_dma_* helpers and a HAL's MapTransfer all follow.

type PortWriter = Pick<IoBus, 'outb'>;

const configOf = (channel: number) => (channel < 4 ? dma1Config : dma2Config);
const port = (channel: number, register: number) => configOf(channel).base + (register << configOf(channel).portShift);

/**
 * Mask, clear the byte pointer, mode, address low/high, page, count − 1 low/high, unmask.
 * `physical` is a byte address; channels 5–7 take word addresses and word counts, so
 * `transfers` counts words there. The mode's channel bits are filled in.
 */
export function programDmaChannel(bus: PortWriter, channel: number, mode: number, physical: number, transfers: number, unmask = true): void {
  const local = channel & 3;
  const address = channel < 4 ? physical & 0xffff : (physical >> 1) & 0xffff;
  const count = (transfers - 1) & 0xffff;
  bus.outb(port(channel, Reg.SingleMask), MASK_SET | local);
  bus.outb(port(channel, Reg.ClearBytePointer), 0);
  bus.outb(port(channel, Reg.Mode), (mode & ~3) | local);
  bus.outb(port(channel, local * 2), address & 0xff);
  bus.outb(port(channel, local * 2), address >> 8);
  bus.outb(PAGE_PORT[channel]!, (physical >> 16) & 0xff);
  bus.outb(port(channel, local * 2 + 1), count & 0xff);
  bus.outb(port(channel, local * 2 + 1), count >> 8);
  if (unmask) bus.outb(port(channel, Reg.SingleMask), local);
}

/** What the AT BIOS does at start: channel 4 in cascade mode (DMA1 behind it), unmasked. */
export function initializeDmaAsBios(bus: PortWriter): void {
  bus.outb(port(4, Reg.Mode), MODE_CASCADE | 0);
  bus.outb(port(4, Reg.SingleMask), 0);
}
