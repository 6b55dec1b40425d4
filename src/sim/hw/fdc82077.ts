import type { EventHandle } from '../machine/scheduler';
import type { PortDevice } from './ioBus';
import type { DeviceFaults, IsaSlot } from './isaDevice';
import type { DmaPeer } from './isaDma';

// Intel 82077AA floppy disk controller in PC-AT mode, with one 3.5" 1.44 MB drive (drive 0)
// over a raw image (80 cylinders, 2 heads, 18 sectors of 512 bytes, MFM, 500 kbit/s).
// Modelled: DOR, MSR/DSR, FIFO, DIR/CCR, SRA/SRB (PS/2 layout); SPECIFY, SENSE DRIVE STATUS,
// RECALIBRATE, SEEK, SENSE INTERRUPT STATUS, READ DATA, WRITE DATA, VERSION, with their
// command/execution/result phases; DMA one byte per DRQ (the FIFO disabled, as after reset).
// Departures: DMA mode only (SPECIFY ND is refused); CONFIGURE, READ ID, FORMAT and the
// other commands answer as invalid; no rotational latency (the wanted sector is always the
// next to pass the head); the TDR (0x3F3) is not decoded; SRA/SRB read in PS/2 layout,
// where a real part in AT mode leaves them undriven. Datasheet: labs/devices/floppy.md.

// ---- Registers: offsets from the base port (82077AA data sheet §2, PC-AT mode) ----
export const FDC_SRA = 0; // status register A (read)
export const FDC_SRB = 1; // status register B (read)
export const FDC_DOR = 2; // digital output register (read/write)
export const FDC_MSR = 4; // main status register (read)
export const FDC_DSR = 4; // data rate select register (write)
export const FDC_FIFO = 5; // data register (FIFO)
export const FDC_DIR = 7; // digital input register (read)
export const FDC_CCR = 7; // configuration control register (write)

// DOR
export const DOR_DRIVE_SEL = 0x03; // drive select: which DS pin is active
export const DOR_DRIVE_SEL0 = 0x01; // drive select, low bit
export const DOR_NRESET = 0x04; // reset, active low: 0 holds the controller in reset
export const DOR_DMAGATE = 0x08; // DMA and interrupt enable: gates DRQ, INT, DACK and TC
export const DOR_MOTEN0 = 0x10; // motor enable, drive 0 (drive n: DOR_MOTEN0 << n)

// MSR
export const MSR_DRV0_BUSY = 0x01; // drive 0 busy: seeking, or its seek status not yet sensed (drive n: << n)
export const MSR_CB = 0x10; // command busy
export const MSR_NON_DMA = 0x20; // non-DMA execution phase
export const MSR_DIO = 0x40; // data input/output: 1 = controller to host
export const MSR_RQM = 0x80; // request for master: the data register is ready

// DSR
export const DSR_SW_RESET = 0x80; // software reset, clears itself
export const DSR_POWER_DOWN = 0x40; // power down
export const DSR_PRECOMP = 0x1c; // write precompensation delay
export const DSR_DRATE_SEL = 0x03; // data rate select

// CCR
export const CCR_DRATE_SEL = 0x03; // data rate select (the same latch as the DSR's)

// DRATE SEL values
export const DRATE_500K = 0; // 500 kbit/s: 1.44 MB media
export const DRATE_300K = 1; // 300 kbit/s
export const DRATE_250K = 2; // 250 kbit/s: the value after a hardware reset
export const DRATE_1M = 3; // 1 Mbit/s
const RATE_KBPS = [500, 300, 250, 1000] as const;

// DIR (PC-AT mode)
export const DIR_DSKCHG = 0x80; // disk changed since the last step pulse
export const DIR_UNDRIVEN = 0x7f; // bits 6–0: not driven by the FDC in AT mode (they float high)

// SRA (PS/2 mode layout)
export const SRA_DIR = 0x01; // head step direction: 1 = in, toward the spindle
export const SRA_NWP = 0x02; // write protect, active low
export const SRA_NINDEX = 0x04; // index pulse, active low
export const SRA_HDSEL = 0x08; // head select
export const SRA_NTRK0 = 0x10; // track 0, active low
export const SRA_STEP = 0x20; // step pulse
export const SRA_NDRV2 = 0x40; // second drive installed, active low
export const SRA_INT_PENDING = 0x80; // the INT pin

// SRB (PS/2 mode layout)
export const SRB_MOT_EN0 = 0x01; // motor enable 0
export const SRB_MOT_EN1 = 0x02; // motor enable 1
export const SRB_WGATE = 0x04; // write gate
export const SRB_RDDATA = 0x08; // read data toggle
export const SRB_WRDATA = 0x10; // write data toggle
export const SRB_DRIVE_SEL0 = 0x20; // drive select 0
export const SRB_RESERVED = 0xc0; // bits 7–6 read as 1

// ---- Commands (Table 5-1) ----
export const CMD_OPCODE = 0x1f; // opcode bits; bits 7–5 are MT, MFM, SK on the data commands
export const CMD_MT = 0x80; // multi-track: continue on head 1 after EOT on head 0
export const CMD_MFM = 0x40; // MFM (double density) recording
export const CMD_SK = 0x20; // skip sectors with a deleted data address mark
export const CMD_DS = 0x03; // second byte: drive select
export const CMD_HDS = 0x04; // second byte: head select
const CMD_HDS_SHIFT = 2;

export const CMD_SPECIFY = 0x03;
export const CMD_SENSE_DRIVE_STATUS = 0x04;
export const CMD_WRITE_DATA = 0x05;
export const CMD_READ_DATA = 0x06;
export const CMD_RECALIBRATE = 0x07;
export const CMD_SENSE_INTERRUPT_STATUS = 0x08;
export const CMD_SEEK = 0x0f;
export const CMD_VERSION = 0x10;

// SPECIFY parameter bytes
export const SPEC_SRT = 0xf0; // step rate time
export const SPEC_HUT = 0x0f; // head unload time
export const SPEC_HLT = 0xfe; // head load time
export const SPEC_ND = 0x01; // non-DMA mode
const SPEC_SRT_SHIFT = 4;
const SPEC_HLT_SHIFT = 1;

// ST0
export const ST0_DS = 0x03; // drive select
export const ST0_HD = 0x04; // head address
export const ST0_EC = 0x10; // equipment check: no track 0 after 79 steps
export const ST0_SE = 0x20; // seek end
export const ST0_IC = 0xc0; // interrupt code
export const IC_NORMAL = 0x00; // normal termination
export const IC_ABNORMAL = 0x40; // abnormal termination
export const IC_INVALID = 0x80; // invalid command
export const IC_POLLING = 0xc0; // drive ready changed during polling (after reset)
const ST0_HD_SHIFT = 2;

// ST1
export const ST1_MA = 0x01; // missing address mark
export const ST1_NW = 0x02; // not writable
export const ST1_ND = 0x04; // no data: the sector was not found
export const ST1_OR = 0x10; // overrun/underrun: the host did not serve a byte in time
export const ST1_DE = 0x20; // data error: CRC error in the ID or data field
export const ST1_EN = 0x80; // end of cylinder: ran past EOT without TC

// ST2
export const ST2_MD = 0x01; // missing data address mark
export const ST2_BC = 0x02; // bad cylinder
export const ST2_WC = 0x10; // wrong cylinder: the ID's C differs from the command's
export const ST2_DD = 0x20; // data error in the data field
export const ST2_CM = 0x40; // control mark: a deleted sector was met

// ST3
export const ST3_DS = 0x03; // drive select
export const ST3_HD = 0x04; // head address
export const ST3_ONE_3 = 0x08; // always 1 on the 82077AA
export const ST3_T0 = 0x10; // track 0
export const ST3_ONE_5 = 0x20; // always 1 on the 82077AA
export const ST3_WP = 0x40; // write protected

export const VERSION_82077AA = 0x90; // VERSION result: an enhanced (82077AA) controller
const BYTE = 0xff; // registers and ID fields are 8 bits wide

/** Table 5-1 commands a real 82077AA runs and this model answers as invalid (by opcode bits 4–0). */
export const fdcUnmodelledCommands: Readonly<Record<number, string>> = {
  0x02: 'READ TRACK',
  0x09: 'WRITE DELETED DATA',
  0x0a: 'READ ID',
  0x0c: 'READ DELETED DATA',
  0x0d: 'FORMAT TRACK',
  0x0e: 'DUMPREG',
  0x11: 'SCAN EQUAL',
  0x12: 'PERPENDICULAR MODE',
  0x13: 'CONFIGURE',
  0x14: 'LOCK',
  0x16: 'VERIFY',
  0x19: 'SCAN LOW OR EQUAL',
  0x1d: 'SCAN HIGH OR EQUAL',
};

/** One row of Table 5-1 for each command this model implements. */
export interface FdcCommandRow {
  opcode: number;
  name: string;
  /** Bytes of the command phase, the opcode byte included. */
  commandBytes: number;
  /** Bytes of the result phase; 0 = none (the command ends after its command or execution phase). */
  resultBytes: number;
  /** The opcode's high bits (MT, MFM, SK) the command accepts; any other set bit makes it invalid. */
  flags: number;
}

/** 82077AA data sheet, Table 5-1 "Command Set": the subset modelled here. */
export const fdcCommandSet: readonly FdcCommandRow[] = [
  /* 1 */ { opcode: CMD_READ_DATA, name: 'READ DATA', commandBytes: 9, resultBytes: 7, flags: CMD_MT | CMD_MFM | CMD_SK },
  /* 2 */ { opcode: CMD_WRITE_DATA, name: 'WRITE DATA', commandBytes: 9, resultBytes: 7, flags: CMD_MT | CMD_MFM },
  /* 3 */ { opcode: CMD_SPECIFY, name: 'SPECIFY', commandBytes: 3, resultBytes: 0, flags: 0 },
  /* 4 */ { opcode: CMD_SENSE_DRIVE_STATUS, name: 'SENSE DRIVE STATUS', commandBytes: 2, resultBytes: 1, flags: 0 },
  /* 5 */ { opcode: CMD_RECALIBRATE, name: 'RECALIBRATE', commandBytes: 2, resultBytes: 0, flags: 0 },
  /* 6 */ { opcode: CMD_SENSE_INTERRUPT_STATUS, name: 'SENSE INTERRUPT STATUS', commandBytes: 1, resultBytes: 2, flags: 0 },
  /* 7 */ { opcode: CMD_SEEK, name: 'SEEK', commandBytes: 3, resultBytes: 0, flags: 0 },
  /* 8 */ { opcode: CMD_VERSION, name: 'VERSION', commandBytes: 1, resultBytes: 1, flags: 0 },
];

// ---- The medium and the drive ----
export const FDC_CYLINDERS = 80;
export const FDC_HEADS = 2;
export const FDC_SECTORS_PER_TRACK = 18;
export const FDC_SECTOR_BYTES = 512;
export const FDC_SIZE_CODE = 2; // N: 128 << 2 = 512 bytes
export const FDC_IMAGE_BYTES = FDC_CYLINDERS * FDC_HEADS * FDC_SECTORS_PER_TRACK * FDC_SECTOR_BYTES;
/** The drive's mechanical end stop: the head can step past the last formatted cylinder. */
export const FDC_LAST_HEAD_POSITION = 83;
/** RECALIBRATE gives up when track 0 is not seen after this many step pulses. */
export const FDC_RECALIBRATE_STEPS = 79;

// ---- Timing (all simulated ns) ----
/** One MFM byte at 500 kbit/s: 8 data bits of 2 µs. */
export const FDC_BYTE_NS_500K = 16_000;
/** 300 rpm. */
export const FDC_REVOLUTION_NS = 200_000_000;
/** Before each sector's data: ID sync and mark, C H R N, CRC, gap 2, data sync and mark. */
export const FDC_HEADER_BYTES = 60;
/** After each sector's data. */
export const FDC_CRC_BYTES = 2;
/** Gap 3 between sectors as formatted (0x6C bytes for 1.44 MB). */
export const FDC_GAP3_BYTES = 108;
/** From the last sector's gap 3 round to the first sector of a track: gap 4b, index mark, gap 1. */
export const FDC_INDEX_GAP_BYTES = 224;
/** A disk is read only once it is up to speed. */
export const FDC_SPINUP_NS = 300_000_000;
/** After a reset, the first drive-polling pass raises the interrupt. */
export const FDC_RESET_POLL_NS = 32_000;
/** A sector or address mark not found before the index pulse has passed twice. */
const SEARCH_FAIL_NS = 2 * FDC_REVOLUTION_NS;
const DRIVES = 4;
const SECTOR_END_SLOT = FDC_SECTOR_BYTES + FDC_CRC_BYTES;
const WARNINGS_KEPT = 16;

export interface FdcConfig {
  base: number;
  irq: number;
  dmaChannel: number;
}

export const fdcDefaultConfig: FdcConfig = { base: 0x3f0, irq: 6, dmaChannel: 2 };

export type FdcPhase = 'reset' | 'idle' | 'command' | 'execution' | 'result';

interface Drive {
  /** A drive with a disk: only drive 0. */
  readonly present: boolean;
  // Physical drive: where its heads are, what it reports.
  cylinder: number;
  diskChanged: boolean;
  /** When the motor was switched on; -1 while it is off. */
  motorOnAt: number;
  // The controller's view of the drive (indexed by the command's DS bits).
  /** Present cylinder number. */
  pcn: number;
  busy: boolean;
  seekEvent: EventHandle | null;
  seekEndsAt: number;
  /** Interrupt status waiting for SENSE INTERRUPT STATUS. */
  status: { st0: number; pcn: number } | null;
}

/** READ DATA or WRITE DATA in progress. */
interface Transfer {
  write: boolean;
  /** Drive in the command (DS1, DS0) and the drive the DOR actually selects. */
  ds: number;
  unit: number;
  mt: boolean;
  mfm: boolean;
  side: number;
  c: number;
  h: number;
  r: number;
  n: number;
  eot: number;
  /** Waiting for index pulses that never come: no disk, or its motor is off. */
  stalled: boolean;
  /** Stalled by the `noInterruptAtByte` fault: the medium stopped; only a reset ends the command. */
  jammed: boolean;
  byteNs: number;
  /** When the current sector's first data byte starts under the head. */
  dataStart: number;
  /** Byte time within the sector (0…SECTOR_END_SLOT). */
  slot: number;
  /** Read: a byte waits in the data register for DACK. Write: a byte is requested. */
  pending: boolean;
  latch: number;
  index: number;
  /** The T/C pulse came: this sector is the last. */
  tc: boolean;
  crcError: boolean;
  event: EventHandle | null;
}

export interface FdcSnapshot {
  version: 1;
  phase: FdcPhase;
  /** The command in its command, execution or result phase; null when idle. */
  command: string | null;
  commandBytes: number[];
  dor: number;
  msr: number;
  dataRateKbps: number;
  /** DSR write precompensation bits (stored, no effect). */
  precompensation: number;
  /** DOR motor enables as bits 0–3. */
  motors: number;
  selectedDrive: number;
  specify: { srt: number; hut: number; hlt: number; nonDma: boolean };
  interruptPending: boolean;
  irq: boolean;
  dreq: boolean;
  /** Present cylinder number the controller holds, per drive. */
  cylinders: number[];
  /** Where each drive's heads really are. */
  headPositions: number[];
  diskChanged: boolean;
  headLoaded: boolean;
  transfer: { write: boolean; cylinder: number; head: number; sector: number; byteInSector: number; tc: boolean; stalled: boolean } | null;
  sectorsRead: number;
  sectorsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  overruns: number;
  crcErrors: number;
  lastResult: number[];
  warnings: number;
  recentWarnings: { time: number; message: string }[];
}

export class Fdc82077 implements PortDevice, DmaPeer {
  // Registers
  private dor = 0; // hardware reset: all 0, so the controller is held in reset
  private dataRate = DRATE_250K;
  private precomp = 0;
  private srt = 0;
  private hut = 0;
  private hlt = 0;
  private nonDmaAsked = false;
  // Phases
  private phase: FdcPhase = 'reset';
  private current: FdcCommandRow | null = null;
  private readonly commandBuf: number[] = [];
  private result: number[] = [];
  private resultIndex = 0;
  /** Reading the first result byte clears INT (READ DATA, WRITE DATA). */
  private resultClearsInt = false;
  private lastResult: number[] = [];
  /** Last byte through the data register, what a read at the wrong phase returns. */
  private dataLatch = 0;
  // Outputs: the internal requests, and the pins after the DMA gate.
  private intRequest = false;
  private irqOut = false;
  private dreqOut = false;
  // Head and drives
  private headLoaded = false;
  private unloadEvent: EventHandle | null = null;
  private pollEvent: EventHandle | null = null;
  private stepIn = false;
  private readonly drives: Drive[];
  private xfer: Transfer | null = null;
  /** Sectors whose data field CRC no longer matches (a write cut short). */
  private readonly badCrc = new Set<number>();
  // Faults and counters
  private deviceBytes = 0;
  private faultSpent = false;
  private jamSpent = false;
  private sectorsRead = 0;
  private sectorsWritten = 0;
  private bytesRead = 0;
  private bytesWritten = 0;
  private overruns = 0;
  private crcErrors = 0;
  private warnings = 0;
  private readonly recentWarnings: { time: number; message: string }[] = [];

  constructor(
    private readonly slot: IsaSlot,
    readonly config: FdcConfig,
    /** 1,474,560 bytes, read and written in place. */
    readonly image: Uint8Array,
    private readonly faults: DeviceFaults = {},
  ) {
    if (image.length !== FDC_IMAGE_BYTES) throw new RangeError(`82077AA FDC: the disk image must be ${FDC_IMAGE_BYTES} bytes, got ${image.length}`);
    this.drives = Array.from({ length: DRIVES }, (_, i) => ({
      present: i === 0,
      cylinder: 0,
      diskChanged: i === 0, // a drive reports a change from power-on until the first step
      motorOnAt: -1,
      pcn: 0,
      busy: false,
      seekEvent: null,
      seekEndsAt: 0,
      status: null,
    }));
    const { base } = config;
    slot.bus.map(base + FDC_SRA, base + FDC_DOR, this, '82077AA FDC (SRA, SRB, DOR)');
    slot.bus.map(base + FDC_MSR, base + FDC_FIFO, this, '82077AA FDC (MSR/DSR, FIFO)');
    slot.bus.map(base + FDC_DIR, base + FDC_DIR, this, '82077AA FDC (DIR/CCR)');
    slot.dma.attach(config.dmaChannel, this);
  }

  // ---- ports ----

  ioRead(port: number): number {
    switch (port - this.config.base) {
      case FDC_SRA:
        return this.readSra();
      case FDC_SRB:
        return this.readSrb();
      case FDC_DOR:
        return this.dor;
      case FDC_MSR:
        return this.msr();
      case FDC_FIFO:
        return this.readFifo();
      case FDC_DIR: {
        const drive = this.drives[this.dor & DOR_DRIVE_SEL]!;
        return (drive.present && drive.diskChanged ? DIR_DSKCHG : 0) | DIR_UNDRIVEN;
      }
      default:
        return BYTE;
    }
  }

  ioWrite(port: number, value: number): void {
    switch (port - this.config.base) {
      case FDC_DOR:
        return this.writeDor(value);
      case FDC_DSR:
        return this.writeDsr(value);
      case FDC_FIFO:
        return this.writeFifo(value);
      case FDC_CCR:
        this.dataRate = value & CCR_DRATE_SEL;
        return;
      default:
        this.warn(`write of 0x${value.toString(16)} to read-only port 0x${port.toString(16)}`);
    }
  }

  private msr(): number {
    if (this.phase === 'reset') return 0;
    let value = 0;
    for (let i = 0; i < DRIVES; i++) if (this.drives[i]!.busy) value |= MSR_DRV0_BUSY << i;
    switch (this.phase) {
      case 'idle':
        return value | MSR_RQM;
      case 'command':
        return value | MSR_RQM | MSR_CB;
      case 'execution':
        return value | MSR_CB;
      default:
        return value | MSR_RQM | MSR_DIO | MSR_CB;
    }
  }

  private readSra(): number {
    const unit = this.dor & DOR_DRIVE_SEL;
    const drive = this.drives[unit]!;
    let value = SRA_NWP | SRA_NINDEX;
    if (!this.drives[1]!.present) value |= SRA_NDRV2;
    if (!(drive.present && drive.cylinder === 0)) value |= SRA_NTRK0;
    if (this.xfer?.side) value |= SRA_HDSEL;
    if (this.stepIn) value |= SRA_DIR;
    if (this.irqOut) value |= SRA_INT_PENDING;
    return value;
  }

  private readSrb(): number {
    let value = SRB_RESERVED;
    if (this.dor & DOR_MOTEN0) value |= SRB_MOT_EN0;
    if (this.dor & (DOR_MOTEN0 << 1)) value |= SRB_MOT_EN1;
    if (this.dor & DOR_DRIVE_SEL0) value |= SRB_DRIVE_SEL0;
    if (this.xfer?.write && !this.xfer.stalled && this.xfer.dataStart <= this.slot.scheduler.now) value |= SRB_WGATE;
    return value;
  }

  private writeDor(value: number): void {
    const old = this.dor;
    this.dor = value & BYTE;
    const now = this.slot.scheduler.now;
    for (let i = 0; i < DRIVES; i++) {
      const bit = DOR_MOTEN0 << i;
      const drive = this.drives[i]!;
      if (value & bit && !(old & bit)) drive.motorOnAt = now;
      if (!(value & bit) && old & bit) drive.motorOnAt = -1;
    }
    if (old & DOR_NRESET && !(value & DOR_NRESET)) this.enterReset();
    else if (!(old & DOR_NRESET) && value & DOR_NRESET) this.leaveReset();
    const x = this.xfer;
    if (x !== null && this.phase === 'execution') {
      const unit = this.drives[x.unit]!;
      if (!x.stalled && unit.motorOnAt < 0) this.stall(x, `the motor of drive ${x.unit} stopped during ${this.current?.name}`);
      else if (x.stalled && !x.jammed && unit.present && unit.motorOnAt >= 0) this.startExecution(); // index pulses come again
    }
    this.updateOutputs();
  }

  private writeDsr(value: number): void {
    this.dataRate = value & DSR_DRATE_SEL;
    this.precomp = value & DSR_PRECOMP;
    if (value & DSR_POWER_DOWN) this.warn('DSR power down is not modelled');
    // The DSR reset clears itself; a DOR reset held low takes precedence.
    if (value & DSR_SW_RESET && this.dor & DOR_NRESET) {
      this.enterReset();
      this.leaveReset();
      this.updateOutputs();
    }
  }

  private enterReset(): void {
    if (this.phase === 'reset') return;
    const scheduler = this.slot.scheduler;
    if (this.xfer !== null) scheduler.cancel(this.xfer.event);
    this.xfer = null;
    scheduler.cancel(this.unloadEvent);
    scheduler.cancel(this.pollEvent);
    this.unloadEvent = null;
    this.pollEvent = null;
    for (const drive of this.drives) {
      scheduler.cancel(drive.seekEvent);
      drive.seekEvent = null;
      drive.seekEndsAt = 0;
      drive.busy = false;
      drive.status = null;
      drive.pcn = 0;
    }
    this.phase = 'reset';
    this.current = null;
    this.commandBuf.length = 0;
    this.result = [];
    this.intRequest = false;
    this.headLoaded = false;
  }

  /** Polling starts; each drive is seen as "became ready", one status per drive (§7.4). */
  private leaveReset(): void {
    this.phase = 'idle';
    this.pollEvent = this.slot.scheduler.schedule(FDC_RESET_POLL_NS, () => {
      this.pollEvent = null;
      for (let i = 0; i < DRIVES; i++) this.drives[i]!.status = { st0: IC_POLLING | i, pcn: this.drives[i]!.pcn };
      this.raiseInterrupt();
    });
  }

  // ---- command phase ----

  private writeFifo(value: number): void {
    switch (this.phase) {
      case 'idle': {
        this.dataLatch = value;
        const row = fdcCommandSet.find((r) => (value & CMD_OPCODE) === r.opcode && (value & ~CMD_OPCODE & ~r.flags & BYTE) === 0);
        this.commandBuf.length = 0;
        this.commandBuf.push(value);
        if (row === undefined) {
          // Invalid or not modelled: a one-byte result phase with ST0 = 80h, no interrupt.
          const unmodelled = fdcUnmodelledCommands[value & CMD_OPCODE] ?? ((value & CMD_OPCODE) === CMD_SEEK ? 'RELATIVE SEEK' : undefined);
          this.warn(unmodelled !== undefined ? `${unmodelled} (0x${value.toString(16)}) is not modelled: it answers as invalid` : `invalid command 0x${value.toString(16)}`);
          this.current = null;
          this.toResult([IC_INVALID], false);
          return;
        }
        this.current = row;
        if (row.commandBytes === 1) this.execute();
        else this.phase = 'command';
        return;
      }
      case 'command':
        this.dataLatch = value;
        this.commandBuf.push(value);
        if (this.commandBuf.length === this.current!.commandBytes) this.execute();
        return;
      case 'reset':
        this.warn('data register written while the controller is held in reset');
        return;
      default:
        this.warn(`data register written in the ${this.phase} phase (RQM/DIO say not to)`);
    }
  }

  private readFifo(): number {
    if (this.phase !== 'result') {
      this.warn(`data register read in the ${this.phase} phase (RQM/DIO say not to)`);
      return this.dataLatch;
    }
    const value = this.result[this.resultIndex++]!;
    this.dataLatch = value;
    if (this.resultIndex === 1 && this.resultClearsInt) {
      this.intRequest = false;
      this.updateOutputs();
    }
    if (this.resultIndex >= this.result.length) {
      this.lastResult = this.result;
      this.toIdle();
    }
    return value;
  }

  private toIdle(): void {
    this.phase = 'idle';
    this.current = null;
  }

  private toResult(bytes: number[], clearsInt: boolean): void {
    this.phase = 'result';
    this.result = bytes;
    this.resultIndex = 0;
    this.resultClearsInt = clearsInt;
  }

  private execute(): void {
    const b = this.commandBuf;
    const drive = b[1]! & CMD_DS;
    switch (this.current!.opcode) {
      case CMD_SPECIFY:
        this.srt = (b[1]! & SPEC_SRT) >> SPEC_SRT_SHIFT;
        this.hut = b[1]! & SPEC_HUT;
        this.hlt = (b[2]! & SPEC_HLT) >> SPEC_HLT_SHIFT;
        this.nonDmaAsked = (b[2]! & SPEC_ND) !== 0;
        if (this.nonDmaAsked) this.warn('SPECIFY asked for non-DMA mode: not modelled, the controller stays in DMA mode');
        return this.toIdle();
      case CMD_SENSE_DRIVE_STATUS: {
        const unit = this.physicalUnit(drive);
        const d = this.drives[unit]!;
        const head = (b[1]! & CMD_HDS) >> CMD_HDS_SHIFT;
        const st3 = ST3_ONE_5 | ST3_ONE_3 | (d.present && d.cylinder === 0 ? ST3_T0 : 0) | (head ? ST3_HD : 0) | drive;
        return this.toResult([st3], false);
      }
      case CMD_RECALIBRATE:
        this.startSeek(drive, null);
        return this.toIdle();
      case CMD_SEEK:
        this.startSeek(drive, b[2]!);
        return this.toIdle();
      case CMD_SENSE_INTERRUPT_STATUS:
        return this.senseInterrupt();
      case CMD_VERSION:
        return this.toResult([VERSION_82077AA], false);
      default:
        return this.startTransfer();
    }
  }

  /** The DS pins follow the DOR, not the command: the datasheet leaves keeping them equal to the driver. */
  private physicalUnit(commandDrive: number): number {
    const unit = this.dor & DOR_DRIVE_SEL;
    if (unit !== commandDrive) this.warn(`${this.current?.name} names drive ${commandDrive} but the DOR selects drive ${unit}`);
    return unit;
  }

  // ---- SEEK, RECALIBRATE, SENSE INTERRUPT STATUS ----

  /** `target` null = RECALIBRATE. The PCN and the heads take their end values at once; the interrupt comes after the steps. */
  private startSeek(ds: number, target: number | null): void {
    const scheduler = this.slot.scheduler;
    const unit = this.physicalUnit(ds);
    const physical = this.drives[unit]!;
    const drive = this.drives[ds]!;
    if (drive.seekEvent !== null) this.warn(`${this.current!.name} on drive ${ds} while its previous seek still runs`);
    scheduler.cancel(drive.seekEvent);
    let steps: number;
    let st0 = ST0_SE | ds;
    if (target === null) {
      const found = physical.present && physical.cylinder <= FDC_RECALIBRATE_STEPS;
      steps = found ? physical.cylinder : FDC_RECALIBRATE_STEPS;
      if (physical.present) physical.cylinder -= steps;
      if (!found) st0 |= IC_ABNORMAL | ST0_EC;
      drive.pcn = 0;
      this.stepIn = false;
    } else {
      steps = Math.abs(target - drive.pcn);
      this.stepIn = target > drive.pcn;
      if (physical.present) physical.cylinder = Math.min(FDC_LAST_HEAD_POSITION, Math.max(0, physical.cylinder + (this.stepIn ? steps : -steps)));
      drive.pcn = target;
    }
    if (steps > 0) {
      if (physical.present) physical.diskChanged = false;
      this.headLoaded = false; // the heads must settle again: the next read or write waits HLT
    }
    const duration = steps * this.stepNs();
    drive.busy = true;
    drive.status = null;
    drive.seekEndsAt = scheduler.now + duration;
    drive.seekEvent = scheduler.schedule(duration, () => {
      drive.seekEvent = null;
      drive.status = { st0, pcn: drive.pcn };
      this.raiseInterrupt();
    });
  }

  private senseInterrupt(): void {
    this.intRequest = false;
    this.updateOutputs();
    const drive = this.drives.find((d) => d.status !== null);
    if (drive === undefined) return this.toResult([IC_INVALID], false);
    const { st0, pcn } = drive.status!;
    drive.status = null;
    drive.busy = drive.seekEvent !== null;
    this.toResult([st0, pcn], false);
  }

  // ---- READ DATA, WRITE DATA ----

  private startTransfer(): void {
    const b = this.commandBuf;
    this.xfer = {
      write: this.current!.opcode === CMD_WRITE_DATA,
      ds: b[1]! & CMD_DS,
      unit: 0,
      mt: (b[0]! & CMD_MT) !== 0,
      mfm: (b[0]! & CMD_MFM) !== 0,
      side: (b[1]! & CMD_HDS) >> CMD_HDS_SHIFT,
      c: b[2]!,
      h: b[3]!,
      r: b[4]!,
      n: b[5]!,
      eot: b[6]!,
      // b[7] GPL and b[8] DTL are taken and kept in the command bytes: GPL only shapes gaps
      // written by FORMAT and a real write's timing; DTL counts only when N = 0, which no ID on this disk has.
      stalled: false,
      jammed: false,
      byteNs: 0,
      dataStart: 0,
      slot: 0,
      pending: false,
      latch: 0,
      index: 0,
      tc: false,
      crcError: false,
      event: null,
    };
    this.phase = 'execution';
    this.startExecution();
  }

  /** Waits for the disk to be up to speed, for steps in progress, and for the head to load (HLT). */
  private startExecution(): void {
    const x = this.xfer!;
    const scheduler = this.slot.scheduler;
    x.unit = this.physicalUnit(x.ds);
    const drive = this.drives[x.unit]!;
    if (!drive.present || drive.motorOnAt < 0) {
      this.stall(x, drive.present ? `drive ${x.unit}'s motor is off: no index pulses, the command waits` : `drive ${x.unit} has no disk: no index pulses, the command waits until a reset`);
      return;
    }
    x.stalled = false;
    let at = Math.max(scheduler.now, drive.motorOnAt + FDC_SPINUP_NS);
    for (const d of this.drives) at = Math.max(at, d.seekEndsAt);
    if (!this.headLoaded) at += this.hltNs();
    this.headLoaded = true;
    scheduler.cancel(this.unloadEvent);
    this.unloadEvent = null;
    x.event = scheduler.scheduleAt(at, this.onLocate);
  }

  private stall(x: Transfer, why: string): void {
    this.slot.scheduler.cancel(x.event);
    x.event = null;
    x.stalled = true;
    x.pending = false;
    this.warn(why);
    this.updateOutputs();
  }

  /** The head is at the start of a sector's ID field: is it the sector wanted? */
  private readonly onLocate = (): void => {
    const x = this.xfer;
    if (x === null) return;
    x.event = null;
    const drive = this.drives[x.unit]!;
    // No address mark at all: a data rate the medium was not written at, FM on an MFM disk, an unformatted cylinder.
    if (this.dataRate !== DRATE_500K || !x.mfm || drive.cylinder >= FDC_CYLINDERS) return this.failAfterSearch(ST1_MA, 0);
    if (drive.cylinder !== x.c) return this.failAfterSearch(ST1_ND, ST2_WC);
    if (x.h !== x.side || x.r < 1 || x.r > FDC_SECTORS_PER_TRACK || x.n !== FDC_SIZE_CODE) return this.failAfterSearch(ST1_ND, 0);
    const scheduler = this.slot.scheduler;
    x.byteNs = this.byteNs();
    x.dataStart = scheduler.now + FDC_HEADER_BYTES * x.byteNs;
    x.crcError = false;
    x.pending = false;
    if (x.write && this.faultInNextSector()) {
      // A write checks the ID field first: an ID CRC error ends it before any data is written.
      this.crcErrors++;
      x.event = scheduler.scheduleAt(x.dataStart, () => this.finishTransfer(IC_ABNORMAL, ST1_DE, 0, x.c, x.h, x.r, x.n));
      return;
    }
    this.nextSlot(x, x.write ? 0 : 1);
  };

  private failAfterSearch(st1: number, st2: number): void {
    const x = this.xfer!;
    x.event = this.slot.scheduler.schedule(SEARCH_FAIL_NS, () => this.finishTransfer(IC_ABNORMAL, st1, st2, x.c, x.h, x.r, x.n));
  }

  private nextSlot(x: Transfer, slot: number): void {
    x.slot = slot;
    x.event = this.slot.scheduler.scheduleAt(x.dataStart + slot * x.byteNs, this.onSlot);
  }

  /**
   * One byte time of the data field. Read: at slot i byte i−1 has been assembled; the one
   * before it must be gone (else overrun). Write: at slot i byte i is wanted; byte i−1 must
   * have come (else underrun, also OR). The CRC follows the last byte.
   */
  private readonly onSlot = (): void => {
    const x = this.xfer;
    if (x === null) return;
    x.event = null;
    const i = x.slot;
    if (i === SECTOR_END_SLOT) return this.endOfSector(x);
    if (x.pending) return this.overrun(x);
    if (!x.tc && (x.write ? i < FDC_SECTOR_BYTES : i >= 1 && i <= FDC_SECTOR_BYTES) && this.jamHere()) {
      x.jammed = true;
      return this.stall(x, `the disk stopped turning after ${this.deviceBytes} data bytes (the no-interrupt fault): ${this.current?.name} waits until a reset`);
    }
    const base = this.sectorBase(x);
    if (x.write) {
      if (i < FDC_SECTOR_BYTES) {
        if (x.tc) this.image[base + i] = 0; // after T/C the rest of the sector is written as zeros
        else this.request(x, i);
        return this.nextSlot(x, i + 1);
      }
      return this.nextSlot(x, SECTOR_END_SLOT);
    }
    if (i <= FDC_SECTOR_BYTES && !x.tc) this.present(x, base + i - 1);
    this.nextSlot(x, i + 1);
  };

  private present(x: Transfer, offset: number): void {
    let value = this.image[offset]!;
    if (this.faults.ioErrorAtByte !== undefined && !this.faultSpent && this.deviceBytes === this.faults.ioErrorAtByte) {
      this.faultSpent = true;
      x.crcError = true;
      value ^= BYTE; // the bits the CRC catches
    }
    this.deviceBytes++;
    x.latch = value;
    x.pending = true;
    this.updateOutputs();
  }

  private request(x: Transfer, index: number): void {
    x.index = index;
    x.pending = true;
    this.updateOutputs();
  }

  /** The `noInterruptAtByte` fault: fires once, when the controller has moved exactly that many data bytes. */
  private jamHere(): boolean {
    if (this.faults.noInterruptAtByte === undefined || this.jamSpent || this.deviceBytes !== this.faults.noInterruptAtByte) return false;
    this.jamSpent = true;
    return true;
  }

  private faultInNextSector(): boolean {
    const at = this.faults.ioErrorAtByte;
    if (at === undefined || this.faultSpent || at < this.deviceBytes || at >= this.deviceBytes + FDC_SECTOR_BYTES) return false;
    this.faultSpent = true;
    return true;
  }

  private endOfSector(x: Transfer): void {
    const lba = this.lba(x);
    if (x.write) {
      this.sectorsWritten++;
      this.badCrc.delete(lba);
    } else if (x.crcError || this.badCrc.has(lba)) {
      this.crcErrors++;
      return this.finishTransfer(IC_ABNORMAL, ST1_DE, ST2_DD, x.c, x.h, x.r, x.n);
    } else {
      this.sectorsRead++;
    }
    if (x.tc) return this.finishTransfer(IC_NORMAL, 0, 0, ...this.nextId(x));
    if (x.r !== x.eot) {
      x.r = (x.r + 1) & BYTE;
      return this.locateAfter(x, FDC_GAP3_BYTES);
    }
    if (x.mt && x.side === 0) {
      x.side = 1;
      x.h ^= 1; // multi-track: the LSB of H is complemented with the head
      x.r = 1;
      return this.locateAfter(x, FDC_GAP3_BYTES + FDC_INDEX_GAP_BYTES);
    }
    // Past EOT without T/C: end of cylinder.
    this.finishTransfer(IC_ABNORMAL, ST1_EN, 0, ...this.nextId(x));
  }

  private locateAfter(x: Transfer, gapBytes: number): void {
    x.event = this.slot.scheduler.schedule(gapBytes * x.byteNs, this.onLocate);
  }

  /** C H R N after the last sector transferred (the data sheet's table of ID information after termination). */
  private nextId(x: Transfer): [number, number, number, number] {
    if (x.r !== x.eot) return [x.c, x.h, x.r + 1, x.n];
    if (!x.mt) return [x.c + 1, x.h, 1, x.n];
    if (x.side === 0) return [x.c, x.h ^ 1, 1, x.n];
    return [x.c + 1, x.h ^ 1, 1, x.n];
  }

  private overrun(x: Transfer): void {
    this.overruns++;
    if (x.write) this.badCrc.add(this.lba(x)); // the data field was cut short: its CRC will not match
    this.finishTransfer(IC_ABNORMAL, ST1_OR, 0, x.c, x.h, x.r, x.n);
  }

  private finishTransfer(ic: number, st1: number, st2: number, c: number, h: number, r: number, n: number): void {
    const x = this.xfer!;
    const scheduler = this.slot.scheduler;
    scheduler.cancel(x.event);
    this.xfer = null;
    const st0 = ic | (x.side << ST0_HD_SHIFT) | x.ds;
    this.toResult([st0, st1, st2, c & BYTE, h & BYTE, r & BYTE, n & BYTE], true);
    this.unloadEvent = scheduler.schedule(this.hutNs(), () => {
      this.unloadEvent = null;
      this.headLoaded = false;
    });
    this.raiseInterrupt();
  }

  private lba(x: Transfer): number {
    return (x.c * FDC_HEADS + x.side) * FDC_SECTORS_PER_TRACK + (x.r - 1);
  }

  private sectorBase(x: Transfer): number {
    return this.lba(x) * FDC_SECTOR_BYTES;
  }

  // ---- DMA (DmaPeer): called while DACK is active ----

  dmaFromDevice(into: Uint8Array): void {
    const x = this.xfer;
    for (let i = 0; i < into.length; i++) {
      if (x !== null && !x.write && x.pending) {
        into[i] = x.latch;
        x.pending = false;
        this.bytesRead++;
      } else {
        into[i] = BYTE;
        this.warn('DACK (I/O to memory) with no byte ready: block or demand mode, or a software request?');
      }
    }
    this.updateOutputs();
  }

  dmaToDevice(data: Uint8Array): void {
    const x = this.xfer;
    for (let i = 0; i < data.length; i++) {
      if (x !== null && x.write && x.pending) {
        this.image[this.sectorBase(x) + x.index] = data[i]!;
        x.pending = false;
        this.deviceBytes++;
        this.bytesWritten++;
      } else {
        this.warn('DACK (memory to I/O) with no byte requested: the byte is lost');
      }
    }
    this.updateOutputs();
  }

  /** The controller drops DRQ after each byte, so demand mode moves one byte per request too. */
  dmaDemandLimit(): number {
    return 1;
  }

  dmaTerminalCount(): void {
    const x = this.xfer;
    if (x === null || x.stalled) {
      this.warn('T/C with no READ DATA or WRITE DATA under way');
      return;
    }
    x.tc = true;
  }

  // ---- outputs ----

  /** A new interrupt: a fresh rising edge for the AT's edge-triggered PIC. */
  private raiseInterrupt(): void {
    if (this.irqOut) {
      this.irqOut = false;
      this.slot.setIrq(this.config.irq, false);
    }
    this.intRequest = true;
    this.updateOutputs();
  }

  /** Drives INT and DRQ from the internal requests through the DOR's DMA gate. Called after every change that may move them. */
  private updateOutputs(): void {
    const gate = (this.dor & DOR_DMAGATE) !== 0 && this.phase !== 'reset';
    const irq = gate && this.intRequest && this.faults.neverInterrupt !== true;
    const dreq = gate && this.xfer !== null && this.xfer.pending;
    if (irq !== this.irqOut) {
      this.irqOut = irq;
      this.slot.setIrq(this.config.irq, irq);
    }
    if (dreq !== this.dreqOut) {
      this.dreqOut = dreq;
      this.slot.dma.setDreq(this.config.dmaChannel, dreq);
    }
  }

  // ---- timing ----

  /** The current rate over 500 kbit/s: SPECIFY's times are given at 500 kbit/s and scale with it. */
  private rateScale(): number {
    return 500 / RATE_KBPS[this.dataRate as 0 | 1 | 2 | 3];
  }

  private byteNs(): number {
    return Math.round(FDC_BYTE_NS_500K * this.rateScale() * Math.max(1, this.faults.slowFactor ?? 1));
  }

  /** SRT: 16 − SRT ms at 500 kbit/s. */
  private stepNs(): number {
    return Math.round((16 - this.srt) * 1_000_000 * this.rateScale());
  }

  /** HLT: 2 ms units at 500 kbit/s, 0 = 128 units. */
  private hltNs(): number {
    return Math.round((this.hlt || 128) * 2_000_000 * this.rateScale());
  }

  /** HUT: 16 ms units at 500 kbit/s, 0 = 16 units. */
  private hutNs(): number {
    return Math.round((this.hut || 16) * 16_000_000 * this.rateScale());
  }

  private warn(message: string): void {
    this.warnings++;
    this.recentWarnings.push({ time: this.slot.scheduler.now, message });
    if (this.recentWarnings.length > WARNINGS_KEPT) this.recentWarnings.shift();
  }

  // ---- panels ----

  snapshot(): FdcSnapshot {
    const x = this.xfer;
    const now = this.slot.scheduler.now;
    let motors = 0;
    for (let i = 0; i < DRIVES; i++) if (this.dor & (DOR_MOTEN0 << i)) motors |= 1 << i;
    return {
      version: 1,
      phase: this.phase,
      command: this.phase === 'idle' || this.phase === 'reset' ? null : (this.current?.name ?? 'invalid'),
      commandBytes: [...this.commandBuf],
      dor: this.dor,
      msr: this.msr(),
      dataRateKbps: RATE_KBPS[this.dataRate as 0 | 1 | 2 | 3],
      precompensation: this.precomp,
      motors,
      selectedDrive: this.dor & DOR_DRIVE_SEL,
      specify: { srt: this.srt, hut: this.hut, hlt: this.hlt, nonDma: this.nonDmaAsked },
      interruptPending: this.intRequest,
      irq: this.irqOut,
      dreq: this.dreqOut,
      cylinders: this.drives.map((d) => d.pcn),
      headPositions: this.drives.map((d) => d.cylinder),
      diskChanged: this.drives[0]!.diskChanged,
      headLoaded: this.headLoaded,
      transfer:
        x === null
          ? null
          : {
              write: x.write,
              cylinder: x.c,
              head: x.side,
              sector: x.r,
              byteInSector: x.dataStart > 0 && now >= x.dataStart ? Math.min(FDC_SECTOR_BYTES, Math.floor((now - x.dataStart) / x.byteNs)) : 0,
              tc: x.tc,
              stalled: x.stalled,
            },
      sectorsRead: this.sectorsRead,
      sectorsWritten: this.sectorsWritten,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      overruns: this.overruns,
      crcErrors: this.crcErrors,
      lastResult: [...this.lastResult],
      warnings: this.warnings,
      recentWarnings: this.recentWarnings.map((w) => ({ ...w })),
    };
  }
}

