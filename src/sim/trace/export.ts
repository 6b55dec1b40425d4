import type { TraceRecorder } from './recorder';

// What every exporter shares: the names the events' numbers refer to, and where the text
// goes. An exporter writes pieces of text to `out` as it walks the recorder (never the
// whole file in memory), reports progress, and stops with ExportCancelled when asked.
// Files, temporary names and disk errors are the host's business (src/main/services).

export type TraceFormat = 'vcd' | 'chrome' | 'csv' | 'jsonl';

/** Names for the numbers inside events. */
export interface TraceContext {
  /** ApiCall's `a`: index → WDK routine name. */
  apiNames: readonly string[];
  /** RoutineEnter/Exit's `a`: Entry → routine kind (DriverEntry, StartIo, …). */
  entryNames: Readonly<Record<number, string>>;
  /** DbgPrint's `a`: index → the line printed. */
  console: readonly string[];
  /** Violation's `a`: index → the finding. */
  findings: readonly { rule: string; message: string; line: number | null }[];
  /** Simulated time at the end of the run, in ns (the VCD's closing timestamp). */
  endTime: number;
}

export interface TextOut {
  write(text: string): void;
  /** Called now and then with events done and the total. */
  progress?(done: number, total: number): void;
  /** Polled now and then; true stops the export with ExportCancelled. */
  cancelled?(): boolean;
}

export interface ExportOptions {
  /** VCD: buses bit by bit (the default, what sigrok reads) or as vectors. */
  vcdBuses?: 'bits' | 'vector';
}

export class ExportCancelled extends Error {
  constructor() {
    super('the export was cancelled');
    this.name = 'ExportCancelled';
  }
}

export type Exporter = (trace: TraceRecorder, context: TraceContext, out: TextOut, options?: ExportOptions) => void;

/** Buffers small pieces into writes of about `size` characters. */
export class TextBuffer {
  private parts: string[] = [];
  private length = 0;
  constructor(
    private readonly out: TextOut,
    private readonly size = 1 << 16,
  ) {}
  push(text: string): void {
    this.parts.push(text);
    this.length += text.length;
    if (this.length >= this.size) this.flush();
  }
  flush(): void {
    if (this.length === 0) return;
    this.out.write(this.parts.join(''));
    this.parts = [];
    this.length = 0;
  }
}

/** Calls progress and checks for cancellation every `every` events. */
export function checkpoint(out: TextOut, done: number, total: number, every = 1 << 16): void {
  if ((done & (every - 1)) !== 0) return;
  if (out.cancelled?.()) throw new ExportCancelled();
  out.progress?.(done, total);
}
