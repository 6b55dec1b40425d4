import { EventKind, type TraceSink } from '../trace/sink';
import type { Clock, PortDevice } from './ioBus';

// Intel 8259A programmable interrupt controller, one chip. Follows reference/hw/i8259a.md:
// §3 port decoding, §4 ICW1–ICW4 and what ICW1 resets, §5 OCW1–OCW3, §6 status reads and
// poll, §7 edge/level sensing, §8–9 priority, nesting and EOI, §10 the acknowledge and the
// default IR7. Where sources disagree we follow the Intel data sheet [DS] (§15). The AT's
// pair (ports, cascade wire, the INTA sequence across both chips) is in picPair.ts.

/** Address line A0 (§3): 0 = ICW1/OCW2/OCW3 and IRR/ISR, 1 = ICW2–4/OCW1 and IMR. */
export const A0 = 0x01;

// ICW1 (A0 = 0, D4 = 1), §4
export const ICW1_IC4 = 0x01; // ICW4 needed
export const ICW1_SNGL = 0x02; // single 8259A, no ICW3; 0 = cascade mode
export const ICW1_ADI = 0x04; // call address interval 4 (MCS-80/85 only; ignored here)
export const ICW1_LTIM = 0x08; // level triggered mode; 0 = edge triggered
export const ICW1_INIT = 0x10; // D4 = 1 identifies ICW1
export const ICW1_A7_A5 = 0xe0; // vector address bits A7–A5 (MCS-80/85 only; ignored here)

// ICW2 (A0 = 1), §4
export const ICW2_T7_T3 = 0xf8; // interrupt vector bits T7–T3 (8086 mode); T2–T0 = the level

// ICW3 (A0 = 1, cascade mode only), §4. Master: bit n = 1 means IRn has a slave.
export const ICW3_ID = 0x07; // slave: ID2–ID0, the master input it drives
export const ICW3_SLAVE_RESERVED = 0xf8; // slave: must be 0

// ICW4 (A0 = 1, only when IC4 = 1), §4
export const ICW4_UPM = 0x01; // microprocessor mode: 1 = 8086/8088, 0 = MCS-80/85
export const ICW4_AEOI = 0x02; // automatic end of interrupt
export const ICW4_MS = 0x04; // master/slave, buffered mode only: 1 = master
export const ICW4_BUF = 0x08; // buffered mode (SP/EN becomes an output)
export const ICW4_SFNM = 0x10; // special fully nested mode
export const ICW4_RESERVED = 0xe0; // must be 0

// OCW2 (A0 = 0, D4 = 0, D3 = 0), §5: bits 7–5 = R SL EOI select the command
export const OCW2_L = 0x07; // L2–L0: the IR level acted upon when SL = 1
export const OCW2_EOI = 0x20; // end of interrupt
export const OCW2_SL = 0x40; // specific level
export const OCW2_R = 0x80; // rotation
export const OCW2_COMMAND = OCW2_R | OCW2_SL | OCW2_EOI;
export const OCW2_ROTATE_AEOI_CLEAR = 0x00; // rotate in automatic EOI mode (clear)
export const OCW2_NON_SPECIFIC_EOI = OCW2_EOI; // non-specific EOI command
export const OCW2_NOP = OCW2_SL; // no operation
export const OCW2_SPECIFIC_EOI = OCW2_SL | OCW2_EOI; // specific EOI command
export const OCW2_ROTATE_AEOI_SET = OCW2_R; // rotate in automatic EOI mode (set)
export const OCW2_ROTATE_NON_SPECIFIC_EOI = OCW2_R | OCW2_EOI; // rotate on non-specific EOI command
export const OCW2_SET_PRIORITY = OCW2_R | OCW2_SL; // set priority command
export const OCW2_ROTATE_SPECIFIC_EOI = OCW2_R | OCW2_SL | OCW2_EOI; // rotate on specific EOI command

// OCW3 (A0 = 0, D4 = 0, D3 = 1), §5
export const OCW3_RIS = 0x01; // read IS register (with RR); 0 = read IR register
export const OCW3_RR = 0x02; // read register command: apply RIS
export const OCW3_P = 0x04; // poll command
export const OCW3_SELECT = 0x08; // D3 = 1 identifies OCW3
export const OCW3_SMM = 0x20; // special mask mode: 1 = set, 0 = reset (with ESMM)
export const OCW3_ESMM = 0x40; // enable special mask mode command: apply SMM
export const OCW3_RESERVED = 0x80; // must be 0

// Poll word (§6)
export const POLL_I = 0x80; // interrupt: a request was found
export const POLL_W = 0x07; // W2–W0: the highest-priority level requesting

/** The level a chip answers with when no request is present at the first INTA (§10). */
export const DEFAULT_LEVEL = 7;
/** `intaFirst` found nothing: the chip will answer with the default IR7, no ISR bit set. */
export const NO_REQUEST = -1;

const LEVELS = 8;
const LEVEL_MASK = 0x07; // IR number, 0–7
const ALL_LEVELS = 0xff;
const BYTE = 0xff;
/** IR7 lowest, IR0 highest: fully nested order after ICW1 (§4). */
const INITIAL_LOWEST = 7;

/** Where the initialization sequence is (§4). */
export type InitStep = 'power-on' | 'icw2' | 'icw3' | 'icw4' | 'ready';

/** Writes the data sheet leaves undefined or forbids; never exceptions. */
export const PicAnomaly = {
  /** An OCW before the first ICW1: the power-on state is undefined [DS]; applied to the model's reset state. */
  CommandBeforeInit: 1,
  /** OCW2/OCW3 between ICW1 and the last ICW: acted on; the sequence still waits for its next ICW. */
  CommandDuringInit: 2,
  /** Initialized without µPM (MCS-80/85 mode, not modelled): acknowledges still give the 8086 vector. */
  NotIn8086Mode: 3,
  /** An INTA that no chip answers (an uninitialized master, no slave with the CAS ID): the bus floats. */
  NoResponder: 4,
  /** Reserved bits set in ICW3 (slave), ICW4 or OCW3: ignored. */
  ReservedBits: 5,
} as const;
export type PicAnomaly = (typeof PicAnomaly)[keyof typeof PicAnomaly];

export interface I8259Config {
  /** For panels and the bus map. */
  readonly name: string;
  /** Port with A0 = 0; A0 = 1 is base + 1. */
  readonly base: number;
  /** This chip in trace events (EventKind.Eoi b): 0 master, 1 slave. */
  readonly pic: 0 | 1;
  /** IRQ number of this chip's IR0 on the AT, for trace events. */
  readonly irqBase: 0 | 8;
  /** SP/EN strapping in non-buffered mode (§1, §11): high = master. */
  readonly spEn: boolean;
}

export const masterPicConfig: I8259Config = { name: 'master', base: 0x20, pic: 0, irqBase: 0, spEn: true };
export const slavePicConfig: I8259Config = { name: 'slave', base: 0xa0, pic: 1, irqBase: 8, spEn: false };

/** One chip's state for panels and replay; plain data. */
export interface I8259Snapshot {
  name: string;
  initStep: InitStep;
  /** A full ICW sequence has completed at least once. */
  initialized: boolean;
  icw1: number;
  icw2: number;
  icw3: number;
  icw4: number;
  irr: number;
  isr: number;
  imr: number;
  /** IR0–IR7 pin levels. */
  irLines: number;
  /** Edge-sense latches (§7): armed by a low→high transition, cleared at acknowledge. */
  edgeSense: number;
  /** The lowest-priority level; the highest is the next one up (mod 8). */
  lowestPriority: number;
  readRegister: 'irr' | 'isr';
  pollPending: boolean;
  specialMaskMode: boolean;
  levelTriggered: boolean;
  autoEoi: boolean;
  rotateInAutoEoi: boolean;
  specialFullyNested: boolean;
  vectorBase: number;
  int: boolean;
  anomalyCount: number;
  lastAnomaly: PicAnomaly | null;
}

const bit = (level: number): number => 1 << level;

export class I8259 implements PortDevice {
  /** Called synchronously when the INT pin changes. */
  onInt: ((level: boolean) => void) | null = null;
  /** Called for each anomaly; the wiring may turn it into a trace event or a verifier finding. */
  onAnomaly: ((chip: I8259, anomaly: PicAnomaly) => void) | null = null;

  private icw1 = 0;
  private icw2 = 0;
  private icw3 = ICW3_ID;
  private icw4 = 0;
  private initStep: InitStep = 'power-on';
  private initialized = false;
  /** In-service register. */
  private isr = 0;
  /** Interrupt mask register (OCW1); 1 = masked. */
  private imr = 0;
  /** The IR pins as the devices (or the slave's INT) drive them. */
  private irLines = 0;
  /** Edge-sense latches (§7, §14): IRR = latch AND line in edge mode. */
  private edgeSense = 0;
  /** Priority rotation base: the lowest-priority level (§2). */
  private lowestPriority = INITIAL_LOWEST;
  /** OCW3 read-register select: false = IRR, true = ISR (§3). */
  private readIsr = false;
  /** OCW3 P: the next read is a poll (§6). */
  private pollPending = false;
  private specialMask = false;
  /** OCW2 rotate in automatic EOI mode (§5). */
  private rotateInAeoi = false;
  private intLevel = false;
  private anomalyCount = 0;
  private lastAnomaly: PicAnomaly | null = null;

  constructor(
    readonly config: I8259Config,
    private readonly clock: Clock,
    private readonly trace: TraceSink,
  ) {}

  /** The INT output pin. */
  get int(): boolean {
    return this.intLevel;
  }

  /** Interrupt request register: level mode follows the lines, edge mode needs an armed latch (§7). */
  get irr(): number {
    return this.levelTriggered ? this.irLines : this.edgeSense & this.irLines;
  }

  get levelTriggered(): boolean {
    return (this.icw1 & ICW1_LTIM) !== 0;
  }

  get singleMode(): boolean {
    return (this.icw1 & ICW1_SNGL) !== 0;
  }

  get autoEoi(): boolean {
    return (this.icw4 & ICW4_AEOI) !== 0;
  }

  /** Master by SP/EN in non-buffered mode, by ICW4 M/S in buffered mode (§1, §4). */
  get isMaster(): boolean {
    return (this.icw4 & ICW4_BUF) !== 0 ? (this.icw4 & ICW4_MS) !== 0 : this.config.spEn;
  }

  /** Drives IR input `ir` (0–7) high or low. */
  setInput(ir: number, level: boolean): void {
    const b = bit(ir & LEVEL_MASK);
    if (level === ((this.irLines & b) !== 0)) return;
    if (level) {
      this.irLines |= b;
      this.edgeSense |= b;
    } else {
      this.irLines &= ~b;
      this.edgeSense &= ~b;
    }
    this.updateOutputs();
  }

  ioRead(port: number): number {
    if (this.pollPending) return this.pollRead();
    if ((port & A0) !== 0) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  ioWrite(port: number, value: number): void {
    value &= BYTE;
    if ((port & A0) === 0) {
      if ((value & ICW1_INIT) !== 0) {
        this.writeIcw1(value);
      } else {
        if (this.initStep === 'power-on') this.anomaly(PicAnomaly.CommandBeforeInit);
        else if (this.initStep !== 'ready') this.anomaly(PicAnomaly.CommandDuringInit);
        if ((value & OCW3_SELECT) !== 0) this.writeOcw3(value);
        else this.writeOcw2(value);
      }
    } else {
      switch (this.initStep) {
        case 'icw2':
          this.writeIcw2(value);
          break;
        case 'icw3':
          this.writeIcw3(value);
          break;
        case 'icw4':
          this.writeIcw4(value);
          break;
        case 'power-on':
          this.anomaly(PicAnomaly.CommandBeforeInit);
          this.imr = value;
          break;
        case 'ready':
          this.imr = value; // OCW1
          break;
      }
    }
    this.updateOutputs();
  }

  /** The chip answers an INTA sequence itself rather than waiting for its ID on CAS (§10–11). */
  answersInta(): boolean {
    return this.initialized && (this.singleMode || this.isMaster);
  }

  /** As a slave: whether the ID on CAS2–0 selects this chip (ICW3). */
  answersCascade(id: number): boolean {
    return this.initialized && !this.singleMode && !this.isMaster && (this.icw3 & ICW3_ID) === id;
  }

  /** As a master: the slave ID driven on CAS2–0 for an acknowledged level, or -1 when it has no slave. */
  cascadeId(level: number): number {
    if (level === NO_REQUEST || this.singleMode || !this.isMaster) return -1;
    return (this.icw3 & bit(level)) !== 0 ? level : -1;
  }

  /**
   * First INTA pulse (§10 step 2): resolves from the current IRR/IMR/ISR, sets the winner's ISR
   * bit and clears its IRR (edge lock-out). Returns the level, or NO_REQUEST when nothing wins.
   */
  intaFirst(): number {
    const level = this.resolve();
    if (level !== NO_REQUEST) this.putInService(level);
    this.updateOutputs();
    return level;
  }

  /**
   * Last INTA pulse (§10 steps 3–4): the vector byte, (ICW2 & T7–T3) | level, IR7 for NO_REQUEST;
   * in AEOI mode the level's ISR bit is cleared here.
   */
  intaLast(level: number): number {
    if (level !== NO_REQUEST) this.endAutomatically(level);
    this.updateOutputs();
    return (this.icw2 & ICW2_T7_T3) | (level === NO_REQUEST ? DEFAULT_LEVEL : level);
  }

  /** Records an anomaly seen by the wiring (an INTA nobody answers). */
  noteAnomaly(anomaly: PicAnomaly): void {
    this.anomaly(anomaly);
  }

  snapshot(): I8259Snapshot {
    return {
      name: this.config.name,
      initStep: this.initStep,
      initialized: this.initialized,
      icw1: this.icw1,
      icw2: this.icw2,
      icw3: this.icw3,
      icw4: this.icw4,
      irr: this.irr,
      isr: this.isr,
      imr: this.imr,
      irLines: this.irLines,
      edgeSense: this.edgeSense,
      lowestPriority: this.lowestPriority,
      readRegister: this.readIsr ? 'isr' : 'irr',
      pollPending: this.pollPending,
      specialMaskMode: this.specialMask,
      levelTriggered: this.levelTriggered,
      autoEoi: this.autoEoi,
      rotateInAutoEoi: this.rotateInAeoi,
      specialFullyNested: (this.icw4 & ICW4_SFNM) !== 0,
      vectorBase: this.icw2 & ICW2_T7_T3,
      int: this.intLevel,
      anomalyCount: this.anomalyCount,
      lastAnomaly: this.lastAnomaly,
    };
  }

  // Contract: INT = the resolver has a winner; call after every change of IR lines, IRR, ISR, IMR or mode (§14).
  private updateOutputs(): void {
    // Before the first full initialization the chip stays quiet: its power-on state is undefined [DS].
    const level = this.initialized && this.resolve() !== NO_REQUEST;
    if (level === this.intLevel) return;
    this.intLevel = level;
    this.onInt?.(level);
  }

  /** 0 = highest priority … 7 = lowest, under the current rotation (§8). */
  private rank(level: number): number {
    return (level - this.lowestPriority - 1) & LEVEL_MASK;
  }

  /** The highest-priority level set in `bits`, or NO_REQUEST. */
  private highest(bits: number): number {
    for (let r = 0; r < LEVELS; r++) {
      const level = (this.lowestPriority + 1 + r) & LEVEL_MASK;
      if ((bits & bit(level)) !== 0) return level;
    }
    return NO_REQUEST;
  }

  /** The priority resolver (§8): the unmasked request that beats everything in service. */
  private resolve(): number {
    const request = this.highest(this.irr & ~this.imr & ALL_LEVELS);
    if (request === NO_REQUEST) return NO_REQUEST;
    // Special mask mode: a masked level's ISR bit stops blocking (QEMU's reading, §15).
    const inService = this.highest(this.specialMask ? this.isr & ~this.imr : this.isr);
    if (inService === NO_REQUEST) return request;
    const r = this.rank(request);
    const s = this.rank(inService);
    if (r < s) return request;
    // Special fully nested mode: a master also takes an equal-priority request on a slave input (§11).
    if (r === s && (this.icw4 & ICW4_SFNM) !== 0 && this.cascadeId(inService) !== -1) return request;
    return NO_REQUEST;
  }

  private putInService(level: number): void {
    this.edgeSense &= ~bit(level);
    this.isr |= bit(level);
  }

  /** AEOI at the end of the last INTA (§9), with rotation when rotate-in-AEOI is set. */
  private endAutomatically(level: number): void {
    if (!this.autoEoi) return;
    this.isr &= ~bit(level);
    if (this.rotateInAeoi) this.lowestPriority = level;
  }

  /** A read after OCW3 P = 1 (§6): acknowledges the winner like an INTA and returns the poll word. */
  private pollRead(): number {
    this.pollPending = false;
    const level = this.resolve();
    if (level === NO_REQUEST) return 0; // I = 0; W2–W0 undefined, read as 0
    this.putInService(level);
    this.endAutomatically(level);
    this.updateOutputs();
    return POLL_I | (level & POLL_W);
  }

  private writeIcw1(value: number): void {
    this.icw1 = value;
    // What ICW1 resets [DS] (§4)
    this.edgeSense = 0;
    this.imr = 0;
    this.lowestPriority = INITIAL_LOWEST;
    this.icw3 = ICW3_ID; // slave mode address set to 7
    this.specialMask = false;
    this.readIsr = false;
    if ((value & ICW1_IC4) === 0) this.icw4 = 0;
    // Not stated by [DS]; as QEMU/Bochs (§15): in-service bits, a pending poll,
    // rotate-in-AEOI and the vector base are cleared too.
    this.isr = 0;
    this.pollPending = false;
    this.rotateInAeoi = false;
    this.icw2 = 0;
    this.initStep = 'icw2';
  }

  private writeIcw2(value: number): void {
    this.icw2 = value;
    if (!this.singleMode) this.initStep = 'icw3';
    else if ((this.icw1 & ICW1_IC4) !== 0) this.initStep = 'icw4';
    else this.finishInit();
  }

  private writeIcw3(value: number): void {
    this.icw3 = value;
    if (!this.isMaster && (value & ICW3_SLAVE_RESERVED) !== 0) this.anomaly(PicAnomaly.ReservedBits);
    if ((this.icw1 & ICW1_IC4) !== 0) this.initStep = 'icw4';
    else this.finishInit();
  }

  private writeIcw4(value: number): void {
    this.icw4 = value;
    if ((value & ICW4_RESERVED) !== 0) this.anomaly(PicAnomaly.ReservedBits);
    this.finishInit();
  }

  private finishInit(): void {
    this.initStep = 'ready';
    this.initialized = true;
    if ((this.icw4 & ICW4_UPM) === 0) this.anomaly(PicAnomaly.NotIn8086Mode);
  }

  private writeOcw2(value: number): void {
    const level = value & OCW2_L;
    switch (value & OCW2_COMMAND) {
      case OCW2_NON_SPECIFIC_EOI:
        this.nonSpecificEoi(false);
        break;
      case OCW2_SPECIFIC_EOI:
        this.specificEoi(level, false);
        break;
      case OCW2_ROTATE_NON_SPECIFIC_EOI:
        this.nonSpecificEoi(true);
        break;
      case OCW2_ROTATE_SPECIFIC_EOI:
        this.specificEoi(level, true);
        break;
      case OCW2_ROTATE_AEOI_SET:
        this.rotateInAeoi = true;
        break;
      case OCW2_ROTATE_AEOI_CLEAR:
        this.rotateInAeoi = false;
        break;
      case OCW2_SET_PRIORITY:
        this.lowestPriority = level;
        break;
      case OCW2_NOP:
        break;
    }
  }

  /** Clears the highest-priority ISR bit; in special mask mode a masked level's bit stays [DS] (§8). */
  private nonSpecificEoi(rotate: boolean): void {
    this.trace.record(this.clock.now, EventKind.Eoi, -1, this.config.pic, 0);
    const level = this.highest(this.specialMask ? this.isr & ~this.imr : this.isr);
    if (level === NO_REQUEST) return;
    this.isr &= ~bit(level);
    if (rotate) this.lowestPriority = level;
  }

  private specificEoi(level: number, rotate: boolean): void {
    this.trace.record(this.clock.now, EventKind.Eoi, this.config.irqBase + level, this.config.pic, 0);
    this.isr &= ~bit(level);
    if (rotate) this.lowestPriority = level;
  }

  private writeOcw3(value: number): void {
    if ((value & OCW3_RESERVED) !== 0) this.anomaly(PicAnomaly.ReservedBits);
    if ((value & OCW3_ESMM) !== 0) this.specialMask = (value & OCW3_SMM) !== 0;
    if ((value & OCW3_RR) !== 0) this.readIsr = (value & OCW3_RIS) !== 0;
    // Poll wins the next read over a read-register request in the same OCW3 [DS] (§6).
    if ((value & OCW3_P) !== 0) this.pollPending = true;
  }

  private anomaly(anomaly: PicAnomaly): void {
    this.anomalyCount++;
    this.lastAnomaly = anomaly;
    this.onAnomaly?.(this, anomaly);
  }
}
