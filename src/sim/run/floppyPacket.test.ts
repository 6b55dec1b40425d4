import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { ISA_DMA_LIMIT } from '../machine/pageFrames';
import { ArraySink, EventKind } from '../trace/sink';
import { runScenario, type Session } from './session';
import { workItems } from './workload';

// The reference packet-based system DMA driver for the floppy controller
// (labs/playground/floppy-packet.driver.ts) against its two playground scenarios: every
// buffer placement with the HAL's own number of map registers, and the same kind of work
// with two map registers, so that requests must be split. The disk is a pattern in which
// every byte says where it is, so a sector that lands in the wrong place shows.

const DRIVER = 'labs/playground/floppy-packet.driver.ts';
const source = readFileSync(DRIVER, 'utf8');
const SECTOR = 512;
const SECTORS_PER_TRACK = 18;
const PAGE = 4096;
const IMAGE_BYTES = 80 * 2 * SECTORS_PER_TRACK * SECTOR;
/** One sector under the head: 60 header byte times, 512 data bytes, 2 CRC bytes, 16 µs each. */
const SECTOR_NS = (60 + 512 + 2) * 16_000;
const SPIN_UP_NS = 300_000_000;

function loadScenario(name: string): Scenario {
  return Scenario.parse(parse(readFileSync(`labs/playground/${name}.scenario.yaml`, 'utf8')));
}

function patternImage(): Uint8Array {
  const image = new Uint8Array(IMAGE_BYTES);
  for (let i = 0; i < image.length; i++) image[i] = (Math.imul(i + 1, 2654435761) >>> 24) & 0xff;
  return image;
}

interface Run {
  session: Session;
  image: Uint8Array;
  trace: ArraySink;
}

async function run(scenario: Scenario, driver = source, seed = 1): Promise<Run> {
  const image = patternImage();
  const trace = new ArraySink();
  const session = await runScenario({ scenario, source: driver, file: 'floppy-packet.driver.ts', seed, images: new Map([['fdc0', image]]), trace });
  session.sandbox.dispose();
  return { session, image, trace };
}

/** A copy of the driver with one statement changed; fails the test if the statement is not there. */
function mutate(from: string, to: string): string {
  expect(source.split(from)).toHaveLength(2);
  return source.replace(from, to);
}

interface Piece {
  physical: number;
  bytes: number;
}

/** Each transfer IRP's MapTransfer calls, in order (the StartIo queue runs one IRP at a time). */
function piecesByIrp(r: Run): Piece[][] {
  const ids = new Map(r.session.irps.map((irp, i) => [irp.id, i]));
  const out: Piece[][] = r.session.irps.map(() => []);
  let pending: Piece[] = [];
  for (const [, kind, a, b, c] of r.trace.list(EventKind.MapTransfer, EventKind.IrpComplete)) {
    if (kind === EventKind.MapTransfer) pending.push({ physical: b, bytes: c });
    else if (ids.has(a)) {
      out[ids.get(a)!] = pending;
      pending = [];
    }
  }
  return out;
}

/** When each transfer IRP completed, in simulated ns. */
function completionTimes(r: Run): number[] {
  const ids = new Map(r.session.irps.map((irp, i) => [irp.id, i]));
  const out: number[] = [];
  for (const [time, , a] of r.trace.list(EventKind.IrpComplete)) if (ids.has(a)) out[ids.get(a)!] = time;
  return out;
}

/**
 * The pieces splitting-dma-transfer-requests.md asks for, worked out independently of the
 * driver: never past the end of a track, never more pages than the map registers granted,
 * whole sectors.
 */
function expectedPieces(spec: Scenario['workload'][number], mapRegisters: number): number[] {
  const out: number[] = [];
  let va = spec.buffer.byteOffset;
  let lba = spec.offset / SECTOR;
  let left = spec.length;
  while (left > 0) {
    let n = Math.min(left, (SECTORS_PER_TRACK - (lba % SECTORS_PER_TRACK)) * SECTOR);
    while (Math.ceil(((va % PAGE) + n) / PAGE) > mapRegisters) n -= SECTOR;
    out.push(n);
    va += n;
    lba += n / SECTOR;
    left -= n;
  }
  return out;
}

/** Everything a correct run must show, for either scenario. */
function expectCorrect(r: Run, scenario: Scenario, seed = 1): void {
  const { result } = r.session;
  expect(result.bugcheck).toBeNull();
  expect(result.violations).toEqual([]);
  for (const check of result.checks) expect(check, check.message).toMatchObject({ ok: true });
  expect(result.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['data-integrity', 'irp-status', 'no-violations', 'resources-released']));
  expect(result.ok).toBe(true);

  // Every IRP: STATUS_SUCCESS, Information = the bytes asked for.
  expect(result.irps).toEqual(scenario.workload.map((w) => ({ major: w.major, device: 'fdc0', length: w.length, status: 'STATUS_SUCCESS', information: w.length })));

  // Reads: the caller's buffer holds the disk's bytes. Writes: the disk holds the caller's
  // bytes, and nothing else on it changed.
  const before = patternImage();
  const after = patternImage();
  const items = workItems(scenario, seed);
  r.session.irps.forEach((irp, i) => {
    const spec = scenario.workload[i]!;
    if (spec.major === 'read') {
      const got = r.session.machine.cpu.readBytes(irp.userBuffer, spec.length)!;
      expect(Buffer.from(got).equals(Buffer.from(before.subarray(spec.offset, spec.offset + spec.length))), `read ${i + 1}`).toBe(true);
    } else after.set(items[i]!.data!, spec.offset);
  });
  expect(Buffer.from(r.image).equals(Buffer.from(after))).toBe(true);

  // The pieces: per track and per map registers, each MapTransfer within the controller's reach.
  const adapter = [...r.session.hal.adapters.values()][0]!;
  const pieces = piecesByIrp(r);
  scenario.workload.forEach((spec, i) => {
    expect(pieces[i]!.map((p) => p.bytes), `IRP ${i + 1}`).toEqual(expectedPieces(spec, adapter.numberOfMapRegisters));
    for (const p of pieces[i]!) {
      expect(p.physical + p.bytes).toBeLessThanOrEqual(ISA_DMA_LIMIT);
      expect(Math.floor(p.physical / 0x10000)).toBe(Math.floor((p.physical + p.bytes - 1) / 0x10000));
    }
  });
  expect(result.stats.mapTransfers).toBe(pieces.flat().length);
  expect(result.stats.dmaBytes).toBe(scenario.workload.reduce((n, w) => n + w.length, 0));

  // Simulated time: the device paces the DMA, a sector at a time; the first request waits for the motor.
  const done = completionTimes(r);
  expect(done[0]).toBeGreaterThanOrEqual(SPIN_UP_NS + SECTOR_NS);
  done.forEach((t, i) => {
    const sectors = scenario.workload[i]!.length / SECTOR;
    expect(t - (i === 0 ? 0 : done[i - 1]!)).toBeGreaterThanOrEqual(sectors * SECTOR_NS);
  });
}

describe('the packet-based floppy driver', () => {
  it('type-checks against labs/wdm.d.ts', () => {
    const files = new Map([
      ['wdm.d.ts', readFileSync('labs/wdm.d.ts', 'utf8')],
      ['driver.ts', source],
    ]);
    const host = ts.createCompilerHost({});
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version) => (files.has(name) ? ts.createSourceFile(name, files.get(name)!, version) : read(name, version));
    host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
    const program = ts.createProgram(['wdm.d.ts', 'driver.ts'], { strict: true, noEmit: true, lib: ['lib.es2022.d.ts'], types: [] }, host);
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });

  describe('floppy-packet.scenario.yaml: every placement, reads and writes', () => {
    const scenario = loadScenario('floppy-packet');
    let first: Promise<Run> | null = null;
    const once = () => (first ??= run(scenario));

    it('covers every buffer placement, a non-zero byte offset, reads and writes', () => {
      const placements = new Set(scenario.workload.map((w) => w.buffer.placement));
      expect([...placements].sort()).toEqual(['above-16m', 'contiguous', 'fragmented', 'straddle-64k']);
      expect(scenario.workload.some((w) => w.buffer.byteOffset > 0)).toBe(true);
      expect(new Set(scenario.workload.map((w) => w.major))).toEqual(new Set(['read', 'write']));
      expect(scenario.checks.map((c) => c.kind)).toEqual(expect.arrayContaining(['data-integrity', 'irp-status', 'no-violations', 'resources-released']));
    });

    it('moves every byte right, completes every IRP and gives everything back', async () => {
      const r = await once();
      expectCorrect(r, scenario);
      expect(r.session.result.stats.mapTransfers).toBeGreaterThanOrEqual(scenario.workload.length);
    }, 60_000);

    it('takes buffers above 16 MiB through the map registers, and the data still arrives', async () => {
      const r = await once();
      const pieces = piecesByIrp(r);
      const above = scenario.workload.flatMap((w, i) => (w.buffer.placement === 'above-16m' ? [i] : []));
      expect(above.length).toBeGreaterThanOrEqual(2);
      expect(above.some((i) => scenario.workload[i]!.major === 'read') && above.some((i) => scenario.workload[i]!.major === 'write')).toBe(true);
      for (const i of above) {
        const irp = r.session.irps[i]!;
        // The caller's pages are out of the 8237's reach …
        expect(irp.mdl!.PfnArray.every((pfn) => pfn * PAGE >= ISA_DMA_LIMIT)).toBe(true);
        // … so every MapTransfer programmed the controller with bounce pages below 16 MiB.
        expect(pieces[i]!.length).toBeGreaterThan(0);
        for (const p of pieces[i]!) expect(p.physical + p.bytes).toBeLessThanOrEqual(ISA_DMA_LIMIT);
      }
      // (expectCorrect compared those buffers and sectors byte for byte.)
      expect(r.session.result.checks.find((c) => c.id === 'data-integrity')?.ok).toBe(true);
    }, 60_000);

    it('gives the identical run for the same seed', async () => {
      const a = await run(scenario, source, 7);
      const b = await run(scenario, source, 7);
      expect(b.session.result).toEqual(a.session.result);
      expect(Buffer.from(b.image).equals(Buffer.from(a.image))).toBe(true);
      expect(b.trace.count).toBe(a.trace.count);
      expect(b.trace.events).toEqual(a.trace.events);
      expectCorrect(a, scenario, 7);
    }, 60_000);
  });

  describe('floppy-split.scenario.yaml: two map registers', () => {
    const scenario = loadScenario('floppy-split');

    it('splits requests by the number of map registers and still moves every byte', async () => {
      expect(scenario.machine.mapRegisters).toBe(2);
      const r = await run(scenario);
      expect([...r.session.hal.adapters.values()][0]!.numberOfMapRegisters).toBe(2);
      expectCorrect(r, scenario);
      const { stats } = r.session.result;
      expect(stats.mapTransfers).toBeGreaterThan(r.session.irps.length);
      // No MapTransfer reaches past the two pages its map registers cover.
      for (const p of piecesByIrp(r).flat()) expect((p.physical % PAGE) + p.bytes).toBeLessThanOrEqual(2 * PAGE);
    }, 60_000);
  });

  describe('a cache that DMA does not snoop', () => {
    it('still moves every byte: KeFlushIoBuffers before each allocation of the controller', async () => {
      const raw = parse(readFileSync('labs/playground/floppy-split.scenario.yaml', 'utf8')) as { machine: Record<string, unknown> };
      raw.machine.cache = 'non-coherent';
      const scenario = Scenario.parse(raw);
      expectCorrect(await run(scenario), scenario);
    }, 60_000);
  });

  describe('a controller error', () => {
    it('fails the IRP with the status the result phase calls for, and the next IRP recovers', async () => {
      const scenario = Scenario.parse({
        devices: [{ type: 'floppy', name: 'fdc0' }],
        workload: [
          { major: 'read', length: 2 * 9216, offset: 0 },
          { major: 'read', length: 1024, offset: 40 * 18432 },
        ],
        // Byte 10,000 of the disk's data is sector 20 (C0 H1 R2), in the request's second piece.
        faults: [{ kind: 'io-error', atByte: 10_000 }],
        checks: [{ kind: 'no-violations' }, { kind: 'resources-released' }],
      });
      const r = await run(scenario);
      const { result } = r.session;
      expect(result.bugcheck).toBeNull();
      expect(result.violations).toEqual([]);
      expect(result.checks.every((c) => c.ok)).toBe(true);
      // The first track arrived; the second piece ended with a CRC error (ST1 DE, ST2 DD).
      expect(result.irps.map((i) => [i.status, i.information])).toEqual([
        ['STATUS_CRC_ERROR', 9216],
        ['STATUS_SUCCESS', 1024],
      ]);
      expect(result.console.some((line) => /ST1 20 ST2 20/.test(line))).toBe(true);
      const second = r.session.irps[1]!;
      const got = r.session.machine.cpu.readBytes(second.userBuffer, 1024)!;
      expect(Buffer.from(got).equals(Buffer.from(patternImage().subarray(40 * 18432, 40 * 18432 + 1024)))).toBe(true);
      // Every MapTransfer was flushed and the channel given back, the failed piece's too.
      expect(piecesByIrp(r).map((p) => p.length)).toEqual([2, 1]);
    }, 60_000);
  });

  describe('requests the driver must refuse', () => {
    it('completes unaligned and out-of-range requests with STATUS_INVALID_PARAMETER', async () => {
      const scenario = Scenario.parse({
        devices: [{ type: 'floppy', name: 'fdc0' }],
        workload: [
          { major: 'read', length: 100, offset: 0 },
          { major: 'read', length: 512, offset: 100 },
          { major: 'write', length: 1024, offset: IMAGE_BYTES - 512 },
        ],
        checks: [{ kind: 'irp-status', status: 'STATUS_INVALID_PARAMETER' }, { kind: 'no-violations' }, { kind: 'resources-released' }],
      });
      const r = await run(scenario);
      expect(r.session.result.ok).toBe(true);
      expect(r.session.result.irps.map((i) => [i.status, i.information])).toEqual([
        ['STATUS_INVALID_PARAMETER', 0],
        ['STATUS_INVALID_PARAMETER', 0],
        ['STATUS_INVALID_PARAMETER', 0],
      ]);
      expect(r.session.result.stats.mapTransfers).toBe(0);
      expect(Buffer.from(r.image).equals(Buffer.from(patternImage()))).toBe(true);
    }, 60_000);
  });

  describe('the checks catch a broken driver', () => {
    it('a driver that skips FlushAdapterBuffers for reads: the verifier stops it, and in teaching mode the data shows why', async () => {
      const broken = mutate(
        '  adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!,',
        '  if (ext.WriteToDevice) adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!,',
      );
      const stopped = (await run(loadScenario('floppy-packet'), broken)).session.result;
      expect(stopped.bugcheck).toMatchObject({ code: 0xe6, name: 'DRIVER_VERIFIER_DMA_VIOLATION' });
      expect(stopped.violations[0]!.rule).toMatch(/^(DMA_FREE_WHILE_MAPPED|DMA_NOT_FLUSHED)$/);
      const scenario = { ...loadScenario('floppy-packet'), verifier: 'teaching' as const };
      const { result } = (await run(scenario, broken)).session;
      expect(result.ok).toBe(false);
      const integrity = result.checks.find((c) => c.id === 'data-integrity')!;
      expect(integrity.ok).toBe(false);
      // The reads that went through map registers (fragmented, above 16 MiB) never got their data.
      const bounced = scenario.workload.flatMap((w, i) => (w.major === 'read' && (w.buffer.placement === 'fragmented' || w.buffer.placement === 'above-16m') ? [i + 1] : []));
      for (const n of bounced) expect(integrity.message).toContain(`IRP ${n} (read`);
      expect(integrity.message).not.toContain('(write');
      // The driver itself believes all went well: the data check and the verifier see it.
      expect(result.checks.find((c) => c.id === 'irp-status')!.ok).toBe(true);
      expect(result.violations.map((v) => v.rule)).toContain('FLUSH_COUNT_MISMATCH');
    }, 60_000);

    it('a driver that forgets IoStartNextPacket strands the queued IRPs', async () => {
      const scenario = loadScenario('floppy-split');
      const broken = mutate('  IoStartNextPacket(DeviceObject, false);\n', '');
      const { result } = (await run(scenario, broken)).session;
      expect(result.ok).toBe(false);
      const status = result.checks.find((c) => c.id === 'irp-status')!;
      expect(status.ok).toBe(false);
      expect(status.message).toMatch(/IRP 2 \(\w+ \d+ bytes at \d+\) never completed: it was still waiting in the StartIo queue/);
      expect(result.checks.find((c) => c.id === 'run')!.message).toMatch(/IRPs were not completed/);
      expect(result.irps[0]!.status).toBe('STATUS_SUCCESS');
      expect(result.irps.slice(1).every((i) => i.status === null)).toBe(true);
    }, 60_000);
  });
});
