// The SCN-1 scanner's registers and the 8237 channel programming (labs/devices/scanner.md).
//
// Given: nothing here changes in this lab. Read it once so you know what programChannel
// writes; AdapterListControl and the DPC call it for each scatter/gather element.

// ---- The card: eight byte-wide registers at the port base ------------------------------------

export const SCN_CTRL = 0;
export const SCN_STATUS = 1;
export const SCN_LINES_LO = 2;
export const SCN_LINES_HI = 3;
export const SCN_SEGMENT_LO = 4;
export const SCN_SEGMENT_HI = 5;
export const SCN_SEGMENT_XHI = 6;
export const SCN_ID = 7;

/** CTRL bits. Every write replaces CTRL, so write IEN along with START and GO. */
export const CTRL_START = 0x01;
export const CTRL_GO = 0x02;
export const CTRL_IEN = 0x04;
export const CTRL_ABORT = 0x08;
export const CTRL_RESET = 0x80;

/** STATUS bits. */
export const STATUS_WAITING = 0x02;
export const STATUS_DONE = 0x04;
export const STATUS_ERROR = 0x08;
export const STATUS_IRQ = 0x80;

export const SCANNER_ID = 0x5c;

/** The card's line length (the datasheet's default). A read is a whole number of lines. */
export const LINE_BYTES = 2048;
/** The largest read the driver accepts: MaximumLength for IoGetDmaAdapter. */
export const MAX_TRANSFER = 16 * LINE_BYTES;

/** LINES: how many lines the next START scans. */
export function setLines(port: PORT, lines: number): void {
  WRITE_PORT_UCHAR(port + SCN_LINES_LO, lines & 0xff);
  WRITE_PORT_UCHAR(port + SCN_LINES_HI, (lines >>> 8) & 0xff);
}

/** SEGMENT: how many bytes the card sends before it pauses (WAITING) or finishes (DONE). */
export function setSegment(port: PORT, length: number): void {
  WRITE_PORT_UCHAR(port + SCN_SEGMENT_LO, length & 0xff);
  WRITE_PORT_UCHAR(port + SCN_SEGMENT_HI, (length >>> 8) & 0xff);
  WRITE_PORT_UCHAR(port + SCN_SEGMENT_XHI, (length >>> 16) & 0xff);
}

// ---- The 8237 pair ------------------------------------------------------------------------------

interface DmaChannelPorts {
  Address: PORT;
  Count: PORT;
  Page: PORT;
  Mask: PORT;
  Mode: PORT;
  ClearBytePointer: PORT;
  /** Channels 5-7 count words and address memory in words. */
  Word: boolean;
}

const dma1 = (ch: number, page: PORT): DmaChannelPorts => ({ Address: ch * 2, Count: ch * 2 + 1, Page: page, Mask: 0x0a, Mode: 0x0b, ClearBytePointer: 0x0c, Word: false });
const dma2 = (ch: number, page: PORT): DmaChannelPorts => ({ Address: 0xc0 + (ch & 3) * 4, Count: 0xc2 + (ch & 3) * 4, Page: page, Mask: 0xd4, Mode: 0xd6, ClearBytePointer: 0xd8, Word: true });

/** Ports of each system DMA channel on the AT; channel 4 is the cascade. */
const DMA_CHANNELS: (DmaChannelPorts | null)[] = [dma1(0, 0x87), dma1(1, 0x83), dma1(2, 0x81), dma1(3, 0x82), null, dma2(5, 0x8b), dma2(6, 0x89), dma2(7, 0x8a)];

const DMA_MASK_SET = 0x04;
/** Single mode, write transfer (I/O -> memory), address increment, no auto-initialize. */
const DMA_MODE_SINGLE_WRITE = 0x44;

/** True for a channel the card can use (0-3, 5-7). */
export function isDmaChannel(channel: number): boolean {
  return (DMA_CHANNELS[channel] ?? null) !== null;
}

/** True for channels 5-7, which move 16-bit words. */
export function isWordChannel(channel: number): boolean {
  return DMA_CHANNELS[channel]?.Word ?? false;
}

/**
 * Points a channel at one physically contiguous piece of memory for a write transfer
 * (device -> memory): mask, clear the byte pointer, mode, address, page, count - 1, unmask.
 * The piece must not cross a 64 KiB boundary (128 KiB on channels 5-7): the list's
 * elements never do.
 */
export function programChannel(channel: number, address: number, length: number): void {
  const p = DMA_CHANNELS[channel]!;
  const local = channel & 3;
  const base = p.Word ? (address >>> 1) & 0xffff : address & 0xffff;
  const count = (p.Word ? length >>> 1 : length) - 1;
  WRITE_PORT_UCHAR(p.Mask, DMA_MASK_SET | local);
  WRITE_PORT_UCHAR(p.ClearBytePointer, 0);
  WRITE_PORT_UCHAR(p.Mode, DMA_MODE_SINGLE_WRITE | local);
  WRITE_PORT_UCHAR(p.Address, base & 0xff);
  WRITE_PORT_UCHAR(p.Address, (base >>> 8) & 0xff);
  WRITE_PORT_UCHAR(p.Page, (address >>> 16) & 0xff);
  WRITE_PORT_UCHAR(p.Count, count & 0xff);
  WRITE_PORT_UCHAR(p.Count, (count >>> 8) & 0xff);
  WRITE_PORT_UCHAR(p.Mask, local);
}

/** Masks a channel: it answers no DREQ until it is programmed again. */
export function maskChannel(channel: number): void {
  const p = DMA_CHANNELS[channel]!;
  WRITE_PORT_UCHAR(p.Mask, DMA_MASK_SET | (channel & 3));
}
