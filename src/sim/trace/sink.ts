// What every part of the simulation writes through. An event is a kind and up to three
// numbers, stamped with simulated time; no object is made per event, so a recorder can
// keep them in typed arrays. The kinds' numbers are stable: traces and exporters use them.

export const EventKind = {
  /** a = port, b = value, c = width in bytes */
  PortRead: 1,
  PortWrite: 2,
  /** No device decodes the port. a = port, b = value (0xFF… for reads), c = 1 write / 0 read */
  PortUnclaimed: 3,
  /** a = channel 0–7, b = 1 asserted / 0 deasserted */
  Dreq: 10,
  Dack: 11,
  /** A burst of DMA cycles. a = channel, b = first physical address, c = bytes moved */
  DmaBurst: 12,
  /** a = channel */
  TerminalCount: 13,
  AutoInitialize: 14,
  /** A channel's mode, address, count, mask or page register was written. a = channel (-1 / -2: DMA1's / DMA2's chip-wide registers), b = register (DmaRegister), c = new value */
  DmaRegisterWrite: 15,
  /** Something the datasheet leaves undefined or forbids. a = channel or chip, b = DmaAnomaly, c = detail */
  DmaAnomaly: 16,
  /** The controller's buffered bytes reached memory. a = channel, b = physical address, c = bytes */
  DmaFlush: 17,
  /** a = IRQ 0–15, b = level 1/0 */
  IrqLine: 20,
  /** The CPU acknowledged an interrupt. a = IRQ, b = vector */
  InterruptAck: 21,
  /** a = IRQ (or -1 for a non-specific EOI), b = PIC 0 master / 1 slave */
  Eoi: 22,
  /** An IRQ 7/15 acknowledge with nothing in the IRR. a = IRQ */
  SpuriousInterrupt: 23,
  /** An interrupt no connected ISR claimed. a = IRQ */
  UnclaimedInterrupt: 24,
  /** The processor's IRQL changed. a = new IRQL */
  Irql: 30,
  /** The kernel called a driver routine. a = Entry (kernel/driverCode.ts), b, c = its first two arguments */
  RoutineEnter: 31,
  /** a = Entry, b = the routine's result, c = IRQL */
  RoutineExit: 32,
  /** A driver API call. a = ApiId (driver/api.ts), b = source line, c = result */
  ApiCall: 33,
  /** a = index into the run's console lines, b = source line */
  DbgPrint: 34,
  /** An IRP completed. a = IRP id, b = NTSTATUS, c = Information */
  IrpComplete: 35,
  /** a = index into the run's findings, b = source line */
  Violation: 36,
  /** a = bug check code, b = source line */
  BugCheck: 37,
  /** The HAL programmed a channel for a transfer. a = channel, b = physical address, c = bytes */
  MapTransfer: 38,
  /** The arguments of the ApiCall event before it, three at a time. a, b, c = arguments (as 32-bit values) */
  ApiArgs: 39,
  /** An IRP was sent to a driver. a = IRP id, b = major function, c = length */
  IrpStart: 40,
  /** a = timer id, b = due time in µs from now, c = DPC id */
  TimerSet: 41,
  /** a = timer id, c = DPC id */
  TimerFire: 42,
  /** Map registers in use after a grant or a free. a = registers in use, b = adapter id */
  MapRegisters: 43,
  /** One DMA cycle (cycle detail only). a = channel, b = physical address, c = bytes (1 or 2) */
  DmaCycle: 44,
  /** A DPC was queued. a = DPC id */
  DpcQueued: 45,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export const DmaRegister = { Address: 0, Count: 1, Mode: 2, Page: 3, Command: 4, Mask: 5, Request: 6 } as const;

export const DmaAnomaly = {
  /** Mode register written with transfer type 11. */
  IllegalTransferType: 1,
  /** A read of a write-only port (0x09–0x0C, 0x0E, 0x0F on the Intel part). */
  IllegalRead: 2,
  /** A software request on a channel not in block mode. */
  SoftwareRequestNotBlock: 3,
  /** The address counter wrapped inside its 64 KiB (128 KiB) page. */
  AddressWrap: 4,
  /** A mode the model does not implement (memory-to-memory on DMA2, …). */
  Unimplemented: 5,
  /** A DMA cycle to an address beyond physical memory: reads float, writes are lost. */
  NoMemory: 6,
} as const;

export interface TraceSink {
  /** False when nothing listens: callers may skip building the arguments. */
  readonly enabled: boolean;
  /** True when the sink wants one DmaCycle event per DMA cycle, not only one DmaBurst per burst. */
  readonly cycles?: boolean;
  record(time: number, kind: EventKind, a: number, b: number, c: number): void;
}

export const nullSink: TraceSink = { enabled: false, record() {} };

/** Keeps every event in memory as plain numbers; for tests and short runs. */
export class ArraySink implements TraceSink {
  readonly enabled = true;
  readonly events: number[] = [];
  record(time: number, kind: EventKind, a: number, b: number, c: number): void {
    this.events.push(time, kind, a, b, c);
  }
  get count(): number {
    return this.events.length / 5;
  }
  /** Events as tuples [time, kind, a, b, c], optionally of some kinds only. */
  list(...kinds: EventKind[]): [number, EventKind, number, number, number][] {
    const out: [number, EventKind, number, number, number][] = [];
    for (let i = 0; i < this.events.length; i += 5) {
      const kind = this.events[i + 1] as EventKind;
      if (kinds.length === 0 || kinds.includes(kind)) out.push([this.events[i]!, kind, this.events[i + 2]!, this.events[i + 3]!, this.events[i + 4]!]);
    }
    return out;
  }
}
