import { type DeviceConfig, deviceName, deviceResources, type Scenario } from '../../shared/scenario';
import { Fdc82077 } from '../hw/fdc82077';
import { initializeDmaAsBios } from '../hw/dmaProgramming';
import { IoBus } from '../hw/ioBus';
import type { DeviceFaults, IsaSlot } from '../hw/isaDevice';
import { IsaDma } from '../hw/isaDma';
import { PicPair } from '../hw/picPair';
import { sb16DefaultConfig, SoundBlaster16 } from '../hw/sb16';
import { Scanner, scannerDefaultConfig } from '../hw/scanner';
import { SharedDmaChannel } from '../hw/sharedDmaChannel';
import { nullSink, type TraceSink } from '../trace/sink';
import { AddressSpace } from './addressSpace';
import { type CacheProfile, CpuMemory } from './cpuCache';
import { PageFrameAllocator } from './pageFrames';
import { PhysicalMemory } from './physicalMemory';
import { Random } from './random';
import { Scheduler } from './scheduler';
import type { z } from 'zod';

// The simulated PC: one clock, memory with the CPU's view of it, the ISA bus with the
// AT's DMA controllers and interrupt controllers, and the scenario's devices. Built the
// same way in a worker, the CLI and tests; a seed makes every run repeatable.

export interface MachineOptions {
  memoryMiB: number;
  cache: CacheProfile;
  seed: number;
  trace?: TraceSink;
  /** See IsaDma: 0 is the 8237A's fly-by transfer. */
  controllerBufferBytes?: number;
}

type Device = Fdc82077 | Scanner | SoundBlaster16;

/** A 1.44 MB disk: 80 cylinders × 2 heads × 18 sectors × 512 bytes. */
export const FLOPPY_IMAGE_BYTES = 1_474_560;

export class Machine implements IsaSlot {
  readonly scheduler = new Scheduler();
  readonly random: Random;
  readonly trace: TraceSink;
  readonly memory: PhysicalMemory;
  readonly frames: PageFrameAllocator;
  readonly space: AddressSpace;
  readonly cpu: CpuMemory;
  readonly bus: IoBus;
  readonly dma: IsaDma;
  readonly pic: PicPair;
  readonly devices = new Map<string, Device>();
  /** DMA channels with more than one card on them. */
  readonly sharedChannels = new Map<number, SharedDmaChannel>();

  constructor(options: MachineOptions) {
    this.random = new Random(options.seed);
    this.trace = options.trace ?? nullSink;
    this.memory = new PhysicalMemory(options.memoryMiB * 1024 * 1024);
    this.frames = new PageFrameAllocator(this.memory, this.random);
    this.space = new AddressSpace(this.frames);
    this.cpu = new CpuMemory(this.memory, this.space, options.cache);
    this.bus = new IoBus(this.scheduler, this.trace);
    this.dma = new IsaDma(this.bus, this.scheduler, this.memory, this.trace, undefined, options.controllerBufferBytes ?? 0);
    this.pic = new PicPair(this.bus, this.scheduler, this.trace);
    // The CPU sees memory as of now, even in the middle of a long DMA service.
    this.cpu.onAccess = () => this.dma.sync();
    this.initializeAsFirmware();
  }

  get slot(): IsaSlot {
    return this;
  }

  /** What the BIOS and the HAL have done before any driver runs. */
  private initializeAsFirmware(): void {
    initializeDmaAsBios(this.bus);
    this.pic.initializeAsWindows();
  }

  setIrq(irq: number, level: boolean): void {
    this.pic.setIrq(irq, level);
  }

  /**
   * Plugs a scenario's device into the machine; returns its name. A floppy's disk is
   * `image` (written in place), or a disk of zeros.
   */
  addDevice(config: z.output<typeof DeviceConfig>, index: number, image?: Uint8Array, faults: DeviceFaults = {}): string {
    const name = deviceName(config, index);
    const { ports, irq } = deviceResources(config);
    const base = ports[0];
    switch (config.type) {
      case 'floppy':
        this.devices.set(name, new Fdc82077(this.slotOn(config.channel), { base, irq, dmaChannel: config.channel }, image ?? patternedDisk(), faults));
        break;
      case 'scanner':
        this.devices.set(
          name,
          new Scanner(this, { ...scannerDefaultConfig, base, irq, dmaChannel: config.channel, lineBytes: config.lineBytes, seed: this.random.nextUint32() }, faults),
        );
        break;
      case 'sound':
        this.devices.set(name, new SoundBlaster16(this, { ...sb16DefaultConfig, base, irq, dma8: config.channel8, dma16: config.channel16 }, faults));
        break;
    }
    return name;
  }

  /**
   * Makes `channel` a wired-OR channel for several cards (SharedDmaChannel). Call before
   * adding the cards that share it.
   */
  shareDmaChannel(channel: number): SharedDmaChannel {
    let shared = this.sharedChannels.get(channel);
    if (!shared) {
      shared = new SharedDmaChannel(this.dma, channel);
      this.sharedChannels.set(channel, shared);
    }
    return shared;
  }

  /** The slot for a card on `channel`: the machine, or its own lines into a shared channel. */
  private slotOn(channel: number): IsaSlot {
    const shared = this.sharedChannels.get(channel);
    if (!shared) return this;
    return { bus: this.bus, dma: shared.lines(), scheduler: this.scheduler, trace: this.trace, random: this.random, setIrq: (irq, level) => this.setIrq(irq, level) };
  }

  /** `images` holds floppy disks by device name (the host reads the files; the machine never does). */
  static fromScenario(scenario: Scenario, seed: number, trace?: TraceSink, images: ReadonlyMap<string, Uint8Array> = new Map()): Machine {
    const { memoryMiB, cache, controllerBufferBytes } = scenario.machine;
    const machine = new Machine({ memoryMiB, cache, controllerBufferBytes, seed, ...(trace ? { trace } : {}) });
    const floppyChannels = scenario.devices.flatMap((d) => (d.type === 'floppy' ? [d.channel] : []));
    for (const c of new Set(floppyChannels)) if (floppyChannels.indexOf(c) !== floppyChannels.lastIndexOf(c)) machine.shareDmaChannel(c);
    scenario.devices.forEach((d, i) => {
      const name = deviceName(d, i);
      machine.addDevice(d, i, images.get(name), faultsFor(scenario, name, i === 0));
    });
    // A spurious interrupt: a pulse on the line at the given time, from no device.
    for (const f of scenario.faults) {
      if (f.kind !== 'spurious-interrupt') continue;
      machine.scheduler.scheduleAt(f.atNs, () => {
        machine.setIrq(f.irq, true);
        machine.scheduler.schedule(1000, () => machine.setIrq(f.irq, false));
      });
    }
    return machine;
  }
}

/**
 * The disk a floppy holds when the scenario names no image: every 512-byte sector begins
 * with its own number (LBA, low byte first) and carries a pattern of that number, so a
 * check can tell which sector a misplaced byte came from.
 */
export function patternedDisk(): Uint8Array {
  if (pattern === null) {
    pattern = new Uint8Array(FLOPPY_IMAGE_BYTES);
    for (let lba = 0; lba < FLOPPY_IMAGE_BYTES / 512; lba++) {
      const at = lba * 512;
      pattern[at] = lba & 0xff;
      pattern[at + 1] = lba >> 8;
      for (let i = 2; i < 512; i++) pattern[at + i] = (lba * 37 + i * 11 + (i >> 5) * lba) & 0xff;
    }
  }
  return pattern.slice();
}

/** The patterned disk, made once per thread (every run gets its own copy). */
let pattern: Uint8Array | null = null;

/** The scenario's faults aimed at one device (a fault without `device` hits the first). */
export function faultsFor(scenario: Scenario, name: string, first: boolean): DeviceFaults {
  const faults: DeviceFaults = {};
  for (const f of scenario.faults) {
    if (f.kind === 'spurious-interrupt') continue;
    if (f.device !== undefined ? f.device !== name : !first) continue;
    if (f.kind === 'io-error') faults.ioErrorAtByte = f.atByte;
    else if (f.kind === 'no-interrupt') {
      if (f.atByte === undefined) faults.neverInterrupt = true;
      else faults.noInterruptAtByte = f.atByte;
    }
    else faults.slowFactor = f.factor;
  }
  return faults;
}
