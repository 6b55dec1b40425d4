import { EventKind, type TraceSink } from './sink';

// The trace recorder (DESIGN.md, "Traces"): every event in columns of typed arrays, in
// chunks so that recording never copies what it has, with no object per event. Ten
// million events take about 210 MB: 8 bytes of time, 1 of kind and 3 × 4 of arguments.
// Arguments are kept as 32-bit integers (`value | 0`); an exporter reads addresses as
// unsigned (`>>> 0`). The detail level decides what is kept: 'summary' the driver's and
// the kernel's story, 'bus' adds ports, DREQ/DACK, bursts and controller registers,
// 'cycle' adds one event per DMA cycle.

export type DetailLevel = 'summary' | 'bus' | 'cycle';
const LEVELS: Record<DetailLevel, number> = { summary: 0, bus: 1, cycle: 2 };

/** The detail level each kind first appears at (kinds not listed: summary). */
const KIND_LEVEL = new Uint8Array(256);
for (const kind of [
  EventKind.PortRead,
  EventKind.PortWrite,
  EventKind.PortUnclaimed,
  EventKind.Dreq,
  EventKind.Dack,
  EventKind.DmaBurst,
  EventKind.DmaRegisterWrite,
  EventKind.DmaFlush,
  EventKind.IrqLine,
  EventKind.Eoi,
  EventKind.ApiArgs,
]) {
  KIND_LEVEL[kind] = 1;
}
KIND_LEVEL[EventKind.DmaCycle] = 2;

const CHUNK_SHIFT = 16;
const CHUNK = 1 << CHUNK_SHIFT;
const MASK = CHUNK - 1;

interface Chunk {
  time: Float64Array;
  kind: Uint8Array;
  a: Int32Array;
  b: Int32Array;
  c: Int32Array;
}

/** One event, read back (an exporter reuses one of these). */
export interface TraceEvent {
  time: number;
  kind: EventKind;
  a: number;
  b: number;
  c: number;
}

export class TraceRecorder implements TraceSink {
  readonly enabled = true;
  readonly cycles: boolean;
  private readonly level: number;
  private readonly chunks: Chunk[] = [];
  private current: Chunk | null = null;
  private used = CHUNK;
  private total = 0;

  constructor(readonly detail: DetailLevel = 'bus') {
    this.level = LEVELS[detail];
    this.cycles = this.level >= LEVELS.cycle;
  }

  get count(): number {
    return this.total;
  }

  /** Bytes the columns take. */
  get bytes(): number {
    return this.chunks.length * CHUNK * (8 + 1 + 12);
  }

  record(time: number, kind: EventKind, a: number, b: number, c: number): void {
    if (KIND_LEVEL[kind]! > this.level) return;
    if (this.used === CHUNK) {
      this.current = { time: new Float64Array(CHUNK), kind: new Uint8Array(CHUNK), a: new Int32Array(CHUNK), b: new Int32Array(CHUNK), c: new Int32Array(CHUNK) };
      this.chunks.push(this.current);
      this.used = 0;
    }
    const chunk = this.current!;
    const i = this.used++;
    chunk.time[i] = time;
    chunk.kind[i] = kind;
    chunk.a[i] = a;
    chunk.b[i] = b;
    chunk.c[i] = c;
    this.total++;
  }

  /**
   * The events a recording at `detail` would have kept: this recorder, or a copy without
   * the finer kinds (an export at less detail than was recorded). More detail than was
   * recorded cannot be had after the run.
   */
  atDetail(detail: DetailLevel): TraceRecorder {
    if (LEVELS[detail] > this.level) throw new RangeError(`the trace was recorded at ${this.detail} detail; ${detail} detail needs a new run`);
    if (LEVELS[detail] === this.level) return this;
    const narrower = new TraceRecorder(detail);
    this.forEach((time, kind, a, b, c) => narrower.record(time, kind, a, b, c));
    return narrower;
  }

  /** Event `index` into `out` (which is returned). */
  read(index: number, out: TraceEvent = { time: 0, kind: 0 as EventKind, a: 0, b: 0, c: 0 }): TraceEvent {
    const chunk = this.chunks[index >> CHUNK_SHIFT]!;
    const i = index & MASK;
    out.time = chunk.time[i]!;
    out.kind = chunk.kind[i] as EventKind;
    out.a = chunk.a[i]!;
    out.b = chunk.b[i]!;
    out.c = chunk.c[i]!;
    return out;
  }

  /** Calls `visit` for events [from, to) in order, without making an object per event. */
  forEach(visit: (time: number, kind: EventKind, a: number, b: number, c: number, index: number) => void, from = 0, to = this.total): void {
    for (let index = from; index < to; ) {
      const chunk = this.chunks[index >> CHUNK_SHIFT]!;
      const end = Math.min(to - (index & ~MASK), CHUNK);
      for (let i = index & MASK; i < end; i++, index++) visit(chunk.time[i]!, chunk.kind[i] as EventKind, chunk.a[i]!, chunk.b[i]!, chunk.c[i]!, index);
    }
  }
}

/** Names of the kinds, for CSV, JSON Lines and the Chrome trace. */
export const EVENT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(EventKind).map(([name, value]) => [value, name]));
