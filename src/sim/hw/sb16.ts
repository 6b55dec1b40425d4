import type { EventHandle } from '../machine/scheduler';
import type { DmaPeer } from './isaDma';
import type { PortDevice } from './ioBus';
import type { DeviceFaults, IsaSlot } from './isaDevice';

// Sound Blaster 16: the DSP 4.05 and the interrupt/DMA part of its CT1745 mixer, as
// Creative's "Sound Blaster Series Hardware Programming Guide" describes them (reset,
// E1h, 40h/41h/42h, 48h, 14h/1Ch/24h/2Ch, Bxh/Cxh, D0h–DAh, interrupt acknowledge by
// reading 2xEh/2xFh). Its datasheet is labs/devices/sound.md.
// How data moves: the DSP keeps a 64-byte FIFO between the bus and the DAC/ADC and
// asks for single transfers: playback raises DREQ when half the FIFO is free and holds
// it until the FIFO is full (so the 8237 in single mode makes a burst of one-cycle
// services); capture raises it when the FIFO is half full and holds it until empty.
// With the command's FIFO bit clear the FIFO is one sample frame deep. In demand mode
// it asks for at most 16 transfers per grant (the 8237 model delivers a grant's bytes
// at its end, and a longer burst would reach the DAC after the sample is due).
// Departures: the DAC/ADC run lazily (a frame's time is computed, not scheduled; the
// only events are "FIFO reached its mark"); one transfer at a time (a new DMA command
// replaces the running one); the write-buffer status is never busy once
// the DSP is ready; the speaker commands only change what D8h reports (an SB16 always
// drives its output); mixer 80h/81h are fixed by the scenario's wiring and ignore
// writes; FM, MIDI, ADPCM, high-speed modes, E2h/E3h and the volume controls' effect
// are not modelled. An underrun plays silence; an overrun drops the frame.

// ---- Ports, offsets from the base (2x0h) ----
export const SB_MIXER_ADDRESS = 0x4; // mixer register index (write; reads back)
export const SB_MIXER_DATA = 0x5; // mixer data (read/write)
export const SB_DSP_RESET = 0x6; // DSP reset (write)
export const SB_DSP_READ_DATA = 0xa; // DSP read data (read)
export const SB_DSP_WRITE = 0xc; // DSP write command/data (write), write-buffer status (read)
export const SB_DSP_READ_STATUS = 0xe; // DSP read-buffer status (read); acknowledges the 8-bit interrupt
export const SB_DSP_ACK16 = 0xf; // 16-bit interrupt acknowledge (read)

export const DSP_STATUS_FLAG = 0x80; // bit 7 of 2xCh (write buffer busy) and 2xEh (data available)
export const DSP_READY_BYTE = 0xaa; // what the DSP says when its reset is done
export const DSP_VERSION_MAJOR = 4;
export const DSP_VERSION_MINOR = 5;

// ---- DSP commands (Programming Guide, "DSP Commands") ----
export const DSP_DAC8_SINGLE = 0x14; // 8-bit single-cycle DMA output; length−1 (lo, hi)
export const DSP_DAC8_AUTO = 0x1c; // 8-bit auto-initialize DMA output; length from 48h
export const DSP_ADC8_SINGLE = 0x24; // 8-bit single-cycle DMA input; length−1 (lo, hi)
export const DSP_ADC8_AUTO = 0x2c; // 8-bit auto-initialize DMA input; length from 48h
export const DSP_TIME_CONSTANT = 0x40; // set time constant: rate = 1 000 000 / (256 − TC)
export const DSP_OUTPUT_RATE = 0x41; // set output sample rate, high byte then low byte
export const DSP_INPUT_RATE = 0x42; // set input sample rate, high byte then low byte
export const DSP_BLOCK_SIZE = 0x48; // set block transfer size for 1Ch/2Ch; length−1 (lo, hi)
export const DSP_DMA16 = 0xb0; // Bxh: 16-bit DMA I/O; mode byte, length−1 (lo, hi)
export const DSP_DMA8 = 0xc0; // Cxh: 8-bit DMA I/O; mode byte, length−1 (lo, hi)
export const DSP_PAUSE8 = 0xd0; // pause 8-bit DMA I/O
export const DSP_SPEAKER_ON = 0xd1; // turn on speaker
export const DSP_SPEAKER_OFF = 0xd3; // turn off speaker
export const DSP_CONTINUE8 = 0xd4; // continue 8-bit DMA I/O
export const DSP_PAUSE16 = 0xd5; // pause 16-bit DMA I/O
export const DSP_CONTINUE16 = 0xd6; // continue 16-bit DMA I/O
export const DSP_SPEAKER_STATUS = 0xd8; // speaker status: 00h off, FFh on
export const DSP_EXIT_AUTO16 = 0xd9; // exit 16-bit auto-initialize after this block
export const DSP_EXIT_AUTO8 = 0xda; // exit 8-bit auto-initialize after this block
export const DSP_IDENTIFY = 0xe0; // DSP identification: returns the argument inverted
export const DSP_GET_VERSION = 0xe1; // get DSP version: major, minor
export const DSP_IRQ8 = 0xf2; // force an 8-bit interrupt
export const DSP_IRQ16 = 0xf3; // force a 16-bit interrupt

// Bxh/Cxh command bits
export const DMA_CMD_FAMILY_MASK = 0xf0;
export const DMA_CMD_ADC = 0x08; // A/D (capture); clear: D/A (playback)
export const DMA_CMD_AUTOINIT = 0x04; // auto-initialize; clear: single-cycle
export const DMA_CMD_FIFO = 0x02; // FIFO on
export const DMA_CMD_RESERVED = 0x01; // must be 0
// Bxh/Cxh mode byte
export const DMA_MODE_SIGNED = 0x10; // signed samples; clear: unsigned
export const DMA_MODE_STEREO = 0x20; // stereo (left first); clear: mono

// ---- Mixer registers (CT1745) ----
export const MIXER_RESET = 0x00; // any write: registers to their defaults
export const MIXER_IRQ_SELECT = 0x80; // bit per IRQ: 0 = IRQ2, 1 = IRQ5, 2 = IRQ7, 3 = IRQ10
export const MIXER_DMA_SELECT = 0x81; // bit n = DMA channel n (0, 1, 3 and 5, 6, 7)
export const MIXER_IRQ_STATUS = 0x82; // interrupt status (read only)
export const IRQ_STATUS_DMA8 = 0x01; // 8-bit DMA (or forced F2h) interrupt pending
export const IRQ_STATUS_DMA16 = 0x02; // 16-bit DMA (or forced F3h) interrupt pending
export const IRQ_STATUS_MPU401 = 0x04; // MPU-401 interrupt pending (never, here)
export const IRQ_STATUS_REVISION = 0x20; // bits 4–7: the CT1745's revision, as read on an SB16

/** Mixer 80h bit for each IRQ the card can use. */
export const MIXER_IRQ_BITS: Readonly<Record<number, number>> = { 2: 0x01, 5: 0x02, 7: 0x04, 10: 0x08 };

// ---- Timing and sizes ----
/** The reset line must stay high this long for the DSP to see it (the guide's 3 µs). */
export const RESET_PULSE_MIN_NS = 3_000;
/** From writing 0 to 2x6h until 0AAh is in the read buffer (the guide: "about 100 µs"). */
export const RESET_READY_NS = 100_000;
export const FIFO_BYTES = 64;
const FIFO_MASK = FIFO_BYTES - 1;
/** Demand mode: the DSP holds DREQ for at most this many transfers, then asks again (keeps a burst shorter than a sample period at 45 kHz). */
export const DEMAND_BURST_MAX = 16;
export const RATE_MIN = 5_000;
export const RATE_MAX = 45_000;
/** Rates and 48h block size after a reset: the guide leaves them open; these are the lab's. */
export const DEFAULT_RATE = 22_050;
export const DEFAULT_BLOCK_BYTES = 0x800;
const READ_BUFFER_BYTES = 16;
/** Output kept for toWav() beyond this is counted but not stored. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface Sb16Config {
  base: number;
  irq: number;
  /** 8-bit DMA channel: 0, 1 or 3. */
  dma8: number;
  /** 16-bit DMA channel: 5, 6 or 7, or the 8-bit channel (16-bit data then moves in bytes). */
  dma16: number;
  maxOutputBytes?: number;
}

export const sb16DefaultConfig: Sb16Config = { base: 0x220, irq: 5, dma8: 1, dma16: 5 };

/** Capture source: the signed 16-bit value of channel `channel` (0 left, 1 right) of frame `frame`. */
export type SoundGenerator = (frame: number, channel: number) => number;

/** One DSP command: how many argument bytes follow it. */
interface DspCommandRow {
  readonly code: number;
  readonly args: number;
  readonly name: string;
}

/** Programming Guide, "DSP Commands": the subset this DSP answers. Others are ignored. */
export const dspCommands: readonly DspCommandRow[] = [
  { code: DSP_DAC8_SINGLE, args: 2, name: '8-bit single-cycle DMA output' },
  { code: DSP_DAC8_AUTO, args: 0, name: '8-bit auto-initialize DMA output' },
  { code: DSP_ADC8_SINGLE, args: 2, name: '8-bit single-cycle DMA input' },
  { code: DSP_ADC8_AUTO, args: 0, name: '8-bit auto-initialize DMA input' },
  { code: DSP_TIME_CONSTANT, args: 1, name: 'set time constant' },
  { code: DSP_OUTPUT_RATE, args: 2, name: 'set output sample rate' },
  { code: DSP_INPUT_RATE, args: 2, name: 'set input sample rate' },
  { code: DSP_BLOCK_SIZE, args: 2, name: 'set DSP block transfer size' },
  // Bxh and Cxh with bit 0 clear: 16- and 8-bit DMA I/O
  ...[DSP_DMA16, DSP_DMA8].flatMap((family) =>
    Array.from({ length: 8 }, (_, i) => ({ code: family | (i << 1), args: 3, name: `${family === DSP_DMA16 ? 16 : 8}-bit DMA I/O` })),
  ),
  { code: DSP_PAUSE8, args: 0, name: 'pause 8-bit DMA' },
  { code: DSP_SPEAKER_ON, args: 0, name: 'turn on speaker' },
  { code: DSP_SPEAKER_OFF, args: 0, name: 'turn off speaker' },
  { code: DSP_CONTINUE8, args: 0, name: 'continue 8-bit DMA' },
  { code: DSP_PAUSE16, args: 0, name: 'pause 16-bit DMA' },
  { code: DSP_CONTINUE16, args: 0, name: 'continue 16-bit DMA' },
  { code: DSP_SPEAKER_STATUS, args: 0, name: 'get speaker status' },
  { code: DSP_EXIT_AUTO16, args: 0, name: 'exit 16-bit auto-initialize' },
  { code: DSP_EXIT_AUTO8, args: 0, name: 'exit 8-bit auto-initialize' },
  { code: DSP_IDENTIFY, args: 1, name: 'DSP identification' },
  { code: DSP_GET_VERSION, args: 0, name: 'get DSP version' },
  { code: DSP_IRQ8, args: 0, name: 'force 8-bit interrupt' },
  { code: DSP_IRQ16, args: 0, name: 'force 16-bit interrupt' },
];

const UNKNOWN = 0xff;
/** Argument count per command byte; UNKNOWN for commands this DSP ignores. */
const ARG_COUNT = new Uint8Array(256).fill(UNKNOWN);
for (const row of dspCommands) ARG_COUNT[row.code] = row.args;

export type DspState = 'ready' | 'in-reset' | 'initializing' | 'no-response';
export type Sb16Mode = 'idle' | 'playback' | 'capture';

export interface Sb16Snapshot {
  device: 'sb16';
  version: 1;
  dsp: DspState;
  dspVersion: string;
  mode: Sb16Mode;
  /** The last DMA command byte (Bxh, Cxh, 14h, 1Ch, 24h, 2Ch), or null. */
  command: number | null;
  dmaChannel: number | null;
  /** Frames per second of the transfer (or the output rate when idle). */
  rate: number;
  outputRate: number;
  inputRate: number;
  format: { bits: 8 | 16; channels: 1 | 2; signed: boolean };
  fifoMode: boolean;
  autoInit: boolean;
  /** DAh/D9h was given: the transfer ends with this block. */
  exitAutoInitPending: boolean;
  /** Programmed length in samples (length−1 + 1), and in bytes. */
  blockLength: number;
  blockBytes: number;
  /** Bytes of the current block moved by DMA so far. */
  blockPosition: number;
  fifoFill: number;
  fifoCapacity: number;
  dreq: boolean;
  bytesPlayed: number;
  bytesCaptured: number;
  /** Frames the DAC has output, silence included. */
  framesOutput: number;
  underruns: number;
  overruns: number;
  paused: boolean;
  speaker: boolean;
  interrupts: number;
  irqPending8: boolean;
  irqPending16: boolean;
  irqLine: boolean;
  /** The injected I/O error happened: the DSP stopped until the next reset. */
  error: boolean;
  /** Ignored commands, bytes written while the DSP could not take them, too-short resets, mismatched pause/continue, DMA the DSP did not ask for. */
  warnings: number;
}

const NONE = 0;
const PLAY = 1;
const CAPTURE = 2;

function checkConfig(c: Sb16Config): void {
  if (!Number.isInteger(c.base) || c.base < 0x200 || c.base > 0x2f0 || (c.base & 0x0f) !== 0) throw new RangeError(`SB16: base must be 2x0h, got 0x${c.base.toString(16)}`);
  if (MIXER_IRQ_BITS[c.irq] === undefined) throw new RangeError(`SB16: IRQ must be 2, 5, 7 or 10, got ${c.irq}`);
  if (![0, 1, 3].includes(c.dma8)) throw new RangeError(`SB16: 8-bit DMA must be channel 0, 1 or 3, got ${c.dma8}`);
  if (![5, 6, 7, c.dma8].includes(c.dma16)) throw new RangeError(`SB16: 16-bit DMA must be channel 5, 6, 7 or the 8-bit channel, got ${c.dma16}`);
}

export class SoundBlaster16 implements PortDevice, DmaPeer {
  readonly config: Sb16Config;
  private readonly faults: DeviceFaults;
  private readonly periodNum: number;
  private readonly maxOutput: number;

  // DSP
  private dsp: DspState = 'ready';
  private resetLine = false;
  private resetRaisedAt = 0;
  private readyEvent: EventHandle | null = null;
  private readonly readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  private readHead = 0;
  private readCount = 0;
  /** The read-data latch: an empty buffer reads the last byte again. */
  private lastRead = 0xff;
  private pendingCommand = -1;
  private readonly args = new Uint8Array(3);
  private argCount = 0;
  private outputRate = DEFAULT_RATE;
  private inputRate = DEFAULT_RATE;
  private blockSize8 = DEFAULT_BLOCK_BYTES;
  private speaker = false;
  private warnings = 0;

  // Mixer
  private mixerIndex = 0;
  private readonly mixerRegs = new Uint8Array(256);

  // The transfer
  private direction = NONE;
  private command = -1;
  private bits: 8 | 16 = 8;
  private stereo = false;
  private signed = false;
  private fifoOn = true;
  private autoInit = false;
  private exitPending = false;
  /** The DSP still has bytes of a block to move by DMA. */
  private xferActive = false;
  private paused = false;
  private channel = -1;
  /** Bytes per DMA transfer on the channel: 1 on channels 0–3, 2 on 5–7. */
  private unit = 1;
  private frameBytes = 1;
  private blockBytes = 0;
  private blockLeft = 0;

  // FIFO: a ring of FIFO_BYTES, of which `fifoCapacity` are used (one frame with the FIFO off)
  private readonly fifo = new Uint8Array(FIFO_BYTES);
  private fifoHead = 0;
  private fifoFill = 0;
  private fifoCapacity = FIFO_BYTES;
  /** Playback: free bytes that raise DREQ; capture: bytes held that raise it. */
  private fifoMark = FIFO_BYTES / 2;
  private dreqChannel = -1;

  // Sample clock: frame k of the run is due at clockStart + floor((k+1)·periodNum/rate)
  private clockRunning = false;
  private clockStart = 0;
  private clockIndex = 0;
  private rate = DEFAULT_RATE;
  private wake: EventHandle | null = null;

  // Interrupts
  private pending8 = false;
  private pending16 = false;
  private irqLine = false;
  private interrupts = 0;

  // Counters and the injected error
  private bytesPlayed = 0;
  private bytesCaptured = 0;
  private dmaBytes = 0;
  private framesOutput = 0;
  private underruns = 0;
  private overruns = 0;
  private errorFired = false;
  private hung = false;

  // Output for toWav(), stored as a WAV stores it (8-bit unsigned, 16-bit signed little-endian)
  private out = new Uint8Array(64 * 1024);
  private outLength = 0;
  private outBits: 8 | 16 = 8;
  private outChannels: 1 | 2 = 1;
  private outRate = 0;

  // Capture input
  private generator: SoundGenerator | null = null;
  private inputPcm: Uint8Array | null = null;
  private inputPos = 0;
  private inputFrame = 0;
  /** The format of the last capture, to read its PCM input back (recentInput). */
  private inBits: 8 | 16 = 8;
  private inSigned = false;
  private inFrameBytes = 1;

  private updating = false;
  private again = false;

  constructor(
    private readonly slot: IsaSlot,
    config: Sb16Config = sb16DefaultConfig,
    faults: DeviceFaults = {},
  ) {
    checkConfig(config);
    this.config = config;
    this.faults = faults;
    this.periodNum = Math.round(1e9 * Math.max(1, faults.slowFactor ?? 1));
    this.maxOutput = config.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    // 2x0–2x3 and 2x8–2x9 are FM; they are left undecoded.
    slot.bus.map(config.base + SB_MIXER_ADDRESS, config.base + SB_DSP_RESET, this, 'SB16 mixer/DSP reset');
    slot.bus.map(config.base + SB_DSP_READ_DATA, config.base + SB_DSP_ACK16, this, 'SB16 DSP');
    slot.dma.attach(config.dma8, this);
    if (config.dma16 !== config.dma8) slot.dma.attach(config.dma16, this);
  }

  // ---- host side: input and output ----

  /** What the ADC hears: a generator of signed 16-bit values, raw PCM in the programmed format, or silence (null). */
  setInput(source: SoundGenerator | Uint8Array | null): void {
    this.generator = typeof source === 'function' ? source : null;
    this.inputPcm = source instanceof Uint8Array ? source : null;
    this.inputPos = 0;
    this.inputFrame = 0;
  }

  /** The PCM the DAC has output so far (WAV sample format), a copy. */
  outputPcm(): Uint8Array {
    this.catchUp();
    return this.out.slice(0, this.outLength);
  }

  clearOutput(): void {
    this.catchUp();
    this.outLength = 0;
  }

  /**
   * What the speaker got: the left channel of the last `frames` frames the DAC output (silence
   * for underruns included), signed 16-bit, oldest first; fewer when less was output. Reads
   * the stored output, so nothing after the toWav() cap or before clearOutput().
   */
  recentOutput(frames: number): Int16Array {
    this.catchUp();
    const fb = (this.outBits / 8) * this.outChannels;
    const n = Math.max(0, Math.min(Math.floor(frames), Math.floor(this.outLength / fb)));
    const answer = new Int16Array(n);
    const out = this.out;
    for (let k = 0, at = this.outLength - n * fb; k < n; k++, at += fb) {
      // WAV format: 8-bit unsigned, 16-bit signed little-endian.
      answer[k] = this.outBits === 8 ? (out[at]! - 0x80) << 8 : (out[at + 1]! << 8) | out[at]!;
    }
    return answer;
  }

  /**
   * What the ADC heard: the left channel of the last `frames` frames it took (overrun frames
   * included), signed 16-bit, oldest first; fewer when it took fewer. A generator is asked
   * again for those frames (a SoundGenerator is a function of the frame number; 8-bit
   * capture keeps only the high byte of what it answers); raw PCM is read back at its byte
   * offsets in the format of the last capture.
   */
  recentInput(frames: number): Int16Array {
    this.catchUp();
    const pcm = this.inputPcm;
    const fb = this.inFrameBytes;
    const taken = pcm ? Math.floor(this.inputPos / fb) : this.inputFrame;
    const n = Math.max(0, Math.min(Math.floor(frames), taken));
    const answer = new Int16Array(n);
    // Past its end the PCM reads as silence, as sampleInto takes it.
    const byte = (at: number, high: boolean) => (at < pcm!.length ? pcm![at]! : high && !this.inSigned ? 0x80 : 0);
    for (let k = 0; k < n; k++) {
      if (pcm) {
        const at = this.inputPos - (n - k) * fb;
        const high = this.inBits === 8 ? byte(at, true) : byte(at + 1, true);
        const value = ((this.inSigned ? high : high ^ 0x80) << 8) | (this.inBits === 8 ? 0 : byte(at, false));
        answer[k] = value; // Int16Array keeps the low 16 bits: the two's complement value
      } else if (this.generator) {
        const v = Math.round(this.generator(this.inputFrame - n + k, 0));
        answer[k] = Number.isFinite(v) ? Math.min(32767, Math.max(-32768, v)) : 0;
      }
    }
    return answer;
  }

  /** A canonical RIFF/WAVE file (PCM) of what was played, at the programmed rate. */
  toWav(): Uint8Array {
    this.catchUp();
    const dataBytes = this.outLength;
    const pad = dataBytes & 1;
    const wav = new Uint8Array(44 + dataBytes + pad);
    const view = new DataView(wav.buffer);
    const ascii = (at: number, text: string) => {
      for (let i = 0; i < text.length; i++) wav[at + i] = text.charCodeAt(i);
    };
    const channels = this.outChannels;
    const blockAlign = channels * (this.outBits / 8);
    const rate = this.outRate || this.outputRate;
    ascii(0, 'RIFF');
    view.setUint32(4, 36 + dataBytes + pad, true);
    ascii(8, 'WAVE');
    ascii(12, 'fmt ');
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true); // WAVE_FORMAT_PCM
    view.setUint16(22, channels, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * blockAlign, true);
    view.setUint16(32, blockAlign, true);
    view.setUint16(34, this.outBits, true);
    ascii(36, 'data');
    view.setUint32(40, dataBytes, true);
    wav.set(this.out.subarray(0, dataBytes), 44);
    return wav;
  }

  // ---- ports ----

  ioRead(port: number): number {
    switch (port - this.config.base) {
      case SB_MIXER_ADDRESS:
        return this.mixerIndex;
      case SB_MIXER_DATA:
        return this.mixerRead();
      case SB_DSP_READ_DATA:
        if (this.readCount > 0) {
          this.lastRead = this.readBuffer[this.readHead]!;
          this.readHead = (this.readHead + 1) % READ_BUFFER_BYTES;
          this.readCount--;
        }
        return this.lastRead;
      case SB_DSP_WRITE:
        return this.dsp === 'ready' ? ~DSP_STATUS_FLAG & 0xff : 0xff;
      case SB_DSP_READ_STATUS: {
        const value = this.readCount > 0 ? 0xff : ~DSP_STATUS_FLAG & 0xff;
        if (this.pending8) {
          this.pending8 = false;
          this.updateOutputs();
        }
        return value;
      }
      case SB_DSP_ACK16:
        if (this.pending16) {
          this.pending16 = false;
          this.updateOutputs();
        }
        return 0xff;
      default:
        return 0xff;
    }
  }

  ioWrite(port: number, value: number): void {
    switch (port - this.config.base) {
      case SB_MIXER_ADDRESS:
        this.mixerIndex = value & 0xff;
        break;
      case SB_MIXER_DATA:
        this.mixerWrite(value & 0xff);
        break;
      case SB_DSP_RESET:
        this.writeReset(value);
        break;
      case SB_DSP_WRITE:
        this.writeDsp(value & 0xff);
        break;
      default:
        break; // read-only ports: the write is lost
    }
  }

  // ---- mixer ----

  private mixerRead(): number {
    switch (this.mixerIndex) {
      case MIXER_IRQ_SELECT:
        return MIXER_IRQ_BITS[this.config.irq]!;
      case MIXER_DMA_SELECT:
        return ((1 << this.config.dma8) | (this.config.dma16 >= 4 ? 1 << this.config.dma16 : 0)) & 0xff;
      case MIXER_IRQ_STATUS:
        return (this.pending8 ? IRQ_STATUS_DMA8 : 0) | (this.pending16 ? IRQ_STATUS_DMA16 : 0) | IRQ_STATUS_REVISION;
      default:
        return this.mixerRegs[this.mixerIndex]!;
    }
  }

  private mixerWrite(value: number): void {
    switch (this.mixerIndex) {
      case MIXER_RESET:
        this.mixerRegs.fill(0);
        break;
      case MIXER_IRQ_SELECT:
      case MIXER_DMA_SELECT:
      case MIXER_IRQ_STATUS:
        break; // wiring comes from the scenario; 82h is read-only
      default:
        this.mixerRegs[this.mixerIndex] = value;
    }
  }

  // ---- DSP reset (guide: write 1, wait 3 µs, write 0, poll for 0AAh) ----

  private writeReset(value: number): void {
    const level = (value & 1) !== 0;
    if (level === this.resetLine) return;
    this.resetLine = level;
    const now = this.slot.scheduler.now;
    if (level) {
      this.resetRaisedAt = now;
      this.enterReset();
      this.dsp = 'in-reset';
    } else if (now - this.resetRaisedAt >= RESET_PULSE_MIN_NS) {
      this.dsp = 'initializing';
      this.readyEvent = this.slot.scheduler.schedule(RESET_READY_NS, this.onReady);
    } else {
      // Too short for the DSP to see: it stays held and never answers until a proper reset.
      this.warnings++;
      this.dsp = 'no-response';
    }
  }

  private readonly onReady = (): void => {
    this.readyEvent = null;
    this.dsp = 'ready';
    this.pushRead(DSP_READY_BYTE);
  };

  private enterReset(): void {
    this.slot.scheduler.cancel(this.readyEvent);
    this.readyEvent = null;
    this.catchUp();
    this.direction = NONE;
    this.xferActive = false;
    this.clockRunning = false;
    this.paused = false;
    this.autoInit = false;
    this.exitPending = false;
    this.fifoFill = 0;
    this.blockLeft = 0;
    this.readCount = 0;
    this.pendingCommand = -1;
    this.pending8 = false;
    this.pending16 = false;
    this.speaker = false;
    this.outputRate = DEFAULT_RATE;
    this.inputRate = DEFAULT_RATE;
    this.blockSize8 = DEFAULT_BLOCK_BYTES;
    this.hung = false;
    this.updateOutputs();
  }

  private pushRead(value: number): void {
    if (this.readCount === READ_BUFFER_BYTES) return;
    this.readBuffer[(this.readHead + this.readCount) % READ_BUFFER_BYTES] = value;
    this.readCount++;
  }

  // ---- DSP commands ----

  private writeDsp(value: number): void {
    if (this.dsp !== 'ready') {
      this.warnings++;
      return;
    }
    if (this.pendingCommand >= 0) {
      this.args[this.argCount++] = value;
      if (this.argCount === ARG_COUNT[this.pendingCommand]) {
        const command = this.pendingCommand;
        this.pendingCommand = -1;
        this.execute(command);
      }
      return;
    }
    const args = ARG_COUNT[value]!;
    if (args === UNKNOWN) {
      this.warnings++; // the DSP drops a command it does not know; the next byte is a command again
      return;
    }
    if (args === 0) {
      this.execute(value);
      return;
    }
    this.pendingCommand = value;
    this.argCount = 0;
  }

  private execute(command: number): void {
    this.catchUp();
    const a = this.args;
    const family = command & DMA_CMD_FAMILY_MASK;
    if (family === DSP_DMA16 || family === DSP_DMA8) {
      const mode = a[0]!;
      this.startTransfer(command, family === DSP_DMA16 ? 16 : 8, (command & DMA_CMD_ADC) !== 0, (command & DMA_CMD_AUTOINIT) !== 0, (command & DMA_CMD_FIFO) !== 0, (mode & DMA_MODE_STEREO) !== 0, (mode & DMA_MODE_SIGNED) !== 0, a[1]! + (a[2]! << 8) + 1);
    } else {
      switch (command) {
        case DSP_DAC8_SINGLE:
          this.startTransfer(command, 8, false, false, true, false, false, a[0]! + (a[1]! << 8) + 1);
          break;
        case DSP_DAC8_AUTO:
          this.startTransfer(command, 8, false, true, true, false, false, this.blockSize8);
          break;
        case DSP_ADC8_SINGLE:
          this.startTransfer(command, 8, true, false, true, false, false, a[0]! + (a[1]! << 8) + 1);
          break;
        case DSP_ADC8_AUTO:
          this.startTransfer(command, 8, true, true, true, false, false, this.blockSize8);
          break;
        case DSP_TIME_CONSTANT: {
          const rate = this.clampRate(Math.round(1_000_000 / (256 - a[0]!)));
          this.outputRate = rate;
          this.inputRate = rate;
          this.rateChanged();
          break;
        }
        case DSP_OUTPUT_RATE:
          this.outputRate = this.clampRate((a[0]! << 8) | a[1]!);
          this.rateChanged();
          break;
        case DSP_INPUT_RATE:
          this.inputRate = this.clampRate((a[0]! << 8) | a[1]!);
          this.rateChanged();
          break;
        case DSP_BLOCK_SIZE:
          this.blockSize8 = a[0]! + (a[1]! << 8) + 1;
          break;
        case DSP_PAUSE8:
        case DSP_PAUSE16:
          if (this.matchesWidth(command === DSP_PAUSE16 ? 16 : 8)) this.paused = true;
          break;
        case DSP_CONTINUE8:
        case DSP_CONTINUE16:
          if (this.matchesWidth(command === DSP_CONTINUE16 ? 16 : 8) && this.paused) {
            this.paused = false;
            this.restartClock();
          }
          break;
        case DSP_EXIT_AUTO8:
        case DSP_EXIT_AUTO16:
          if (this.matchesWidth(command === DSP_EXIT_AUTO16 ? 16 : 8) && this.autoInit && this.xferActive) this.exitPending = true;
          break;
        case DSP_SPEAKER_ON:
          this.speaker = true;
          break;
        case DSP_SPEAKER_OFF:
          this.speaker = false;
          break;
        // A command that answers first empties the read buffer, so a stale byte is never taken for the answer.
        case DSP_SPEAKER_STATUS:
          this.readCount = 0;
          this.pushRead(this.speaker ? 0xff : 0x00);
          break;
        case DSP_IDENTIFY:
          this.readCount = 0;
          this.pushRead(~a[0]! & 0xff);
          break;
        case DSP_GET_VERSION:
          this.readCount = 0;
          this.pushRead(DSP_VERSION_MAJOR);
          this.pushRead(DSP_VERSION_MINOR);
          break;
        case DSP_IRQ8:
          this.raiseIrq(8);
          break;
        case DSP_IRQ16:
          this.raiseIrq(16);
          break;
      }
    }
    this.updateOutputs();
  }

  private clampRate(rate: number): number {
    if (rate >= RATE_MIN && rate <= RATE_MAX) return rate;
    this.warnings++;
    return Math.min(RATE_MAX, Math.max(RATE_MIN, rate));
  }

  /** Pause/continue/exit name a width; with nothing running they do nothing, with the other width running it is a driver mistake. */
  private matchesWidth(bits: 8 | 16): boolean {
    if (this.direction === NONE || (!this.xferActive && !this.clockRunning)) return false;
    if (this.bits === bits) return true;
    this.warnings++;
    return false;
  }

  private rateChanged(): void {
    const rate = this.direction === CAPTURE ? this.inputRate : this.outputRate;
    if (rate === this.rate) return;
    this.rate = rate;
    this.restartClock();
  }

  private startTransfer(command: number, bits: 8 | 16, capture: boolean, autoInit: boolean, fifoOn: boolean, stereo: boolean, signed: boolean, samples: number): void {
    if (this.hung) return; // after the injected error only a reset brings the DSP back
    const direction = capture ? CAPTURE : PLAY;
    const rate = capture ? this.inputRate : this.outputRate;
    const bytesPerSample = bits / 8;
    const frameBytes = bytesPerSample * (stereo ? 2 : 1);
    // A playback given while the last one's FIFO still plays continues without a gap.
    const seamless = direction === PLAY && this.direction === PLAY && this.clockRunning && !this.paused && bits === this.bits && stereo === this.stereo && signed === this.signed && rate === this.rate;
    this.command = command;
    this.direction = direction;
    this.bits = bits;
    this.stereo = stereo;
    this.signed = signed;
    this.fifoOn = fifoOn;
    this.autoInit = autoInit;
    this.exitPending = false;
    this.paused = false;
    this.channel = bits === 16 ? this.config.dma16 : this.config.dma8;
    this.unit = this.channel < 4 ? 1 : 2;
    this.frameBytes = frameBytes;
    this.blockBytes = samples * bytesPerSample;
    this.blockLeft = this.blockBytes;
    this.xferActive = true;
    this.fifoCapacity = fifoOn ? FIFO_BYTES : frameBytes;
    this.fifoMark = fifoOn ? FIFO_BYTES / 2 : frameBytes;
    this.rate = rate;
    if (!seamless) {
      this.fifoHead = 0;
      this.fifoFill = 0;
      this.clockRunning = true;
      this.restartClock();
    }
    if (direction === CAPTURE) {
      this.inBits = bits;
      this.inSigned = signed;
      this.inFrameBytes = frameBytes;
    }
    if (direction === PLAY) {
      const channels = stereo ? 2 : 1;
      if (this.outLength > 0 && (this.outBits !== bits || this.outChannels !== channels || this.outRate !== rate)) this.outLength = 0; // a WAV holds one format
      this.outBits = bits;
      this.outChannels = channels;
      this.outRate = rate;
    }
  }

  private restartClock(): void {
    this.clockStart = this.slot.scheduler.now;
    this.clockIndex = 0;
  }

  // ---- the sample clock ----

  private tickTime(k: number): number {
    return this.clockStart + Math.floor(((k + 1) * this.periodNum) / this.rate);
  }

  /** Runs the DAC or ADC up to now. Every entry point calls it first, so when it runs does not change what happens. */
  private catchUp(): void {
    if (!this.clockRunning || this.paused) return;
    const now = this.slot.scheduler.now;
    while (this.clockRunning && this.tickTime(this.clockIndex) <= now) {
      if (this.direction === PLAY) this.playFrame();
      else this.captureFrame();
      if (++this.clockIndex >= this.rate) {
        // Rebase once a second so the products stay small; tick times are unchanged.
        this.clockStart += this.periodNum;
        this.clockIndex -= this.rate;
      }
    }
  }

  private playFrame(): void {
    const fb = this.frameBytes;
    if (this.fifoFill >= fb) {
      // A WAV holds 8-bit unsigned and 16-bit signed: flip the sign bit of the other kinds.
      const flip = this.bits === 8 ? (this.signed ? 0x80 : 0) : this.signed ? 0 : 0x80;
      const store = this.reserveOutput(fb);
      for (let i = 0; i < fb; i++) {
        let b = this.fifo[this.fifoHead]!;
        this.fifoHead = (this.fifoHead + 1) & FIFO_MASK;
        if (this.bits === 8 || (i & 1) === 1) b ^= flip;
        if (store >= 0) this.out[store + i] = b;
      }
      this.fifoFill -= fb;
      this.bytesPlayed += fb;
    } else if (this.xferActive) {
      this.underruns++;
      const store = this.reserveOutput(fb);
      if (store >= 0) this.out.fill(this.bits === 8 ? 0x80 : 0, store, store + fb);
    } else {
      // The transfer is over and the FIFO has played out: the DAC stops.
      this.fifoFill = 0;
      this.clockRunning = false;
      return;
    }
    this.framesOutput++;
  }

  /** Room for one frame in the output; -1 once the cap is reached. */
  private reserveOutput(bytes: number): number {
    const at = this.outLength;
    if (at + bytes > this.maxOutput) return -1;
    if (at + bytes > this.out.length) {
      const grown = new Uint8Array(Math.min(this.maxOutput, Math.max(this.out.length * 2, at + bytes)));
      grown.set(this.out.subarray(0, at));
      this.out = grown;
    }
    this.outLength = at + bytes;
    return at;
  }

  private captureFrame(): void {
    if (!this.xferActive) {
      this.clockRunning = false;
      this.fifoFill = 0;
      return;
    }
    const fb = this.frameBytes;
    // The last block's samples are all taken: the ADC waits for the DMA to drain them.
    if ((!this.autoInit || this.exitPending) && this.fifoFill >= this.blockLeft) return;
    if (this.fifoCapacity - this.fifoFill >= fb) this.sampleInto(fb);
    else {
      this.overruns++;
      if (this.inputPcm) this.inputPos += fb;
    }
    this.inputFrame++;
  }

  /** One frame from the input, in the programmed format, onto the FIFO. */
  private sampleInto(fb: number): void {
    const pcm = this.inputPcm;
    const silenceHigh = this.signed ? 0 : 0x80;
    for (let i = 0; i < fb; i++) {
      let b: number;
      if (pcm) {
        b = this.inputPos < pcm.length ? pcm[this.inputPos]! : this.bits === 8 || (i & 1) === 1 ? silenceHigh : 0;
        this.inputPos++;
      } else {
        const channel = this.bits === 8 ? i : i >> 1;
        let v = this.generator ? Math.round(this.generator(this.inputFrame, channel)) : 0;
        v = Number.isFinite(v) ? Math.min(32767, Math.max(-32768, v)) : 0;
        if (this.bits === 8) b = ((v >> 8) + (this.signed ? 0 : 0x80)) & 0xff;
        else b = (i & 1) === 0 ? v & 0xff : ((v >> 8) + (this.signed ? 0 : 0x80)) & 0xff;
      }
      this.fifo[(this.fifoHead + this.fifoFill) & FIFO_MASK] = b;
      this.fifoFill++;
    }
  }

  // ---- DMA (DACK callbacks) ----

  dmaToDevice(data: Uint8Array, channel: number): void {
    if (this.hung) return;
    if (channel !== this.channel || this.direction !== PLAY) {
      this.warnings++; // a transfer the DSP did not ask for: wrong channel or wrong direction
      return;
    }
    this.catchUp();
    let i = 0;
    while (i < data.length && this.xferActive) {
      const budget = this.errorBudget();
      if (budget <= 0) {
        this.fail();
        break;
      }
      const take = Math.min(data.length - i, this.fifoCapacity - this.fifoFill, this.blockLeft, budget);
      if (take <= 0) break;
      for (let j = 0; j < take; j++) {
        this.fifo[(this.fifoHead + this.fifoFill) & FIFO_MASK] = data[i + j]!;
        this.fifoFill++;
      }
      i += take;
      this.dmaBytes += take;
      this.blockLeft -= take;
      if (this.blockLeft === 0) this.endOfBlock();
    }
    if (i < data.length && !this.hung) this.warnings++; // no room or no use: the bytes are lost
    this.updateOutputs();
  }

  dmaFromDevice(into: Uint8Array, channel: number): void {
    if (this.hung || channel !== this.channel || this.direction !== CAPTURE) {
      into.fill(0xff); // nobody drives the data bus
      if (!this.hung) this.warnings++;
      return;
    }
    this.catchUp();
    let i = 0;
    while (i < into.length && this.xferActive) {
      const budget = this.errorBudget();
      if (budget <= 0) {
        this.fail();
        break;
      }
      const take = Math.min(into.length - i, this.fifoFill, this.blockLeft, budget);
      if (take <= 0) break;
      for (let j = 0; j < take; j++) {
        into[i + j] = this.fifo[this.fifoHead]!;
        this.fifoHead = (this.fifoHead + 1) & FIFO_MASK;
      }
      this.fifoFill -= take;
      i += take;
      this.dmaBytes += take;
      this.bytesCaptured += take;
      this.blockLeft -= take;
      if (this.blockLeft === 0) this.endOfBlock();
    }
    if (i < into.length) {
      into.fill(0xff, i);
      if (!this.hung) this.warnings++;
    }
    this.updateOutputs();
  }

  /** Demand mode: the transfers the FIFO can take (playback) or give (capture) now. */
  dmaDemandLimit(channel: number): number {
    if (channel !== this.channel || !this.xferActive) return 1;
    const bytes = this.direction === PLAY ? this.fifoCapacity - this.fifoFill : this.fifoFill;
    return Math.max(1, Math.min(DEMAND_BURST_MAX, Math.floor(bytes / this.unit)));
  }

  private errorBudget(): number {
    const at = this.faults.ioErrorAtByte;
    return at === undefined || this.errorFired ? Infinity : at - this.dmaBytes;
  }

  /** The injected I/O error: the DSP stops where it is, raises nothing, and waits for a reset. */
  private fail(): void {
    this.errorFired = true;
    this.hung = true;
    this.xferActive = false;
    this.clockRunning = false;
    this.paused = false;
    this.fifoFill = 0;
  }

  /** The DSP's own count ran out: interrupt, then reload (auto-initialize) or stop. */
  private endOfBlock(): void {
    this.raiseIrq(this.bits);
    if (this.autoInit && !this.exitPending) {
      this.blockLeft = this.blockBytes;
      return;
    }
    this.xferActive = false;
    this.exitPending = false;
    if (this.direction === CAPTURE) {
      this.clockRunning = false;
      this.fifoFill = 0;
    }
  }

  private raiseIrq(bits: 8 | 16): void {
    if (this.faults.neverInterrupt) return;
    this.interrupts++;
    if (bits === 16) this.pending16 = true;
    else this.pending8 = true;
  }

  // ---- outputs: DREQ, the IRQ line, and the next FIFO mark ----

  private wantDreq(): boolean {
    if (!this.xferActive || this.paused || this.hung || this.dsp !== 'ready') return false;
    const mark = Math.min(this.fifoMark, this.blockLeft);
    if (this.direction === PLAY) {
      const free = this.fifoCapacity - this.fifoFill;
      return free >= this.unit && (this.dreqChannel >= 0 || free >= mark);
    }
    return this.fifoFill >= this.unit && (this.dreqChannel >= 0 || this.fifoFill >= mark);
  }

  /**
   * Drives DREQ and the IRQ line from the DSP's state and schedules the next time the FIFO
   * reaches its mark. Must be called after every change that may move them; re-entrant
   * calls (the DMA or the PIC calling back) are folded into the running one.
   */
  private updateOutputs(): void {
    if (this.updating) {
      this.again = true;
      return;
    }
    this.updating = true;
    this.catchUp();
    try {
      do {
        this.again = false;
        const want = this.wantDreq();
        if (this.dreqChannel >= 0 && (!want || this.dreqChannel !== this.channel)) {
          const old = this.dreqChannel;
          this.dreqChannel = -1;
          this.slot.dma.setDreq(old, false);
        }
        if (want && this.dreqChannel < 0) {
          this.dreqChannel = this.channel;
          this.slot.dma.setDreq(this.channel, true);
        }
        const irq = this.pending8 || this.pending16;
        if (irq !== this.irqLine) {
          this.irqLine = irq;
          this.slot.setIrq(this.config.irq, irq);
        }
      } while (this.again);
    } finally {
      this.updating = false;
    }
    this.scheduleWake();
  }

  private scheduleWake(): void {
    this.catchUp();
    let frames = 0;
    if (this.clockRunning && !this.paused && this.xferActive && this.dreqChannel < 0 && this.dsp === 'ready') {
      const mark = Math.min(this.fifoMark, this.blockLeft);
      const fb = this.frameBytes;
      if (this.direction === PLAY) {
        const excess = this.fifoFill - (this.fifoCapacity - mark);
        if (excess > 0) frames = Math.ceil(excess / fb);
      } else if (this.fifoFill < mark) {
        frames = Math.ceil((mark - this.fifoFill) / fb);
      }
    }
    const scheduler = this.slot.scheduler;
    const due = frames > 0 ? Math.max(scheduler.now, this.tickTime(this.clockIndex + frames - 1)) : -1;
    if (this.wake !== null && !this.wake.cancelled && this.wake.time === due) return;
    scheduler.cancel(this.wake);
    this.wake = due >= 0 ? scheduler.scheduleAt(due, this.onWake) : null;
  }

  private readonly onWake = (): void => {
    this.wake = null;
    this.catchUp();
    this.updateOutputs();
  };

  // ---- panel ----

  snapshot(): Sb16Snapshot {
    this.catchUp(); // runs the clock to now only; outputs change at their own times
    const active = this.xferActive || this.clockRunning;
    const mode: Sb16Mode = !active || this.direction === NONE ? 'idle' : this.direction === PLAY ? 'playback' : 'capture';
    return {
      device: 'sb16',
      version: 1,
      dsp: this.dsp,
      dspVersion: `${DSP_VERSION_MAJOR}.${DSP_VERSION_MINOR.toString().padStart(2, '0')}`,
      mode,
      command: this.command >= 0 ? this.command : null,
      dmaChannel: this.channel >= 0 ? this.channel : null,
      rate: this.direction === NONE ? this.outputRate : this.rate,
      outputRate: this.outputRate,
      inputRate: this.inputRate,
      format: { bits: this.bits, channels: this.stereo ? 2 : 1, signed: this.signed },
      fifoMode: this.fifoOn,
      autoInit: this.autoInit,
      exitAutoInitPending: this.exitPending,
      blockLength: this.blockBytes / (this.bits / 8),
      blockBytes: this.blockBytes,
      blockPosition: this.xferActive ? this.blockBytes - this.blockLeft : 0,
      fifoFill: this.fifoFill,
      fifoCapacity: this.fifoCapacity,
      dreq: this.dreqChannel >= 0,
      bytesPlayed: this.bytesPlayed,
      bytesCaptured: this.bytesCaptured,
      framesOutput: this.framesOutput,
      underruns: this.underruns,
      overruns: this.overruns,
      paused: this.paused,
      speaker: this.speaker,
      interrupts: this.interrupts,
      irqPending8: this.pending8,
      irqPending16: this.pending16,
      irqLine: this.irqLine,
      error: this.hung,
      warnings: this.warnings,
    };
  }
}
