import { lstat, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { describeProblem, problemsFromZod, type SchemaProblem } from '../../shared/schemaError';
import { deviceName, Scenario } from '../../shared/scenario';

// A scenario file (YAML or JSON) from disk: parsed, validated against the schema, with
// every problem naming the file, the path inside it and what was expected; floppy images
// are read relative to the file.

export const FLOPPY_IMAGE_BYTES = 1_474_560;
export const MAX_SCENARIO_BYTES = 1024 * 1024;

export class ScenarioFileError extends Error {
  constructor(readonly problems: SchemaProblem[]) {
    super(problems.map(describeProblem).join('\n'));
    this.name = 'ScenarioFileError';
  }
}

export interface LoadedScenario {
  scenario: Scenario;
  /** Floppy images by device name. */
  images: Map<string, Uint8Array>;
}

/** A scenario's text (JSON when `file` ends in .json, YAML otherwise), checked against the schema; problems name `file`. */
export function parseScenarioText(text: string, file: string): Scenario {
  const json = /\.json$/i.test(file);
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const message = err instanceof YAMLParseError ? (err.message.split('\n')[0] ?? err.message) : err instanceof Error ? err.message : String(err);
    throw new ScenarioFileError([{ file, path: '', message: `is not valid ${json ? 'JSON' : 'YAML'}: ${message}` }]);
  }
  const parsed = Scenario.safeParse(data);
  if (!parsed.success) throw new ScenarioFileError(problemsFromZod(parsed.error, file));
  return parsed.data;
}

export interface LoadOptions {
  /**
   * Disk images must be plain files inside this folder (a lab pack's own): a path that climbs
   * out (`../`) or a link is refused. The CLI's own scenarios may name images anywhere.
   */
  confineTo?: string;
}

/** Why the file at `path` (named `as` in the scenario) may not be used by a lab in `folder`, or null. */
export async function confinementProblem(folder: string, path: string, as: string): Promise<string | null> {
  const inside = relative(folder, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return `the disk image ${as} is outside the lab's folder; a lab's files stay in its folder`;
  const link = await lstat(path).catch(() => null);
  if (link?.isSymbolicLink()) return `the disk image ${as} is a symbolic link; a lab's files must be plain files in its folder`;
  return null;
}

export async function loadScenarioFile(path: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  const fail = (message: string, at = ''): never => {
    throw new ScenarioFileError([{ file: path, path: at, message }]);
  };
  const info = await stat(path).catch(() => fail('no such file'));
  if (!info.isFile()) fail('is not a file');
  if (info.size > MAX_SCENARIO_BYTES) fail(`is ${info.size} bytes; a scenario is at most ${MAX_SCENARIO_BYTES}`);
  const scenario = parseScenarioText(await readFile(path, 'utf8'), path);
  const images = new Map<string, Uint8Array>();
  for (const [i, device] of scenario.devices.entries()) {
    if (device.type !== 'floppy' || device.image === undefined) continue;
    const imagePath = resolve(dirname(path), device.image);
    if (options.confineTo !== undefined) {
      const problem = await confinementProblem(options.confineTo, imagePath, device.image);
      if (problem !== null) fail(problem, `devices[${i}].image`);
    }
    const image = await readFile(imagePath).catch(() => fail(`cannot read the disk image ${imagePath}`, `devices[${i}].image`));
    if (image.length !== FLOPPY_IMAGE_BYTES) fail(`the disk image is ${image.length} bytes; a 1.44 MB disk image is ${FLOPPY_IMAGE_BYTES}`, `devices[${i}].image`);
    images.set(deviceName(device, i), new Uint8Array(image));
  }
  return { scenario, images };
}
