import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LabManifest } from '../../shared/lab';
import { Scenario } from '../../shared/scenario';
import { Random } from '../machine/random';
import { TraceRecorder } from '../trace/recorder';
import { prepareRun, runScenario } from './session';

// Every lab in labs/, as a person meets it: the scenario validates, the reference solution
// passes on 20 seeds, and the starter compiles and runs but fails the checks its lab.yaml
// says it fails.

const LABS = 'labs';
const SEEDS = 20;
const labs = readdirSync(LABS, { withFileTypes: true })
  .filter((e) => e.isDirectory() && /^[0-9]{2}-/.test(e.name))
  .map((e) => e.name)
  .sort();

function load(id: string) {
  const dir = join(LABS, id);
  const manifest = LabManifest.parse(parse(readFileSync(join(dir, 'lab.yaml'), 'utf8')));
  const scenario = Scenario.parse(parse(readFileSync(join(dir, 'scenario.yaml'), 'utf8')));
  const files = new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && f !== 'starter.ts' && f !== 'solution.ts')
      .map((f) => [`./${f.replace(/\.ts$/, '')}`, readFileSync(join(dir, f), 'utf8')] as const),
  );
  return { manifest, scenario, files, read: (f: string) => readFileSync(join(dir, f), 'utf8') };
}

describe('the labs', () => {
  it('have distinct numbers, and lab.yaml order matches the folder number', () => {
    expect(labs.length).toBeGreaterThan(0);
    expect(new Set(labs.map((id) => id.slice(0, 2))).size).toBe(labs.length);
    for (const id of labs) expect(load(id).manifest.order, id).toBe(Number(id.slice(0, 2)));
  });

  for (const id of labs) {
    describe(id, () => {
      const lab = load(id);

      it(`the solution passes on ${SEEDS} seeds`, async () => {
        for (let seed = 1; seed <= SEEDS; seed++) {
          const { result } = await runScenario({ scenario: lab.scenario, source: lab.read('solution.ts'), file: 'solution.ts', seed, files: lab.files });
          expect(result.checks.filter((c) => !c.ok), `seed ${seed}`).toEqual([]);
          expect(result.bugcheck, `seed ${seed}`).toBeNull();
          expect(result.ok, `seed ${seed}`).toBe(true);
        }
      }, 120_000);

      it('the starter compiles and runs, and fails the checks its lab names', async () => {
        const { result } = await runScenario({ scenario: lab.scenario, source: lab.read('starter.ts'), file: 'starter.ts', seed: 1, files: lab.files });
        expect(result.ok).toBe(false);
        const failed = result.checks.filter((c) => !c.ok).map((c) => c.id);
        for (const check of lab.manifest.starterFails ?? []) expect(failed).toContain(check);
      });
    });
  }
});

// A warm worker builds the open lab's machine before the person presses Run (prepareRun);
// the run that starts from it must be the run that builds its own.
describe('a run from a machine built ahead', () => {
  const image = (seed: number) => {
    const random = new Random(seed);
    const bytes = new Uint8Array(1474560);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random.nextUint32() & 0xff;
    return bytes;
  };
  const cases: { id: string; seed: number; images?: Map<string, Uint8Array> }[] = [
    { id: '03-packet-write-coherency', seed: 4, images: new Map([['fdc0', image(7)]]) },
    { id: '07-autoinit-playback', seed: 2 },
    { id: '09-scatter-gather', seed: 5 },
  ];
  for (const { id, seed, images } of cases) {
    it(`is the same run: ${id}, seed ${seed}${images ? ', a disk image' : ''}`, async () => {
      const lab = load(id);
      const run = async (ahead: boolean) => {
        const trace = new TraceRecorder('bus');
        // Each run gets its own copy of the image, as a worker does: a write changes it.
        const own = images && new Map([...images].map(([k, v]) => [k, v.slice()]));
        const options = { scenario: lab.scenario, source: lab.read('solution.ts'), file: 'solution.ts', seed, files: lab.files, images: own, trace };
        const prepared = ahead ? prepareRun(options) : undefined;
        const session = await runScenario({ ...options, ...(prepared ? { prepared } : {}) });
        return { result: session.result, events: trace.count, image: own?.get('fdc0') };
      };
      const fresh = await run(false);
      const ahead = await run(true);
      expect(fresh.result.ok).toBe(true);
      expect(fresh.events).toBeGreaterThan(1000);
      expect(ahead.result).toEqual(fresh.result);
      expect(ahead.events).toBe(fresh.events);
      expect(ahead.image).toEqual(fresh.image);
    }, 120_000);
  }
});
