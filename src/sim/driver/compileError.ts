// A compiler message about the driver, where it points. Kept apart from compile.ts so
// that reporting one does not load the TypeScript compiler.

export interface CompileError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `driver.ts:12:5: error: ';' expected`, as compilers print it. */
export function formatCompileError(e: CompileError): string {
  return `${e.file}:${e.line}:${e.column}: error: ${e.message}`;
}
