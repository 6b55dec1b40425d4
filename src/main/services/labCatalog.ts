import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { type CatalogProblem, type LabDetail, LabId, LabManifest, type LabSummary } from '../../shared/lab';
import { Scenario } from '../../shared/scenario';
import { confinementProblem, loadScenarioFile } from './scenarioFile';
import { formatPath } from '../../shared/schemaError';

// The catalog is the `labs/` folder: each lab is `labs/<id>/` with lab.yaml,
// scenario.yaml, instructions.md, starter.ts and solution.ts (DESIGN.md, "Labs and
// scenarios"). A broken lab is reported with its file and the path inside it; the
// other labs still load.

const LAB_FILES = ['lab.yaml', 'scenario.yaml', 'instructions.md', 'starter.ts', 'solution.ts'] as const;
type LabFile = (typeof LAB_FILES)[number];

/** Lab text files are small; anything larger is a mistake or an attack on the reader. */
export const MAX_LAB_FILE_BYTES = 1024 * 1024;
/** A diagram is a drawing, not a payload. */
export const MAX_DIAGRAM_BYTES = 256 * 1024;

export class CatalogError extends Error {
  constructor(readonly problems: CatalogProblem[]) {
    super(problems.map((p) => `${p.file}${p.path ? `: ${p.path}` : ''}: ${p.message}`).join('\n'));
    this.name = 'CatalogError';
  }
}

export class LabNotFoundError extends Error {
  constructor(id: string) {
    super(`no lab "${id}" in the catalog`);
    this.name = 'LabNotFoundError';
  }
}

interface LoadedLab {
  summary: LabSummary;
  manifest: LabManifest;
  files: Record<LabFile, string>;
}

export class LabCatalog {
  constructor(readonly labsDir: string) {}

  async list(): Promise<{ labs: LabSummary[]; problems: CatalogProblem[] }> {
    const labs: LabSummary[] = [];
    const problems: CatalogProblem[] = [];
    // A lab is a folder of its own: a link to one elsewhere on the disk is not taken.
    for (const e of await readdir(this.labsDir, { withFileTypes: true })) {
      if (e.isSymbolicLink() && LabId.safeParse(e.name).success) problems.push({ lab: e.name, file: `labs/${e.name}`, path: '', message: 'is a symbolic link; a lab must be a folder inside labs/, not a link to one' });
    }
    for (const id of await this.labIds()) {
      try {
        labs.push((await this.load(id)).summary);
      } catch (err) {
        if (!(err instanceof CatalogError)) throw err;
        problems.push(...err.problems);
      }
    }
    labs.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
    return { labs, problems };
  }

  async get(id: string): Promise<LabDetail> {
    if (!LabId.safeParse(id).success || !(await this.labIds()).includes(id)) throw new LabNotFoundError(id);
    const { summary, manifest, files } = await this.load(id);
    return { ...summary, instructions: files['instructions.md'], starterCode: files['starter.ts'], reading: manifest.reading, helpers: await this.helpers(id), diagrams: await this.diagrams(id) };
  }

  /** What a run of a driver on this lab needs: the scenario, its disk images, and the helper modules as './name'. */
  async runInputs(id: string): Promise<{ scenario: Scenario; images: Record<string, Uint8Array>; files: Record<string, string> }> {
    if (!LabId.safeParse(id).success || !(await this.labIds()).includes(id)) throw new LabNotFoundError(id);
    await this.load(id); // a broken lab is refused with its problems
    const { scenario, images } = await loadScenarioFile(join(this.labsDir, id, 'scenario.yaml'), { confineTo: join(this.labsDir, id) });
    const files = Object.fromEntries(Object.entries(await this.helpers(id)).map(([name, text]) => [`./${name.replace(/\.ts$/, '')}`, text]));
    return { scenario, images: Object.fromEntries(images), files };
  }

  /** The lab's reference solution (the page gets it only once the person has earned it: see 'labs.solution'). */
  async solution(id: string): Promise<string> {
    if (!LabId.safeParse(id).success || !(await this.labIds()).includes(id)) throw new LabNotFoundError(id);
    return (await this.load(id)).files['solution.ts'];
  }

  /** The lab's hints, in the order they unlock (the page gets only those the person has unlocked). */
  async hints(id: string): Promise<string[]> {
    if (!LabId.safeParse(id).success || !(await this.labIds()).includes(id)) throw new LabNotFoundError(id);
    return (await this.load(id)).manifest.hints;
  }

  /**
   * A short run of the lab's own solution (its first simulated `ms`), which a spare worker
   * makes while it waits so that the person's first run finds the simulator's code already hot.
   * `inputs`: the lab's runInputs, when the caller has read them already.
   */
  async rehearsal(
    id: string,
    inputs?: Awaited<ReturnType<LabCatalog['runInputs']>>,
    ms = 200,
  ): Promise<{ scenario: Scenario; source: string; file: string; seed: number; images: Record<string, Uint8Array>; files: Record<string, string> }> {
    inputs ??= await this.runInputs(id);
    const { files } = await this.load(id);
    return { ...inputs, scenario: { ...inputs.scenario, timeLimitMs: Math.min(inputs.scenario.timeLimitMs, ms) }, source: files['solution.ts'], file: 'solution.ts', seed: 1 };
  }

  /** Helper modules beside the lab's files (`fdc.ts`, …): plain files only, each within the size limit. */
  private async helpers(id: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(join(this.labsDir, id), { withFileTypes: true })) {
      if (!e.isFile() || !/^[a-z][a-z0-9-]*\.ts$/.test(e.name) || (LAB_FILES as readonly string[]).includes(e.name)) continue;
      const path = join(this.labsDir, id, e.name);
      if ((await lstat(path)).size <= MAX_LAB_FILE_BYTES) out[e.name] = await readFile(path, 'utf8');
    }
    return out;
  }

  /**
   * SVG diagrams beside the instructions: plain files (never a link out of the folder) of
   * at most MAX_DIAGRAM_BYTES; the page sanitises them as it does the Markdown. One that is
   * not fit to show is left out, and the instructions show its caption instead.
   */
  private async diagrams(id: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(join(this.labsDir, id), { withFileTypes: true })) {
      if (!e.isFile() || !/^[a-z][a-z0-9-]*\.svg$/.test(e.name)) continue;
      const path = join(this.labsDir, id, e.name);
      if ((await lstat(path)).size <= MAX_DIAGRAM_BYTES) out[e.name] = await readFile(path, 'utf8');
    }
    return out;
  }

  /** Folders under labs/ that look like labs; `devices` and `playground` are not labs. */
  private async labIds(): Promise<string[]> {
    const entries = await readdir(this.labsDir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && LabId.safeParse(e.name).success)
      .map((e) => e.name)
      .sort();
  }

  private async load(id: string): Promise<LoadedLab> {
    const problems: CatalogProblem[] = [];
    const files = {} as Record<LabFile, string>;
    for (const name of LAB_FILES) {
      const text = await this.readLabFile(id, name, problems);
      if (text !== undefined) files[name] = text;
    }
    const manifest = files['lab.yaml'] === undefined ? undefined : parseFile(id, 'lab.yaml', files['lab.yaml'], LabManifest, problems);
    const scenario = files['scenario.yaml'] === undefined ? undefined : parseFile(id, 'scenario.yaml', files['scenario.yaml'], Scenario, problems);
    // Disk images are named by path: they must be the lab's own files.
    for (const [i, device] of (scenario?.devices ?? []).entries()) {
      if (device.type !== 'floppy' || device.image === undefined) continue;
      const problem = await confinementProblem(join(this.labsDir, id), resolve(this.labsDir, id, device.image), device.image);
      if (problem !== null) problems.push({ lab: id, file: `labs/${id}/scenario.yaml`, path: `devices[${i}].image`, message: problem });
    }
    if (problems.length > 0 || manifest === undefined) throw new CatalogError(problems);
    return {
      manifest,
      files,
      summary: {
        id,
        title: manifest.title,
        summary: manifest.summary,
        order: manifest.order,
        concepts: manifest.concepts,
        routines: manifest.routines,
        hintCount: manifest.hints.length,
      },
    };
  }

  private async readLabFile(id: string, name: LabFile, problems: CatalogProblem[]): Promise<string | undefined> {
    const path = join(this.labsDir, id, name);
    const file = `labs/${id}/${name}`;
    const problem = (message: string) => {
      problems.push({ lab: id, file, path: '', message });
      return undefined;
    };
    let stat;
    try {
      stat = await lstat(path);
    } catch {
      return problem('missing: every lab needs lab.yaml, scenario.yaml, instructions.md, starter.ts and solution.ts');
    }
    // A link could point anywhere on the disk; a lab is only what its folder holds.
    if (stat.isSymbolicLink()) return problem('is a symbolic link; lab files must be plain files inside the lab folder');
    if (!stat.isFile()) return problem('is not a plain file');
    if (stat.size > MAX_LAB_FILE_BYTES) return problem(`is ${stat.size} bytes; a lab file may be at most ${MAX_LAB_FILE_BYTES} bytes`);
    return readFile(path, 'utf8');
  }
}

function parseFile<S extends z.ZodType>(
  lab: string,
  name: string,
  text: string,
  schema: S,
  problems: CatalogProblem[],
): z.output<S> | undefined {
  const file = `labs/${lab}/${name}`;
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const message = err instanceof YAMLParseError ? err.message.split('\n')[0] ?? err.message : String(err);
    problems.push({ lab, file, path: '', message: `is not valid YAML: ${message}` });
    return undefined;
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) problems.push({ lab, file, path: formatPath(issue.path), message: issue.message });
  return undefined;
}
