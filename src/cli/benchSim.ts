import { performance } from 'node:perf_hooks';
import { Scheduler } from '../sim/machine/scheduler';
import { initializeDmaAsBios, programDmaChannel } from '../sim/hw/dmaProgramming';
import { IoBus } from '../sim/hw/ioBus';
import { type DmaPeer, IsaDma } from '../sim/hw/isaDma';
import { nullSink } from '../sim/trace/sink';
import type { Benchmark } from './bench';

// Figures of the simulated 8237 pair (issue "The simulated PC"), tracing off.

const MiB = 1024 * 1024;

function timed(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function atMachine(memoryBytes: number) {
  const scheduler = new Scheduler();
  const bus = new IoBus(scheduler, nullSink);
  const memory = { bytes: new Uint8Array(memoryBytes), size: memoryBytes };
  const dma = new IsaDma(bus, scheduler, memory, nullSink);
  initializeDmaAsBios(bus);
  return { scheduler, bus, memory, dma };
}

/** Channel 1, 8-bit, programmed as a driver would (§19). */
function program(bus: IoBus, mode: number, physical: number, transfers: number): void {
  programDmaChannel(bus, 1, mode, physical, transfers);
}

export const simBenchmarks: Benchmark[] = [
  {
    name: 'sim.blockCopyRatio',
    unit: 'ratio',
    what: 'block-mode DMA of 64 MiB (64 KiB per service) vs Buffer.copy of the same bytes',
    async run() {
      const total = 64 * MiB;
      const source = Buffer.alloc(total, 0x5a);
      const m = atMachine(16 * MiB);
      let offset = 0;
      const device: DmaPeer = {
        dmaFromDevice(into) {
          into.set(source.subarray(offset, offset + into.length));
          offset += into.length;
        },
        dmaToDevice() {},
      };
      m.dma.attach(1, device);
      m.dma.setDreq(1, true);
      const dmaPass = () => {
        offset = 0;
        for (let done = 0; done < total; done += 0x10000) {
          program(m.bus, 0x84, 0x10_0000, 0x10000); // block, write (I/O → memory)
          m.scheduler.runUntilIdle();
        }
        if (offset !== total) throw new Error(`moved ${offset} bytes, expected ${total}`);
      };
      const target = Buffer.alloc(16 * MiB);
      const copyPass = () => {
        for (let done = 0; done < total; done += 0x10000) source.copy(target, 0x10_0000, done, done + 0x10000);
      };
      // Interleaved rounds, medians of each: one slow pass on a busy machine does not decide the figure.
      const dmaMs: number[] = [];
      const copyMs: number[] = [];
      dmaPass(); // warm-up
      copyPass();
      for (let round = 0; round < 7; round++) {
        dmaMs.push(timed(dmaPass));
        copyMs.push(timed(copyPass));
      }
      return median(copyMs) / median(dmaMs);
    },
  },
  {
    name: 'sim.singleModeCyclesPerSec',
    unit: 'cycles/s',
    what: 'single-mode DMA cycles, each its own service with DREQ, DACK and TC handling',
    async run() {
      const m = atMachine(16 * MiB);
      let cycles = 0;
      const device: DmaPeer = {
        dmaFromDevice(into) {
          for (let i = 0; i < into.length; i++) into[i] = (cycles + i) & 0xff;
          cycles += into.length;
        },
        dmaToDevice() {},
      };
      m.dma.attach(1, device);
      m.dma.setDreq(1, true); // the device keeps DREQ up: one transfer per bus grant
      program(m.bus, 0x54, 0x10_0000, 0x10000); // single, write, autoinitialize
      const rates: number[] = [];
      for (let round = 0; round < 5; round++) {
        const before = cycles;
        const ms = timed(() => m.scheduler.runUntil(m.scheduler.now + 500_000_000)); // half a simulated second
        rates.push(((cycles - before) * 1000) / ms);
      }
      return median(rates);
    },
  },
];
