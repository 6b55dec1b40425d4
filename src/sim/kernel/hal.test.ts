import { describe, expect, it } from 'vitest';
import { Machine } from '../machine/machine';
import { IoAllocateMdl, Mdl, MmBuildMdlForNonPagedPool } from '../machine/mdl';
import { type DriverCode, Entry } from './driverCode';
import { type DeviceDescription, Hal } from './hal';
import { IoManager } from './ioManager';
import { Kernel } from './kernel';

// The HAL's system DMA driven directly, with a stand-in for the driver that records which
// routines the kernel called. Values from wdm.h and the 8237A datasheet are restated here.
const PAGE_SIZE = 4096;
const ISA_LIMIT = 0x100_0000;
const KeepObject = 1;
const Isa = 1;
const Width8Bits = 0;
const Width16Bits = 1;
const STATUS_SUCCESS = 0;
const STATUS_INSUFFICIENT_RESOURCES = 0xc000_009a | 0;
const MODE_SINGLE = 0x40;
const MODE_AUTOINIT = 0x10;
const MODE_READ = 0x08; // memory → device
const MODE_WRITE = 0x04; // device → memory

class RecordingDriver implements DriverCode {
  readonly calls: [number, number, number][] = [];
  answer = KeepObject;
  enter(entry: Entry, a: number, b: number): number {
    this.calls.push([entry, a, b]);
    return entry === Entry.AdapterControl ? this.answer : 0;
  }
  line(): number {
    return 0;
  }
}

function setup(mapRegisters?: number) {
  const machine = new Machine({ memoryMiB: 64, cache: 'coherent', seed: 5 });
  const kernel = new Kernel(machine);
  const driver = new RecordingDriver();
  kernel.driver = driver;
  const io = new IoManager(kernel);
  const hal = new Hal(kernel, mapRegisters);
  const pdo = io.createPdo('fdc0', { ports: [0x3f0, 0x3f7], irq: 6, channels: [2] });
  const fdo = io.IoCreateDevice();
  return { machine, kernel, driver, io, hal, pdo, fdo };
}

const description = (over: Partial<DeviceDescription> = {}): DeviceDescription => ({
  Version: 0,
  Master: false,
  ScatterGather: false,
  DemandMode: false,
  AutoInitialize: false,
  Dma32BitAddresses: false,
  IgnoreCount: false,
  Reserved1: false,
  Dma64BitAddresses: false,
  BusNumber: 0,
  DmaChannel: 2,
  InterfaceType: Isa,
  DmaWidth: Width8Bits,
  DmaSpeed: 0,
  MaximumLength: 18 * 512,
  DmaPort: 0,
  ...over,
});

function mdlFor(machine: Machine, va: number, length: number): Mdl {
  const mdl = IoAllocateMdl(machine.space, va, length);
  if (!(mdl instanceof Mdl)) throw new Error('no MDL');
  expect(MmBuildMdlForNonPagedPool(mdl)).toBeNull();
  return mdl;
}

/** The channel's registers, from the controller's snapshot. */
function channelState(machine: Machine, channel: number) {
  const s = machine.dma.snapshot();
  return (channel < 4 ? s.dma1 : s.dma2).channels[channel & 3]!;
}

describe('IoGetDmaAdapter', () => {
  it('answers one more map register than MaximumLength needs, within the ISA limit of 16', () => {
    const { hal, pdo } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description({ MaximumLength: 18 * 512 }));
    expect(typeof a).toBe('object');
    expect((a as { numberOfMapRegisters: number }).numberOfMapRegisters).toBe(Math.ceil((18 * 512) / PAGE_SIZE) + 1);
    const big = hal.IoGetDmaAdapter(pdo, description({ MaximumLength: 0x10000 }));
    expect((big as { numberOfMapRegisters: number }).numberOfMapRegisters).toBe(16);
  });

  it('hands out fewer when the platform profile caps them', () => {
    const { hal, pdo } = setup(2);
    const a = hal.IoGetDmaAdapter(pdo, description());
    expect((a as { numberOfMapRegisters: number }).numberOfMapRegisters).toBe(2);
  });

  it('refuses what a subordinate ISA device cannot be', () => {
    const { hal, pdo } = setup();
    expect(hal.IoGetDmaAdapter(pdo, description({ Master: true }))).toMatch(/subordinate/);
    expect(hal.IoGetDmaAdapter(pdo, description({ InterfaceType: 5 }))).toMatch(/not Isa/);
    expect(hal.IoGetDmaAdapter(pdo, description({ DmaChannel: 4 }))).toMatch(/cascade/);
    expect(hal.IoGetDmaAdapter(pdo, description({ DmaWidth: Width16Bits }))).toMatch(/Width8Bits/);
    expect(hal.IoGetDmaAdapter(pdo, description({ DmaChannel: 5, DmaWidth: Width8Bits }))).toMatch(/Width16Bits/);
    expect(hal.IoGetDmaAdapter(pdo, description({ Version: 7 }))).toMatch(/Version/);
    expect(hal.IoGetDmaAdapter(pdo, description({ Reserved1: true }))).toMatch(/Reserved1/);
    expect(hal.IoGetDmaAdapter(pdo, description({ MaximumLength: 0 }))).toMatch(/MaximumLength/);
    expect(hal.IoGetDmaAdapter(pdo, description({ DmaSpeed: 1 }))).toMatch(/Compatible/);
  });
});

describe('AllocateAdapterChannel', () => {
  it('runs AdapterControl at once when the channel is free, and queues the next request until FreeAdapterChannel', () => {
    const { hal, pdo, fdo, driver, kernel } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description()) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    kernel.irql = 2;
    expect(hal.AllocateAdapterChannel(a, fdo, 3, 101)).toBe(STATUS_SUCCESS);
    expect(driver.calls.filter((c) => c[0] === Entry.AdapterControl).map((c) => c[1])).toEqual([101]);
    const base = driver.calls[0]![2];
    expect(hal.grant(base)?.count).toBe(3);
    expect(hal.AllocateAdapterChannel(a, fdo, 1, 102)).toBe(STATUS_SUCCESS);
    expect(driver.calls.length).toBe(1); // queued
    hal.FreeAdapterChannel(a);
    expect(driver.calls.map((c) => c[1])).toEqual([101, 102]);
    expect(hal.grant(base)).toBeUndefined(); // the first owner's registers went back
  });

  it('refuses more map registers than IoGetDmaAdapter granted', () => {
    const { hal, pdo, fdo } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description()) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    expect(hal.AllocateAdapterChannel(a, fdo, a.numberOfMapRegisters + 1, 1)).toBe(STATUS_INSUFFICIENT_RESOURCES);
  });

  it('reports an AdapterControl that does not keep the object', () => {
    const { hal, pdo, fdo, driver, kernel } = setup();
    driver.answer = 2; // DeallocateObject
    const a = hal.IoGetDmaAdapter(pdo, description()) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    hal.AllocateAdapterChannel(a, fdo, 1, 1);
    expect(kernel.findings.map((f) => f.rule)).toContain('ADAPTER_CONTROL_NOT_KEEP_OBJECT');
    expect(a.ownsChannel).toBe(false);
  });
});

describe('map registers', () => {
  it('are pages below 16 MiB, contiguous per grant, never across 64 KiB', () => {
    const { hal, pdo, fdo, driver } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description({ MaximumLength: 0x10000 })) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    hal.AllocateAdapterChannel(a, fdo, 16, 1);
    const grant = hal.grant(driver.calls[0]![2])!;
    expect(grant.physical + grant.count * PAGE_SIZE).toBeLessThanOrEqual(ISA_LIMIT);
    expect(Math.floor(grant.physical / 0x10000)).toBe(Math.floor((grant.physical + grant.count * PAGE_SIZE - 1) / 0x10000));
  });
});

describe('MapTransfer and FlushAdapterBuffers', () => {
  it('programs the 8237 straight at a contiguous buffer below 16 MiB, single mode, read for a write to the device', () => {
    const { machine, hal, pdo, fdo, driver } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description()) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    hal.AllocateAdapterChannel(a, fdo, 3, 1);
    const va = machine.space.allocate(1024, { kind: 'below-16m', byteOffset: 0x100 })!;
    const mdl = mdlFor(machine, va, 1024);
    const r = hal.MapTransfer(a, mdl, hal.grant(driver.calls[0]![2])!, va, 1024, true);
    expect(r).toEqual({ address: machine.space.translate(va), length: 1024 });
    const c = channelState(machine, 2);
    expect(c.mode & 0xfc).toBe(MODE_SINGLE | MODE_READ);
    expect(c.baseCount).toBe(1023);
    expect(c.masked).toBe(false);
  });

  it('bounces a buffer above 16 MiB through the map registers and copies read data back at the flush', () => {
    const { machine, hal, pdo, fdo, driver } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description()) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    hal.AllocateAdapterChannel(a, fdo, 3, 1);
    const grant = hal.grant(driver.calls[0]![2])!;
    const va = machine.space.allocate(6000, { kind: 'above-16m' })!;
    const mdl = mdlFor(machine, va, 6000);
    machine.cpu.fill(va, 6000, 0x11);
    const r = hal.MapTransfer(a, mdl, grant, va, 6000, false) as { address: number; length: number };
    expect(r.address).toBe(grant.physical);
    expect(r.length).toBe(6000);
    expect(channelState(machine, 2).mode & 0x0c).toBe(MODE_WRITE);
    // The "device" writes into the bounce pages; the flush brings the data to the buffer.
    machine.memory.fill(grant.physical, 6000, 0x5a);
    expect(machine.cpu.readBytes(va, 4)).toEqual(new Uint8Array([0x11, 0x11, 0x11, 0x11]));
    expect(hal.FlushAdapterBuffers(a)).toBe(true);
    expect(machine.cpu.readBytes(va + 5996, 4)).toEqual(new Uint8Array([0x5a, 0x5a, 0x5a, 0x5a]));
    expect(channelState(machine, 2).masked).toBe(true);
  });

  it('copies write data into the bounce pages before the controller reads them', () => {
    const { machine, hal, pdo, fdo, driver } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description()) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    hal.AllocateAdapterChannel(a, fdo, 3, 1);
    const grant = hal.grant(driver.calls[0]![2])!;
    const va = machine.space.allocate(3 * PAGE_SIZE, { kind: 'fragmented' })!;
    const mdl = mdlFor(machine, va, 3 * PAGE_SIZE);
    const data = Uint8Array.from({ length: 3 * PAGE_SIZE }, (_, i) => (i * 7) & 0xff);
    machine.cpu.writeBytes(va, data);
    const r = hal.MapTransfer(a, mdl, grant, va, 3 * PAGE_SIZE, true) as { address: number; length: number };
    expect(r.length).toBe(3 * PAGE_SIZE);
    expect(machine.memory.read(r.address, 3 * PAGE_SIZE)).toEqual(data);
  });

  it('maps only what the map registers hold and says so in Length', () => {
    const { machine, hal, pdo, fdo, driver } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description()) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    hal.AllocateAdapterChannel(a, fdo, 2, 1);
    const va = machine.space.allocate(4 * PAGE_SIZE, { kind: 'fragmented', byteOffset: 0x200 })!;
    const mdl = mdlFor(machine, va, 4 * PAGE_SIZE);
    const r = hal.MapTransfer(a, mdl, hal.grant(driver.calls[0]![2])!, va, 4 * PAGE_SIZE, true) as { length: number };
    expect(r.length).toBe(2 * PAGE_SIZE - 0x200);
  });

  it('programs auto-initialize for a common buffer and ReadDmaCounter follows the count', () => {
    const { machine, hal, pdo, fdo, driver } = setup();
    const a = hal.IoGetDmaAdapter(pdo, description({ AutoInitialize: true })) as Exclude<ReturnType<Hal['IoGetDmaAdapter']>, string>;
    const buffer = hal.AllocateCommonBuffer(a, 8192)!;
    expect(buffer.physical + 8192).toBeLessThanOrEqual(ISA_LIMIT);
    expect(Math.floor(buffer.physical / 0x10000)).toBe(Math.floor((buffer.physical + 8191) / 0x10000));
    hal.AllocateAdapterChannel(a, fdo, 1, 1);
    const mdl = mdlFor(machine, buffer.va, 8192);
    hal.MapTransfer(a, mdl, hal.grant(driver.calls[0]![2]) ?? null, buffer.va, 8192, true);
    expect(channelState(machine, 2).mode & MODE_AUTOINIT).toBe(MODE_AUTOINIT);
    expect(hal.ReadDmaCounter(a)).toBe(8192);
    expect(hal.FreeCommonBuffer(a, 8192, buffer.physical + 1, buffer.va)).toMatch(/does not match/);
    expect(hal.FreeCommonBuffer(a, 8192, buffer.physical, buffer.va)).toBeNull();
  });
});
