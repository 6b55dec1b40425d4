import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabCatalog, LabNotFoundError, MAX_DIAGRAM_BYTES, MAX_LAB_FILE_BYTES } from './labCatalog';

const realLabs = new URL('../../../labs', import.meta.url).pathname;
const LAB = '01-adapter-object';

describe('the real catalog', () => {
  it('lists lab 01 with its manifest and no problems', async () => {
    const { labs, problems } = await new LabCatalog(realLabs).list();
    expect(problems).toEqual([]);
    expect(labs.map((l) => l.id)).toContain(LAB);
    const lab = labs.find((l) => l.id === LAB)!;
    expect(lab.title).toBe('The adapter object');
    expect(lab.routines.write).toEqual(['DispatchPnp']);
    expect(lab.hintCount).toBeGreaterThan(0);
  });

  it("gives a spare worker a short rehearsal of the lab's own solution, kept inside the main process", async () => {
    const rehearsal = await new LabCatalog(realLabs).rehearsal('02-packet-read');
    expect(rehearsal.source).toBe(readFileSync(join(realLabs, '02-packet-read', 'solution.ts'), 'utf8'));
    expect(rehearsal.scenario.timeLimitMs).toBe(200);
    expect(Object.keys(rehearsal.files)).toEqual(['./fdc']);
  });

  it('gives the starter code and instructions, never the solution or the hints', async () => {
    const detail = await new LabCatalog(realLabs).get(LAB);
    expect(detail.starterCode).toBe(readFileSync(join(realLabs, LAB, 'starter.ts'), 'utf8'));
    expect(detail.instructions).toMatch(/^# The adapter object/);
    const solution = readFileSync(join(realLabs, LAB, 'solution.ts'), 'utf8');
    expect(JSON.stringify(detail)).not.toContain(solution.slice(0, 200));
    expect(detail).not.toHaveProperty('hints');
    expect(detail.helpers).toEqual({});
  });

  it("gives a lab's helper modules, which the starter imports, and still never the solution", async () => {
    const detail = await new LabCatalog(realLabs).get('02-packet-read');
    expect(Object.keys(detail.helpers)).toEqual(['fdc.ts']);
    expect(detail.helpers['fdc.ts']).toBe(readFileSync(join(realLabs, '02-packet-read', 'fdc.ts'), 'utf8'));
    expect(detail.starterCode).toMatch(/from '\.\/fdc'/);
    expect(Object.keys(detail.helpers)).not.toContain('solution.ts');
  });
});

describe('a catalog with broken labs', () => {
  let dir: string;
  const lab = (id: string) => join(dir, id);
  const copyLab = (id: string) => cpSync(join(realLabs, LAB), lab(id), { recursive: true });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dmalab-catalog-'));
    copyLab('01-good');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a schema error by file and path, and still loads the good lab', async () => {
    copyLab('02-bad-manifest');
    writeFileSync(join(lab('02-bad-manifest'), 'lab.yaml'), 'title: Broken\nsummary: s\norder: 2\nconcepts: []\nroutines: { write: [StartIo] }\nhints: [ok, 7]\n');
    const { labs, problems } = await new LabCatalog(dir).list();
    expect(labs.map((l) => l.id)).toEqual(['01-good']);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ lab: '02-bad-manifest', file: 'labs/02-bad-manifest/lab.yaml', path: 'concepts' }),
        expect.objectContaining({ file: 'labs/02-bad-manifest/lab.yaml', path: 'hints[1]', message: expect.stringMatching(/expected string/) }),
      ]),
    );
  });

  it('reports invalid YAML and a bad scenario with the file they are in', async () => {
    copyLab('02-yaml');
    writeFileSync(join(lab('02-yaml'), 'lab.yaml'), 'title: [unclosed\n');
    copyLab('03-scenario');
    writeFileSync(join(lab('03-scenario'), 'scenario.yaml'), 'devices:\n  - type: floppy\n    channel: 9\nchecks: [{ kind: no-violations }]\n');
    const { labs, problems } = await new LabCatalog(dir).list();
    expect(labs.map((l) => l.id)).toEqual(['01-good']);
    expect(problems).toContainEqual(expect.objectContaining({ file: 'labs/02-yaml/lab.yaml', path: '', message: expect.stringMatching(/^is not valid YAML/) }));
    expect(problems).toContainEqual(expect.objectContaining({ file: 'labs/03-scenario/scenario.yaml', path: 'devices[0].channel' }));
  });

  it('reports a missing file', async () => {
    copyLab('02-missing');
    rmSync(join(lab('02-missing'), 'starter.ts'));
    const { problems } = await new LabCatalog(dir).list();
    expect(problems).toEqual([expect.objectContaining({ file: 'labs/02-missing/starter.ts', message: expect.stringMatching(/^missing/) })]);
  });

  it('refuses a lab file that is a symbolic link', async () => {
    copyLab('02-link');
    const outside = join(dir, 'secret.txt');
    writeFileSync(outside, 'not for the renderer');
    rmSync(join(lab('02-link'), 'instructions.md'));
    symlinkSync(outside, join(lab('02-link'), 'instructions.md'));
    const { labs, problems } = await new LabCatalog(dir).list();
    expect(labs.map((l) => l.id)).toEqual(['01-good']);
    expect(problems).toEqual([expect.objectContaining({ file: 'labs/02-link/instructions.md', message: expect.stringMatching(/symbolic link/) })]);
    await expect(new LabCatalog(dir).get('02-link')).rejects.toThrow(/symbolic link/);
  });

  it('gives the diagrams beside the instructions, but not one that is a link out of the folder or too big', async () => {
    copyLab('02-drawn');
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>';
    writeFileSync(join(lab('02-drawn'), 'ring.svg'), svg);
    writeFileSync(join(dir, 'outside.svg'), svg);
    symlinkSync(join(dir, 'outside.svg'), join(lab('02-drawn'), 'linked.svg'));
    writeFileSync(join(lab('02-drawn'), 'huge.svg'), Buffer.alloc(MAX_DIAGRAM_BYTES + 1, 0x20));
    writeFileSync(join(lab('02-drawn'), 'Not-A-Name.svg'), svg);
    expect((await new LabCatalog(dir).get('02-drawn')).diagrams).toEqual({ 'ring.svg': svg });
    // The real lab 07 draws its ring.
    expect(Object.keys((await new LabCatalog(realLabs).get('07-autoinit-playback')).diagrams)).toEqual(['ring.svg']);
  });

  it('refuses a disk image outside the lab folder or behind a link, and a lab folder that is a link; the rest loads', async () => {
    const image = Buffer.alloc(1_474_560);
    writeFileSync(join(dir, 'outside.img'), image);
    const withImage = (id: string, path: string) => {
      copyLab(id);
      const yaml = readFileSync(join(lab(id), 'scenario.yaml'), 'utf8').replace('    name: fdc0\n', `    name: fdc0\n    image: ${path}\n`);
      writeFileSync(join(lab(id), 'scenario.yaml'), yaml);
    };
    withImage('02-climbs', '../outside.img');
    withImage('03-linked', 'disk.img');
    symlinkSync(join(dir, 'outside.img'), join(lab('03-linked'), 'disk.img'));
    withImage('04-own', 'disk.img');
    writeFileSync(join(lab('04-own'), 'disk.img'), image);
    copyLab('real-05');
    symlinkSync(lab('real-05'), join(dir, '05-elsewhere'));
    const { labs, problems } = await new LabCatalog(dir).list();
    expect(labs.map((l) => l.id)).toEqual(['01-good', '04-own']);
    expect(problems).toEqual([
      expect.objectContaining({ file: 'labs/05-elsewhere', message: expect.stringMatching(/is a symbolic link; a lab must be a folder inside labs\//) }),
      expect.objectContaining({ file: 'labs/02-climbs/scenario.yaml', path: 'devices[0].image', message: "the disk image ../outside.img is outside the lab's folder; a lab's files stay in its folder" }),
      expect.objectContaining({ file: 'labs/03-linked/scenario.yaml', path: 'devices[0].image', message: expect.stringMatching(/is a symbolic link/) }),
    ]);
    // A run of it is refused the same way, before anything is read.
    await expect(new LabCatalog(dir).runInputs('02-climbs')).rejects.toThrow(/outside the lab's folder/);
    expect((await new LabCatalog(dir).runInputs('04-own')).images.fdc0).toHaveLength(1_474_560);
  });

  it('refuses a 100 MB instructions file by its size, without reading it; the rest loads', async () => {
    copyLab('02-huge-100');
    const path = join(lab('02-huge-100'), 'instructions.md');
    writeFileSync(path, '');
    truncateSync(path, 100 * 1024 * 1024); // sparse: 100 MB that take no disk
    const { labs, problems } = await new LabCatalog(dir).list();
    expect(labs.map((l) => l.id)).toEqual(['01-good']);
    expect(problems).toEqual([expect.objectContaining({ file: 'labs/02-huge-100/instructions.md', message: `is 104857600 bytes; a lab file may be at most ${MAX_LAB_FILE_BYTES} bytes` })]);
  });

  it('refuses an oversized file without reading it', async () => {
    copyLab('02-huge');
    writeFileSync(join(lab('02-huge'), 'instructions.md'), Buffer.alloc(MAX_LAB_FILE_BYTES + 1, 0x41));
    const { problems } = await new LabCatalog(dir).list();
    expect(problems).toEqual([expect.objectContaining({ file: 'labs/02-huge/instructions.md', message: expect.stringMatching(/at most/) })]);
  });

  it('answers "not found" for ids that are not labs, including ones that climb out', async () => {
    const catalog = new LabCatalog(dir);
    for (const id of ['09-nope', '../01-good', '01-good/../01-good', 'devices', '']) {
      await expect(catalog.get(id)).rejects.toBeInstanceOf(LabNotFoundError);
    }
    await expect(catalog.get('01-good')).resolves.toMatchObject({ id: '01-good' });
  });
});
