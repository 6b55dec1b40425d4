import type { z } from 'zod';

/** One thing wrong with an input: where it is and what was expected there. */
export interface SchemaProblem {
  /** The file the input came from, when it came from one. */
  file?: string;
  /** Path inside the input, e.g. `devices[0].channel`; empty for the whole input. */
  path: string;
  message: string;
}

/** Renders a zod issue path the way a person reads it: `workload[2].buffer.placement`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function problemsFromZod(error: z.ZodError, file?: string): SchemaProblem[] {
  return error.issues.map((issue) => ({
    ...(file === undefined ? {} : { file }),
    path: formatPath(issue.path),
    message: issue.message,
  }));
}

/** `labs/01-x/lab.yaml: hints[1]: Invalid input: expected string, received number` */
export function describeProblem(p: SchemaProblem): string {
  const where = [p.file, p.path || undefined].filter((s) => s !== undefined && s !== '').join(': ');
  return where === '' ? p.message : `${where}: ${p.message}`;
}
