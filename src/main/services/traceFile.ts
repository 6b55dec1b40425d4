import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExportCancelled, type ExportOptions, type Exporter, type TraceContext, type TraceFormat } from '../../sim/trace/export';
import type { TraceRecorder } from '../../sim/trace/recorder';

// Writing a trace export to disk: into a temporary file beside the target, renamed over it
// only when the export is complete, so that an unwritable folder, a full disk or a
// cancelled export never leaves a partial file under the final name.

export class TraceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFileError';
  }
}

const EXTENSIONS: Record<string, TraceFormat> = { '.vcd': 'vcd', '.json': 'chrome', '.csv': 'csv', '.jsonl': 'jsonl' };

/** The format a file name implies, or null. */
export function formatFromPath(path: string): TraceFormat | null {
  const m = /\.[a-z]+$/i.exec(path);
  return m ? (EXTENSIONS[m[0].toLowerCase()] ?? null) : null;
}

function describe(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return `the disk is full: ${path} was not written`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `cannot write ${path}: permission denied`;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `cannot write ${path}: the folder ${dirname(path)} does not exist`;
  if (code === 'EISDIR') return `cannot write ${path}: it is a folder`;
  return `cannot write ${path}: ${(error as Error).message}`;
}

/** The temporary name an export of `path` is written under until it is complete. */
export function partialPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
}

export interface TraceFileOptions extends ExportOptions {
  progress?: (done: number, total: number) => void;
  cancelled?: () => boolean;
}

/** Exports `trace` to `path`; throws TraceFileError (or ExportCancelled) with nothing left under `path` or the temporary name. */
export function writeTraceFile(path: string, exporter: Exporter, trace: TraceRecorder, context: TraceContext, options: TraceFileOptions = {}): { bytes: number } {
  const temporary = partialPath(path);
  let fd: number;
  try {
    fd = openSync(temporary, 'w');
  } catch (error) {
    throw new TraceFileError(describe(error, path));
  }
  let bytes = 0;
  try {
    exporter(
      trace,
      context,
      {
        write(text) {
          const data = Buffer.from(text, 'utf8');
          let offset = 0;
          while (offset < data.length) offset += writeSync(fd, data, offset);
          bytes += data.length;
        },
        progress: options.progress,
        cancelled: options.cancelled,
      },
      options,
    );
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, path);
    return { bytes };
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temporary, { force: true });
    if (error instanceof ExportCancelled) throw error;
    if (error instanceof TraceFileError) throw error;
    throw new TraceFileError(describe(error, path));
  }
}
