import { z } from 'zod';

// Exporting a run's trace from the app: the request, the events that report its progress,
// and what each format is for. The export runs in the run's own worker (which holds the
// trace), so that a long one never holds up the window; the file goes where the person
// chose (the app's save dialog) or, in the web host, is handed to the browser as a download.

export const ExportFormat = z.enum(['vcd', 'chrome', 'csv', 'jsonl']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** The app records its runs at bus detail: an export can keep all of it or only the driver's and kernel's story. */
export const ExportDetail = z.enum(['summary', 'bus']);
export type ExportDetail = z.infer<typeof ExportDetail>;

const ExportId = z.number().int().min(1);

export const RunExportRequest = z.strictObject({
  runId: z.number().int().min(1),
  format: ExportFormat,
  detail: ExportDetail.default('bus'),
  /** VCD only: buses bit by bit (what sigrok reads) or as vectors (GTKWave). */
  vcdBuses: z.enum(['bits', 'vector']).default('bits'),
});

/** exportId null: the person closed the save dialog without choosing a file; nothing was started. */
export const RunExportResponse = z.strictObject({ exportId: ExportId.nullable(), fileName: z.string() });

export const RunExportCancelRequest = z.strictObject({ exportId: ExportId });

export type ExportEvent = { exportId: number } & (
  | { kind: 'progress'; done: number; total: number }
  /** path: where it was written (the app); download: the address the page fetches it from (the web host). */
  | { kind: 'done'; events: number; bytes: number; fileName: string; path: string | null; download: string | null }
  | { kind: 'cancelled' }
  | { kind: 'failed'; message: string }
);

export interface FormatInfo {
  label: string;
  extension: string;
  /** What reads it, in the dialog's words. */
  readers: string;
}

export const EXPORT_FORMATS: Readonly<Record<ExportFormat, FormatInfo>> = {
  vcd: { label: 'VCD waveform', extension: 'vcd', readers: 'GTKWave, PulseView, sigrok-cli' },
  chrome: { label: 'Chrome trace JSON', extension: 'json', readers: 'Perfetto, chrome://tracing' },
  csv: { label: 'CSV', extension: 'csv', readers: 'spreadsheets, pandas, R' },
  jsonl: { label: 'JSON Lines', extension: 'jsonl', readers: 'jq, scripts' },
};

/** The file name offered for a run of `name` (a lab id or a scenario's name). */
export function exportFileName(name: string, format: ExportFormat): string {
  const base = name.replace(/[^A-Za-z0-9._-]+/g, '-') || 'trace';
  return format === 'chrome' ? `${base}.trace.json` : `${base}.${EXPORT_FORMATS[format].extension}`;
}
