import { MASK_SET, MODE_AUTOINIT, MODE_DEMAND, MODE_SINGLE, MODE_TYPE_READ, MODE_TYPE_WRITE, Reg, dma1Config, dma2Config } from '../hw/i8237';
import { programDmaChannel } from '../hw/dmaProgramming';
import { BYTE_OFFSET, type Mdl, PAGE_ALIGN } from '../machine/mdl';
import { DMA_BOUNDARY_64K, ISA_DMA_LIMIT } from '../machine/pageFrames';
import { PAGE_SIZE } from '../machine/physicalMemory';
import { EventKind } from '../trace/sink';
import { Entry } from './driverCode';
import type { DeviceRecord } from './ioManager';
import type { Kernel } from './kernel';
import { WDM_CONSTANTS as W } from './wdmConstants';

// The HAL's system DMA (reference/wdk/kernel/introduction-to-adapter-objects.md,
// map-registers.md, using-packet-based-system-dma.md, using-common-buffer-system-dma.md,
// using-scatter-gather-dma.md; ddi/nf-wdm-iogetdmaadapter.md and the DMA_OPERATIONS
// pages), shaped like ReactOS's hal/halx86/generic/dma.c:
//
// - An adapter object stands for one channel of the AT's 8237A pair. The channel is an
//   exclusive resource: AllocateAdapterChannel (and GetScatterGatherList) queue until it
//   is free, then run the driver's AdapterControl at DISPATCH_LEVEL.
// - Map registers are bounce pages in a map buffer the HAL sets aside at boot below 16 MiB,
//   in 64 KiB-aligned groups so that the pages one allocation gets are physically
//   contiguous and never straddle a 64 KiB boundary (the 8237's address counter wraps
//   there without carrying into the page register). A transfer the controller cannot reach
//   directly (above 16 MiB, physically scattered, across 64 KiB) goes through them: the
//   HAL copies into them before a write to the device and out of them at
//   FlushAdapterBuffers after a read.
// - MapTransfer programs the controller (mask, mode, address, page, count, unmask) through
//   the same ports a driver would, so the trace shows what the HAL did.

/** Map registers one ISA allocation may hold: one 64 KiB group (NT's MAXIMUM_ISA_MAP_REGISTERS). */
export const MAX_ISA_MAP_REGISTERS = 16;
/** 64 KiB groups in the map buffer. */
export const MAP_BUFFER_GROUPS = 4;

export interface DeviceDescription {
  Version: number;
  Master: boolean;
  ScatterGather: boolean;
  DemandMode: boolean;
  AutoInitialize: boolean;
  Dma32BitAddresses: boolean;
  IgnoreCount: boolean;
  Reserved1: boolean;
  Dma64BitAddresses: boolean;
  BusNumber: number;
  DmaChannel: number;
  InterfaceType: number;
  DmaWidth: number;
  DmaSpeed: number;
  MaximumLength: number;
  DmaPort: number;
}

export interface MapRegisterGrant {
  /** The opaque MapRegisterBase handed to the driver. */
  base: number;
  /** First physical address of the bounce pages (contiguous). */
  physical: number;
  count: number;
  adapterId: number;
}

interface WaitBlock {
  id: number;
  /** When the request joined the channel's queue. */
  queuedAt?: number;
  kind: 'channel' | 'sg';
  device: DeviceRecord;
  mapRegisters: number;
  /** For GetScatterGatherList: what to map when granted. */
  sg?: { mdl: Mdl; currentVa: number; length: number; writeToDevice: boolean; sgId: number };
}

export interface SgElement {
  Address: number;
  Length: number;
}

export interface ScatterGatherRecord {
  id: number;
  adapterId: number;
  elements: SgElement[];
  grant: MapRegisterGrant | null;
  /** Bounce copies to undo at PutScatterGatherList: buffer VA, bounce physical, length. */
  bounces: { va: number; physical: number; length: number }[];
  writeToDevice: boolean;
  put: boolean;
}

export interface AdapterObject {
  id: number;
  description: DeviceDescription;
  pdoId: number;
  channel: number;
  wordChannel: boolean;
  numberOfMapRegisters: number;
  put: boolean;
  /** The channel is ours (AdapterControl has run and FreeAdapterChannel has not). */
  ownsChannel: boolean;
  /** Map registers granted to the current owner, if any. */
  grant: MapRegisterGrant | null;
  /** Common buffers: VA → { physical, length }. */
  commonBuffers: Map<number, { physical: number; length: number }>;
  /** MapTransfer calls since the last FlushAdapterBuffers (the verifier compares counts). */
  mapTransfers: number;
  flushes: number;
  /** Bounce copies owed at FlushAdapterBuffers. */
  pendingBounce: { va: number; physical: number; length: number; read: boolean } | null;
  /** The last MapTransfer's buffer range, for the "touched between Map and Flush" rule. */
  mapped: { va: number; length: number } | null;
  /** The driver line that called IoGetDmaAdapter (for the resources-leaked finding). */
  line: number | null;
  /** Time this adapter held its channel and waited for it, for throughput checks and panels. */
  channelTime: { heldNs: number; waitedNs: number; grants: number; since: number };
}

interface ChannelState {
  owner: AdapterObject | null;
  queue: { adapter: AdapterObject; wait: WaitBlock }[];
}

/** What the verifier learns from the HAL as it happens (set by DmaVerifier). */
export interface HalObserver {
  /** A scatter/gather list now maps [va, va + length). */
  sgList(adapter: AdapterObject, id: number, va: number, length: number): void;
}

export class Hal {
  readonly adapters = new Map<number, AdapterObject>();
  observer: HalObserver | null = null;
  /** Non-zero while the HAL copies to or from bounce pages: those accesses are not the driver's. */
  copying = 0;
  readonly sgLists = new Map<number, ScatterGatherRecord>();
  private readonly channels: ChannelState[] = Array.from({ length: 8 }, () => ({ owner: null, queue: [] }));
  /** First frame of each map buffer group, and which pages of it are taken. */
  private readonly groups: { pfn: number; used: boolean[] }[] = [];
  private readonly grants = new Map<number, MapRegisterGrant>();
  private nextGrant = 0x1000;

  constructor(
    private readonly kernel: Kernel,
    /** The platform profile's cap on NumberOfMapRegisters (scenario machine.mapRegisters). */
    private readonly mapRegisterCap: number | undefined,
  ) {
    const frames = kernel.machine.frames;
    for (let g = 0; g < MAP_BUFFER_GROUPS; g++) {
      const pfns = frames.allocateContiguous(MAX_ISA_MAP_REGISTERS, {
        highestAcceptableAddress: ISA_DMA_LIMIT - 1,
        boundaryAddressMultiple: DMA_BOUNDARY_64K,
      });
      if (pfns) this.groups.push({ pfn: pfns[0]!, used: new Array<boolean>(MAX_ISA_MAP_REGISTERS).fill(false) });
    }
  }

  // ---- IoGetDmaAdapter ---------------------------------------------------------------

  /**
   * IoGetDmaAdapter for a subordinate ISA device. Answers the adapter, or a reason when
   * Windows would return NULL (the caller reports it and returns null to the driver).
   */
  IoGetDmaAdapter(pdo: DeviceRecord, d: DeviceDescription): AdapterObject | string {
    if (![0, 1, 2, 3].includes(d.Version)) return `DEVICE_DESCRIPTION.Version ${d.Version} is not DEVICE_DESCRIPTION_VERSION, VERSION1, VERSION2 or VERSION3`;
    if (d.Reserved1) return 'DEVICE_DESCRIPTION.Reserved1 must be FALSE';
    if (d.Master) return 'Master is TRUE, but this machine has no bus-master ISA devices: a device on the system DMA controller is a subordinate device (Master = FALSE)';
    if (d.InterfaceType !== W.Isa) return `InterfaceType ${d.InterfaceType} is not Isa (${W.Isa}): the system DMA controller is on the ISA bus`;
    if (!Number.isInteger(d.DmaChannel) || d.DmaChannel < 0 || d.DmaChannel > 7 || d.DmaChannel === 4) return `DmaChannel ${d.DmaChannel} is not a system DMA channel (0–3, 5–7; 4 is the cascade)`;
    const word = d.DmaChannel > 4;
    if (d.DmaWidth !== (word ? W.Width16Bits : W.Width8Bits)) {
      return `DmaWidth ${d.DmaWidth} does not fit channel ${d.DmaChannel}: channels 0–3 are Width8Bits, 5–7 Width16Bits`;
    }
    if (d.Version !== 3 && d.DmaSpeed !== W.Compatible) return `DmaSpeed ${d.DmaSpeed}: ISA channels run only at Compatible timing (TypeA–TypeF are EISA)`;
    if (!Number.isInteger(d.MaximumLength) || d.MaximumLength <= 0) return `MaximumLength ${d.MaximumLength} must be a positive number of bytes`;
    if (pdo.resources && !pdo.resources.channels.includes(d.DmaChannel)) {
      this.kernel.report('ADAPTER_WRONG_CHANNEL', `IoGetDmaAdapter was asked for channel ${d.DmaChannel}, but the device's resources list channel ${pdo.resources.channels.join(' and ')}.`);
    }
    // The controller moves at most 64 KiB (channels 0–3) or 128 KiB (5–7) per programming.
    const reach = word ? 2 * DMA_BOUNDARY_64K : DMA_BOUNDARY_64K;
    const length = Math.min(d.MaximumLength, reach);
    let n = Math.ceil(length / PAGE_SIZE) + 1; // one more: a buffer need not start on a page
    n = Math.min(n, MAX_ISA_MAP_REGISTERS, this.mapRegisterCap ?? Infinity);
    const adapter: AdapterObject = {
      id: this.kernel.newId(),
      description: { ...d },
      pdoId: pdo.id,
      channel: d.DmaChannel,
      wordChannel: word,
      numberOfMapRegisters: n,
      put: false,
      ownsChannel: false,
      grant: null,
      commonBuffers: new Map(),
      mapTransfers: 0,
      flushes: 0,
      pendingBounce: null,
      mapped: null,
      line: this.kernel.line(),
      channelTime: { heldNs: 0, waitedNs: 0, grants: 0, since: -1 },
    };
    this.adapters.set(adapter.id, adapter);
    return adapter;
  }

  PutDmaAdapter(adapter: AdapterObject): void {
    adapter.put = true;
  }

  // ---- The channel and its map registers ---------------------------------------------

  /**
   * AllocateAdapterChannel: queues the request; when the channel and the map registers are
   * free, AdapterControl runs (now, if they already are).
   */
  AllocateAdapterChannel(adapter: AdapterObject, device: DeviceRecord, mapRegisters: number, waitId: number): number {
    if (mapRegisters > adapter.numberOfMapRegisters || mapRegisters < 0 || !Number.isInteger(mapRegisters)) return W.STATUS_INSUFFICIENT_RESOURCES;
    this.enqueue(adapter, { id: waitId, kind: 'channel', device, mapRegisters });
    return W.STATUS_SUCCESS;
  }

  private enqueue(adapter: AdapterObject, wait: WaitBlock): void {
    const ch = this.channels[adapter.channel]!;
    wait.queuedAt = this.kernel.now;
    ch.queue.push({ adapter, wait });
    this.grantNext(adapter.channel);
  }

  /** Gives the channel to the first waiter if it is free and the map registers are there. */
  private grantNext(channel: number): void {
    const ch = this.channels[channel]!;
    while (ch.owner === null && ch.queue.length > 0) {
      const { adapter, wait } = ch.queue[0]!;
      const grant = wait.mapRegisters > 0 ? this.takeMapRegisters(adapter, wait.mapRegisters) : null;
      if (wait.mapRegisters > 0 && grant === null) return; // wait for FreeMapRegisters elsewhere
      ch.queue.shift();
      ch.owner = adapter;
      adapter.ownsChannel = true;
      const time = adapter.channelTime;
      time.waitedNs += this.kernel.now - (wait.queuedAt ?? this.kernel.now);
      time.grants++;
      time.since = this.kernel.now;
      adapter.grant = grant;
      if (wait.kind === 'channel') this.runAdapterControl(adapter, wait, grant);
      else this.runListControl(adapter, wait, grant);
    }
  }

  private runAdapterControl(adapter: AdapterObject, wait: WaitBlock, grant: MapRegisterGrant | null): void {
    const k = this.kernel;
    const action = k.call(Entry.AdapterControl, Math.max(W.DISPATCH_LEVEL, k.irql), wait.id, grant?.base ?? 0);
    if (action === W.KeepObject) return;
    if (action === W.DeallocateObject) {
      k.report('ADAPTER_CONTROL_NOT_KEEP_OBJECT', 'AdapterControl returned DeallocateObject, which gives the channel back before the transfer has run.');
      this.releaseChannel(adapter, true);
    } else if (action === W.DeallocateObjectKeepRegisters) {
      k.report('ADAPTER_CONTROL_NOT_KEEP_OBJECT', 'AdapterControl returned DeallocateObjectKeepRegisters, which is for bus-master DMA.');
      this.releaseChannel(adapter, false);
    } else {
      k.report('ADAPTER_CONTROL_BAD_ACTION', `AdapterControl returned ${action}, which is not an IO_ALLOCATION_ACTION.`);
    }
  }

  private takeMapRegisters(adapter: AdapterObject, count: number): MapRegisterGrant | null {
    for (const group of this.groups) {
      for (let first = 0; first + count <= group.used.length; first++) {
        if (group.used.slice(first, first + count).some(Boolean)) continue;
        for (let i = first; i < first + count; i++) group.used[i] = true;
        const grant: MapRegisterGrant = { base: this.nextGrant++, physical: (group.pfn + first) * PAGE_SIZE, count, adapterId: adapter.id };
        this.grants.set(grant.base, grant);
        this.traceMapRegisters(adapter.id);
        return grant;
      }
    }
    return null;
  }

  private freeGrant(grant: MapRegisterGrant): void {
    if (!this.grants.delete(grant.base)) return;
    this.traceMapRegisters(grant.adapterId);
    for (const group of this.groups) {
      const first = (grant.physical / PAGE_SIZE) - group.pfn;
      if (first >= 0 && first < group.used.length) for (let i = first; i < first + grant.count; i++) group.used[i] = false;
    }
    for (let c = 0; c < 8; c++) this.grantNext(c);
  }

  private traceMapRegisters(adapterId: number): void {
    const k = this.kernel;
    let inUse = 0;
    for (const g of this.grants.values()) inUse += g.count;
    k.machine.trace.record(k.now, EventKind.MapRegisters, inUse, adapterId, 0);
  }

  /** Whether an AllocateAdapterChannel or GetScatterGatherList of this adapter waits in the channel's queue. */
  isWaiting(adapter: AdapterObject): boolean {
    return this.channels[adapter.channel]!.queue.some((q) => q.adapter === adapter);
  }

  /** Map registers an adapter holds now. */
  heldGrants(adapter: AdapterObject): MapRegisterGrant[] {
    return [...this.grants.values()].filter((g) => g.adapterId === adapter.id);
  }

  /** Every map register grant outstanding, how many map registers the map buffer has, and where its groups lie. */
  mapRegisterUse(): { total: number; grants: MapRegisterGrant[]; groups: number[] } {
    return { total: this.groups.length * MAX_ISA_MAP_REGISTERS, grants: [...this.grants.values()], groups: this.groups.map((g) => g.pfn * PAGE_SIZE) };
  }

  grant(base: number): MapRegisterGrant | undefined {
    return this.grants.get(base);
  }

  private releaseChannel(adapter: AdapterObject, freeRegisters: boolean): void {
    const ch = this.channels[adapter.channel]!;
    if (ch.owner !== adapter) return;
    ch.owner = null;
    adapter.ownsChannel = false;
    adapter.channelTime.heldNs += this.kernel.now - adapter.channelTime.since;
    adapter.channelTime.since = -1;
    if (freeRegisters && adapter.grant) this.freeGrant(adapter.grant);
    adapter.grant = null;
    this.grantNext(adapter.channel);
  }

  /** FreeAdapterChannel: the channel and the map registers AdapterControl kept. */
  FreeAdapterChannel(adapter: AdapterObject): boolean {
    if (!adapter.ownsChannel) return false;
    this.releaseChannel(adapter, true);
    return true;
  }

  /** FreeMapRegisters: registers kept after DeallocateObjectKeepRegisters. */
  FreeMapRegisters(adapter: AdapterObject, base: number, count: number): boolean {
    const grant = this.grants.get(base);
    if (!grant || grant.adapterId !== adapter.id || grant.count !== count) return false;
    if (adapter.grant === grant) adapter.grant = null;
    this.freeGrant(grant);
    return true;
  }

  // ---- MapTransfer and FlushAdapterBuffers -------------------------------------------

  /** The physical address of `va` according to the MDL's PFN array, or null when outside it. */
  private mdlPhysical(mdl: Mdl, va: number): number | null {
    const index = (PAGE_ALIGN(va) - mdl.StartVa) / PAGE_SIZE;
    const pfn = mdl.PfnArray[index];
    if (pfn === undefined || pfn < 0) return null;
    return pfn * PAGE_SIZE + BYTE_OFFSET(va);
  }

  /** Bytes from `va` that are physically contiguous (per the MDL), up to `length`. */
  private contiguousRun(mdl: Mdl, va: number, length: number): number {
    const first = this.mdlPhysical(mdl, va);
    if (first === null) return 0;
    let run = Math.min(length, PAGE_SIZE - BYTE_OFFSET(va));
    while (run < length) {
      const next = this.mdlPhysical(mdl, va + run);
      if (next !== first + run) break;
      run += Math.min(length - run, PAGE_SIZE);
    }
    return run;
  }

  /**
   * MapTransfer for a system DMA adapter. Answers the logical (physical) address the
   * controller was programmed with and the bytes mapped, or a reason it could not map.
   */
  MapTransfer(adapter: AdapterObject, mdl: Mdl, grant: MapRegisterGrant | null, currentVa: number, length: number, writeToDevice: boolean): { address: number; length: number } | string {
    const k = this.kernel;
    const mdlVa = mdl.StartVa + mdl.ByteOffset;
    if (currentVa < mdlVa || currentVa >= mdlVa + mdl.ByteCount) return `CurrentVa 0x${currentVa.toString(16)} is outside the MDL's buffer (0x${mdlVa.toString(16)}, ${mdl.ByteCount} bytes)`;
    if (length <= 0) return `Length ${length} must be positive`;
    if (currentVa + length > mdlVa + mdl.ByteCount) return `CurrentVa + Length runs ${currentVa + length - mdlVa - mdl.ByteCount} bytes past the end of the MDL's buffer`;
    const word = adapter.wordChannel;
    const boundary = word ? 2 * DMA_BOUNDARY_64K : DMA_BOUNDARY_64K;
    const d = adapter.description;

    let physical: number;
    let mapped: number;
    const run = this.contiguousRun(mdl, currentVa, length);
    const direct = this.mdlPhysical(mdl, currentVa)!;
    const toBoundary = boundary - (direct % boundary);
    if (run === length && direct + length <= ISA_DMA_LIMIT && length <= toBoundary && (!word || direct % 2 === 0)) {
      physical = direct;
      mapped = length;
      adapter.pendingBounce = null;
    } else {
      if (grant === null) return 'the transfer needs map registers (the buffer is not one physically contiguous run below 16 MiB inside a 64 KiB page) but MapRegisterBase holds none';
      // Bounce through the map registers, at the buffer's offset within its page.
      physical = grant.physical + BYTE_OFFSET(currentVa);
      mapped = Math.min(length, grant.count * PAGE_SIZE - BYTE_OFFSET(currentVa));
      if (writeToDevice) {
        this.copying++;
        const data = k.machine.cpu.readBytes(currentVa, mapped);
        this.copying--;
        if (data) k.machine.memory.write(physical, data);
      }
      adapter.pendingBounce = { va: currentVa, physical, length: mapped, read: !writeToDevice };
    }
    if (word && mapped % 2 !== 0) mapped -= 1;
    if (mapped <= 0) return 'a 16-bit channel moves whole words: Length must be at least 2';

    let mode = writeToDevice ? MODE_TYPE_READ : MODE_TYPE_WRITE; // 8237 "read" = memory → I/O
    mode |= d.Version === 2 && d.DemandMode ? MODE_DEMAND : MODE_SINGLE;
    if (d.AutoInitialize) mode |= MODE_AUTOINIT;
    programDmaChannel(k.machine.bus, adapter.channel, mode, physical, word ? mapped / 2 : mapped, true);
    adapter.mapTransfers++;
    adapter.mapped = { va: currentVa, length: mapped };
    k.stats.mapTransfers++;
    k.machine.trace.record(k.now, EventKind.MapTransfer, adapter.channel, physical, mapped);
    return { address: physical, length: mapped };
  }

  /**
   * FlushAdapterBuffers: masks the channel, drains what the controller still holds, and
   * for a read through map registers copies the data out to the buffer. Answers TRUE.
   */
  FlushAdapterBuffers(adapter: AdapterObject): boolean {
    const machine = this.kernel.machine;
    this.maskChannel(adapter);
    machine.dma.sync();
    machine.dma.flushBuffer(adapter.channel);
    const bounce = adapter.pendingBounce;
    if (bounce?.read) {
      this.copying++;
      machine.cpu.writeBytes(bounce.va, machine.memory.read(bounce.physical, bounce.length));
      this.copying--;
    }
    adapter.pendingBounce = null;
    adapter.mapped = null;
    adapter.flushes++;
    return true;
  }

  /** What IoFlushAdapterBuffers does first for a subordinate adapter (ReactOS): the channel stops. */
  private maskChannel(adapter: AdapterObject): void {
    const config = adapter.channel < 4 ? dma1Config : dma2Config;
    this.kernel.machine.bus.outb(config.base + (Reg.SingleMask << config.portShift), MASK_SET | (adapter.channel & 3));
  }

  /** ReadDmaCounter: bytes the controller has yet to move in the current transfer. */
  ReadDmaCounter(adapter: AdapterObject): number {
    const bus = this.kernel.machine.bus;
    const c = adapter.channel;
    const config = c < 4 ? dma1Config : dma2Config;
    const countPort = config.base + (((c & 3) * 2 + 1) << config.portShift);
    bus.outb(config.base + (Reg.ClearBytePointer << config.portShift), 0);
    const low = bus.inb(countPort);
    const high = bus.inb(countPort);
    const count = ((high << 8) | low) + 1; // programmed as N − 1; reads 0xFFFF at TC
    return (count & 0xffff) << (adapter.wordChannel ? 1 : 0);
  }

  GetDmaAlignment(adapter: AdapterObject): number {
    return adapter.wordChannel ? 2 : 1;
  }

  // ---- Common buffers ----------------------------------------------------------------

  /**
   * AllocateCommonBuffer for a system DMA adapter: physically contiguous, below 16 MiB and
   * inside one 64 KiB (128 KiB) page so that auto-initialize can cycle over it.
   */
  AllocateCommonBuffer(adapter: AdapterObject, length: number): { va: number; physical: number } | null {
    const boundary = adapter.wordChannel ? 2 * DMA_BOUNDARY_64K : DMA_BOUNDARY_64K;
    if (!Number.isInteger(length) || length <= 0 || length > boundary) return null;
    const m = this.kernel.machine;
    const pages = Math.ceil(length / PAGE_SIZE);
    const pfns = m.frames.allocateContiguous(pages, { highestAcceptableAddress: ISA_DMA_LIMIT - 1, boundaryAddressMultiple: boundary });
    if (!pfns) return null;
    const va = m.space.mapFrames(pfns);
    if (va === null) {
      m.frames.free(pfns);
      return null;
    }
    const physical = pfns[0]! * PAGE_SIZE;
    adapter.commonBuffers.set(va, { physical, length });
    return { va, physical };
  }

  FreeCommonBuffer(adapter: AdapterObject, length: number, physical: number, va: number): string | null {
    const buffer = adapter.commonBuffers.get(va);
    if (!buffer) return `0x${va.toString(16)} is not a common buffer of this adapter`;
    if (buffer.physical !== physical || buffer.length !== length) {
      return `the LogicalAddress or Length does not match what AllocateCommonBuffer returned (0x${buffer.physical.toString(16)}, ${buffer.length} bytes)`;
    }
    const m = this.kernel.machine;
    const pfns = Array.from({ length: Math.ceil(length / PAGE_SIZE) }, (_, i) => physical / PAGE_SIZE + i);
    m.space.unmap(va);
    m.frames.free(pfns);
    adapter.commonBuffers.delete(va);
    return null;
  }

  // ---- Scatter/gather ----------------------------------------------------------------

  /** Splits [va, va + length) into controller-reachable pieces, noting which need a bounce page. */
  private plan(adapter: AdapterObject, mdl: Mdl, va: number, length: number): { pieces: { va: number; physical: number; length: number; bounce: boolean }[]; mapRegisters: number } {
    const boundary = adapter.wordChannel ? 2 * DMA_BOUNDARY_64K : DMA_BOUNDARY_64K;
    const pieces: { va: number; physical: number; length: number; bounce: boolean }[] = [];
    let mapRegisters = 0;
    let offset = 0;
    while (offset < length) {
      const here = va + offset;
      const pa = this.mdlPhysical(mdl, here) ?? 0;
      let n = Math.min(this.contiguousRun(mdl, here, length - offset), boundary - (pa % boundary));
      if (n <= 0) break; // a page the MDL does not describe: the caller checked the range, so this is a guard
      const bounce = pa + n > ISA_DMA_LIMIT;
      if (bounce) {
        n = Math.min(n, PAGE_SIZE - BYTE_OFFSET(here));
        mapRegisters++;
      }
      const last = pieces[pieces.length - 1];
      if (last && !bounce && !last.bounce && last.physical + last.length === pa && Math.floor(last.physical / boundary) === Math.floor((pa + n - 1) / boundary)) last.length += n;
      else pieces.push({ va: here, physical: pa, length: n, bounce });
      offset += n;
    }
    return { pieces, mapRegisters };
  }

  CalculateScatterGatherList(adapter: AdapterObject, mdl: Mdl, va: number, length: number): { listSize: number; mapRegisters: number } {
    const { pieces, mapRegisters } = this.plan(adapter, mdl, va, length);
    // x86: NumberOfElements (4) + Reserved (4) + per element Address (8) + Length (4) + Reserved (4).
    return { listSize: 8 + 16 * pieces.length, mapRegisters };
  }

  /** GetScatterGatherList: queues for the channel and map registers; ListControl gets the list. */
  GetScatterGatherList(adapter: AdapterObject, device: DeviceRecord, mdl: Mdl, va: number, length: number, writeToDevice: boolean, waitId: number): number {
    const mdlVa = mdl.StartVa + mdl.ByteOffset;
    if (va < mdlVa || va + length > mdlVa + mdl.ByteCount || length <= 0) return W.STATUS_INVALID_PARAMETER;
    const { mapRegisters } = this.plan(adapter, mdl, va, length);
    if (mapRegisters > adapter.numberOfMapRegisters) return W.STATUS_INSUFFICIENT_RESOURCES;
    const sgId = this.kernel.newId();
    this.enqueue(adapter, { id: waitId, kind: 'sg', device, mapRegisters, sg: { mdl, currentVa: va, length, writeToDevice, sgId } });
    return W.STATUS_SUCCESS;
  }

  private runListControl(adapter: AdapterObject, wait: WaitBlock, grant: MapRegisterGrant | null): void {
    const k = this.kernel;
    const sg = wait.sg!;
    const { pieces } = this.plan(adapter, sg.mdl, sg.currentVa, sg.length);
    const record: ScatterGatherRecord = { id: sg.sgId, adapterId: adapter.id, elements: [], grant, bounces: [], writeToDevice: sg.writeToDevice, put: false };
    let nextBounce = 0;
    for (const p of pieces) {
      if (!p.bounce) {
        record.elements.push({ Address: p.physical, Length: p.length });
        continue;
      }
      const physical = grant!.physical + nextBounce * PAGE_SIZE + BYTE_OFFSET(p.va);
      nextBounce++;
      if (sg.writeToDevice) {
        this.copying++;
        const data = k.machine.cpu.readBytes(p.va, p.length);
        this.copying--;
        if (data) k.machine.memory.write(physical, data);
      }
      record.bounces.push({ va: p.va, physical, length: p.length });
      record.elements.push({ Address: physical, Length: p.length });
    }
    this.sgLists.set(record.id, record);
    this.observer?.sgList(adapter, record.id, sg.currentVa, sg.length);
    // The list is the driver's until PutScatterGatherList; the channel is released then.
    k.call(Entry.ListControl, Math.max(W.DISPATCH_LEVEL, k.irql), wait.id, record.id);
  }

  /** PutScatterGatherList: copies bounced reads back, frees the map registers and the channel. */
  PutScatterGatherList(adapter: AdapterObject, record: ScatterGatherRecord): string | null {
    if (record.put) return 'this scatter/gather list was already given back with PutScatterGatherList';
    if (record.adapterId !== adapter.id) return 'this scatter/gather list belongs to another adapter';
    const m = this.kernel.machine;
    this.maskChannel(adapter); // it flushes the adapter buffers, as HalPutScatterGatherList does
    m.dma.sync();
    m.dma.flushBuffer(adapter.channel);
    this.copying++;
    if (!record.writeToDevice) for (const b of record.bounces) m.cpu.writeBytes(b.va, m.memory.read(b.physical, b.length));
    this.copying--;
    record.put = true;
    this.releaseChannel(adapter, true);
    return null;
  }

  /** Everything an adapter still holds, for the resources-released check. */
  held(adapter: AdapterObject): string[] {
    const out: string[] = [];
    if (!adapter.put) out.push(`the adapter for channel ${adapter.channel} was never given back with PutDmaAdapter`);
    if (adapter.ownsChannel) out.push(`channel ${adapter.channel} is still allocated (FreeAdapterChannel was not called)`);
    if (adapter.commonBuffers.size > 0) out.push(`${adapter.commonBuffers.size} common buffer(s) of channel ${adapter.channel} not freed`);
    for (const g of this.grants.values()) if (g.adapterId === adapter.id) out.push(`${g.count} map register(s) of channel ${adapter.channel} not freed`);
    for (const s of this.sgLists.values()) if (s.adapterId === adapter.id && !s.put) out.push(`a scatter/gather list of channel ${adapter.channel} was not put back`);
    return out;
  }
}
