import { describe, expect, it } from 'vitest';
import { Scheduler } from '../machine/scheduler';
import { ArraySink, EventKind } from '../trace/sink';
import { initializeDmaAsBios, programDmaChannel } from './dmaProgramming';
import { IoBus } from './ioBus';
import { IsaDma } from './isaDma';

function bench() {
  const scheduler = new Scheduler();
  const trace = new ArraySink();
  const bus = new IoBus(scheduler, trace);
  const dma = new IsaDma(bus, scheduler, { bytes: new Uint8Array(1 << 24), size: 1 << 24 }, trace);
  return { bus, dma, trace };
}

describe('programming a channel as a driver does (i8237a.md §19)', () => {
  it('writes the ports of the sequence in its order, for an 8-bit channel', () => {
    const { bus, trace } = bench();
    programDmaChannel(bus, 2, 0x46, 0x12_3456, 512);
    const writes = trace.list(EventKind.PortWrite).map(([, , port, value]) => [port, value]);
    // mask, clear byte pointer, mode, address low/high, page, count − 1 low/high, unmask
    expect(writes).toEqual([[0x0a, 0x06], [0x0c, 0], [0x0b, 0x46], [0x04, 0x56], [0x04, 0x34], [0x81, 0x12], [0x05, 0xff], [0x05, 0x01], [0x0a, 0x02]]);
  });

  it('gives a 16-bit channel its word address, page and word count, and can leave it masked', () => {
    const { bus, dma } = bench();
    programDmaChannel(bus, 6, 0x58, 0x3_0002, 100, false);
    const ch = dma.snapshot().dma2.channels[2]!;
    expect(ch).toMatchObject({ channel: 6, baseAddress: 0x8001, baseCount: 99, page: 0x03, mode: 0x58, masked: true, physicalAddress: 0x3_0002 });
  });

  it('the BIOS setup puts channel 4 in cascade mode, unmasked', () => {
    const { bus, dma } = bench();
    initializeDmaAsBios(bus);
    expect(dma.snapshot().dma2.channels[0]).toMatchObject({ mode: 0xc0, masked: false });
  });
});
