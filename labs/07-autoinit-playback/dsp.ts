// The Sound Blaster 16's DSP, in a few small routines (labs/devices/sound.md).
//
// Nothing here touches DMA: these are the card's own ports. The driver calls them to reset
// the DSP, start a 16-bit auto-initialize stream, end it, and acknowledge its interrupt.

// Ports, as offsets from the base (2x0h).
const SB_MIXER_ADDRESS = 0x4;
const SB_MIXER_DATA = 0x5;
const SB_DSP_RESET = 0x6;
const SB_DSP_READ_DATA = 0xa;
const SB_DSP_WRITE = 0xc; // also the write-buffer status on read
const SB_DSP_READ_STATUS = 0xe; // reading it acknowledges the 8-bit interrupt
const SB_DSP_ACK16 = 0xf; // reading it acknowledges the 16-bit interrupt

const DSP_BUSY = 0x80; // bit 7 of 2xCh
const DSP_DATA_AVAILABLE = 0x80; // bit 7 of 2xEh
const DSP_READY = 0xaa;

const MIXER_IRQ_STATUS = 0x82;
const IRQ_STATUS_DMA8 = 0x01;
const IRQ_STATUS_DMA16 = 0x02;

const DSP_SET_OUTPUT_RATE = 0x41;
const DSP_SET_INPUT_RATE = 0x42;
const DSP_PLAY16_AUTO = 0xb6; // 16-bit, D/A, auto-initialize, FIFO on
const DSP_RECORD16_AUTO = 0xbe; // 16-bit, A/D, auto-initialize, FIFO on
const DSP_MODE_STEREO_SIGNED = 0x30;
const DSP_PAUSE16 = 0xd5;
const DSP_EXIT_AUTO16 = 0xd9;
const DSP_GET_VERSION = 0xe1;

/** Writes a command or argument byte once the DSP's write buffer is free. */
export function DspWrite(PortBase: PORT, Value: number): boolean {
  for (let i = 0; i < 100; i++) {
    if ((READ_PORT_UCHAR(PortBase + SB_DSP_WRITE) & DSP_BUSY) === 0) {
      WRITE_PORT_UCHAR(PortBase + SB_DSP_WRITE, Value);
      return true;
    }
  }
  return false;
}

/** Reads the DSP's next byte, or -1 if none comes within about 1 ms. */
export function DspRead(PortBase: PORT): number {
  for (let i = 0; i < 500; i++) {
    if ((READ_PORT_UCHAR(PortBase + SB_DSP_READ_STATUS) & DSP_DATA_AVAILABLE) !== 0) return READ_PORT_UCHAR(PortBase + SB_DSP_READ_DATA);
    KeStallExecutionProcessor(1);
  }
  return -1;
}

/** Reset: 1 for at least 3 µs, then 0; the DSP answers 0AAh about 100 µs later. */
export function DspReset(PortBase: PORT): boolean {
  WRITE_PORT_UCHAR(PortBase + SB_DSP_RESET, 1);
  KeStallExecutionProcessor(3);
  WRITE_PORT_UCHAR(PortBase + SB_DSP_RESET, 0);
  return DspRead(PortBase) === DSP_READY;
}

/** The DSP's version as major * 100 + minor (405 for DSP 4.05), or -1. */
export function DspVersion(PortBase: PORT): number {
  DspWrite(PortBase, DSP_GET_VERSION);
  const major = DspRead(PortBase);
  const minor = DspRead(PortBase);
  return major < 0 || minor < 0 ? -1 : major * 100 + minor;
}

/**
 * Sets the rate, then starts 16-bit stereo signed auto-initialize DMA: play (Playback) or
 * record. The DSP interrupts at the end of every block of BlockBytes and goes on with the
 * next, over and over, until DspExitAutoInit.
 */
export function DspStartAutoInit(PortBase: PORT, Playback: boolean, SampleRate: number, BlockBytes: number): void {
  const samples = BlockBytes / 2; // 16-bit samples, both channels counted
  DspWrite(PortBase, Playback ? DSP_SET_OUTPUT_RATE : DSP_SET_INPUT_RATE);
  DspWrite(PortBase, SampleRate >> 8); // high byte first
  DspWrite(PortBase, SampleRate & 0xff);
  DspWrite(PortBase, Playback ? DSP_PLAY16_AUTO : DSP_RECORD16_AUTO);
  DspWrite(PortBase, DSP_MODE_STEREO_SIGNED);
  DspWrite(PortBase, (samples - 1) & 0xff); // length - 1, low byte first
  DspWrite(PortBase, (samples - 1) >> 8);
}

/** D9h: the block now moving is the last; the DSP interrupts once more at its end and stops. */
export function DspExitAutoInit(PortBase: PORT): void {
  DspWrite(PortBase, DSP_EXIT_AUTO16);
}

/** D5h: stops 16-bit DMA at once (reset the DSP afterwards). */
export function DspPause(PortBase: PORT): void {
  DspWrite(PortBase, DSP_PAUSE16);
}

/**
 * For the ISR: whether the card interrupted, acknowledging what it raised. Returns
 * 'none' (not this card), 'other' (an 8-bit interrupt, acknowledged) or 'block' (a 16-bit
 * block ended, acknowledged: queue the DPC).
 */
export function DspAcknowledge(PortBase: PORT): 'none' | 'other' | 'block' {
  WRITE_PORT_UCHAR(PortBase + SB_MIXER_ADDRESS, MIXER_IRQ_STATUS);
  const pending = READ_PORT_UCHAR(PortBase + SB_MIXER_DATA);
  if ((pending & (IRQ_STATUS_DMA8 | IRQ_STATUS_DMA16)) === 0) return 'none';
  if (pending & IRQ_STATUS_DMA8) READ_PORT_UCHAR(PortBase + SB_DSP_READ_STATUS);
  if (pending & IRQ_STATUS_DMA16) {
    READ_PORT_UCHAR(PortBase + SB_DSP_ACK16);
    return 'block';
  }
  return 'other';
}
