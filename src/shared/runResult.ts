import { z } from 'zod';

// What a run of a driver against a scenario produced: the contract `dmalab run --json`
// prints and the app shows. Lines are the driver's TypeScript lines (null: no driver
// code was running).

export const CheckResult = z.strictObject({ id: z.string(), ok: z.boolean(), message: z.string() });

export const Violation = z.strictObject({ rule: z.string(), message: z.string(), line: z.number().int().nullable() });

export const BugCheckResult = z.strictObject({
  code: z.number().int(),
  name: z.string(),
  parameters: z.array(z.number()).length(4),
  message: z.string(),
  line: z.number().int().nullable(),
});

export const IrpResult = z.strictObject({
  major: z.enum(['read', 'write']),
  device: z.string(),
  length: z.number().int(),
  /** The NTSTATUS name (or hex), or null when the IRP never completed. */
  status: z.string().nullable(),
  information: z.number(),
});

export const RunResult = z.strictObject({
  ok: z.boolean(),
  checks: z.array(CheckResult),
  violations: z.array(Violation),
  bugcheck: BugCheckResult.nullable(),
  irps: z.array(IrpResult),
  console: z.array(z.string()),
  stats: z.strictObject({
    simulatedNs: z.number(),
    dmaBytes: z.number(),
    interrupts: z.number(),
    dpcs: z.number(),
    mapTransfers: z.number(),
    apiCalls: z.number(),
  }),
});

export type RunResult = z.infer<typeof RunResult>;
export type CheckResult = z.infer<typeof CheckResult>;
