import { EventKind, type TraceSink } from '../trace/sink';
import { DEFAULT_LEVEL, I8259, type I8259Snapshot, masterPicConfig, NO_REQUEST, PicAnomaly, slavePicConfig } from './i8259';
import type { Clock, IoBus } from './ioBus';

// The IBM PC/AT's two 8259As and the Windows x86 PIC HAL's view of them. Follows
// reference/hw/i8259a.md §10 (the INTA sequence and spurious IR7/IR15), §11 (cascade),
// §12 (AT wiring: master 0x20–0x21, slave 0xA0–0xA1, slave INT → master IR2, the bus
// "IRQ2" pin on IRQ 9) and §13 (vector = 0x30 + IRQ, IRQL = 27 − IRQ, ReactOS's init).

/** The master input the slave's INT drives, and so the slave's ID (§11). */
export const AT_CASCADE_IR = 2;
/** The slave input the expansion bus's IRQ2 pin is wired to: IRQ 9 (§12). */
export const AT_BUS_IRQ2_SLAVE_IR = 1;
export const IRQ_COUNT = 16;
const SLAVE_IRQ_BASE = slavePicConfig.irqBase;
/** The IRQ number of the slave's IR1, which the bus IRQ2 pin shares. */
const IRQ9 = SLAVE_IRQ_BASE + AT_BUS_IRQ2_SLAVE_IR;

// Windows x86 PIC HAL (§13)
export const PRIMARY_VECTOR_BASE = 0x30; // vectors 0x00–0x2F are CPU traps
export const PROFILE_LEVEL = 27;
export const CLOCK2_LEVEL = 28;
/** IRQ 0 is the HAL's interval clock (CLOCK2_LEVEL), IRQ 8 the RTC profiling timer (PROFILE_LEVEL). */
export const CLOCK_IRQ = 0;
export const PROFILE_IRQ = 8;

// ReactOS HalpInitializeLegacyPICs (hal/halx86/generic/pic.c), §13
const HAL_ICW1 = 0x11; // ICW4 needed, cascade, interval 8, edge triggered
const HAL_MASTER_ICW3 = 1 << AT_CASCADE_IR; // a slave on IR2
const HAL_SLAVE_ICW3 = AT_CASCADE_IR; // slave ID 2
const HAL_ICW4 = 0x01; // 8086 mode, normal EOI, non-buffered, not special fully nested
const HAL_MASK_ALL = 0xff;

function checkIrq(irq: number): void {
  if (!Number.isInteger(irq) || irq < 0 || irq >= IRQ_COUNT) throw new RangeError(`IRQ must be 0–15, got ${irq}`);
}

/** The vector the Windows x86 PIC HAL gives an IRQ: 0x30 + IRQ (HalpIrqToVector). */
export function irqToVector(irq: number): number {
  checkIrq(irq);
  return PRIMARY_VECTOR_BASE + irq;
}

/**
 * The IRQL an IRQ's interrupt runs at under the x86 PIC HAL: 27 − IRQ (HalpVectorToIrql),
 * except the HAL's own clock (IRQ 0 at CLOCK2_LEVEL 28) and profile timer (IRQ 8 at
 * PROFILE_LEVEL 27). IRQ 2 gives the formula's 25 but is the cascade, never a device's.
 */
export function irqToDirql(irq: number): number {
  checkIrq(irq);
  if (irq === CLOCK_IRQ) return CLOCK2_LEVEL;
  if (irq === PROFILE_IRQ) return PROFILE_LEVEL;
  return PROFILE_LEVEL - irq;
}

/** The IRQ a device on an expansion-bus IRQ pin is heard on: the bus's IRQ 2 is IRQ 9 on the AT (§12). */
export function busIrqToIrq(irq: number): number {
  checkIrq(irq);
  return irq === AT_CASCADE_IR ? IRQ9 : irq;
}

export interface InterruptAcknowledge {
  /** 0–15; 7 or 15 for a spurious interrupt. */
  irq: number;
  vector: number;
  /** No request was present: the default IR7 of the answering chip, no ISR bit set on it (§10). */
  spurious: boolean;
}

export interface PicPairSnapshot {
  version: 1;
  /** The CPU's INTR line (the master's INT). */
  intr: boolean;
  /** The sixteen bus IRQ lines as the devices drive them, bit n = IRQ n. */
  irqLines: number;
  master: I8259Snapshot;
  slave: I8259Snapshot;
}

export class PicPair {
  readonly master: I8259;
  readonly slave: I8259;
  /** Called synchronously when INTR changes; schedule the acknowledge rather than calling it from here. */
  onIntr: ((level: boolean) => void) | null = null;
  private irqLines = 0;

  constructor(
    private readonly bus: IoBus,
    private readonly clock: Clock,
    private readonly trace: TraceSink,
  ) {
    this.master = new I8259(masterPicConfig, clock, trace);
    this.slave = new I8259(slavePicConfig, clock, trace);
    bus.map(masterPicConfig.base, masterPicConfig.base + 1, this.master, '8259A master');
    bus.map(slavePicConfig.base, slavePicConfig.base + 1, this.slave, '8259A slave');
    // The cascade wire (§11).
    this.slave.onInt = (level) => this.master.setInput(AT_CASCADE_IR, level);
    this.master.onInt = (level) => this.onIntr?.(level);
  }

  /** The INTR line to the CPU. */
  get intr(): boolean {
    return this.master.int;
  }

  /** A device drives bus IRQ line `irq` (0–15). IRQ 2 and IRQ 9 both reach the slave's IR1 (§12). */
  setIrq(irq: number, level: boolean): void {
    checkIrq(irq);
    const b = 1 << irq;
    if (level === ((this.irqLines & b) !== 0)) return;
    this.irqLines ^= b;
    this.trace.record(this.clock.now, EventKind.IrqLine, irq, level ? 1 : 0, 0);
    if (irq === AT_CASCADE_IR || irq === IRQ9) {
      const pins = (1 << AT_CASCADE_IR) | (1 << IRQ9);
      this.slave.setInput(AT_BUS_IRQ2_SLAVE_IR, (this.irqLines & pins) !== 0);
    } else if (irq < SLAVE_IRQ_BASE) {
      this.master.setInput(irq, level);
    } else {
      this.slave.setInput(irq - SLAVE_IRQ_BASE, level);
    }
  }

  /**
   * The CPU's INTA sequence, called once the CPU has sampled INTR high. Each chip resolves
   * from its state at the moment (QEMU's approach): a request that went away meanwhile
   * gives the default IR7 (irq 7 or 15, spurious, no ISR bit on that chip). The master
   * resolves at the first INTA; a cascaded slave resolves when its ID is on CAS, so
   * `duringInta`, run between the two, can model a slave request that drops inside the
   * sequence — the spurious IRQ 15, after which the master's ISR bit 2 is set and still
   * needs an EOI. Returns null when no chip drives the vector byte (the bus floats).
   */
  acknowledge(duringInta?: () => void): InterruptAcknowledge | null {
    const master = this.master;
    if (!master.answersInta()) {
      master.noteAnomaly(PicAnomaly.NoResponder);
      return null;
    }
    const masterLevel = master.intaFirst();
    const id = master.cascadeId(masterLevel);
    duringInta?.();
    if (id === -1) {
      const vector = master.intaLast(masterLevel);
      return this.delivered(masterLevel === NO_REQUEST ? DEFAULT_LEVEL : masterLevel, vector, masterLevel === NO_REQUEST);
    }
    if (!this.slave.answersCascade(id)) {
      master.intaLast(masterLevel);
      master.noteAnomaly(PicAnomaly.NoResponder);
      return null;
    }
    const slaveLevel = this.slave.intaFirst();
    const vector = this.slave.intaLast(slaveLevel);
    master.intaLast(masterLevel); // the master's AEOI, if any, at the end of the same pulse
    return this.delivered(SLAVE_IRQ_BASE + (slaveLevel === NO_REQUEST ? DEFAULT_LEVEL : slaveLevel), vector, slaveLevel === NO_REQUEST);
  }

  /**
   * Programs both chips through their ports as ReactOS's HalpInitializeLegacyPICs does (§13):
   * ICW1 0x11, ICW2 0x30/0x38, ICW3 0x04/0x02, ICW4 0x01, then every level masked, IR2
   * included; the kernel unmasks levels (and the cascade) by writing the IMRs later.
   */
  initializeAsWindows(): void {
    const m = masterPicConfig.base;
    const s = slavePicConfig.base;
    this.bus.outb(m, HAL_ICW1);
    this.bus.outb(m + 1, PRIMARY_VECTOR_BASE);
    this.bus.outb(m + 1, HAL_MASTER_ICW3);
    this.bus.outb(m + 1, HAL_ICW4);
    this.bus.outb(m + 1, HAL_MASK_ALL);
    this.bus.outb(s, HAL_ICW1);
    this.bus.outb(s + 1, PRIMARY_VECTOR_BASE + SLAVE_IRQ_BASE);
    this.bus.outb(s + 1, HAL_SLAVE_ICW3);
    this.bus.outb(s + 1, HAL_ICW4);
    this.bus.outb(s + 1, HAL_MASK_ALL);
  }

  snapshot(): PicPairSnapshot {
    return { version: 1, intr: this.intr, irqLines: this.irqLines, master: this.master.snapshot(), slave: this.slave.snapshot() };
  }

  private delivered(irq: number, vector: number, spurious: boolean): InterruptAcknowledge {
    this.trace.record(this.clock.now, EventKind.InterruptAck, irq, vector, 0);
    if (spurious) this.trace.record(this.clock.now, EventKind.SpuriousInterrupt, irq, 0, 0);
    return { irq, vector, spurious };
  }
}
