import { type DeviceState, type DmaChipState, type IrpState, type MemoryRegion, type RunState, SCOPE_COLUMNS, SCOPE_WINDOW_MS, type SoundScope } from '../../shared/runState';
import { Fdc82077 } from '../hw/fdc82077';
import type { DmaChipSnapshot } from '../hw/isaDma';
import { DMA_CMD_ADC, DMA_CMD_FAMILY_MASK, DSP_ADC8_AUTO, DSP_ADC8_SINGLE, DSP_DMA16, DSP_DMA8, type Sb16Snapshot, SoundBlaster16 } from '../hw/sb16';
import { Scanner } from '../hw/scanner';
import { ntStatusName, WDM_CONSTANTS as W } from '../kernel/wdmConstants';
import type { SessionParts } from './session';

// The machine at this moment, for the hardware panels: read-only, and cheap enough to take
// many times a second while a run streams.

/** One 64 KiB group of the HAL's map buffer. */
const MAP_GROUP_BYTES = 0x10000;

function chip(name: DmaChipState['name'], s: DmaChipSnapshot): DmaChipState {
  return {
    name,
    command: s.command,
    status: s.status,
    bytePointer: s.bytePointer,
    // Status bits 0–3: channel 0–3 of the chip reached terminal count.
    channels: s.channels.map((c, local) => ({ ...c, tc: (s.status & (1 << local)) !== 0 })),
  };
}

/** The last DMA command was a capture (Bxh/Cxh with the A/D bit, 24h, 2Ch). */
function captureCommand(command: number | null): boolean {
  if (command === null) return false;
  const family = command & DMA_CMD_FAMILY_MASK;
  if (family === DSP_DMA16 || family === DSP_DMA8) return (command & DMA_CMD_ADC) !== 0;
  return command === DSP_ADC8_SINGLE || command === DSP_ADC8_AUTO;
}

/** The last SCOPE_WINDOW_MS of the DAC's output or the ADC's input, as a min/max envelope. */
function scope(d: SoundBlaster16, s: Sb16Snapshot): SoundScope | null {
  // When idle, the side of the card the last transfer used.
  const source = s.mode === 'capture' || (s.mode === 'idle' && captureCommand(s.command)) ? 'input' : 'output';
  const want = Math.max(1, Math.round((s.rate * SCOPE_WINDOW_MS) / 1000));
  const samples = source === 'input' ? d.recentInput(want) : d.recentOutput(want);
  const frames = samples.length;
  if (frames === 0) return null;
  const columns = Math.min(SCOPE_COLUMNS, frames);
  const min: number[] = [];
  const max: number[] = [];
  for (let c = 0; c < columns; c++) {
    let lo = 32767;
    let hi = -32768;
    for (let i = Math.floor((c * frames) / columns); i < Math.floor(((c + 1) * frames) / columns); i++) {
      lo = Math.min(lo, samples[i]!);
      hi = Math.max(hi, samples[i]!);
    }
    min.push(lo);
    max.push(hi);
  }
  return { source, rate: s.rate, frames, min, max };
}

function device(name: string, d: unknown): DeviceState | null {
  if (d instanceof Fdc82077) {
    const s = d.snapshot();
    return {
      type: 'floppy',
      name,
      phase: s.phase,
      command: s.command,
      cylinder: s.headPositions[0] ?? 0,
      motorOn: (s.motors & 1) !== 0,
      dreq: s.dreq,
      irq: s.irq,
      sectorsRead: s.sectorsRead,
      sectorsWritten: s.sectorsWritten,
      transfer: s.transfer && { write: s.transfer.write, cylinder: s.transfer.cylinder, head: s.transfer.head, sector: s.transfer.sector, byteInSector: s.transfer.byteInSector },
      overruns: s.overruns,
    };
  }
  if (d instanceof SoundBlaster16) {
    const s = d.snapshot();
    return {
      type: 'sound',
      name,
      mode: s.mode,
      dmaChannel: s.dmaChannel,
      signed: s.format.signed,
      rate: s.rate,
      bits: s.format.bits,
      channels: s.format.channels,
      autoInit: s.autoInit,
      blockPosition: s.blockPosition,
      blockBytes: s.blockBytes,
      bytesPlayed: s.bytesPlayed,
      bytesCaptured: s.bytesCaptured,
      underruns: s.underruns,
      overruns: s.overruns,
      scope: scope(d, s),
    };
  }
  if (d instanceof Scanner) {
    const s = d.snapshot();
    return { type: 'scanner', name, status: s.status, lines: s.lines, lineBytes: s.lineBytes, linesCaptured: s.linesCaptured, delivered: s.delivered, segments: s.segments, fifo: s.fifo, overruns: s.overruns };
  }
  return null;
}

export function captureRunState(parts: SessionParts): RunState {
  const { machine, kernel, io, hal, debugger: debug } = parts;
  const dma = machine.dma.snapshot();
  const pic = machine.pic.snapshot();
  const use = hal.mapRegisterUse();
  const irps: IrpState[] = parts.irps.map((irp) => {
    const device = [...io.devices.values()].find((d) => d.currentIrp === irp || d.queue.includes(irp));
    return {
      id: irp.id,
      major: irp.major === W.IRP_MJ_WRITE ? 'write' : 'read',
      device: irp.deviceName,
      length: irp.length,
      offset: irp.offset,
      status: irp.completed ? ntStatusName(irp.status) : null,
      information: irp.information,
      current: device?.currentIrp === irp,
      queued: device !== undefined && device.currentIrp !== irp,
    };
  });
  const deviceOf = (pdoId: number) => io.devices.get(pdoId)?.deviceName ?? '';
  const regions: MemoryRegion[] = use.groups.map((physical) => ({ kind: 'map-buffer', physical, length: MAP_GROUP_BYTES, label: "the HAL's map buffer (bounce pages below 16 MiB)" }));
  for (const g of use.grants) {
    const adapter = hal.adapters.get(g.adapterId);
    regions.push({ kind: 'map-registers', physical: g.physical, length: g.count * 4096, label: `map registers of ${adapter ? deviceOf(adapter.pdoId) : `adapter ${g.adapterId}`}` });
  }
  for (const a of hal.adapters.values()) {
    for (const b of a.commonBuffers.values()) regions.push({ kind: 'common-buffer', physical: b.physical, length: b.length, label: `${deviceOf(a.pdoId)}'s common buffer` });
  }
  parts.irps.forEach((irp, i) => {
    if (irp.completed || irp.userBuffer === 0) return;
    machine.space.forEachRun(irp.userBuffer, irp.length, (physical, length) => regions.push({ kind: 'buffer', physical, length, label: `IRP ${i + 1}'s buffer` }));
  });
  return {
    memoryBytes: machine.memory.size,
    regions,
    timeNs: machine.scheduler.now,
    irql: kernel.irql,
    position: debug ? { ...debug.position } : { statements: 0, events: machine.scheduler.eventsRun, interrupts: kernel.stats.interrupts },
    line: debug?.line ?? null,
    dma: [chip('DMA1', dma.dma1), chip('DMA2', dma.dma2)],
    pic: { intr: pic.intr, irqLines: pic.irqLines, irr: pic.master.irr | (pic.slave.irr << 8), isr: pic.master.isr | (pic.slave.isr << 8), imr: pic.master.imr | (pic.slave.imr << 8) },
    mapRegisters: { total: use.total, inUse: use.grants.reduce((n, g) => n + g.count, 0), grants: use.grants.map((g) => ({ base: g.base, physical: g.physical, count: g.count, adapterId: g.adapterId })) },
    adapters: [...hal.adapters.values()].map((a) => ({
      id: a.id,
      device: io.devices.get(a.pdoId)?.deviceName ?? '',
      channel: a.channel,
      numberOfMapRegisters: a.numberOfMapRegisters,
      ownsChannel: a.ownsChannel,
      mapped: a.mapped && { ...a.mapped },
      bounces: [
        ...(a.pendingBounce ? [{ va: a.pendingBounce.va, physical: a.pendingBounce.physical, length: a.pendingBounce.length, direction: a.pendingBounce.read ? ('out' as const) : ('in' as const) }] : []),
        ...[...hal.sgLists.values()]
          .filter((l) => l.adapterId === a.id && !l.put)
          .flatMap((l) => l.bounces.map((b) => ({ ...b, direction: l.writeToDevice ? ('in' as const) : ('out' as const) }))),
      ],
      heldNs: a.channelTime.heldNs + (a.channelTime.since >= 0 ? machine.scheduler.now - a.channelTime.since : 0),
      waitedNs: a.channelTime.waitedNs,
    })),
    irps,
    devices: [...machine.devices.entries()].flatMap(([name, d]) => device(name, d) ?? []),
    consoleLines: kernel.console.length,
    findings: kernel.findings.length,
    dmaBytes: machine.dma.bytesMoved,
  };
}
