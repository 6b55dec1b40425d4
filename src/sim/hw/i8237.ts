import type { PortDevice } from './ioBus';

// Intel 8237A DMA controller: the register file, the byte-pointer flip-flop, priority
// and the per-transfer counting rules. Follows reference/hw/i8237a.md §2–§13 and §16,
// which cite the Intel data sheet (231466); where sources disagree we follow it (§20).
// One class serves both AT controllers; the AT wiring (page registers, word addressing,
// the cascade, the bus timing) is in isaDma.ts. Registers are 16-bit per channel.

// Command register (write 0x08/0xD0), §4.1
export const CMD_MEM_TO_MEM = 0x01; // memory-to-memory enable (channels 0 → 1)
export const CMD_CH0_HOLD = 0x02; // channel 0 address hold
export const CMD_DISABLE = 0x04; // controller disable
export const CMD_COMPRESSED = 0x08; // compressed timing
export const CMD_ROTATING = 0x10; // rotating priority
export const CMD_EXTENDED_WRITE = 0x20; // extended write selection
export const CMD_DREQ_ACTIVE_LOW = 0x40; // DREQ sense active low
export const CMD_DACK_ACTIVE_HIGH = 0x80; // DACK sense active high

// Mode register (write 0x0B/0xD6), §4.2
export const MODE_CHANNEL_MASK = 0x03; // channel select (not stored)
export const MODE_TYPE_MASK = 0x0c; // transfer type
export const MODE_TYPE_VERIFY = 0x00; // verify: no strobes
export const MODE_TYPE_WRITE = 0x04; // write: I/O → memory (IOR + MEMW)
export const MODE_TYPE_READ = 0x08; // read: memory → I/O (MEMR + IOW)
export const MODE_TYPE_ILLEGAL = 0x0c; // illegal
export const MODE_AUTOINIT = 0x10; // autoinitialize enable
export const MODE_DECREMENT = 0x20; // address decrement
export const MODE_MODE_MASK = 0xc0; // mode select
export const MODE_DEMAND = 0x00; // demand mode
export const MODE_SINGLE = 0x40; // single mode
export const MODE_BLOCK = 0x80; // block mode
export const MODE_CASCADE = 0xc0; // cascade mode

// Request (0x09/0xD2) and single mask (0x0A/0xD4) registers, §4.3–4.4
export const REQ_SET = 0x04; // set request bit (clear when 0)
export const MASK_SET = 0x04; // set mask bit (clear when 0)

// Status register (read 0x08/0xD0), §4.6 and §9
export const STATUS_TC_MASK = 0x0f; // channel n reached TC (bit n); cleared by reading
export const STATUS_REQ_SHIFT = 4; // channel n request pending (bit 4+n)

/** Register offsets inside a controller, before the AT's port shift (§3). */
export const Reg = {
  Status: 0x08, // read
  Command: 0x08, // write
  Request: 0x09,
  SingleMask: 0x0a,
  Mode: 0x0b,
  ClearBytePointer: 0x0c,
  Temporary: 0x0d, // read
  MasterClear: 0x0d, // write
  ClearMask: 0x0e,
  WriteAllMask: 0x0f,
} as const;

export interface I8237Config {
  name: string;
  /** First port. */
  base: number;
  /** Ports between registers: 0 on DMA1, 1 on DMA2 whose A0–A3 are wired to A1–A4. */
  portShift: 0 | 1;
  /** Number of this chip's channel 0 in the AT's numbering (0 or 4). */
  firstChannel: 0 | 4;
}

export const dma1Config: I8237Config = { name: 'DMA1', base: 0x00, portShift: 0, firstChannel: 0 };
export const dma2Config: I8237Config = { name: 'DMA2', base: 0xc0, portShift: 1, firstChannel: 4 };

/** Hidden and visible state of one channel (§2). */
export interface I8237Channel {
  baseAddress: number;
  currentAddress: number;
  baseCount: number;
  /** Transfers remaining − 1; FFFFh after TC without autoinitialize. */
  currentCount: number;
  /** Bits 7–2 of the last mode byte. */
  mode: number;
  masked: boolean;
  /** Software DREQ (request register). */
  softwareRequest: boolean;
  /** The DREQ pin as the device drives it (true = the device requests). */
  dreqLine: boolean;
}

/** Why the chip could not do what was written; the wiring turns these into trace events. */
export type I8237Anomaly = 'illegal-read' | 'illegal-transfer-type' | 'dack-polarity';

export interface I8237Hooks {
  /** Before any register access: lets a service in progress catch up to the present. */
  beforeAccess(): void;
  /** After a change that may start, stop or re-prioritise a service. */
  stateChanged(): void;
  anomaly(chip: I8237, kind: I8237Anomaly, channel: number, value: number): void;
  registerWritten(chip: I8237, channel: number, register: 'address' | 'count' | 'mode' | 'mask' | 'request' | 'command', value: number): void;
}

export class I8237 implements PortDevice {
  readonly channels: I8237Channel[];
  command = 0;
  /** Status bits 3–0: TC reached (bits 7–4 are computed from the DREQ lines). */
  private tcBits = 0;
  temporary = 0;
  /** Byte-pointer flip-flop (§5): false = the next address/count access moves the low byte. */
  bytePointer = false;
  /** Rotating priority: the channel served last, which becomes lowest (§16). */
  private lastServed = 3;

  constructor(
    readonly config: I8237Config,
    private readonly hooks: I8237Hooks,
  ) {
    this.channels = [0, 1, 2, 3].map(() => ({
      baseAddress: 0,
      currentAddress: 0,
      baseCount: 0,
      currentCount: 0,
      mode: 0,
      masked: true,
      softwareRequest: false,
      dreqLine: false,
    }));
    this.masterClear();
  }

  get lastPort(): number {
    return this.config.base + (0x0f << this.config.portShift);
  }

  /** Master Clear has the effect of RESET (§6): masks all channels; addresses, counts and modes stay. */
  masterClear(): void {
    this.command = 0;
    this.tcBits = 0;
    this.temporary = 0;
    this.bytePointer = false;
    this.lastServed = 3;
    for (const ch of this.channels) {
      ch.masked = true;
      ch.softwareRequest = false;
    }
  }

  get enabled(): boolean {
    return (this.command & CMD_DISABLE) === 0;
  }

  /** The request as the priority logic sees it: the pin after the command's polarity bit. */
  hardwareRequest(channel: number): boolean {
    const ch = this.channels[channel]!;
    return ch.dreqLine !== ((this.command & CMD_DREQ_ACTIVE_LOW) !== 0);
  }

  /** A request the priority logic will serve: an unmasked DREQ, or a software request (never masked, §8). */
  requesting(channel: number): boolean {
    const ch = this.channels[channel]!;
    return ch.softwareRequest || (!ch.masked && this.hardwareRequest(channel));
  }

  /** Status register value without the read side effect. */
  peekStatus(): number {
    let requests = 0;
    for (let i = 0; i < 4; i++) if (this.hardwareRequest(i) || this.channels[i]!.softwareRequest) requests |= 1 << i;
    return this.tcBits | (requests << STATUS_REQ_SHIFT);
  }

  /** The highest-priority requesting channel (§16), or -1. Runs after every port write: kept lean. */
  choose(): number {
    if ((this.command & CMD_DISABLE) !== 0) return -1;
    const activeLow = (this.command & CMD_DREQ_ACTIVE_LOW) !== 0;
    const start = (this.command & CMD_ROTATING) !== 0 ? this.lastServed + 1 : 0;
    for (let k = 0; k < 4; k++) {
      const ch = this.channels[(start + k) & 3]!;
      if (ch.softwareRequest || (!ch.masked && ch.dreqLine !== activeLow)) return (start + k) & 3;
    }
    return -1;
  }

  noteServed(channel: number): void {
    this.lastServed = channel;
  }

  /**
   * Counts `n` transfers on a channel (§10): address ±1 and count −1 per transfer, both
   * 16-bit with wrap. Returns true when the n-th transfer was the terminal count.
   */
  advance(channel: number, n: number): boolean {
    const ch = this.channels[channel]!;
    const step = (ch.mode & MODE_DECREMENT) !== 0 ? -n : n;
    ch.currentAddress = (ch.currentAddress + step) & 0xffff;
    const remaining = ch.currentCount + 1; // transfers left before this call
    ch.currentCount = (ch.currentCount - n) & 0xffff;
    return n === remaining;
  }

  /** End of process at TC (§12, §13): status bit, request bit cleared, then autoinitialize or mask. */
  endOfProcess(channel: number): boolean {
    const ch = this.channels[channel]!;
    this.tcBits |= 1 << channel;
    ch.softwareRequest = false;
    const autoinit = (ch.mode & MODE_AUTOINIT) !== 0;
    if (autoinit) {
      ch.currentAddress = ch.baseAddress;
      ch.currentCount = ch.baseCount;
    } else {
      ch.masked = true;
    }
    return autoinit;
  }

  // ---- port interface (§3) ----

  private register(port: number): number {
    return (port - this.config.base) >> this.config.portShift;
  }

  ioRead(port: number): number {
    this.hooks.beforeAccess();
    const reg = this.register(port);
    if (reg < 0x08) return this.readAddressOrCount(reg);
    switch (reg) {
      case Reg.Status: {
        const value = this.peekStatus();
        this.tcBits = 0; // TC bits clear on every read (§9)
        return value;
      }
      case Reg.Temporary:
        return this.temporary;
      default:
        // 0x09–0x0C, 0x0E, 0x0F are write-only on the Intel part: the bus floats.
        this.hooks.anomaly(this, 'illegal-read', -1, reg);
        return 0xff;
    }
  }

  ioWrite(port: number, value: number): void {
    this.hooks.beforeAccess();
    const reg = this.register(port);
    if (reg < 0x08) {
      this.writeAddressOrCount(reg, value);
    } else {
      this.writeControl(reg, value);
    }
    this.hooks.stateChanged();
  }

  private toggleBytePointer(): boolean {
    const high = this.bytePointer;
    this.bytePointer = !high;
    return high;
  }

  private readAddressOrCount(reg: number): number {
    const ch = this.channels[reg >> 1]!;
    const value = (reg & 1) === 0 ? ch.currentAddress : ch.currentCount;
    return this.toggleBytePointer() ? value >>> 8 : value & 0xff;
  }

  /** Each byte goes into base and current at once (§5). */
  private writeAddressOrCount(reg: number, value: number): void {
    const channel = reg >> 1;
    const ch = this.channels[channel]!;
    const high = this.toggleBytePointer();
    const merge = (old: number) => (high ? (old & 0x00ff) | (value << 8) : (old & 0xff00) | value);
    if ((reg & 1) === 0) {
      ch.baseAddress = merge(ch.baseAddress);
      ch.currentAddress = merge(ch.currentAddress);
      this.hooks.registerWritten(this, channel, 'address', ch.currentAddress);
    } else {
      ch.baseCount = merge(ch.baseCount);
      ch.currentCount = merge(ch.currentCount);
      this.hooks.registerWritten(this, channel, 'count', ch.currentCount);
    }
  }

  private writeControl(reg: number, value: number): void {
    const channel = value & MODE_CHANNEL_MASK;
    switch (reg) {
      case Reg.Command:
        this.command = value;
        if (value & CMD_DACK_ACTIVE_HIGH) this.hooks.anomaly(this, 'dack-polarity', -1, value);
        this.hooks.registerWritten(this, -1, 'command', value);
        break;
      case Reg.Request:
        this.channels[channel]!.softwareRequest = (value & REQ_SET) !== 0;
        this.hooks.registerWritten(this, channel, 'request', value & REQ_SET ? 1 : 0);
        break;
      case Reg.SingleMask:
        this.channels[channel]!.masked = (value & MASK_SET) !== 0;
        this.hooks.registerWritten(this, channel, 'mask', value & MASK_SET ? 1 : 0);
        break;
      case Reg.Mode: {
        const ch = this.channels[channel]!;
        ch.mode = value & ~MODE_CHANNEL_MASK;
        const cascade = (ch.mode & MODE_MODE_MASK) === MODE_CASCADE;
        if (!cascade && (ch.mode & MODE_TYPE_MASK) === MODE_TYPE_ILLEGAL) this.hooks.anomaly(this, 'illegal-transfer-type', channel, value);
        this.hooks.registerWritten(this, channel, 'mode', ch.mode);
        break;
      }
      case Reg.ClearBytePointer:
        this.bytePointer = false;
        break;
      case Reg.MasterClear:
        this.masterClear();
        break;
      case Reg.ClearMask:
        for (let i = 0; i < 4; i++) this.channels[i]!.masked = false;
        this.hooks.registerWritten(this, -1, 'mask', 0);
        break;
      case Reg.WriteAllMask:
        for (let i = 0; i < 4; i++) this.channels[i]!.masked = (value & (1 << i)) !== 0;
        this.hooks.registerWritten(this, -1, 'mask', value & 0x0f);
        break;
    }
  }
}
