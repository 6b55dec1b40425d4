import { irqToDirql, irqToVector } from '../hw/picPair';
import type { Machine } from '../machine/machine';
import { EventKind } from '../trace/sink';
import { BUGCHECK, BugCheck, bugCheckName } from './bugCheck';
import { type DriverCode, Entry, ENTRY_NAMES } from './driverCode';
import { WDM_CONSTANTS as W } from './wdmConstants';
import { bugCheckOf, ruleOf } from '../verifier/rules';

// The kernel's CPU side (reference/wdk/ddi: nf-wdm-keraiseirql, kelowerirql,
// kegetcurrentirql, ioconnectinterrupt, keinitializedpc, iorequestdpc, keinitializetimer,
// kesettimer, kecanceltimer, kesynchronizeexecution): one processor, its IRQL, interrupt
// dispatch from the 8259 pair at DIRQL, the DPC queue drained when the IRQL drops below
// DISPATCH_LEVEL, timers that queue DPCs, and the calls into the driver's routines.
//
// Driver code runs in zero simulated time except where it touches hardware: a port access
// takes an ISA I/O cycle, during which the machine runs on, and an interrupt whose DIRQL is
// above the current IRQL is taken right there, inside the routine, as a real CPU would.

/** One ISA I/O cycle with wait states: what a port access costs in simulated time. */
export const ISA_IO_CYCLE_NS = 1000;
/** From INTR rising to the first instruction of the ISR. */
export const INTERRUPT_LATENCY_NS = 1000;

/** 'bugcheck': a rule Windows enforces stops the run (Driver Verifier); 'teaching': every finding is reported and the run goes on. */
export type VerifierMode = 'bugcheck' | 'teaching';

export interface Finding {
  rule: string;
  message: string;
  line: number | null;
}

export interface KernelStats {
  interrupts: number;
  dpcs: number;
  mapTransfers: number;
  apiCalls: number;
}

export interface InterruptObject {
  id: number;
  irq: number;
  vector: number;
  irql: number;
  synchronizeIrql: number;
  latched: boolean;
  connected: boolean;
  /** The driver line that connected it (for the resources-leaked finding). */
  line: number | null;
}

export interface KDpc {
  id: number;
  queued: boolean;
  /** A device's DpcForIsr (IoInitializeDpcRequest) rather than a KeInitializeDpc DPC. */
  deviceId: number;
}

export interface KTimer {
  id: number;
  event: ReturnType<Machine['scheduler']['createTimer']>;
  dpcId: number;
  set: boolean;
  periodNs: number;
  /** The driver line that last set it. */
  line: number | null;
}

export class Kernel {
  irql: number = W.PASSIVE_LEVEL;
  /** How many driver routines are on the stack. */
  depth = 0;
  readonly findings: Finding[] = [];
  readonly console: string[] = [];
  readonly stats: KernelStats = { interrupts: 0, dpcs: 0, mapTransfers: 0, apiCalls: 0 };
  driver: DriverCode | null = null;
  verifierMode: VerifierMode = 'bugcheck';
  /** Called as an interrupt is taken, before its ISR runs (a debugger's "next interrupt"). */
  onInterrupt: ((irq: number) => void) | null = null;

  private nextObjectId = 1;
  private readonly interrupts = new Map<number, InterruptObject>();
  private readonly dpcs = new Map<number, KDpc>();
  private readonly dpcQueue: KDpc[] = [];
  private readonly timers = new Map<number, KTimer>();
  private readonly interruptCheck: ReturnType<Machine['scheduler']['createTimer']>;

  constructor(readonly machine: Machine) {
    this.interruptCheck = machine.scheduler.createTimer(() => this.deliverInterrupts());
    machine.pic.onIntr = (level) => {
      if (level && !this.interruptCheck.pending) this.interruptCheck.setAt(this.now + INTERRUPT_LATENCY_NS);
    };
  }

  newId(): number {
    return this.nextObjectId++;
  }

  get now(): number {
    return this.machine.scheduler.now;
  }

  line(): number | null {
    const l = this.driver?.line() ?? 0;
    return l > 0 ? l : null;
  }

  /**
   * A verifier finding: what happened (`detail`, one sentence) followed by the rule's advice.
   * In the bug-check mode a rule Windows enforces then stops the run, with bug check 0xE6
   * and the rule's parameter 1 (and 2) for Driver Verifier's DMA checks; p2–p4 carry the
   * violation's own values where the bug check page gives them.
   */
  report(rule: string, detail: string, p2?: number, p3 = 0, p4 = 0, line: number | null = this.line()): void {
    const r = ruleOf(rule);
    const message = `${/[.!?]$/.test(detail) ? detail : `${detail}.`} ${r.advice}`;
    this.findings.push({ rule, message, line });
    this.machine.trace.record(this.now, EventKind.Violation, this.findings.length - 1, line ?? 0, 0);
    const stop = this.verifierMode === 'bugcheck' ? bugCheckOf(r) : null;
    if (stop) this.bugCheck(stop.code, message, stop.p1, p2 ?? stop.p2, p3, p4);
  }

  bugCheck(code: number, message: string, p1 = 0, p2 = 0, p3 = 0, p4 = 0): never {
    const line = this.line();
    this.machine.trace.record(this.now, EventKind.BugCheck, code, line ?? 0, 0);
    throw new BugCheck({ code, name: bugCheckName(code), parameters: [p1, p2, p3, p4], message, line });
  }

  print(text: string): void {
    const line = this.line();
    this.console.push(text);
    this.machine.trace.record(this.now, EventKind.DbgPrint, this.console.length - 1, line ?? 0, 0);
  }

  // ---- Calling the driver ----------------------------------------------------------

  /** Runs a driver routine at `irql` (raised from the current level) and returns its result. */
  call(entry: Entry, irql: number, a = 0, b = 0, c = 0, d = 0): number {
    const driver = this.driver;
    if (driver === null) throw new Error('no driver is loaded');
    const old = this.irql;
    if (irql < old) this.bugCheck(BUGCHECK.IRQL_NOT_LESS_OR_EQUAL, `${ENTRY_NAMES[entry]} must run at IRQL ${irql} but the processor is at ${old}`, 0, irql, 0, 0);
    this.setIrql(irql);
    this.depth++;
    this.machine.trace.record(this.now, EventKind.RoutineEnter, entry, a, b);
    let result: number;
    try {
      result = driver.enter(entry, a, b, c, d);
    } finally {
      this.depth--;
    }
    this.machine.trace.record(this.now, EventKind.RoutineExit, entry, result, this.irql);
    if (this.irql !== irql) {
      // Bug check 0xC8 (IRQL_UNEXPECTED_VALUE) in the bug-check mode; in the teaching mode the IRQL is put back and the run goes on.
      this.report('IRQL_NOT_RESTORED', `${ENTRY_NAMES[entry]} returned at IRQL ${this.irql}; it was called at ${irql} and must return at the same level.`, this.irql, irql);
      this.setIrql(irql);
    }
    this.lowerTo(old);
    return result;
  }

  // ---- IRQL -------------------------------------------------------------------------

  private setIrql(irql: number): void {
    if (irql === this.irql) return;
    this.irql = irql;
    this.machine.trace.record(this.now, EventKind.Irql, irql, 0, 0);
  }

  /** KeRaiseIrql: answers the old IRQL. */
  KeRaiseIrql(NewIrql: number): number {
    const old = this.irql;
    if (!Number.isInteger(NewIrql) || NewIrql < 0 || NewIrql > W.HIGH_LEVEL) this.bugCheck(BUGCHECK.IRQL_NOT_LESS_OR_EQUAL, `KeRaiseIrql to ${NewIrql}, which is not an IRQL`);
    if (NewIrql < old) {
      this.bugCheck(BUGCHECK.IRQL_NOT_LESS_OR_EQUAL, `KeRaiseIrql to ${NewIrql}, below the current IRQL ${old}`, NewIrql, old, 0, 0);
    }
    this.setIrql(NewIrql);
    return old;
  }

  /** KeLowerIrql: back to the IRQL KeRaiseIrql answered; pending interrupts and DPCs run. */
  KeLowerIrql(NewIrql: number): void {
    if (!Number.isInteger(NewIrql) || NewIrql < 0 || NewIrql > this.irql) {
      this.bugCheck(BUGCHECK.IRQL_NOT_LESS_OR_EQUAL, `KeLowerIrql to ${NewIrql} from ${this.irql}: the new IRQL must not be above the current one`, NewIrql, this.irql, 0, 0);
    }
    this.lowerTo(NewIrql);
  }

  private lowerTo(irql: number): void {
    this.setIrql(irql);
    this.deliverInterrupts();
    if (this.irql < W.DISPATCH_LEVEL) this.drainDpcs();
  }

  // ---- Time passing inside a routine ------------------------------------------------

  /** Lets the machine run for `ns` while driver code waits on the bus. */
  spend(ns: number): void {
    const s = this.machine.scheduler;
    s.runUntil(s.now + ns);
  }

  // ---- Interrupts -------------------------------------------------------------------

  IoConnectInterrupt(irq: number, Vector: number, Irql: number, SynchronizeIrql: number, latched: boolean): InterruptObject {
    const object: InterruptObject = { id: this.newId(), irq, vector: Vector, irql: Irql, synchronizeIrql: SynchronizeIrql, latched, connected: true, line: this.line() };
    this.interrupts.set(object.id, object);
    this.setPicMask(irq, false);
    return object;
  }

  IoDisconnectInterrupt(id: number): boolean {
    const object = this.interrupts.get(id);
    if (!object?.connected) return false;
    object.connected = false;
    if (![...this.interrupts.values()].some((o) => o.connected && o.irq === object.irq)) this.setPicMask(object.irq, true);
    return true;
  }

  interrupt(id: number): InterruptObject | undefined {
    return this.interrupts.get(id);
  }

  connectedInterrupts(): InterruptObject[] {
    return [...this.interrupts.values()].filter((o) => o.connected);
  }

  /** HalEnableSystemInterrupt / HalDisableSystemInterrupt: the IRQ's bit in its 8259's IMR. */
  private setPicMask(irq: number, masked: boolean): void {
    const bus = this.machine.bus;
    const port = irq < 8 ? 0x21 : 0xa1;
    const bit = 1 << (irq & 7);
    const imr = bus.inb(port);
    bus.outb(port, masked ? imr | bit : imr & ~bit);
    if (irq >= 8 && !masked) bus.outb(0x21, bus.inb(0x21) & ~(1 << 2)); // the cascade
  }

  /** The IRQ the 8259 pair would answer with now, or −1 (fully nested priority, IR0 first). */
  private pendingIrq(): number {
    const { master, slave } = this.machine.pic.snapshot();
    const highest = (irr: number, imr: number, isr: number): number => {
      const req = irr & ~imr;
      for (let ir = 0; ir < 8; ir++) {
        if (isr & (1 << ir)) return -1;
        if (req & (1 << ir)) return ir;
      }
      return -1;
    };
    const m = highest(master.irr, master.imr, master.isr);
    if (m === 2) {
      const s = highest(slave.irr, slave.imr, slave.isr);
      return s < 0 ? -1 : 8 + s;
    }
    return m;
  }

  /** Takes every interrupt that outranks the current IRQL, each at its DIRQL. */
  private deliverInterrupts(): void {
    const pic = this.machine.pic;
    while (pic.intr) {
      const irq = this.pendingIrq();
      if (irq < 0 || irqToDirql(irq) <= this.irql) {
        if (irq < 0 && this.irql < W.DISPATCH_LEVEL) this.acknowledgeAndDispatch(); // spurious IRQ 7/15
        return;
      }
      this.acknowledgeAndDispatch();
    }
  }

  private acknowledgeAndDispatch(): void {
    const ack = this.machine.pic.acknowledge();
    if (ack === null || ack.spurious) return; // Windows ignores a spurious IRQ 7/15 without an EOI
    this.stats.interrupts++;
    this.onInterrupt?.(ack.irq);
    const objects = [...this.interrupts.values()].filter((o) => o.connected && o.vector === irqToVector(ack.irq));
    let claimed = false;
    for (const o of objects) {
      if (this.call(Entry.Isr, Math.max(o.synchronizeIrql, this.irql), o.id) !== 0) {
        claimed = true;
        break;
      }
    }
    if (!claimed && objects.length > 0) this.machine.trace.record(this.now, EventKind.UnclaimedInterrupt, ack.irq, 0, 0);
    // End of interrupt: specific EOI to the slave, then to the master's cascade input.
    const bus = this.machine.bus;
    if (ack.irq >= 8) {
      bus.outb(0xa0, 0x60 | (ack.irq & 7));
      bus.outb(0x20, 0x60 | 2);
    } else bus.outb(0x20, 0x60 | ack.irq);
  }

  // ---- DPCs -------------------------------------------------------------------------

  newDpc(deviceId = 0): KDpc {
    const dpc: KDpc = { id: this.newId(), queued: false, deviceId };
    this.dpcs.set(dpc.id, dpc);
    return dpc;
  }

  dpc(id: number): KDpc | undefined {
    return this.dpcs.get(id);
  }

  /** KeInsertQueueDpc: false when the DPC is already queued. */
  KeInsertQueueDpc(dpc: KDpc): boolean {
    if (dpc.queued) return false;
    dpc.queued = true;
    this.machine.trace.record(this.now, EventKind.DpcQueued, dpc.id, 0, 0);
    this.dpcQueue.push(dpc);
    if (this.irql < W.DISPATCH_LEVEL) this.drainDpcs();
    return true;
  }

  KeRemoveQueueDpc(dpc: KDpc): boolean {
    if (!dpc.queued) return false;
    dpc.queued = false;
    this.dpcQueue.splice(this.dpcQueue.indexOf(dpc), 1);
    return true;
  }

  private drainDpcs(): void {
    while (this.dpcQueue.length > 0 && this.irql < W.DISPATCH_LEVEL) {
      const dpc = this.dpcQueue.shift()!;
      dpc.queued = false;
      this.stats.dpcs++;
      this.call(Entry.Dpc, W.DISPATCH_LEVEL, dpc.id);
    }
  }

  // ---- Timers -----------------------------------------------------------------------

  newTimer(): KTimer {
    const id = this.newId();
    const timer: KTimer = {
      id,
      dpcId: 0,
      set: false,
      periodNs: 0,
      line: null,
      event: this.machine.scheduler.createTimer(() => this.expire(timer)),
    };
    this.timers.set(id, timer);
    return timer;
  }

  timer(id: number): KTimer | undefined {
    return this.timers.get(id);
  }

  /**
   * KeSetTimer(Ex): DueTime in 100 ns units, negative = relative, positive = absolute
   * (here: since the machine started). Answers TRUE when the timer was already set.
   */
  KeSetTimer(timer: KTimer, DueTime: number, dpcId: number, PeriodMs = 0): boolean {
    const wasSet = timer.set;
    const now = this.now;
    const due = DueTime < 0 ? now + -DueTime * 100 : Math.max(now, DueTime * 100);
    timer.dpcId = dpcId;
    timer.periodNs = PeriodMs * 1_000_000;
    timer.set = true;
    timer.line = this.line();
    timer.event.setAt(Math.round(due));
    this.machine.trace.record(now, EventKind.TimerSet, timer.id, Math.round((due - now) / 1000), dpcId);
    return wasSet;
  }

  KeCancelTimer(timer: KTimer): boolean {
    const wasSet = timer.set;
    timer.set = false;
    timer.event.clear();
    return wasSet;
  }

  private expire(timer: KTimer): void {
    this.machine.trace.record(this.now, EventKind.TimerFire, timer.id, 0, timer.dpcId);
    timer.set = timer.periodNs > 0;
    if (timer.periodNs > 0) timer.event.setAt(this.now + timer.periodNs);
    const dpc = this.dpcs.get(timer.dpcId);
    if (dpc) this.KeInsertQueueDpc(dpc);
  }

  /** Timers still set (a driver must cancel them before it unloads). */
  timersSet(): KTimer[] {
    return [...this.timers.values()].filter((t) => t.set);
  }
}

