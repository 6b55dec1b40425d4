import { z } from 'zod';

// A person's progress through the labs, as the app shows it and as a progress file carries
// it from one data folder to another. The store (src/main/services/progressStore.ts) keeps it
// in SQLite; this is its contract.

export const LabStatus = z.enum(['not-started', 'in-progress', 'passed']);
export type LabStatus = z.infer<typeof LabStatus>;

/** How a run ended, as an attempt remembers it. */
export const AttemptOutcome = z.enum(['result', 'load-error', 'crash', 'stopped']);

/** One run of a lab's driver: when, whether it passed, and what went wrong. */
export const Attempt = z.strictObject({
  /** Milliseconds since 1970 (wall clock: when the person ran it). */
  at: z.number().int().min(0),
  ok: z.boolean(),
  outcome: AttemptOutcome,
  checksPassed: z.number().int().min(0),
  checksTotal: z.number().int().min(0),
  /** The ids of the checks that failed. */
  failed: z.array(z.string().max(200)).max(200),
  /** The verifier's rule ids, once each, in the order first found. */
  findings: z.array(z.string().max(200)).max(200),
  /** The bug check's name, if the run stopped with one. */
  bugcheck: z.string().max(200).nullable(),
});
export type Attempt = z.infer<typeof Attempt>;

/** A lab's progress: the code in the editor, where the person stands, the best attempt. */
export const LabProgress = z.strictObject({
  labId: z.string().max(200),
  status: LabStatus,
  /** The editor's code as last saved, or null (the starter). */
  code: z.string().max(1_000_000).nullable(),
  codeSavedAt: z.number().int().min(0).nullable(),
  hintsUnlocked: z.number().int().min(0).max(1000),
  attempts: z.number().int().min(0),
  /** The attempt with the most checks passed (a passing one first), or null before any. */
  best: Attempt.nullable(),
  passedAt: z.number().int().min(0).nullable(),
});
export type LabProgress = z.infer<typeof LabProgress>;

const SettingFields = {
  theme: z.enum(['system', 'light', 'dark']),
  /** Run speed: simulated per wall time, 0 = as fast as possible. */
  speed: z.number().min(0).max(1000),
  /** The editor's share of the window, in percent. */
  editorPercent: z.number().min(10).max(90),
  /** The lab open last, to open again. */
  lastLab: z.string().max(200).nullable(),
};

/** The app's settings; each has a default, so a store that has none is complete. */
export const Settings = z.strictObject({
  theme: SettingFields.theme.default('system'),
  speed: SettingFields.speed.default(0),
  editorPercent: SettingFields.editorPercent.default(56),
  lastLab: SettingFields.lastLab.default(null),
});
export type Settings = z.infer<typeof Settings>;
/** Some settings to change; the ones not named stay as they are. */
export const SettingsChange = z.strictObject(SettingFields).partial();
export type SettingsChange = z.infer<typeof SettingsChange>;
export const SETTING_KEYS = Object.keys(SettingFields) as (keyof Settings)[];

export const PROGRESS_FILE_FORMAT = 'dmalab-progress';
/** The version of the progress file this app writes; it reads this and every earlier one. */
export const PROGRESS_FILE_VERSION = 1;

/** A person's whole progress, as one file (Export progress / Import progress). */
export const ProgressFile = z.strictObject({
  format: z.literal(PROGRESS_FILE_FORMAT),
  version: z.literal(PROGRESS_FILE_VERSION),
  exportedAt: z.number().int().min(0),
  labs: z.array(LabProgress.omit({ attempts: true, best: true })).max(10_000),
  attempts: z.array(Attempt.extend({ labId: z.string().max(200) })).max(1_000_000),
  settings: Settings,
});
export type ProgressFile = z.infer<typeof ProgressFile>;

/** Attempts after which a lab's reference solution opens even if it is not passed. */
export const SOLUTION_AFTER_ATTEMPTS = 5;
