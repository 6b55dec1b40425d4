import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { Scanner, scanByte } from '../hw/scanner';
import type { ScatterGatherRecord } from '../kernel/hal';
import { ISA_DMA_LIMIT } from '../machine/pageFrames';
import { runScenario, type Session } from './session';

// The reference scatter/gather driver for the SCN-1 scanner (labs/playground/scanner-sg.driver.ts)
// run end to end: GetScatterGatherList in StartIo, the 8237 reprogrammed for each element
// while the scanner waits, PutScatterGatherList at the end, on buffers placed every way a
// scenario can place them.

const DRIVER = 'labs/playground/scanner-sg.driver.ts';
const source = readFileSync(DRIVER, 'utf8');
const KiB = 1024;
const RUN_TIMEOUT = 60_000;

/** A scenario file as YAML gives it, before Scenario.parse: the tests adjust it. */
interface ScenarioInput {
  machine: Record<string, unknown>;
  devices: Record<string, unknown>[];
  workload: Record<string, unknown>[];
  checks: Record<string, unknown>[];
}

function scenarioInput(name: string): ScenarioInput {
  return parse(readFileSync(`labs/playground/${name}.scenario.yaml`, 'utf8')) as ScenarioInput;
}

function run(input: unknown, driver = source, seed = 1): Promise<Session> {
  return runScenario({ scenario: Scenario.parse(input), source: driver, file: 'scanner-sg.driver.ts', seed });
}

function scanner(session: Session): Scanner {
  const device = session.machine.devices.get('scn0');
  if (!(device instanceof Scanner)) throw new Error('no scanner scn0');
  return device;
}

/** What IRP i's buffer holds now, and what one fresh scan from line 0 would put there. */
function buffers(session: Session, i: number): { actual: Uint8Array; expected: Uint8Array } {
  const irp = session.irps[i]!;
  const config = scanner(session).config;
  return {
    actual: session.machine.cpu.readBytes(irp.userBuffer, irp.length)!,
    expected: Uint8Array.from({ length: irp.length }, (_, k) => scanByte(config, k)),
  };
}

/** The lists GetScatterGatherList built, in the order the IRPs were started (one at a time, through StartIo). */
function lists(session: Session): ScatterGatherRecord[] {
  return [...session.hal.sgLists.values()];
}

describe('SCN-1 scatter/gather driver', () => {
  let sg: Session;
  let ioError: Session;

  beforeAll(async () => {
    sg = await run(scenarioInput('scanner-sg'));
    ioError = await run(scenarioInput('scanner-io-error'));
  }, RUN_TIMEOUT);

  it('passes every check of the scatter/gather scenario, with no finding and no bug check', () => {
    const r = sg.result;
    expect(r.checks.map((c) => [c.id, c.ok, c.message])).toEqual([
      ['data-integrity', true, 'all 6 transfers moved the right bytes'],
      ['irp-status', true, 'all 6 IRPs completed with STATUS_SUCCESS'],
      ['no-violations', true, 'no verifier findings'],
      ['resources-released', true, 'everything the driver took was given back'],
    ]);
    expect(r.ok).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.bugcheck).toBeNull();
    expect(r.console).toContain('scn: ports 0x300, channel 3, 9 map registers\n');
  });

  it('completes each read with STATUS_SUCCESS and Information = the bytes read', () => {
    expect(sg.result.irps.map((i) => [i.status, i.information])).toEqual(
      [8, 16, 6, 16, 8, 32].map((k) => ['STATUS_SUCCESS', k * KiB]),
    );
  });

  it('calls GetScatterGatherList and PutScatterGatherList once per IRP, and never the packet-based routines', () => {
    const calls = sg.api.calls;
    expect(calls.get('GetScatterGatherList')).toBe(6);
    expect(calls.get('PutScatterGatherList')).toBe(6);
    expect(calls.get('AllocateAdapterChannel')).toBe(0);
    expect(calls.get('MapTransfer')).toBe(0);
    expect(lists(sg).every((l) => l.put)).toBe(true);
  });

  it('gets a list per buffer that the 8237 can reach: below 16 MiB, no element across 64 KiB, lengths adding up', () => {
    const all = lists(sg);
    expect(all).toHaveLength(6);
    all.forEach((list, i) => {
      expect(list.elements.reduce((n, e) => n + e.Length, 0)).toBe(sg.irps[i]!.length);
      for (const e of list.elements) {
        expect(e.Address + e.Length).toBeLessThanOrEqual(ISA_DMA_LIMIT);
        expect(Math.floor(e.Address / 0x10000)).toBe(Math.floor((e.Address + e.Length - 1) / 0x10000));
      }
    });
    const counts = all.map((l) => l.elements.length);
    // contiguous: one element; fragmented: one per page; straddle-64k: split at the boundary;
    // above 16 MiB: one bounce page per element.
    expect(counts).toEqual([1, 4, 2, 2, 3, 9]);
    expect(counts[1]).toBeGreaterThan(1);
    const straddle = all[3]!.elements;
    expect((straddle[0]!.Address + straddle[0]!.Length) % 0x10000).toBe(0);
    for (const i of [4, 5]) {
      expect(all[i]!.bounces).toHaveLength(all[i]!.elements.length);
      expect(all[i]!.grant?.count).toBe(all[i]!.elements.length);
    }
    for (const i of [0, 1, 2, 3]) expect(all[i]!.bounces).toEqual([]);
  });

  it('the buffers really lie where the scenario says', () => {
    const pfns = (i: number) => sg.irps[i]!.mdl!.PfnArray.slice(0, Math.ceil((sg.irps[i]!.mdl!.ByteOffset + sg.irps[i]!.length) / 4096));
    const adjacent = (p: number[]) => p.some((f, k) => k > 0 && f === p[k - 1]! + 1);
    expect(adjacent(pfns(1))).toBe(false);
    const straddle = pfns(3);
    expect(Math.floor(straddle[0]! / 16)).not.toBe(Math.floor(straddle[straddle.length - 1]! / 16));
    for (const i of [4, 5]) expect(pfns(i).every((f) => f * 4096 >= ISA_DMA_LIMIT)).toBe(true);
  });

  it('moves the right bytes, byte for byte, into every placement', () => {
    for (let i = 0; i < sg.irps.length; i++) {
      const { actual, expected } = buffers(sg, i);
      expect(actual.length).toBe(expected.length);
      expect(Buffer.from(actual).equals(Buffer.from(expected)), `IRP ${i + 1}`).toBe(true);
    }
    // One interrupt per element: a pause after each but the last, then DONE.
    expect(sg.result.stats.interrupts).toBe(1 + 4 + 2 + 2 + 3 + 9);
    expect(scanner(sg).snapshot()).toMatchObject({ overruns: 0, delivered: 32 * KiB, linesCaptured: 16 });
  });

  it('fails reads with STATUS_DEVICE_DATA_ERROR on an injected I/O error, and still gives the lists back', () => {
    const r = ioError.result;
    expect(r.ok).toBe(true);
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.bugcheck).toBeNull();
    expect(r.irps.map((i) => [i.status, i.information])).toEqual([
      ['STATUS_DEVICE_DATA_ERROR', 0],
      ['STATUS_DEVICE_DATA_ERROR', 0],
    ]);
    expect(ioError.api.calls.get('GetScatterGatherList')).toBe(2);
    expect(ioError.api.calls.get('PutScatterGatherList')).toBe(2);
    expect(lists(ioError).every((l) => l.put)).toBe(true);
    // The scan stopped at byte 5000, inside the second segment of the fragmented buffer.
    expect(scanner(ioError).snapshot().delivered).toBe(5000);
  });

  it(
    'is deterministic: the same seed gives the same run',
    async () => {
      const again = await run(scenarioInput('scanner-sg'));
      expect(JSON.stringify(again.result)).toBe(JSON.stringify(sg.result));
      expect(lists(again).map((l) => l.elements)).toEqual(lists(sg).map((l) => l.elements));
      for (let i = 0; i < sg.irps.length; i++) expect(buffers(again, i).actual).toEqual(buffers(sg, i).actual);
    },
    RUN_TIMEOUT,
  );

  it(
    'follows the card to a 16-bit channel (word addresses and counts, 128 KiB pages)',
    async () => {
      const input = scenarioInput('scanner-sg');
      input.devices[0]!.channel = 5;
      // A word channel needs word-aligned buffers: the odd byteOffset is refused.
      const session = await run(input);
      expect(session.result.violations).toEqual([]);
      expect(session.result.bugcheck).toBeNull();
      expect(session.result.console).toContain('scn: ports 0x300, channel 5, 9 map registers\n');
      expect(session.result.irps.map((i) => i.status)).toEqual(['STATUS_SUCCESS', 'STATUS_SUCCESS', 'STATUS_INVALID_PARAMETER', 'STATUS_SUCCESS', 'STATUS_SUCCESS', 'STATUS_SUCCESS']);
      for (const i of [0, 1, 3, 4, 5]) {
        const { actual, expected } = buffers(session, i);
        expect(Buffer.from(actual).equals(Buffer.from(expected)), `IRP ${i + 1}`).toBe(true);
      }
      // The straddling buffer is one element on a 16-bit channel: its pages are 128 KiB.
      expect(lists(session).map((l) => l.elements.length)).toEqual([1, 4, 1, 3, 9]);
    },
    RUN_TIMEOUT,
  );

  it(
    'refuses reads that are not whole lines, or larger than MaximumLength, with STATUS_INVALID_PARAMETER',
    async () => {
      const input = scenarioInput('scanner-sg');
      input.workload = [
        { major: 'read', device: 'scn0', length: 1000 },
        { major: 'read', device: 'scn0', length: 17 * 2048 },
        { major: 'read', device: 'scn0', length: 2048, buffer: { placement: 'fragmented' } },
      ];
      input.checks = [{ kind: 'no-violations' }, { kind: 'resources-released' }];
      const session = await run(input);
      expect(session.result.ok).toBe(true);
      expect(session.result.irps.map((i) => [i.status, i.information])).toEqual([
        ['STATUS_INVALID_PARAMETER', 0],
        ['STATUS_INVALID_PARAMETER', 0],
        ['STATUS_SUCCESS', 2048],
      ]);
      expect(session.api.calls.get('GetScatterGatherList')).toBe(1);
    },
    RUN_TIMEOUT,
  );

  it(
    'still moves the right bytes with a non-coherent cache and a controller that buffers',
    async () => {
      const input = scenarioInput('scanner-sg');
      input.machine.cache = 'non-coherent';
      input.machine.controllerBufferBytes = 16;
      const session = await run(input);
      expect(session.result.checks.filter((c) => !c.ok)).toEqual([]);
      expect(session.result.ok).toBe(true);
      expect(session.api.calls.get('KeFlushIoBuffers')).toBe(6);
    },
    RUN_TIMEOUT,
  );

  it(
    'fails a read that needs more map registers than the platform gives with GetScatterGatherList\'s status',
    async () => {
      const input = scenarioInput('scanner-sg');
      input.machine.mapRegisters = 4; // the 32 KiB read above 16 MiB needs 9 bounce pages
      input.checks = [{ kind: 'no-violations' }, { kind: 'resources-released' }];
      const session = await run(input);
      expect(session.result.ok).toBe(true);
      expect(session.result.console).toContain('scn: ports 0x300, channel 3, 4 map registers\n');
      expect(session.result.irps.map((i) => i.status)).toEqual([...Array<string>(5).fill('STATUS_SUCCESS'), 'STATUS_INSUFFICIENT_RESOURCES']);
      for (let i = 0; i < 5; i++) expect(Buffer.from(buffers(session, i).actual).equals(Buffer.from(buffers(session, i).expected))).toBe(true);
      expect(session.api.calls.get('GetScatterGatherList')).toBe(6);
      expect(session.api.calls.get('PutScatterGatherList')).toBe(5);
    },
    RUN_TIMEOUT,
  );

  it(
    'catches a driver that ignores the elements after the first: data-integrity fails',
    async () => {
      const correct = 'const element = list.Elements[ext.NextElement++]!;';
      expect(source).toContain(correct);
      const buggy = source.replace(correct, 'ext.NextElement++;\n    const element = list.Elements[0]!;');
      const session = await run(scenarioInput('scanner-sg'), buggy);
      const check = (id: string) => session.result.checks.find((c) => c.id === id)!;
      expect(session.result.ok).toBe(false);
      expect(check('data-integrity').ok).toBe(false);
      // The one-element list is fine; every buffer of several elements is wrong.
      expect(check('data-integrity').message).not.toContain('IRP 1 ');
      for (const n of [2, 3, 4, 5, 6]) expect(check('data-integrity').message).toContain(`IRP ${n} `);
      // Said in scan lines: every segment went to element 0, so the buffer starts with the last one.
      expect(check('data-integrity').message).toMatch(
        /^IRP 2 \(read 16384 bytes at 0\): from line 0, byte 0 of the scan \(byte 0x0 of the buffer\), the buffer holds the scan's line 6, byte 0: the data there is 12288 byte\(s\) ahead of where it belongs/,
      );
      // The verifier has nothing to say: only the data gives the bug away. (Where element 0
      // is shorter than a later one, the 8237's terminal count also ends a segment early and
      // the driver, out of elements, fails the read.)
      expect(check('no-violations').ok).toBe(true);
      expect(session.result.irps[1]!.status).toBe('STATUS_SUCCESS');
    },
    RUN_TIMEOUT,
  );

  it(
    'says which scan lines never arrived when a driver stops after element 0 (lab 09\'s starter)',
    async () => {
      const dir = 'labs/09-scatter-gather';
      const scenario = Scenario.parse(parse(readFileSync(`${dir}/scenario.yaml`, 'utf8')));
      const files = new Map([['./scanner', readFileSync(`${dir}/scanner.ts`, 'utf8')]]);
      const { result } = await runScenario({ scenario, source: readFileSync(`${dir}/starter.ts`, 'utf8'), file: 'starter.ts', seed: 1, files });
      const message = result.checks.find((c) => c.id === 'data-integrity')!.message;
      // Element 0 of the fragmented 16 KiB buffer is its first page: two lines of 2048 bytes.
      expect(message).toContain('IRP 1 (read 16384 bytes at 0): from line 2, byte 0 of the scan (byte 0x1000 of the buffer), 12288 byte(s) never arrived: the buffer still holds the 0xA5 it was filled with');
    },
    RUN_TIMEOUT,
  );
});
