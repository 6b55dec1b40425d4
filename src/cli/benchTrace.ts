import { performance } from 'node:perf_hooks';
import type { TraceContext } from '../sim/trace/export';
import { TraceRecorder } from '../sim/trace/recorder';
import { EventKind } from '../sim/trace/sink';
import { exportVcd } from '../sim/trace/vcd';
import type { Benchmark } from './bench';

// Figures of the trace recorder and the VCD exporter (issue "Transfer traces").

const MB = 1024 * 1024;

/** A bus-level trace like a busy channel's: DREQ/DACK edges, bursts with their cycles, IRQ pulses, TCs. */
function busyTrace(events: number, detail: 'bus' | 'cycle'): TraceRecorder {
  const trace = new TraceRecorder(detail);
  let t = 0;
  let address = 0x2_0000;
  while (trace.count < events) {
    const channel = (t >> 12) & 3;
    trace.record(t, EventKind.Dreq, channel, 1, 0);
    trace.record(t + 250, EventKind.Dack, channel, 1, 0);
    trace.record(t + 1000, EventKind.DmaBurst, channel, address, 16);
    if (detail === 'cycle') for (let i = 0; i < 16; i++) trace.record(t + 1000, EventKind.DmaCycle, channel, address + i, 1);
    trace.record(t + 1000, EventKind.Dack, channel, 0, 0);
    trace.record(t + 1000, EventKind.Dreq, channel, 0, 0);
    address = (address + 16) & 0xff_ffff;
    if ((t & 0xffff) === 0) {
      trace.record(t + 1100, EventKind.TerminalCount, channel, 0, 0);
      trace.record(t + 1200, EventKind.IrqLine, 6, 1, 0);
      trace.record(t + 3200, EventKind.IrqLine, 6, 0, 0);
    }
    t += 4000;
  }
  return trace;
}

const context = (trace: TraceRecorder): TraceContext => ({ apiNames: [], entryNames: {}, console: [], findings: [], endTime: trace.read(trace.count - 1).time + 1 });

export const traceBenchmarks: Benchmark[] = [
  {
    name: 'trace.record10MPeakMB',
    unit: 'MB',
    what: 'peak resident memory of the process while recording 10 million cycle-level events',
    async run() {
      let peak = process.memoryUsage().rss;
      const trace = new TraceRecorder('cycle');
      for (let i = 0; i < 10_000_000; i++) {
        trace.record(i * 750, EventKind.DmaCycle, 1, 0x1_0000 + (i & 0xffff), 1);
        if ((i & 0xfffff) === 0) peak = Math.max(peak, process.memoryUsage().rss);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      if (trace.count !== 10_000_000) throw new Error(`recorded ${trace.count} events`);
      return peak / MB;
    },
  },
  {
    name: 'trace.vcdExportEventsPerSec',
    unit: 'events/s',
    what: 'bus-level events exported to VCD (buses bit by bit), text generated and handed to the writer',
    async run() {
      const trace = busyTrace(2_000_000, 'bus');
      let bytes = 0;
      const out = { write: (text: string) => void (bytes += text.length) };
      exportVcd(trace, context(trace), out); // warm up
      const t0 = performance.now();
      exportVcd(trace, context(trace), out);
      const seconds = (performance.now() - t0) / 1000;
      if (bytes === 0) throw new Error('the VCD export wrote nothing');
      return trace.count / seconds;
    },
  },
];
