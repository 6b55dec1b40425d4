import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../shared/run';
import type { ApiClient } from '../api/handlers';
import { LabCatalog } from './labCatalog';
import { Playground, scenarioName, ScenarioNotFoundError } from './playground';
import { RunManager } from './runManager';
import { ScenarioFileError } from './scenarioFile';
import { WorkerPool } from './workerPool';

// The playground's scenarios: the shipped examples, the person's own opened from files
// (checked as the CLI checks them, kept only when they fit) and the driver kept for each.

const root = join(__dirname, '..', '..', '..');
const examples = join(root, 'labs', 'playground');
const folders: string[] = [];
function playground() {
  const dir = mkdtempSync(join(tmpdir(), 'dmalab-playground-'));
  folders.push(dir);
  return { dir: join(dir, 'scenarios'), playground: new Playground(examples, join(dir, 'scenarios')) };
}
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const floppyText = readFileSync(join(examples, 'floppy-packet.scenario.yaml'), 'utf8');

describe('the playground', () => {
  it('lists every example with its title and devices, and gives each its reference driver', async () => {
    const { playground: p } = playground();
    const { scenarios, problems } = await p.list();
    const shipped = readdirSync(examples).filter((f) => f.endsWith('.scenario.yaml')).map((f) => `example/${f.replace('.scenario.yaml', '')}`);
    expect(scenarios.map((s) => s.id).sort()).toEqual(shipped.sort());
    expect(problems).toEqual([]);
    expect(scenarios.find((s) => s.id === 'example/floppy-packet')).toMatchObject({ source: 'example', devices: ['floppy fdc0'], title: expect.stringContaining('Floppy controller') });
    // Its own driver by name, or the one its file names.
    expect(await p.get('example/floppy-packet')).toMatchObject({ starterFrom: 'example', starter: readFileSync(join(examples, 'floppy-packet.driver.ts'), 'utf8'), saved: null, text: floppyText });
    expect(await p.get('example/sound-capture')).toMatchObject({ starterFrom: 'example', starter: readFileSync(join(examples, 'sound-common-buffer.driver.ts'), 'utf8') });
  });

  it('keeps a scenario file the person opens under its name, and the driver typed for it', async () => {
    const { playground: p, dir } = playground();
    expect(await p.open('My Floppy Test.scenario.yaml', floppyText)).toEqual({ id: 'mine/my-floppy-test', replaced: false });
    expect(readFileSync(join(dir, 'my-floppy-test.scenario.yaml'), 'utf8')).toBe(floppyText);
    const mine = await p.get('mine/my-floppy-test');
    expect(mine).toMatchObject({ source: 'mine', starterFrom: 'skeleton', starter: expect.stringContaining('export function DriverEntry'), saved: null });
    await p.saveDriver('mine/my-floppy-test', '// mine\n');
    expect(await p.get('mine/my-floppy-test')).toMatchObject({ starterFrom: 'skeleton', saved: '// mine\n' });
    // An example's driver is kept apart from a scenario of the person's with the same name.
    await p.saveDriver('example/floppy-packet', '// my floppy-packet\n');
    expect(await p.get('example/floppy-packet')).toMatchObject({ starterFrom: 'example', saved: '// my floppy-packet\n' });
    // Opened again: replaced. JSON is kept as YAML.
    expect(await p.open('my-floppy-test.json', JSON.stringify({ title: 'As JSON', devices: [{ type: 'floppy', port: 0x3f0, irq: 6, channel: 2 }], workload: [{ major: 'read', length: 512 }], checks: [{ kind: 'data-integrity' }] }))).toEqual({ id: 'mine/my-floppy-test', replaced: true });
    expect((await p.list()).scenarios.find((s) => s.id === 'mine/my-floppy-test')?.title).toBe('As JSON');
  });

  it('refuses a scenario that does not fit with the CLI\'s messages, and keeps nothing', async () => {
    const { playground: p, dir } = playground();
    const bad = floppyText.replace('major: read, length: 512,', 'major: reed, length: 512,');
    const refused = await p.open('broken.yaml', bad).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ScenarioFileError);
    expect((refused as ScenarioFileError).problems[0]).toMatchObject({ file: 'broken.yaml', path: 'workload[0].major' });
    await expect(p.open('notes.yaml', 'title: [unclosed')).rejects.toThrow(/^notes\.yaml: is not valid YAML/);
    await expect(p.open('driver.ts', 'export function DriverEntry() {}')).rejects.toThrow(/not a scenario file: expected a \.yaml, \.yml or \.json file/);
    await expect(p.open('disk.yaml', floppyText.replace('channel: 2', 'channel: 2\n    image: disk.img'))).rejects.toThrow(/devices\[0\]\.image: a scenario opened in the app cannot bring its disk image/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    // A file of the person's that stopped fitting is reported; the rest still list.
    await p.open('good.yaml', floppyText);
    writeFileSync(join(dir, 'spoilt.scenario.yaml'), 'devices: 3\n');
    const { scenarios, problems } = await p.list();
    expect(scenarios.some((s) => s.id === 'mine/good')).toBe(true);
    expect(problems[0]).toMatchObject({ file: join(dir, 'spoilt.scenario.yaml') });
    // Ids are names, never paths.
    for (const id of ['mine/../good', 'mine/nothing', 'other/good', 'mine/good/x']) await expect(p.get(id)).rejects.toThrow(ScenarioNotFoundError);
    expect(scenarioName('../../etc/Passwd.YAML')).toBe('passwd');
  });

  it('runs a driver on a scenario of the person\'s, and the run is no lab\'s attempt', async () => {
    const { playground: p } = playground();
    const { id } = await p.open('floppy.yaml', floppyText);
    const attempts: string[] = [];
    const pool = new WorkerPool(join(root, 'out', 'main', 'simWorker.js'), 1, 0);
    const runs = new RunManager(new LabCatalog(join(root, 'labs')), pool, (labId) => attempts.push(labId), p);
    const events: RunEvent[] = [];
    const client: ApiClient = { emit: (name, payload) => name === 'run.event' && events.push((payload as { event: RunEvent }).event), onClose: () => {} };
    const source = readFileSync(join(examples, 'floppy-packet.driver.ts'), 'utf8');
    await runs.start({ scenarioId: id, source, breakpoints: [], stopAtStart: false, speed: 0, seed: 1 }, client);
    await expect.poll(() => events.find((e) => e.kind === 'finished'), { timeout: 30_000 }).toBeTruthy();
    const end = events.find((e) => e.kind === 'finished')!;
    expect(end.kind === 'finished' && end.outcome.kind === 'result' && end.outcome.result.ok).toBe(true);
    expect(attempts).toEqual([]);
    runs.stopAll();
  }, 60_000);
});
