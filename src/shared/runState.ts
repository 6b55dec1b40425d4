// What the hardware panels show of a run: the machine at one moment, as plain data that
// crosses from the simulation worker to the renderer. Registers keep their datasheet names.

/** How far a run has come; each counter only grows (see src/sim/run/debugger.ts). */
export interface RunPosition {
  statements: number;
  events: number;
  interrupts: number;
}

export type StopKind = 'start' | 'breakpoint' | 'line' | 'event' | 'interrupt' | 'pause';

export interface Stop {
  kind: StopKind;
  position: RunPosition;
  line: number | null;
  timeNs: number;
  irq?: number;
}

/** One 8237 channel: the registers a driver programs, and the lines it works with. */
export interface DmaChannelState {
  channel: number;
  baseAddress: number;
  currentAddress: number;
  baseCount: number;
  currentCount: number;
  page: number;
  physicalAddress: number;
  mode: number;
  /** The mode register in words: "single, write (I/O→memory), autoinit". */
  modeText: string;
  masked: boolean;
  /** Software request bit. */
  request: boolean;
  dreq: boolean;
  /** The channel has the bus now. */
  dack: boolean;
  /** Reached terminal count (status register, cleared by reading it). */
  tc: boolean;
}

export interface DmaChipState {
  name: 'DMA1' | 'DMA2';
  command: number;
  status: number;
  /** The byte pointer flip-flop: true = the next access is the high byte. */
  bytePointer: boolean;
  channels: DmaChannelState[];
}

export interface MapRegisterGrantState {
  /** The MapRegisterBase the driver got. */
  base: number;
  /** First bounce page, physical. */
  physical: number;
  count: number;
  adapterId: number;
}

export interface AdapterState {
  id: number;
  device: string;
  channel: number;
  numberOfMapRegisters: number;
  ownsChannel: boolean;
  /** What the last MapTransfer mapped and FlushAdapterBuffers has not yet flushed. */
  mapped: { va: number; length: number } | null;
  /**
   * Bounce copies through map registers now in force: the buffer's bytes at `va` go by the
   * map registers at `physical`; `in` = the HAL copied them in at MapTransfer (a write to the
   * device), `out` = it copies them out to the buffer at FlushAdapterBuffers (a read).
   */
  bounces: { va: number; physical: number; length: number; direction: 'in' | 'out' }[];
  heldNs: number;
  waitedNs: number;
}

export interface IrpState {
  id: number;
  major: 'read' | 'write';
  device: string;
  length: number;
  offset: number;
  /** NTSTATUS name once completed, else null. */
  status: string | null;
  information: number;
  /** DeviceObject->CurrentIrp. */
  current: boolean;
  /** Waiting in the StartIo queue. */
  queued: boolean;
}

export interface FloppyState {
  type: 'floppy';
  name: string;
  phase: string;
  command: string | null;
  cylinder: number;
  motorOn: boolean;
  dreq: boolean;
  irq: boolean;
  sectorsRead: number;
  sectorsWritten: number;
  /** Sector being moved now, if a READ/WRITE DATA is in its execution phase. */
  transfer: { write: boolean; cylinder: number; head: number; sector: number; byteInSector: number } | null;
  overruns: number;
}

export interface SoundState {
  type: 'sound';
  name: string;
  mode: 'idle' | 'playback' | 'capture';
  /** The DMA channel of the transfer (1 or 5 …), null before the first. */
  dmaChannel: number | null;
  signed: boolean;
  rate: number;
  bits: 8 | 16;
  channels: 1 | 2;
  autoInit: boolean;
  /** Bytes of the block the DSP has moved, and the block's size (the half-buffer). */
  blockPosition: number;
  blockBytes: number;
  bytesPlayed: number;
  bytesCaptured: number;
  underruns: number;
  overruns: number;
  /**
   * The other side of the card: the DAC's output (the speaker) while playing or after a
   * playback, the ADC's input (the microphone) while or after capturing, over the last
   * SCOPE_WINDOW_MS at the transfer's rate, left channel. An envelope, small enough to send
   * with every state: min[i]/max[i] (signed 16-bit) of column i, oldest first, over the
   * last `frames` frames (fewer than the window's when less has played); null before any.
   */
  scope: SoundScope | null;
}

export const SCOPE_WINDOW_MS = 40;
export const SCOPE_COLUMNS = 120;

export interface SoundScope {
  source: 'output' | 'input';
  /** Frames per second; the window is rate · SCOPE_WINDOW_MS / 1000 frames. */
  rate: number;
  /** Frames the columns cover, ending at the last one played or taken. */
  frames: number;
  min: number[];
  max: number[];
}

export interface ScannerState {
  type: 'scanner';
  name: string;
  status: number;
  lines: number;
  lineBytes: number;
  linesCaptured: number;
  delivered: number;
  segments: number;
  fifo: number;
  overruns: number;
}

export type DeviceState = FloppyState | SoundState | ScannerState;

/** A stretch of physical memory the panels colour: what DMA can touch and why. */
export interface MemoryRegion {
  kind: 'buffer' | 'common-buffer' | 'map-buffer' | 'map-registers';
  physical: number;
  length: number;
  /** "IRP 3's buffer", "fdc0's common buffer", "map registers of fdc0", … */
  label: string;
}

export interface RunState {
  timeNs: number;
  irql: number;
  position: RunPosition;
  /** The driver line last run (null before the first). */
  line: number | null;
  dma: [DmaChipState, DmaChipState];
  pic: { intr: boolean; irqLines: number; irr: number; isr: number; imr: number };
  mapRegisters: { total: number; inUse: number; grants: MapRegisterGrantState[] };
  /** Physical memory size, and the regions DMA works with. */
  memoryBytes: number;
  regions: MemoryRegion[];
  adapters: AdapterState[];
  irps: IrpState[];
  devices: DeviceState[];
  /** DbgPrint lines so far, and verifier findings so far. */
  consoleLines: number;
  findings: number;
  dmaBytes: number;
}
