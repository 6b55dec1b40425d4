import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeProblem, formatPath, problemsFromZod } from './schemaError';

describe('schema errors name the path a person would write', () => {
  it('formats keys with dots and indexes with brackets', () => {
    expect(formatPath(['workload', 2, 'buffer', 'placement'])).toBe('workload[2].buffer.placement');
    expect(formatPath([0, 'x'])).toBe('[0].x');
    expect(formatPath([])).toBe('');
  });

  it('turns a zod error into file, path and what was expected', () => {
    const schema = z.object({ hints: z.array(z.string()) });
    const result = schema.safeParse({ hints: ['ok', 7] });
    expect(result.success).toBe(false);
    const [problem] = problemsFromZod(result.error!, 'labs/01-x/lab.yaml');
    expect(problem).toMatchObject({ file: 'labs/01-x/lab.yaml', path: 'hints[1]' });
    expect(describeProblem(problem!)).toMatch(/^labs\/01-x\/lab\.yaml: hints\[1\]: .*expected string/);
  });
});
