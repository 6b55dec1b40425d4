import { exportChrome } from './chrome';
import type { Exporter, TraceFormat } from './export';
import { exportCsv, exportJsonLines } from './table';
import { exportVcd } from './vcd';

/** Every export format and its exporter. */
export const EXPORTERS: Readonly<Record<TraceFormat, Exporter>> = {
  vcd: exportVcd,
  chrome: exportChrome,
  csv: exportCsv,
  jsonl: exportJsonLines,
};
