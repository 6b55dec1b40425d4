import { z } from 'zod';

/** A lab's id is its folder name under `labs/`: two digits, then words joined by dashes. */
export const LabId = z.string().regex(/^[0-9]{2}(-[a-z0-9]+)+$/, 'a lab id such as "01-adapter-object"');

/** A driver routine a lab names, as the WDK spells it. */
const RoutineName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a routine name such as "StartIo"');

/** `labs/<id>/lab.yaml`. */
export const LabManifest = z.strictObject({
  title: z.string().min(1).max(120),
  summary: z.string().min(1).max(400),
  order: z.number().int().min(1),
  concepts: z.array(z.string().min(1)).min(1),
  routines: z.strictObject({
    /** What the person writes. */
    write: z.array(RoutineName).min(1),
    /** What the starter provides. */
    given: z.array(RoutineName).default([]),
  }),
  /** Unlocked one at a time, in this order. */
  hints: z.array(z.string().min(1)).default([]),
  /** WDK pages worth reading, by title. */
  reading: z.array(z.string().min(1)).default([]),
  /** The checks the starter code fails (it compiles and runs, but does not pass these). */
  starterFails: z.array(z.string().regex(/^[a-z-]+(#[0-9]+)?$/, 'a check id such as "data-integrity"')).min(1).optional(),
});
export type LabManifest = z.infer<typeof LabManifest>;

export const LabSummary = z.strictObject({
  id: LabId,
  title: z.string(),
  summary: z.string(),
  order: z.number().int(),
  concepts: z.array(z.string()),
  routines: z.strictObject({ write: z.array(z.string()), given: z.array(z.string()) }),
  hintCount: z.number().int().min(0),
});
export type LabSummary = z.infer<typeof LabSummary>;

export const LabDetail = LabSummary.extend({
  /** Markdown. */
  instructions: z.string(),
  starterCode: z.string(),
  reading: z.array(z.string()),
  /** The lab's helper modules the starter imports, file name → source (read-only in the editor). */
  helpers: z.record(z.string().regex(/^[a-z][a-z0-9-]*\.ts$/), z.string()).default({}),
  /** SVG diagrams beside the instructions, file name → SVG text; the instructions show one with `![caption](name.svg)`. */
  diagrams: z.record(z.string().regex(/^[a-z][a-z0-9-]*\.svg$/), z.string()).default({}),
});
export type LabDetail = z.infer<typeof LabDetail>;

/** A lab that could not be loaded, and why, while the rest of the catalog loads. */
export const CatalogProblem = z.strictObject({
  lab: z.string(),
  file: z.string(),
  path: z.string(),
  message: z.string(),
});
export type CatalogProblem = z.infer<typeof CatalogProblem>;
