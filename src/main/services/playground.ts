import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ScenarioDetail, ScenarioSummary } from '../../shared/playground';
import { ScenarioId } from '../../shared/playground';
import { deviceName, type Scenario } from '../../shared/scenario';
import type { SchemaProblem } from '../../shared/schemaError';
import { loadScenarioFile, MAX_SCENARIO_BYTES, parseScenarioText, ScenarioFileError } from './scenarioFile';

// The playground's scenarios: the examples in labs/playground/ and the person's own in the
// data folder's scenarios/, with the driver typed for each kept beside them. A scenario the
// person opens from a file is checked as `dmalab run` checks it, with the same messages,
// and kept only when it fits.

export class ScenarioNotFoundError extends Error {
  constructor(id: string) {
    super(`no scenario "${id}" (the playground lists the examples and the scenarios you have opened)`);
  }
}

const SCENARIO_SUFFIX = '.scenario.yaml';
const MAX_DRIVER_BYTES = 1024 * 1024;

/** A driver to start from when a scenario has none. */
function skeleton(title: string): string {
  return `// A driver for: ${title}
//
// DriverEntry runs first; every WDM routine and constant is global (see labs/wdm.d.ts).
// Give the PnP manager an AddDevice and a DispatchPnp, then the dispatch routines the
// workload's IRPs need. DbgPrint writes to the trace and the Result tab.

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DbgPrint(\`DriverEntry \${RegistryPath}\\n\`);
  return STATUS_SUCCESS;
}
`;
}

/** A file name as a scenario name: `My Test.scenario.yaml` → `my-test`. */
export function scenarioName(fileName: string): string {
  const base = fileName
    .replace(/^.*[\\/]/, '')
    .replace(/(\.scenario)?\.(ya?ml|json)$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return base === '' ? 'scenario' : base;
}

function devicesOf(scenario: Scenario): string[] {
  return scenario.devices.map((d, i) => `${d.type} ${deviceName(d, i)}`);
}

/** Writes a file whole or not at all (a crash mid-write leaves the old one). */
function writeWhole(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.partial`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

export class Playground {
  constructor(
    /** labs/playground: the examples. */
    private readonly examplesDir: string,
    /** The data folder's scenarios/: the person's own, and the drivers kept for every scenario. */
    private readonly userDir: string,
  ) {}

  async list(): Promise<{ scenarios: ScenarioSummary[]; problems: SchemaProblem[] }> {
    const scenarios: ScenarioSummary[] = [];
    const problems: SchemaProblem[] = [];
    for (const source of ['example', 'mine'] as const) {
      for (const name of await this.names(source)) {
        try {
          const { scenario } = await loadScenarioFile(this.scenarioPath(source, name));
          scenarios.push({ id: `${source}/${name}`, title: scenario.title ?? name, source, devices: devicesOf(scenario) });
        } catch (error) {
          if (!(error instanceof ScenarioFileError)) throw error;
          problems.push(...error.problems);
        }
      }
    }
    return { scenarios, problems };
  }

  async get(id: string): Promise<ScenarioDetail> {
    const { source, name } = this.parse(id);
    const path = this.scenarioPath(source, name);
    const { scenario } = await loadScenarioFile(path);
    const text = await readFile(path, 'utf8');
    const savedPath = this.driverPath(source, name);
    const saved = existsSync(savedPath) ? await readFile(savedPath, 'utf8') : null;
    const example = source === 'example' ? this.exampleDriver(name, text) : null;
    const starter: Pick<ScenarioDetail, 'starter' | 'starterFrom'> =
      example !== null ? { starter: await readFile(example, 'utf8'), starterFrom: 'example' } : { starter: skeleton(scenario.title ?? name), starterFrom: 'skeleton' };
    return { id: `${source}/${name}`, title: scenario.title ?? name, source, devices: devicesOf(scenario), text, ...starter, saved };
  }

  /**
   * Keeps a scenario file the person opened, under the name its file has (replacing one of
   * that name); throws ScenarioFileError, keeping nothing, when it does not fit.
   */
  async open(fileName: string, text: string): Promise<{ id: string; replaced: boolean }> {
    const fail = (message: string, path = ''): never => {
      throw new ScenarioFileError([{ file: fileName, path, message }]);
    };
    if (Buffer.byteLength(text) > MAX_SCENARIO_BYTES) fail(`is ${Buffer.byteLength(text)} bytes; a scenario is at most ${MAX_SCENARIO_BYTES}`);
    if (!/\.(ya?ml|json)$/i.test(fileName)) fail('is not a scenario file: expected a .yaml, .yml or .json file (a driver is a .ts file)');
    const scenario = parseScenarioText(text, fileName);
    // Opened from a file, a scenario comes without the files beside it.
    for (const [i, device] of scenario.devices.entries()) {
      if (device.type === 'floppy' && device.image !== undefined) {
        fail('a scenario opened in the app cannot bring its disk image: leave "image" out (the disk is then patterned) or run it with "dmalab run"', `devices[${i}].image`);
      }
    }
    const name = scenarioName(fileName);
    mkdirSync(this.userDir, { recursive: true });
    const path = this.scenarioPath('mine', name);
    const replaced = existsSync(path);
    writeWhole(path, /\.json$/i.test(fileName) ? stringify(JSON.parse(text)) : text);
    return { id: `mine/${name}`, replaced };
  }

  /** Keeps the driver typed for a scenario. */
  async saveDriver(id: string, code: string): Promise<void> {
    const { source, name } = this.parse(id);
    if (!existsSync(this.scenarioPath(source, name))) throw new ScenarioNotFoundError(id);
    if (Buffer.byteLength(code) > MAX_DRIVER_BYTES) throw new ScenarioFileError([{ path: '', message: `the driver is ${Buffer.byteLength(code)} bytes; at most ${MAX_DRIVER_BYTES}` }]);
    mkdirSync(this.driversDir(source), { recursive: true });
    writeWhole(this.driverPath(source, name), code);
  }

  /** What a run of the scenario needs (a playground driver imports nothing of its own). */
  async runInputs(id: string): Promise<{ scenario: Scenario; images: Record<string, Uint8Array>; files: Record<string, string> }> {
    const { source, name } = this.parse(id);
    const { scenario, images } = await loadScenarioFile(this.scenarioPath(source, name));
    return { scenario, images: Object.fromEntries(images), files: {} };
  }

  private parse(id: string): { source: 'example' | 'mine'; name: string } {
    if (!ScenarioId.safeParse(id).success) throw new ScenarioNotFoundError(id);
    const [source, name] = id.split('/') as ['example' | 'mine', string];
    if (!existsSync(this.scenarioPath(source, name))) throw new ScenarioNotFoundError(id);
    return { source, name };
  }

  private async names(source: 'example' | 'mine'): Promise<string[]> {
    const dir = source === 'example' ? this.examplesDir : this.userDir;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile() && e.name.endsWith(SCENARIO_SUFFIX))
      .map((e) => e.name.slice(0, -SCENARIO_SUFFIX.length))
      .filter((name) => ScenarioId.safeParse(`${source}/${name}`).success)
      .sort();
  }

  private scenarioPath(source: 'example' | 'mine', name: string): string {
    return join(source === 'example' ? this.examplesDir : this.userDir, `${name}${SCENARIO_SUFFIX}`);
  }

  /** Drivers for the examples are kept apart from the person's own scenarios of the same name. */
  private driversDir(source: 'example' | 'mine'): string {
    return source === 'example' ? join(this.userDir, 'examples') : this.userDir;
  }

  private driverPath(source: 'example' | 'mine', name: string): string {
    return join(this.driversDir(source), `${name}.driver.ts`);
  }

  /** The example's reference driver: `<name>.driver.ts`, or the one its file names. */
  private exampleDriver(name: string, text: string): string | null {
    const own = join(this.examplesDir, `${name}.driver.ts`);
    if (existsSync(own)) return own;
    const named = /([a-z0-9-]+\.driver\.ts)/.exec(text)?.[1];
    return named !== undefined && existsSync(join(this.examplesDir, named)) ? join(this.examplesDir, named) : null;
  }
}
