// The floppy controller (Intel 82077AA, labs/devices/floppy.md): its command and result
// phases, so that the lab's own code is about DMA. Nothing here touches the adapter object.
//
// Every request of this lab lies on cylinder 0, where START_DEVICE's RECALIBRATE leaves the
// heads, so no request needs a SEEK (the later labs add them).

export const SECTOR_SIZE = 512;
export const SECTORS_PER_TRACK = 18;
export const HEADS = 2;
/** One track: the largest transfer one READ DATA / WRITE DATA makes. */
export const TRACK_BYTES = SECTORS_PER_TRACK * SECTOR_SIZE;
/** The sectors the heads reach without a seek: cylinder 0, both heads. */
export const CYLINDER_0_SECTORS = SECTORS_PER_TRACK * HEADS;

// What the controller is doing, so that the ISR knows what an interrupt ends.
/** Idle. */
export const FDC_OP_NONE = 0;
/** START_DEVICE is resetting and recalibrating; it waits for those interrupts itself. */
export const FDC_OP_INIT = 1;
/** READ DATA or WRITE DATA is under way: its end is the interrupt DpcForIsr is for. */
export const FDC_OP_TRANSFER = 2;

/** What the driver knows about the controller. Keep one in the device extension. */
export interface FdcController {
  /** The first I/O port, from the CmResourceTypePort descriptor. */
  PortBase: number;
  Operation: number;
  /** Interrupts the controller has raised and FdcAcknowledgeInterrupt collected. */
  InterruptCount: number;
  /** The result bytes of the last command (ST0 ST1 ST2 C H R N after READ/WRITE DATA). */
  Result: number[];
}

export function FdcNewController(): FdcController {
  return { PortBase: 0, Operation: FDC_OP_NONE, InterruptCount: 0, Result: [] };
}

// Register offsets from the port base (PC-AT mode).
const FDC_DOR = 2; // digital output register
const FDC_MSR = 4; // main status register (read)
const FDC_FIFO = 5; // command, parameter and result bytes
const FDC_CCR = 7; // configuration control register (write)

const DOR_RESET = 0x00; // controller held in reset, motors off, DMA gate off
const DOR_RUN_DRIVE0 = 0x1c; // motor 0 on, DMA gate, out of reset, drive 0 selected
const MSR_RQM = 0x80; // the data register is ready for the host
const MSR_DIO = 0x40; // 1: result bytes for the host; 0: the controller wants command bytes
const CCR_500K = 0x00; // 500 kbit/s: the rate 1.44 MB media are recorded at

const CMD_SPECIFY = 0x03;
const CMD_RECALIBRATE = 0x07;
const CMD_SENSE_INTERRUPT = 0x08;
const CMD_READ_DATA = 0x46; // MFM, no multi-track
const CMD_WRITE_DATA = 0x45; // MFM, no multi-track
const SPECIFY_SRT_HUT = 0xdf; // 3 ms steps, 240 ms head unload
const SPECIFY_HLT_DMA = 0x02; // 2 ms head load, ND = 0: DMA mode
const SIZE_CODE_512 = 2; // N
const GAP_LENGTH = 0x1b; // GPL for 1.44 MB
const DATA_LENGTH = 0xff; // DTL, unused when N != 0
const DRIVE = 0;

const ST0_IC = 0xc0; // interrupt code: 00 normal termination
const ST0_SE = 0x20; // seek end
const IC_INVALID = 0x80; // SENSE INTERRUPT STATUS with nothing to report
const ST1_DE = 0x20; // CRC error
const ST1_OR = 0x10; // overrun / underrun
const ST1_ND = 0x04; // sector not found
const ST1_MA = 0x01; // no address mark

const RQM_POLLS = 1000;
const INIT_WAIT_US = 500_000;

/** Polls the MSR until RQM; answers the MSR, or −1 when the controller never gets ready. */
function waitForRqm(fdc: FdcController): number {
  for (let i = 0; i < RQM_POLLS; i++) {
    const msr = READ_PORT_UCHAR(fdc.PortBase + FDC_MSR);
    if (msr & MSR_RQM) return msr;
  }
  return -1;
}

/** The command phase: each byte after RQM = 1, DIO = 0. */
function writeCommand(fdc: FdcController, bytes: number[]): boolean {
  for (const byte of bytes) {
    const msr = waitForRqm(fdc);
    if (msr < 0 || msr & MSR_DIO) return false;
    WRITE_PORT_UCHAR(fdc.PortBase + FDC_FIFO, byte);
  }
  return true;
}

/** The result phase: bytes while RQM = 1, DIO = 1 (at most 7). */
function readResult(fdc: FdcController): number[] {
  const bytes: number[] = [];
  while (bytes.length < 7) {
    const msr = waitForRqm(fdc);
    if (msr < 0 || (msr & MSR_DIO) === 0) break;
    bytes.push(READ_PORT_UCHAR(fdc.PortBase + FDC_FIFO));
  }
  return bytes;
}

function waitForInterrupt(fdc: FdcController, seen: number): boolean {
  for (let waited = 0; fdc.InterruptCount === seen; waited += 50) {
    if (waited >= INIT_WAIT_US) return false;
    KeStallExecutionProcessor(50);
  }
  return true;
}

/**
 * Reset, data rate, SPECIFY (DMA mode), RECALIBRATE: the heads end on cylinder 0. Call it at
 * PASSIVE_LEVEL from START_DEVICE with the interrupt connected; the ISR must call
 * FdcAcknowledgeInterrupt, which counts the interrupts this waits for.
 */
export function FdcInitialize(fdc: FdcController): boolean {
  fdc.Operation = FDC_OP_INIT;
  let seen = fdc.InterruptCount;
  WRITE_PORT_UCHAR(fdc.PortBase + FDC_DOR, DOR_RESET);
  WRITE_PORT_UCHAR(fdc.PortBase + FDC_DOR, DOR_RUN_DRIVE0);
  if (!waitForInterrupt(fdc, seen)) return false;
  WRITE_PORT_UCHAR(fdc.PortBase + FDC_CCR, CCR_500K);
  if (!writeCommand(fdc, [CMD_SPECIFY, SPECIFY_SRT_HUT, SPECIFY_HLT_DMA])) return false;
  seen = fdc.InterruptCount;
  if (!writeCommand(fdc, [CMD_RECALIBRATE, DRIVE])) return false;
  if (!waitForInterrupt(fdc, seen)) return false;
  const [st0 = IC_INVALID, pcn = -1] = fdc.Result;
  fdc.Operation = FDC_OP_NONE;
  return (st0 & (ST0_IC | ST0_SE)) === ST0_SE && pcn === 0;
}

/** Motor off, controller held in reset: no interrupt and no DRQ from now on (REMOVE_DEVICE). */
export function FdcShutdown(fdc: FdcController): void {
  if (fdc.PortBase !== 0) WRITE_PORT_UCHAR(fdc.PortBase + FDC_DOR, DOR_RESET);
  fdc.Operation = FDC_OP_NONE;
}

/**
 * Sends READ DATA (or WRITE DATA) for the sectors from `sector` (0 … 35, on cylinder 0) to
 * the end of its track. The controller asks the DMA channel for bytes until the 8237's count
 * runs out (T/C), so the channel must be programmed first: call it after MapTransfer. Its
 * end is an interrupt. Answers false when the controller would not take the command.
 */
export function FdcStartTransfer(fdc: FdcController, sector: number, writeToDevice: boolean): boolean {
  if (sector < 0 || sector >= CYLINDER_0_SECTORS) return false;
  const head = Math.floor(sector / SECTORS_PER_TRACK);
  const record = (sector % SECTORS_PER_TRACK) + 1;
  fdc.Operation = FDC_OP_TRANSFER;
  const opcode = writeToDevice ? CMD_WRITE_DATA : CMD_READ_DATA;
  if (writeCommand(fdc, [opcode, (head << 2) | DRIVE, 0, head, record, SIZE_CODE_512, SECTORS_PER_TRACK, GAP_LENGTH, DATA_LENGTH])) return true;
  fdc.Operation = FDC_OP_NONE;
  return false;
}

/** READ DATA with FdcStartTransfer. */
export function FdcStartRead(fdc: FdcController, sector: number): boolean {
  return FdcStartTransfer(fdc, sector, false);
}

/** WRITE DATA with FdcStartTransfer. */
export function FdcStartWrite(fdc: FdcController, sector: number): boolean {
  return FdcStartTransfer(fdc, sector, true);
}

/**
 * For the ISR, at DIRQL: takes the controller's answer, which also drops its interrupt line,
 * into fdc.Result. A READ/WRITE DATA ends in a result phase; a reset or a recalibrate ends
 * with statuses collected by SENSE INTERRUPT STATUS. Answers false when the interrupt was
 * not the controller's (the ISR then returns false).
 */
export function FdcAcknowledgeInterrupt(fdc: FdcController): boolean {
  const msr = READ_PORT_UCHAR(fdc.PortBase + FDC_MSR);
  if ((msr & (MSR_RQM | MSR_DIO)) === (MSR_RQM | MSR_DIO)) {
    fdc.Result = readResult(fdc);
  } else if ((msr & (MSR_RQM | MSR_DIO)) === MSR_RQM) {
    let ours = false;
    for (let drive = 0; drive < 4; drive++) {
      if (!writeCommand(fdc, [CMD_SENSE_INTERRUPT])) break;
      const status = readResult(fdc);
      if (status.length < 2 || status[0] === IC_INVALID) break;
      ours = true;
      if ((status[0]! & 0x03) === DRIVE) fdc.Result = status;
    }
    if (!ours) return false;
  } else {
    return false; // mid-command: this interrupt is not the controller's
  }
  fdc.InterruptCount++;
  return true;
}

/** For DpcForIsr: the NTSTATUS the last READ/WRITE DATA's result phase means. */
export function FdcTransferStatus(fdc: FdcController): NTSTATUS {
  const result = fdc.Result;
  const [st0 = IC_INVALID, st1 = 0, st2 = 0] = result;
  if (result.length < 7) return STATUS_IO_DEVICE_ERROR;
  if ((st0 & ST0_IC) === 0 && st1 === 0 && st2 === 0) return STATUS_SUCCESS;
  if (st1 & ST1_DE) return STATUS_CRC_ERROR;
  if (st1 & ST1_OR) return STATUS_DATA_OVERRUN;
  if (st1 & (ST1_ND | ST1_MA)) return STATUS_NONEXISTENT_SECTOR;
  return STATUS_DEVICE_DATA_ERROR;
}
