import { dma1Config, dma2Config } from '../hw/i8237';
import { PAGE_PORT } from '../hw/pageRegisters';
import { type Mdl, PFN_NOT_BUILT } from '../machine/mdl';
import type { AdapterObject, Hal, MapRegisterGrant } from '../kernel/hal';
import type { IoManager, IrpRecord } from '../kernel/ioManager';
import type { Kernel } from '../kernel/kernel';

// The state Driver Verifier's DMA checks need (reference/wdk/kernel/dma-verification.md),
// kept beside the HAL rather than in it: what each adapter has mapped and not flushed,
// what was freed (to tell a double free from a wrong argument), how many transfers each
// request mapped and flushed, which MDLs were flushed from the cache, and which buffers
// and controller channels the driver may touch. The host routines call it before and after
// the HAL; each check raises its rule through Kernel.report (see rules.ts).

interface Mapping {
  mdl: Mdl;
  va: number;
  length: number;
  base: number;
  irp: IrpRecord | null;
  common: boolean;
}

interface AdapterState {
  mapping: Mapping | null;
  freedCommon: Set<number>;
  freedGrants: Set<number>;
  /** The request the last MapTransfer was for. */
  lastIrp: IrpRecord | null;
}

const inRange = (va: number, length: number, start: number, size: number) => va < start + size && start < va + length;

export class DmaVerifier {
  private readonly adapters = new WeakMap<AdapterObject, AdapterState>();
  private readonly maps = new Map<IrpRecord, number>();
  private readonly flushes = new Map<IrpRecord, number>();
  private readonly cacheFlushed = new WeakSet<Mdl>();
  private readonly freedSgLists = new Set<number>();
  private sgListsMade = 0;
  /** Buffers a scatter/gather list maps until PutScatterGatherList, by list id. */
  private readonly sgBuffers = new Map<number, { adapter: AdapterObject; va: number; length: number }>();
  /** Driver lines already reported for writing the DMA controller's ports. */
  private readonly directPortLines = new Set<number | null>();

  constructor(
    private readonly kernel: Kernel,
    private readonly hal: Hal,
    private readonly io: IoManager,
  ) {
    hal.observer = { sgList: (a, id, va, length) => this.sgListGranted(a, id, va, length) };
    const cpu = kernel.machine.cpu;
    const previous = cpu.onAccess;
    cpu.onAccess = (va, length, write) => {
      previous?.(va, length, write);
      this.onCpuAccess(va, length);
    };
  }

  private state(a: AdapterObject): AdapterState {
    let s = this.adapters.get(a);
    if (!s) {
      s = { mapping: null, freedCommon: new Set(), freedGrants: new Set(), lastIrp: null };
      this.adapters.set(a, s);
    }
    return s;
  }

  private irpOf(mdl: Mdl): IrpRecord | null {
    for (const irp of this.io.irps.values()) if (irp.mdl === mdl && !irp.completed) return irp;
    return null;
  }

  private isCommonBuffer(mdl: Mdl): boolean {
    const va = mdl.StartVa + mdl.ByteOffset;
    for (const a of this.hal.adapters.values()) for (const [start, b] of a.commonBuffers) if (inRange(va, mdl.ByteCount, start, b.length)) return true;
    return false;
  }

  /** Checks an (adapter, MDL, CurrentVa, Length) the way MapTransfer and GetScatterGatherList take them; false stops the call. */
  checkBuffer(name: string, mdl: Mdl, va: number, length: number): boolean {
    const k = this.kernel;
    const start = mdl.StartVa + mdl.ByteOffset;
    if (length === 0) {
      k.report('DMA_ZERO_LENGTH', `${name} was asked to map 0 bytes.`);
      return false;
    }
    if (va < start || va >= start + mdl.ByteCount) {
      k.report('DMA_ADDRESS_NOT_IN_MDL', `${name}: CurrentVa 0x${(va >>> 0).toString(16)} is outside the MDL's buffer (0x${start.toString(16)}, ${mdl.ByteCount} bytes).`, va >>> 0);
      return false;
    }
    if (va + length > start + mdl.ByteCount) {
      k.report('DMA_LENGTH_BEYOND_MDL', `${name}: ${length} bytes from CurrentVa run ${va + length - start - mdl.ByteCount} bytes past the end of the MDL's buffer.`, undefined, 0, length);
      return false;
    }
    if (mdl.PfnArray.includes(PFN_NOT_BUILT)) {
      k.report('DMA_BUFFER_NOT_LOCKED', `${name} was given an MDL whose pages were never locked or built.`);
      return false;
    }
    if (k.machine.cpu.profile === 'non-coherent' && !this.isCommonBuffer(mdl)) {
      if (!this.cacheFlushed.has(mdl)) k.report('KEFLUSHIOBUFFERS_MISSING', `${name} on a non-coherent platform without KeFlushIoBuffers for this MDL first.`);
      this.cacheFlushed.delete(mdl);
    }
    return true;
  }

  onKeFlushIoBuffers(mdl: Mdl): void {
    this.cacheFlushed.add(mdl);
  }

  // ---- The channel ------------------------------------------------------------------

  beforeAllocateChannel(a: AdapterObject, count: number): boolean {
    if (a.ownsChannel || this.hal.isWaiting(a)) {
      this.kernel.report('DMA_TWO_CHANNELS', 'AllocateAdapterChannel was called while the adapter already holds (or waits for) its channel.', 2);
      return false;
    }
    if (count > a.numberOfMapRegisters) {
      this.kernel.report('DMA_TOO_MANY_MAP_REGISTERS', `AllocateAdapterChannel asked for ${count} map registers; IoGetDmaAdapter granted ${a.numberOfMapRegisters}.`, count, a.numberOfMapRegisters);
      return false;
    }
    return true;
  }

  beforeFreeChannel(a: AdapterObject): boolean {
    const s = this.state(a);
    if (!a.ownsChannel) {
      this.kernel.report('DMA_CHANNEL_FREED_TWICE', 'FreeAdapterChannel was called, but the adapter does not hold its channel.', 1);
      return false;
    }
    if (s.mapping && !s.mapping.common) this.kernel.report('DMA_FREE_WHILE_MAPPED', 'FreeAdapterChannel was called while a transfer is still mapped (no FlushAdapterBuffers).', 1);
    s.mapping = null;
    // FreeAdapterChannel frees the map registers AdapterControl kept: a FreeMapRegisters of them now is a second free.
    if (a.grant) s.freedGrants.add(a.grant.base);
    return true;
  }

  beforeFreeMapRegisters(a: AdapterObject, base: number): boolean {
    const s = this.state(a);
    if (s.freedGrants.has(base)) {
      this.kernel.report('DMA_MAP_REGISTERS_FREED_TWICE', 'FreeMapRegisters was called for map registers already freed.', 1);
      return false;
    }
    if (s.mapping && s.mapping.base === base) this.kernel.report('DMA_FREE_WHILE_MAPPED', 'FreeMapRegisters was called while a transfer is still mapped in them.', 1);
    return true;
  }

  freedGrant(a: AdapterObject, base: number): void {
    this.state(a).freedGrants.add(base);
  }

  // ---- MapTransfer and FlushAdapterBuffers ----------------------------------------------

  beforeMapTransfer(a: AdapterObject, mdl: Mdl, grant: MapRegisterGrant | null, va: number, length: number): boolean {
    const k = this.kernel;
    const s = this.state(a);
    if (!this.checkBuffer('MapTransfer', mdl, va, length)) return false;
    if (!a.ownsChannel) k.report('MAP_WITHOUT_CHANNEL', 'MapTransfer was called while the adapter does not hold its channel.');
    const m = s.mapping;
    if (m && !m.common) {
      if (m.mdl === mdl && inRange(va, length, m.va, m.length)) {
        k.report('DMA_ALREADY_MAPPED', `MapTransfer was asked to map 0x${va.toString(16)}–0x${(va + length).toString(16)}, which is still mapped.`, va, va + length, m.va);
      } else {
        k.report('DMA_NOT_FLUSHED', 'MapTransfer was called again without FlushAdapterBuffers for the previous transfer.', m.length, a.numberOfMapRegisters * 4096);
      }
    }
    if (grant && Math.ceil(((va & 0xfff) + length) / 4096) > grant.count) {
      k.report('MAP_TRANSFER_BEYOND_MAP_REGISTERS', `MapTransfer of ${length} bytes from page offset ${va & 0xfff} spans more pages than the ${grant.count} map register(s) allocated.`);
    }
    return true;
  }

  afterMapTransfer(a: AdapterObject, mdl: Mdl, base: number, va: number, mapped: number): void {
    const s = this.state(a);
    const irp = this.irpOf(mdl);
    s.mapping = { mdl, va, length: mapped, base, irp, common: this.isCommonBuffer(mdl) };
    s.lastIrp = irp;
    if (irp) this.maps.set(irp, (this.maps.get(irp) ?? 0) + 1);
  }

  beforeFlush(a: AdapterObject, mdl: Mdl, base: number, va: number, length: number): boolean {
    const k = this.kernel;
    const m = this.state(a).mapping;
    if (!m) {
      k.report('DMA_FLUSH_NOT_MAPPED', 'FlushAdapterBuffers was called, but nothing is mapped on this adapter.', base);
      return false;
    }
    const start = mdl.StartVa + mdl.ByteOffset;
    if (va < start || va >= start + mdl.ByteCount) {
      k.report('DMA_ADDRESS_NOT_IN_MDL', `FlushAdapterBuffers: CurrentVa 0x${(va >>> 0).toString(16)} is outside the MDL's buffer.`, va >>> 0);
      return false;
    }
    if (base !== m.base) {
      k.report('DMA_FLUSH_WRONG_MAP_REGISTERS', 'FlushAdapterBuffers was given a MapRegisterBase other than the one the transfer was mapped with.', base, va);
      return false;
    }
    if (length > m.length) {
      k.report('DMA_FLUSH_TOO_MANY_BYTES', `FlushAdapterBuffers was asked to flush ${length} bytes; MapTransfer mapped ${m.length}.`, undefined, m.length, length);
    }
    return true;
  }

  afterFlush(a: AdapterObject): void {
    const s = this.state(a);
    const irp = s.mapping?.irp ?? null;
    if (irp) this.flushes.set(irp, (this.flushes.get(irp) ?? 0) + 1);
    s.mapping = null;
  }

  // ---- Common buffers, scatter/gather lists, the adapter ---------------------------------

  beforeFreeCommonBuffer(a: AdapterObject, va: number): boolean {
    const s = this.state(a);
    if (!a.commonBuffers.has(va) && s.freedCommon.has(va)) {
      this.kernel.report('DMA_COMMON_BUFFER_FREED_TWICE', `FreeCommonBuffer was called for 0x${va.toString(16)}, which was already freed.`, 1);
      return false;
    }
    return true;
  }

  freedCommonBuffer(a: AdapterObject, va: number): void {
    this.state(a).freedCommon.add(va);
  }

  sgListGranted(a: AdapterObject, sgId: number, va: number, length: number): void {
    this.sgListsMade++;
    this.sgBuffers.set(sgId, { adapter: a, va, length });
  }

  beforePutSgList(sgId: number): boolean {
    if (this.freedSgLists.has(sgId)) {
      this.kernel.report('DMA_SG_LIST_FREED_TWICE', 'PutScatterGatherList was called for a list already given back.', this.sgListsMade, this.freedSgLists.size + 1);
      return false;
    }
    return true;
  }

  putSgList(sgId: number): void {
    this.freedSgLists.add(sgId);
    this.sgBuffers.delete(sgId);
  }

  beforePutAdapter(a: AdapterObject): void {
    const k = this.kernel;
    const grants = [...this.hal.heldGrants(a)];
    const lists = [...this.sgBuffers.values()].filter((b) => b.adapter === a).length;
    if (a.commonBuffers.size > 0) k.report('DMA_PUT_ADAPTER_WITH_COMMON_BUFFERS', `PutDmaAdapter was called with ${a.commonBuffers.size} common buffer(s) not freed.`, a.id, a.commonBuffers.size);
    else if (lists > 0) k.report('DMA_PUT_ADAPTER_WITH_SG_LISTS', `PutDmaAdapter was called with ${lists} scatter/gather list(s) not given back.`, a.id, lists);
    else if (a.ownsChannel) k.report('DMA_PUT_ADAPTER_WITH_CHANNEL', 'PutDmaAdapter was called while the adapter still holds its channel.', a.id, 1);
    else if (grants.length > 0) k.report('DMA_PUT_ADAPTER_WITH_MAP_REGISTERS', `PutDmaAdapter was called with ${grants.reduce((n, g) => n + g.count, 0)} map register(s) not freed.`, a.id, grants.reduce((n, g) => n + g.count, 0));
  }

  // ---- Requests --------------------------------------------------------------------------

  onCompleteRequest(irp: IrpRecord, status: number): void {
    const k = this.kernel;
    for (const a of this.hal.adapters.values()) {
      const s = this.adapters.get(a);
      if (!s) continue;
      if (s.mapping?.irp === irp && !s.mapping.common) {
        k.report('IRP_COMPLETED_WHILE_MAPPED', 'IoCompleteRequest was called while the request\'s buffer is still mapped for DMA.');
        return;
      }
      if (status < 0 && a.ownsChannel && s.lastIrp === irp) {
        k.report('CHANNEL_HELD_AFTER_ERROR', 'The request failed and was completed, but the adapter still holds the DMA channel it used.');
        return;
      }
    }
    const maps = this.maps.get(irp) ?? 0;
    const flushes = this.flushes.get(irp) ?? 0;
    if (maps !== flushes) k.report('FLUSH_COUNT_MISMATCH', `The request was mapped ${maps} time(s) but flushed ${flushes} time(s).`);
  }

  // ---- What the driver touches -------------------------------------------------------------

  /**
   * Whether the CPU's [va, va + length) reaches the memory behind the buffer [start, start + size):
   * by the buffer's own addresses, or by another mapping of its pages (MmGetSystemAddressForMdlSafe).
   */
  private touches(va: number, length: number, start: number, size: number): boolean {
    if (inRange(va, length, start, size)) return true;
    const space = this.kernel.machine.space;
    const runs: [number, number][] = [];
    space.forEachRun(start, size, (pa, n) => runs.push([pa, n]));
    let hit = false;
    space.forEachRun(va, length, (pa, n) => (hit ||= runs.some(([p, m]) => inRange(pa, n, p, m))));
    return hit;
  }

  private onCpuAccess(va: number, length: number): void {
    const k = this.kernel;
    if (this.hal.copying > 0 || k.depth === 0) return;
    for (const a of this.hal.adapters.values()) {
      const m = this.adapters.get(a)?.mapping;
      if (m && !m.common && this.touches(va, length, m.va, m.length)) {
        k.report('BUFFER_TOUCHED_WHILE_MAPPED', `The driver touched 0x${(va >>> 0).toString(16)}, inside a buffer mapped for DMA and not yet flushed.`);
        return;
      }
    }
    for (const b of this.sgBuffers.values()) {
      if (this.touches(va, length, b.va, b.length)) {
        k.report('BUFFER_TOUCHED_WHILE_MAPPED', `The driver touched 0x${(va >>> 0).toString(16)}, inside a buffer its scatter/gather list maps until PutScatterGatherList.`);
        return;
      }
    }
  }

  /**
   * A port write by the driver. The 8237's registers belong to the HAL; a driver may program
   * only a channel that one of its adapters holds through a scatter/gather list. A line that
   * writes them is reported once, however often it runs (one programming sequence is nine
   * writes per transfer).
   */
  onPortWrite(port: number, value: number): void {
    const channel = dmaChannelOf(port, value);
    if (channel === null) return;
    const sgChannels = new Set([...this.sgBuffers.values()].map((b) => b.adapter.channel));
    const allowed = channel === 'any' ? sgChannels.size > 0 : channel !== 'global' && sgChannels.has(channel);
    const line = this.kernel.line();
    if (!allowed && !this.directPortLines.has(line)) {
      this.directPortLines.add(line);
      const what = channel === 'global' ? 'a register of the whole controller' : channel === 'any' ? 'the byte pointer' : `channel ${channel}`;
      this.kernel.report('DIRECT_8237_PROGRAMMING', `The driver wrote port 0x${port.toString(16)} (${what} of the system DMA controller) behind the HAL's back.`);
    }
  }
}

/**
 * Which channel an 8237 or page-register write programs: a number, 'any' for the byte
 * pointer flip-flop (harmless in itself), 'global' for the command, master clear and
 * mask-all registers, or null when the port is not the DMA controller's.
 */
export function dmaChannelOf(port: number, value: number): number | 'any' | 'global' | null {
  for (const [config, first] of [
    [dma1Config, 0],
    [dma2Config, 4],
  ] as const) {
    const reg = (port - config.base) >> config.portShift;
    if (port < config.base || reg > 15 || (port - config.base) % (1 << config.portShift) !== 0) continue;
    if (reg < 8) return first + (reg >> 1); // address and count registers
    if (reg === 9 || reg === 10 || reg === 11) return first + (value & 3); // request, single mask, mode
    if (reg === 12) return 'any';
    return 'global'; // command, master clear, clear mask, write all mask
  }
  for (const [channel, pagePort] of Object.entries(PAGE_PORT)) if (pagePort === port) return Number(channel);
  return null;
}
