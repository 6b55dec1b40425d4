import type { EventHandle } from '../machine/scheduler';
import type { DmaPeer } from './isaDma';
import type { PortDevice } from './ioBus';
import type { DeviceFaults, IsaSlot } from './isaDevice';

// The SCN-1 line scanner: a capture device of DMA Lab's own (no real part fits), made for
// scatter/gather on system DMA. It moves a scan in segments whose lengths the driver
// sets; after each segment it stops its motor, raises its interrupt and waits, without
// losing data, until the driver has reprogrammed the 8237 for the next piece of the
// buffer and writes GO. Its datasheet is labs/devices/scanner.md.

// Registers, offsets from the base port
export const SCN_CTRL = 0; // control (write)
export const SCN_STATUS = 1; // status (read); a write acknowledges the interrupt
export const SCN_LINES_LO = 2; // lines to scan, low byte
export const SCN_LINES_HI = 3; // lines to scan, high byte
export const SCN_SEGMENT_LO = 4; // segment length in bytes, low byte
export const SCN_SEGMENT_HI = 5; // segment length in bytes, high byte
export const SCN_SEGMENT_XHI = 6; // segment length, bits 16–23
export const SCN_ID = 7; // identification (read): 0x5C

// CTRL bits
export const CTRL_START = 0x01; // start a scan
export const CTRL_GO = 0x02; // continue after a segment pause
export const CTRL_IEN = 0x04; // interrupt enable
export const CTRL_ABORT = 0x08; // stop the scan now
export const CTRL_RESET = 0x80; // reset the device

// STATUS bits
export const STATUS_BUSY = 0x01; // a scan is in progress
export const STATUS_WAITING = 0x02; // paused after a segment, waiting for GO
export const STATUS_DONE = 0x04; // the last line was delivered
export const STATUS_ERROR = 0x08; // overrun or injected I/O error; the scan stopped
export const STATUS_TC = 0x10; // the segment ended on the DMA controller's terminal count
export const STATUS_IRQ = 0x80; // interrupt pending

export const SCANNER_ID = 0x5c;
/** Bytes the device buffers between the sensor and the bus. */
export const SCANNER_FIFO_BYTES = 64;

export interface ScannerConfig {
  base: number;
  irq: number;
  dmaChannel: number;
  lineBytes: number;
  /** Sensor rate while the motor runs. */
  bytesPerSecond: number;
  /** Seeds the image, so that checks can tell which byte belongs where. */
  seed: number;
}

export const scannerDefaultConfig: ScannerConfig = {
  base: 0x300,
  irq: 10,
  dmaChannel: 3,
  lineBytes: 2048,
  bytesPerSecond: 250_000, // 4 µs a byte: within what single-mode DMA can serve
  seed: 1,
};

/**
 * Byte `offset` of a scan: each line starts with its number (two bytes, little-endian)
 * so a misplaced line is easy to name; the rest is a seeded pattern.
 */
export function scanByte(config: Pick<ScannerConfig, 'lineBytes' | 'seed'>, offset: number): number {
  const line = Math.floor(offset / config.lineBytes);
  const x = offset % config.lineBytes;
  if (x === 0) return line & 0xff;
  if (x === 1) return (line >> 8) & 0xff;
  return (x * 31 + line * 17 + config.seed * 101 + ((x * line) >> 3)) & 0xff;
}

export interface ScannerSnapshot {
  version: 1;
  status: number;
  lines: number;
  lineBytes: number;
  segmentBytes: number;
  /** Bytes the sensor has produced, and the bytes delivered to the bus. */
  produced: number;
  delivered: number;
  segmentDelivered: number;
  fifo: number;
  segments: number;
  overruns: number;
  linesCaptured: number;
}

export class Scanner implements PortDevice, DmaPeer {
  private ctrl = 0;
  private status = 0;
  private lines = 0;
  private segmentBytes = 0;
  private produced = 0;
  private delivered = 0;
  private segmentDelivered = 0;
  private segments = 0;
  private overruns = 0;
  private sensorEvent: EventHandle | null = null;
  private readonly byteNs: number;

  constructor(
    private readonly slot: IsaSlot,
    readonly config: ScannerConfig = scannerDefaultConfig,
    private readonly faults: DeviceFaults = {},
  ) {
    this.byteNs = Math.max(1, Math.round((1e9 / config.bytesPerSecond) * (faults.slowFactor ?? 1)));
    slot.bus.map(config.base, config.base + 7, this, 'SCN-1 scanner');
    slot.dma.attach(config.dmaChannel, this);
  }

  private get total(): number {
    return this.lines * this.config.lineBytes;
  }

  private get fifo(): number {
    return this.produced - this.delivered;
  }

  // ---- ports ----

  ioRead(port: number): number {
    switch (port - this.config.base) {
      case SCN_STATUS:
        return this.status;
      case SCN_LINES_LO:
        return this.lines & 0xff;
      case SCN_LINES_HI:
        return this.lines >> 8;
      case SCN_SEGMENT_LO:
        return this.segmentBytes & 0xff;
      case SCN_SEGMENT_HI:
        return (this.segmentBytes >> 8) & 0xff;
      case SCN_SEGMENT_XHI:
        return this.segmentBytes >> 16;
      case SCN_ID:
        return SCANNER_ID;
      default:
        return this.ctrl;
    }
  }

  ioWrite(port: number, value: number): void {
    switch (port - this.config.base) {
      case SCN_CTRL:
        this.writeCtrl(value);
        break;
      case SCN_STATUS:
        this.acknowledge();
        break;
      case SCN_LINES_LO:
        if (!this.busy) this.lines = (this.lines & 0xff00) | value;
        break;
      case SCN_LINES_HI:
        if (!this.busy) this.lines = (this.lines & 0x00ff) | (value << 8);
        break;
      // The segment length may change while waiting: that is how a driver sizes the next piece.
      case SCN_SEGMENT_LO:
        this.segmentBytes = (this.segmentBytes & 0xffff00) | value;
        break;
      case SCN_SEGMENT_HI:
        this.segmentBytes = (this.segmentBytes & 0xff00ff) | (value << 8);
        break;
      case SCN_SEGMENT_XHI:
        this.segmentBytes = (this.segmentBytes & 0x00ffff) | (value << 16);
        break;
    }
  }

  private get busy(): boolean {
    return (this.status & STATUS_BUSY) !== 0;
  }

  private writeCtrl(value: number): void {
    if (value & CTRL_RESET) return this.reset();
    this.ctrl = value & CTRL_IEN;
    if (value & CTRL_ABORT) return this.stop(0);
    if (value & CTRL_START && !this.busy) this.start();
    else if (value & CTRL_GO && (this.status & STATUS_WAITING) !== 0) this.resume();
  }

  private reset(): void {
    this.stop(0);
    this.ctrl = 0;
    this.status = 0;
    this.lines = 0;
    this.segmentBytes = 0;
    this.slot.setIrq(this.config.irq, false);
  }

  private start(): void {
    this.status = STATUS_BUSY;
    this.produced = 0;
    this.delivered = 0;
    this.segmentDelivered = 0;
    this.segments = 0;
    this.overruns = 0;
    if (this.total === 0 || this.segmentBytes === 0) return this.stop(STATUS_ERROR);
    this.scheduleSensor();
  }

  private resume(): void {
    this.status &= ~(STATUS_WAITING | STATUS_TC);
    this.segmentDelivered = 0;
    if (this.segmentBytes === 0) return this.stop(STATUS_ERROR);
    this.updateDreq();
    this.scheduleSensor();
  }

  private stop(finalBits: number): void {
    this.slot.scheduler.cancel(this.sensorEvent);
    this.sensorEvent = null;
    this.status = (this.status & ~(STATUS_BUSY | STATUS_WAITING)) | finalBits;
    this.slot.dma.setDreq(this.config.dmaChannel, false);
    if (finalBits !== 0) this.interrupt();
  }

  private acknowledge(): void {
    this.status &= ~STATUS_IRQ;
    this.slot.setIrq(this.config.irq, false);
  }

  private interrupt(): void {
    this.status |= STATUS_IRQ;
    if ((this.ctrl & CTRL_IEN) === 0 || this.faults.neverInterrupt) return;
    // The PIC is edge-triggered: lower, then raise.
    this.slot.setIrq(this.config.irq, false);
    this.slot.setIrq(this.config.irq, true);
  }

  // ---- the sensor: one byte per byteNs while the motor runs ----

  private get motorRuns(): boolean {
    return this.busy && (this.status & STATUS_WAITING) === 0;
  }

  private scheduleSensor(): void {
    if (this.sensorEvent !== null || !this.motorRuns || this.produced >= this.total) return;
    this.sensorEvent = this.slot.scheduler.schedule(this.byteNs, this.onSensor);
  }

  private readonly onSensor = (): void => {
    this.sensorEvent = null;
    if (!this.motorRuns) return;
    // The motor stops at a segment's end; the sensor does not run ahead into the next one.
    if (this.produced - this.delivered + this.segmentDelivered >= this.segmentBytes) return;
    if (this.fifo >= SCANNER_FIFO_BYTES) {
      this.overruns++;
      return this.stop(STATUS_ERROR);
    }
    this.produced++;
    this.updateDreq();
    this.scheduleSensor();
  };

  /** Bytes one DMA transfer takes: a word on channels 5–7. */
  private get transferBytes(): number {
    return this.config.dmaChannel > 4 ? 2 : 1;
  }

  /** DREQ asks for one transfer, so on a 16-bit channel it waits for a whole word (or the last byte). */
  private updateDreq(): void {
    const whole = Math.max(1, Math.min(this.transferBytes, this.segmentBytes - this.segmentDelivered, this.total - this.delivered));
    this.slot.dma.setDreq(this.config.dmaChannel, this.motorRuns && this.fifo >= whole);
  }

  // ---- DMA ----

  dmaFromDevice(into: Uint8Array): void {
    const errorAt = this.faults.ioErrorAtByte ?? Infinity;
    for (let i = 0; i < into.length; i++) {
      // With an empty FIFO (a burst the device cannot feed) the bus floats.
      const valid = this.fifo > 0 && this.delivered < errorAt;
      into[i] = valid ? scanByte(this.config, this.delivered) : 0xff;
      if (!valid) continue;
      this.delivered++;
      this.segmentDelivered++;
    }
    if (this.delivered >= errorAt) return this.stop(STATUS_ERROR);
    if (this.delivered >= this.total) return this.stop(STATUS_DONE);
    if (this.segmentDelivered >= this.segmentBytes) return this.pause(0);
    this.updateDreq();
    this.scheduleSensor();
  }

  dmaToDevice(): void {
    // A scanner only captures: a read transfer (memory → device) is the driver's mistake; the data is ignored.
  }

  /** Demand mode: the FIFO's content, or until the segment ends. */
  dmaDemandLimit(): number {
    return Math.max(1, Math.floor(Math.min(this.fifo, this.segmentBytes - this.segmentDelivered) / this.transferBytes));
  }

  /** T/C from the 8237 ends the segment early: the driver programmed a shorter piece than the segment. */
  dmaTerminalCount(): void {
    if (this.motorRuns && this.delivered < this.total) this.pause(STATUS_TC);
  }

  private pause(extra: number): void {
    if ((this.status & STATUS_WAITING) !== 0) return;
    this.segments++;
    this.status |= STATUS_WAITING | extra;
    this.slot.scheduler.cancel(this.sensorEvent);
    this.sensorEvent = null;
    this.slot.dma.setDreq(this.config.dmaChannel, false);
    this.interrupt();
  }

  snapshot(): ScannerSnapshot {
    return {
      version: 1,
      status: this.status,
      lines: this.lines,
      lineBytes: this.config.lineBytes,
      segmentBytes: this.segmentBytes,
      produced: this.produced,
      delivered: this.delivered,
      segmentDelivered: this.segmentDelivered,
      fifo: this.fifo,
      segments: this.segments,
      overruns: this.overruns,
      linesCaptured: Math.floor(this.delivered / this.config.lineBytes),
    };
  }
}
