import type { DmaChannelState } from '../../shared/runState';
import { DOUBLE, type Scheduler, type Timer } from '../machine/scheduler';
import { DmaAnomaly, DmaRegister, EventKind, type TraceSink } from '../trace/sink';
import {
  dma1Config,
  dma2Config,
  CMD_CH0_HOLD,
  CMD_COMPRESSED,
  CMD_MEM_TO_MEM,
  I8237,
  type I8237Anomaly,
  type I8237Hooks,
  MODE_AUTOINIT,
  MODE_BLOCK,
  MODE_CASCADE,
  MODE_DECREMENT,
  MODE_DEMAND,
  MODE_MODE_MASK,
  MODE_SINGLE,
  MODE_TYPE_MASK,
  MODE_TYPE_READ,
  MODE_TYPE_WRITE,
} from './i8237';
import type { IoBus } from './ioBus';
import { PAGE_PORT, PAGE_PORT_BASE, PageRegisters } from './pageRegisters';

/** The channel each page register port feeds (the others are scratch latches). */
const PAGE_CHANNEL: Readonly<Record<number, number>> = Object.fromEntries(Object.entries(PAGE_PORT).map(([channel, port]) => [port, Number(channel)]));

// System DMA as the IBM PC/AT wires it (reference/hw/i8237a.md §11, §17, §18): DMA1
// (channels 0–3, bytes) cascades into channel 4 of DMA2 (channels 4–7, words), page
// registers supply A16–A23, and one bus serves one channel at a time. Devices raise DREQ
// and move data when the controller calls them back (DACK); they pace single and demand
// transfers by how they drive DREQ. Services run as scheduler events, one per run of
// transfers that keeps A8–A15 (the datasheet's S1 cycle), and a register access during a
// service first completes the transfers that the elapsed time allows, so a count read
// while a transfer runs is exact.

/** A device on a DMA channel: called for each run of transfers while its DACK is active. */
export interface DmaPeer {
  /** Write transfer (I/O → memory): fill `into`, in transfer order. */
  dmaFromDevice(into: Uint8Array, channel: number): void;
  /** Read transfer (memory → I/O): take `data`, in transfer order. */
  dmaToDevice(data: Uint8Array, channel: number): void;
  /** Demand mode: transfers the device can make before it drops DREQ (Infinity: it keeps up). */
  dmaDemandLimit?(channel: number): number;
  /** The T/C pulse that comes with the last transfer. */
  dmaTerminalCount?(channel: number): void;
}

/** What DMA reaches: physical memory as bytes. */
export interface DmaMemory {
  readonly bytes: Uint8Array;
  readonly size: number;
}

export interface IsaDmaTiming {
  /** One DMA clock state. The AT runs the 8237s at about 4 MHz. */
  clockNs: number;
  /** HRQ to HLDA: the CPU finishing its bus cycle and granting the bus. */
  holdLatencyNs: number;
}

export const AT_DMA_TIMING: IsaDmaTiming = { clockNs: 250, holdLatencyNs: 500 };

type Anomaly = I8237Anomaly | 'software-request-not-block' | 'address-wrap' | 'no-memory';

const ANOMALY_CODE: Record<Anomaly, number> = {
  'illegal-read': DmaAnomaly.IllegalRead,
  'illegal-transfer-type': DmaAnomaly.IllegalTransferType,
  'dack-polarity': DmaAnomaly.Unimplemented,
  'software-request-not-block': DmaAnomaly.SoftwareRequestNotBlock,
  'address-wrap': DmaAnomaly.AddressWrap,
  'no-memory': DmaAnomaly.NoMemory,
};

const REGISTER_CODE: Record<Parameters<I8237Hooks['registerWritten']>[2], number> = {
  address: DmaRegister.Address,
  count: DmaRegister.Count,
  mode: DmaRegister.Mode,
  mask: DmaRegister.Mask,
  request: DmaRegister.Request,
  command: DmaRegister.Command,
};

interface Service {
  chip: I8237;
  /** Memory-to-memory (§15): channel 0 reads, channel 1 writes, channel 1 counts. */
  memToMem: boolean;
  /** Channel number within the chip, 0–3. */
  local: number;
  channel: number;
  /** Transfers still to make in this grant (block: until TC; single: one; demand: while DREQ holds). */
  grantLeft: number;
  stepStart: number;
  /** Transfers before the first change of A8–A15, less one. */
  stepOffset: number;
  stepTransfers: number;
  stepDone: number;
  /** Fires when the step's last transfer ends. */
  stepTimer: Timer;
}

export class IsaDma {
  readonly dma1: I8237;
  readonly dma2: I8237;
  readonly pages: PageRegisters;
  private readonly peers: (DmaPeer | null)[] = new Array<DmaPeer | null>(8).fill(null);
  private active: Service | null = null;
  /** Counts DREQ and register changes, so a grant can reuse the choice made at HRQ. */
  private changes = 0;
  private picked = -1;
  private pickedAt = -1;
  /** HLDA: the bus is granted. One timer, as it fires for every single-mode transfer. */
  private readonly grantTimer: Timer;
  /** One service record per channel, reused: a channel has at most one service at a time. */
  private readonly services: Service[];
  private scratch = new Uint8Array(512);
  /** Views for a single byte or word transfer, made once. */
  private readonly single = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(2)];
  /** True while a device's callback runs, so that its DREQ changes do not re-enter the transfer. */
  private inTransfer = false;
  private readonly buffers: { data: Uint8Array; addresses: Float64Array; length: number }[];
  /** Total bytes moved to or from memory, for statistics. */
  bytesMoved = 0;

  constructor(
    bus: IoBus,
    private readonly scheduler: Scheduler,
    private readonly memory: DmaMemory,
    private readonly trace: TraceSink,
    private readonly timing: IsaDmaTiming = AT_DMA_TIMING,
    /**
     * Bytes of the controller's write buffer (0: fly-by, as the 8237A itself). With a
     * buffer, device-to-memory data reaches memory a full buffer at a time; the remainder
     * waits for flushBuffer(), which the HAL's FlushAdapterBuffers calls.
     */
    readonly bufferBytes = 0,
  ) {
    this.buffers = Array.from({ length: 8 }, () => ({ data: new Uint8Array(bufferBytes), addresses: new Float64Array(bufferBytes), length: 0 }));
    const hooks: I8237Hooks = {
      beforeAccess: () => this.sync(),
      stateChanged: () => {
        this.changes++;
        this.arbitrate();
      },
      anomaly: (chip, kind, channel, value) => this.anomaly(chip, kind, channel, value),
      registerWritten: (chip, local, register, value) => {
        if (!this.trace.enabled) return;
        this.trace.record(this.scheduler.now, EventKind.DmaRegisterWrite, this.traceChannel(chip, local), REGISTER_CODE[register], value);
      },
    };
    this.grantTimer = scheduler.createTimer(() => this.startService());
    this.services = Array.from({ length: 8 }, (_, channel) => {
      const svc: Service = {
        chip: this.dma1,
        memToMem: false,
        local: channel & 3,
        channel,
        grantLeft: 0,
        stepStart: DOUBLE,
        stepOffset: 0,
        stepTransfers: 0,
        stepDone: 0,
        stepTimer: scheduler.createTimer(() => this.finishStep(svc)),
      };
      return svc;
    });
    this.dma1 = new I8237(dma1Config, hooks);
    this.dma2 = new I8237(dma2Config, hooks);
    this.pages = new PageRegisters((port, value) => {
      // The event names the channel, as for the 8237's own registers; a scratch latch (0x80, …) feeds none.
      const channel = PAGE_CHANNEL[port];
      if (this.trace.enabled && channel !== undefined) this.trace.record(this.scheduler.now, EventKind.DmaRegisterWrite, channel, DmaRegister.Page, value);
    });
    bus.map(this.dma1.config.base, this.dma1.lastPort, this.dma1, 'DMA1 (8237A)');
    bus.map(this.dma2.config.base, this.dma2.lastPort, this.dma2, 'DMA2 (8237A)');
    bus.map(PAGE_PORT_BASE, PAGE_PORT_BASE + 0x0f, this.pages, 'DMA page registers');
  }

  attach(channel: number, peer: DmaPeer | null): void {
    this.peers[channel] = peer;
  }

  private chipOf(channel: number): I8237 {
    return channel < 4 ? this.dma1 : this.dma2;
  }

  /** A device drives its DREQ line. */
  setDreq(channel: number, level: boolean): void {
    const chip = this.chipOf(channel);
    const ch = chip.channels[channel & 3]!;
    if (ch.dreqLine === level) return;
    this.sync();
    ch.dreqLine = level;
    this.changes++;
    if (this.trace.enabled) this.trace.record(this.scheduler.now, EventKind.Dreq, channel, level ? 1 : 0, 0);
    const svc = this.active;
    // Demand mode: DREQ going inactive ends the grant after the transfer in progress (§11).
    if (svc !== null && svc.channel === channel && !level && (ch.mode & MODE_MODE_MASK) === MODE_DEMAND && !ch.softwareRequest) {
      // From inside its callback the device has its byte; otherwise the transfer under way completes.
      const inProgress = !this.inTransfer && svc.stepTransfers - svc.stepDone > 0 ? 1 : 0;
      svc.grantLeft = Math.min(svc.grantLeft, inProgress);
      this.rescheduleStep(svc);
    }
    this.arbitrate();
  }

  /** The physical address the channel will use next. */
  physicalAddress(channel: number): number {
    const address = this.chipOf(channel).channels[channel & 3]!.currentAddress;
    return this.physical(channel, address);
  }

  private physical(channel: number, address: number): number {
    const page = this.pages.page(channel);
    // Channels 5–7: the counter holds A1–A16 and the page register's bit 0 is ignored (§18).
    return channel < 4 ? page * 0x10000 + address : (page & 0xfe) * 0x10000 + address * 2;
  }

  /** True while the channel owns the bus. */
  dackActive(channel: number): boolean {
    return this.active?.channel === channel;
  }

  // ---- arbitration and services ----

  /** Called after anything that may start a service (§11, §16). */
  private arbitrate(): void {
    // DMA1's HRQ is DMA2's DREQ4 (§18).
    const local1 = this.dma1.choose();
    this.dma2.channels[0]!.dreqLine = local1 >= 0;
    if (this.active !== null || this.grantTimer.pending) return;
    const channel = this.pick(local1);
    if (channel < 0) return;
    this.picked = channel;
    this.pickedAt = this.changes;
    this.grantTimer.setAt(this.scheduler.now + this.timing.holdLatencyNs);
  }

  /** The channel (0–7) the bus would serve now, or -1: DMA2's priority, with DMA1 behind channel 4. */
  private pick(local1 = this.dma1.choose()): number {
    const local2 = this.dma2.choose();
    if (local2 < 0) return -1;
    if (local2 > 0) return (this.dma2.channels[local2]!.mode & MODE_MODE_MASK) === MODE_CASCADE ? -1 : 4 + local2;
    if ((this.dma2.channels[0]!.mode & MODE_MODE_MASK) !== MODE_CASCADE) return -1; // channel 4 must be in cascade mode
    if (local1 < 0 || (this.dma1.channels[local1]!.mode & MODE_MODE_MASK) === MODE_CASCADE) return -1;
    return local1;
  }

  private startService(): void {
    // Priority is decided when the bus is granted; if nothing changed since HRQ, the choice stands.
    const channel = this.changes === this.pickedAt ? this.picked : this.pick();
    if (channel < 0) return;
    const chip = this.chipOf(channel);
    const local = channel & 3;
    const ch = chip.channels[local]!;
    const transfersToTc = ch.currentCount + 1;
    let grant: number;
    switch (ch.mode & MODE_MODE_MASK) {
      case MODE_SINGLE:
        grant = 1;
        break;
      case MODE_BLOCK:
        grant = transfersToTc;
        break;
      default: {
        // Demand: while DREQ stays; a software request behaves as a block request.
        const limit = ch.softwareRequest ? Infinity : (this.peers[channel]?.dmaDemandLimit?.(channel) ?? Infinity);
        grant = Math.max(1, Math.min(transfersToTc, limit));
      }
    }
    if (ch.softwareRequest && (ch.mode & MODE_MODE_MASK) !== MODE_BLOCK) this.anomaly(chip, 'software-request-not-block', local, ch.mode);
    if (chip === this.dma1) this.dma2.noteServed(0);
    chip.noteServed(local);
    const svc = this.services[channel]!;
    svc.chip = chip;
    svc.grantLeft = grant;
    // Memory-to-memory starts with a software request on DMA1's channel 0 and runs, block
    // fashion, for channel 1's count. No DACK goes out (§15).
    svc.memToMem = chip === this.dma1 && local === 0 && (chip.command & CMD_MEM_TO_MEM) !== 0 && ch.softwareRequest;
    if (svc.memToMem) svc.grantLeft = chip.channels[1]!.currentCount + 1;
    this.active = svc;
    if (this.trace.enabled && !svc.memToMem) this.trace.record(this.scheduler.now, EventKind.Dack, channel, 1, 0);
    this.beginStep(svc);
  }

  private clocksPerTransfer(svc: Service): number {
    if (svc.memToMem) return 8; // S11–S14, S21–S24
    return (svc.chip.command & CMD_COMPRESSED) !== 0 ? 2 : 3;
  }

  /**
   * A step is the rest of the grant, timed as §17 says: S1 on the first transfer and each
   * time A8–A15 change, then S2–S4 (S2, S4 compressed) per transfer.
   */
  private beginStep(svc: Service): void {
    const ch = svc.chip.channels[svc.local]!;
    const low = ch.currentAddress & 0xff;
    svc.stepStart = this.scheduler.now;
    svc.stepOffset = (ch.mode & MODE_DECREMENT) !== 0 ? 0xff - low : low;
    svc.stepTransfers = svc.grantLeft;
    svc.stepDone = 0;
    this.rescheduleStep(svc);
  }

  /** When the step's `i`-th transfer ends. */
  private stepEndTime(svc: Service, i: number): number {
    const s1 = i === 0 ? 0 : 1 + Math.floor((svc.stepOffset + i - 1) / 0x100);
    return svc.stepStart + this.timing.clockNs * (s1 + i * this.clocksPerTransfer(svc));
  }

  private rescheduleStep(svc: Service): void {
    svc.stepTransfers = Math.min(svc.stepTransfers, svc.stepDone + svc.grantLeft);
    svc.stepTimer.setAt(Math.max(this.scheduler.now, this.stepEndTime(svc, svc.stepTransfers)));
  }

  /**
   * Completes the transfers the elapsed time allows. Runs before a register access and a
   * DREQ change; the machine also runs it before the CPU touches memory.
   */
  sync(): void {
    const svc = this.active;
    if (svc === null || this.inTransfer) return;
    const now = this.scheduler.now;
    const perTransfer = this.timing.clockNs * this.clocksPerTransfer(svc);
    let done = Math.min(svc.stepTransfers, Math.max(0, Math.floor((now - svc.stepStart) / (perTransfer + this.timing.clockNs / 0x100))));
    while (done < svc.stepTransfers && this.stepEndTime(svc, done + 1) <= now) done++;
    while (done > 0 && this.stepEndTime(svc, done) > now) done--;
    if (done > svc.stepDone) this.runTransfers(svc, done - svc.stepDone);
  }

  private finishStep(svc: Service): void {
    if (this.active !== svc) return;
    const left = svc.stepTransfers - svc.stepDone;
    if (left > 0) this.runTransfers(svc, left);
    if (this.active !== svc) return; // ended at TC
    if (svc.grantLeft > 0) this.beginStep(svc);
    else this.endService(svc);
  }

  private endService(svc: Service): void {
    this.active = null;
    svc.stepTimer.clear();
    if (this.trace.enabled && !svc.memToMem) this.trace.record(this.scheduler.now, EventKind.Dack, svc.channel, 0, 0);
    this.arbitrate();
  }

  /** Makes `n` transfers of the active service: counters, data, and TC on the last one (§10, §12). */
  private runTransfers(svc: Service, n: number): void {
    if (svc.memToMem) return this.runMemToMem(svc, n);
    const { chip, local } = svc;
    const ch = chip.channels[local]!;
    const decrement = (ch.mode & MODE_DECREMENT) !== 0;
    // The 16-bit counter wraps inside its page (§18): move data in runs that do not wrap.
    for (let left = n; left > 0; ) {
      const toWrap = decrement ? ch.currentAddress + 1 : 0x10000 - ch.currentAddress;
      const run = Math.min(left, toWrap);
      left -= run;
      const ended = this.runContiguous(svc, run, decrement);
      // A wrap with the terminal count is harmless: no transfer uses the wrapped address.
      if (run === toWrap && !ended) this.anomaly(chip, 'address-wrap', local, decrement ? 0xffff : 0);
      if (ended) return;
    }
  }

  /** Memory-to-memory bytes through the temporary register (§15). */
  private runMemToMem(svc: Service, n: number): void {
    const chip = this.dma1;
    const [source, target] = [chip.channels[0]!, chip.channels[1]!];
    const hold = (chip.command & CMD_CH0_HOLD) !== 0;
    const mem = this.memory;
    let tc = false;
    for (let i = 0; i < n && !tc; i++) {
      const from = this.physical(0, source.currentAddress);
      const to = this.physical(1, target.currentAddress);
      chip.temporary = from < mem.size ? mem.bytes[from]! : 0xff;
      if (to < mem.size) mem.bytes[to] = chip.temporary;
      if (!hold) chip.advance(0, 1);
      tc = chip.advance(1, 1);
      svc.stepDone++;
      svc.grantLeft--;
    }
    this.bytesMoved += n;
    if (!tc) return;
    source.softwareRequest = false;
    chip.endOfProcess(1);
    if (this.trace.enabled) this.trace.record(this.scheduler.now, EventKind.TerminalCount, 1, 0, 0);
    this.endService(svc);
  }

  /** Transfers that stay inside one run of addresses; true when the last was the terminal count. */
  private runContiguous(svc: Service, n: number, decrement: boolean): boolean {
    const { chip, local, channel } = svc;
    const ch = chip.channels[local]!;
    const width = channel < 4 ? 1 : 2;
    const type = ch.mode & MODE_TYPE_MASK;
    const first = this.physical(channel, ch.currentAddress);
    // Count first: a device that drives DREQ from inside its callback sees the transfers as made.
    svc.stepDone += n;
    svc.grantLeft -= n;
    const tc = chip.advance(local, n);
    if (type === MODE_TYPE_WRITE || type === MODE_TYPE_READ) {
      this.inTransfer = true;
      try {
        this.moveData(channel, type === MODE_TYPE_WRITE, first, n, width, decrement);
      } finally {
        this.inTransfer = false;
      }
    }
    if (this.trace.enabled) {
      this.trace.record(this.scheduler.now, EventKind.DmaBurst, channel, first, n * width);
      if (this.trace.cycles) {
        // Cycle detail: one event per transfer, all stamped with the burst's time.
        const step = decrement ? -width : width;
        for (let i = 0; i < n; i++) this.trace.record(this.scheduler.now, EventKind.DmaCycle, channel, first + i * step, width);
      }
    }
    if (!tc) return false;
    if (this.trace.enabled) this.trace.record(this.scheduler.now, EventKind.TerminalCount, channel, 0, 0);
    this.peers[channel]?.dmaTerminalCount?.(channel);
    const autoinit = chip.endOfProcess(local);
    if (autoinit && this.trace.enabled) this.trace.record(this.scheduler.now, EventKind.AutoInitialize, channel, 0, 0);
    this.endService(svc);
    return true;
  }

  /** Fly-by data movement between the device and memory (§14). */
  private moveData(channel: number, toMemory: boolean, first: number, n: number, width: number, decrement: boolean): void {
    const bytes = n * width;
    const low = decrement ? first - (n - 1) * width : first;
    const mem = this.memory;
    this.bytesMoved += bytes;
    const peer = this.peers[channel];
    if (toMemory && this.bufferBytes > 0) return this.moveThroughBuffer(channel, peer, first, n, width, decrement);
    const inMemory = low >= 0 && low + bytes <= mem.size;
    if (!inMemory) this.anomaly(channel < 4 ? this.dma1 : this.dma2, 'no-memory', channel & 3, first);
    if (bytes <= 2 && inMemory && peer) {
      // One transfer (single mode): no view of memory is made for it.
      const data = this.single[bytes]!;
      if (toMemory) {
        peer.dmaFromDevice(data, channel);
        mem.bytes[low] = data[0]!;
        if (bytes === 2) mem.bytes[low + 1] = data[1]!;
      } else {
        data[0] = mem.bytes[low]!;
        if (bytes === 2) data[1] = mem.bytes[low + 1]!;
        peer.dmaToDevice(data, channel);
      }
      return;
    }
    if (!decrement && inMemory) {
      const view = mem.bytes.subarray(low, low + bytes);
      if (toMemory) {
        if (peer) peer.dmaFromDevice(view, channel);
        else view.fill(0xff); // nobody drives the data bus
      } else if (peer) {
        peer.dmaToDevice(view, channel);
      }
      return;
    }
    // Decrementing or partly outside memory: go through a buffer in transfer order.
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    const data = this.scratch.subarray(0, bytes);
    const at = (i: number) => (decrement ? first - i * width : first + i * width);
    if (toMemory) {
      if (peer) peer.dmaFromDevice(data, channel);
      else data.fill(0xff);
      for (let i = 0; i < n; i++) {
        const pa = at(i);
        for (let b = 0; b < width; b++) if (pa + b >= 0 && pa + b < mem.size) mem.bytes[pa + b] = data[i * width + b]!;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const pa = at(i);
        for (let b = 0; b < width; b++) data[i * width + b] = pa + b >= 0 && pa + b < mem.size ? mem.bytes[pa + b]! : 0xff;
      }
      if (peer) peer.dmaToDevice(data, channel);
    }
  }

  /** Device-to-memory data held in the controller's buffer until it fills or is flushed. */
  private moveThroughBuffer(channel: number, peer: DmaPeer | null | undefined, first: number, n: number, width: number, decrement: boolean): void {
    const bytes = n * width;
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    const data = this.scratch.subarray(0, bytes);
    if (peer) peer.dmaFromDevice(data, channel);
    else data.fill(0xff);
    const buffer = this.buffers[channel]!;
    for (let i = 0; i < n; i++) {
      const pa = decrement ? first - i * width : first + i * width;
      for (let b = 0; b < width; b++) {
        buffer.data[buffer.length] = data[i * width + b]!;
        buffer.addresses[buffer.length++] = pa + b;
        if (buffer.length === this.bufferBytes) this.drain(channel, false);
      }
    }
  }

  /** Bytes of a channel still in the controller's buffer. */
  bufferedBytes(channel: number): number {
    return this.buffers[channel]?.length ?? 0;
  }

  /** Writes what the controller still holds for a channel to memory; returns how many bytes. */
  flushBuffer(channel: number): number {
    this.sync();
    return this.drain(channel, true);
  }

  private drain(channel: number, traced: boolean): number {
    const buffer = this.buffers[channel]!;
    const mem = this.memory;
    const count = buffer.length;
    for (let i = 0; i < count; i++) {
      const pa = buffer.addresses[i]!;
      if (pa >= 0 && pa < mem.size) mem.bytes[pa] = buffer.data[i]!;
    }
    if (traced && count > 0) this.trace.record(this.scheduler.now, EventKind.DmaFlush, channel, buffer.addresses[0]!, count);
    buffer.length = 0;
    return count;
  }

  private anomaly(chip: I8237, kind: Anomaly, local: number, value: number): void {
    this.trace.record(this.scheduler.now, EventKind.DmaAnomaly, this.traceChannel(chip, local), ANOMALY_CODE[kind], value);
  }

  /** A channel 0–7, or -1 for DMA1 and -2 for DMA2 as a whole (chip-wide registers). */
  private traceChannel(chip: I8237, local: number): number {
    return local < 0 ? (chip === this.dma1 ? -1 : -2) : chip.config.firstChannel + local;
  }

  /** The state of both controllers for panels and replay; mode decoded into words. */
  snapshot(): IsaDmaSnapshot {
    this.sync();
    const chip = (c: I8237): DmaChipSnapshot => ({
      command: c.command,
      status: c.peekStatus(),
      bytePointer: c.bytePointer,
      temporary: c.temporary,
      channels: c.channels.map((ch, local) => {
        const channel = c.config.firstChannel + local;
        return {
          channel,
          baseAddress: ch.baseAddress,
          currentAddress: ch.currentAddress,
          baseCount: ch.baseCount,
          currentCount: ch.currentCount,
          page: this.pages.page(channel),
          physicalAddress: this.physical(channel, ch.currentAddress),
          mode: ch.mode,
          modeText: describeMode(ch.mode),
          masked: ch.masked,
          request: ch.softwareRequest,
          dreq: ch.dreqLine,
          dack: this.active?.channel === channel,
        };
      }),
    });
    return { version: 1, dma1: chip(this.dma1), dma2: chip(this.dma2) };
  }
}

/** One channel's registers and lines (the panels' type, less T/C, which the status register holds). */
export type DmaChannelSnapshot = Omit<DmaChannelState, 'tc'>;

export interface DmaChipSnapshot {
  command: number;
  status: number;
  bytePointer: boolean;
  temporary: number;
  channels: DmaChannelSnapshot[];
}

export interface IsaDmaSnapshot {
  version: 1;
  dma1: DmaChipSnapshot;
  dma2: DmaChipSnapshot;
}

/** "single, write (I/O→memory), autoinit, decrement" */
export function describeMode(mode: number): string {
  const modeName = ['demand', 'single', 'block', 'cascade'][(mode & MODE_MODE_MASK) >> 6]!;
  if ((mode & MODE_MODE_MASK) === MODE_CASCADE) return modeName;
  const type = ['verify', 'write (I/O→memory)', 'read (memory→I/O)', 'illegal type 11'][(mode & MODE_TYPE_MASK) >> 2]!;
  const extras = [(mode & MODE_AUTOINIT) !== 0 ? 'autoinit' : '', (mode & MODE_DECREMENT) !== 0 ? 'decrement' : ''].filter(Boolean);
  return [modeName, type, ...extras].join(', ');
}
