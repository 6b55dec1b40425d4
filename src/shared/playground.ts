import { z } from 'zod';

// The playground: any scenario with any driver, outside the guided labs. Its scenarios are
// the examples shipped in labs/playground/ and the person's own, opened from a file and kept
// in their data folder; the driver typed for each is kept there too.

/** `example/<name>` (labs/playground/<name>.scenario.yaml) or `mine/<name>` (the data folder's scenarios/). */
export const ScenarioId = z.string().regex(/^(example|mine)\/[a-z0-9][a-z0-9-]{0,63}$/, 'a scenario id such as "example/floppy-packet" or "mine/my-test"');
export type ScenarioId = z.infer<typeof ScenarioId>;

/** A lab id has no slash; a scenario id has one. */
export const isScenarioId = (id: string): boolean => id.includes('/');

export const ScenarioSummary = z.strictObject({
  id: ScenarioId,
  title: z.string(),
  source: z.enum(['example', 'mine']),
  /** The devices it puts on the bus ("floppy fdc0", …). */
  devices: z.array(z.string()),
});
export type ScenarioSummary = z.infer<typeof ScenarioSummary>;

export const ScenarioDetail = ScenarioSummary.extend({
  /** The scenario file as written. */
  text: z.string(),
  /** The driver to start from: the example's reference driver, or a skeleton. */
  starter: z.string(),
  starterFrom: z.enum(['example', 'skeleton']),
  /** What the person last had in the editor for it, or null. */
  saved: z.string().nullable(),
});
export type ScenarioDetail = z.infer<typeof ScenarioDetail>;

/** A SchemaProblem (schemaError.ts) on the wire. */
const Problem = z.strictObject({ file: z.string().optional(), path: z.string(), message: z.string() });

export const PlaygroundList = z.strictObject({
  scenarios: z.array(ScenarioSummary),
  /** The person's scenario files that no longer fit the schema, each problem naming the file. */
  problems: z.array(Problem),
});

/** A scenario file opened from disk: its name (for the id) and its text. */
export const OpenScenarioRequest = z.strictObject({
  fileName: z.string().min(1).max(200),
  text: z.string().max(1024 * 1024),
});
