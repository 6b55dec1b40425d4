import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunResult } from '../../shared/runResult';
import { Scenario } from '../../shared/scenario';
import type { RuleId } from '../verifier/rules';
import { runScenario } from './session';

// Lab 12 (labs/12-find-the-bugs): a driver that moves the right data and has five bugs,
// each one verifier finding of its own. The starter raises exactly those five findings, at
// the lines below; fixing any one bug removes its finding and no other; fixing all five is
// the reference solution, which raises none.

const dir = 'labs/12-find-the-bugs';
const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
const scenario = Scenario.parse(parse(read('scenario.yaml')));
const files = new Map([['./fdc', read('fdc.ts')]]);
const starter = read('starter.ts');
const solution = read('solution.ts');

interface Bug {
  rule: RuleId;
  /** Text on the one starter line the finding must name. */
  line: string;
  /** The fix: each starter text (found exactly once) and what the solution has instead. */
  fix: [from: string, to: string][];
}

const BUGS: Bug[] = [
  {
    rule: 'KEFLUSHIOBUFFERS_MISSING',
    line: "adapter.DmaOperations.MapTransfer(",
    fix: [
      [
        "  // A read must not find stale lines of its buffer in the cache. A write needs no flush:\n  // the caller's data is in the buffer already, and that is where the controller reads it.\n  if (!ext.WriteToDevice) KeFlushIoBuffers(Irp.MdlAddress!, true, true);\n",
        "  // Before every transfer, in both directions: a write's data may still be in the cache\n  // only; a read's buffer may have stale lines that would hide what the controller stores.\n  KeFlushIoBuffers(Irp.MdlAddress!, !ext.WriteToDevice, true);\n",
      ],
    ],
  },
  {
    rule: 'DMA_WRONG_IRQL',
    line: "GetDmaAlignment(adapter)",
    fix: [
      [
        "  ext.Remaining = parameters.Length;\n  // The adapter's alignment, asked for once, on the first request.\n  if (ext.DmaAlignment === 0) ext.DmaAlignment = adapter.DmaOperations.GetDmaAlignment(adapter);\n  if ((ext.CurrentVa & (ext.DmaAlignment - 1)) !== 0) {\n    FinishRequest(DeviceObject, STATUS_INVALID_PARAMETER, 0);\n    return;\n  }\n",
        "  ext.Remaining = parameters.Length;\n",
      ],
      [
        "  ext.NumberOfMapRegisters = mapRegisters.value;\n",
        "  ext.NumberOfMapRegisters = mapRegisters.value;\n  ext.DmaAlignment = adapter.DmaOperations.GetDmaAlignment(adapter);\n",
      ],
      [
        " * next), spanning no more pages than the map registers reach; everything else is refused\n * here.\n",
        " * next), in a buffer the adapter's alignment allows, spanning no more pages than the map\n * registers reach; everything else is refused here.\n",
      ],
      [
        "    last >= CYLINDER_0_SECTORS ||\n",
        "    last >= CYLINDER_0_SECTORS ||\n    (MmGetMdlVirtualAddress(Irp.MdlAddress) & (ext.DmaAlignment - 1)) !== 0 ||\n",
      ],
    ],
  },
  {
    rule: 'BUFFER_TOUCHED_WHILE_MAPPED',
    line: "READ_MEMORY_UCHAR(va + BPB_MEDIA)",
    fix: [
      [
        "  if (NT_SUCCESS(status) && ext.Sector === 0 && !ext.WriteToDevice) LogMediaDescriptor(mdl);\n  // One FlushAdapterBuffers",
        "  // One FlushAdapterBuffers",
      ],
      [
        "  ext.CurrentVa += ext.PieceLength;\n",
        "  if (NT_SUCCESS(status) && ext.Sector === 0 && !ext.WriteToDevice) LogMediaDescriptor(mdl);\n  ext.CurrentVa += ext.PieceLength;\n",
      ],
    ],
  },
  {
    rule: 'DMA_FLUSH_TOO_MANY_BYTES',
    line: "FlushAdapterBuffers(",
    fix: [
      [
        "ext.CurrentVa, ext.Remaining, ext.WriteToDevice);",
        "ext.CurrentVa, ext.PieceLength, ext.WriteToDevice);",
      ],
    ],
  },
  {
    rule: 'RESOURCES_LEAKED',
    line: "IoGetDmaAdapter(",
    fix: [
      [
        "  ext.DmaAdapter = null;\n}\n",
        "  if (ext.DmaAdapter !== null) {\n    ext.DmaAdapter.DmaOperations.PutDmaAdapter(ext.DmaAdapter);\n    ext.DmaAdapter = null;\n  }\n}\n",
      ],
    ],
  },
];

function lineOf(source: string, snippet: string): number {
  const at = source.split('\n').flatMap((l, i) => (l.includes(snippet) ? [i + 1] : []));
  expect(at, `"${snippet}" should be on one line`).toHaveLength(1);
  return at[0]!;
}

function fix(source: string, bug: Bug): string {
  for (const [from, to] of bug.fix) {
    expect(source.split(from), `${bug.rule}: "${from}" should occur once`).toHaveLength(2);
    source = source.replace(from, () => to);
  }
  return source;
}

const findings = (r: RunResult) => r.violations.map((v) => ({ rule: v.rule, line: v.line }));

async function run(source: string, seed = 1): Promise<RunResult> {
  const session = await runScenario({ scenario, source, file: 'driver.ts', seed, files });
  session.sandbox.dispose();
  return session.result;
}

/** What the starter should raise: each bug's rule at its line, in the order of the run. */
const expected = (source: string, bugs: Bug[]) => bugs.map((b) => ({ rule: b.rule, line: lineOf(source, b.line) }));

describe('lab 12: find the bugs', () => {
  it('the starter moves the right data and raises each bug\'s finding once, at its line', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await run(starter, seed);
      expect(r.bugcheck).toBeNull();
      expect(r.checks.filter((c) => !c.ok).map((c) => c.id), `seed ${seed}`).toEqual(['no-violations', 'resources-released']);
      expect(findings(r), `seed ${seed}`).toHaveLength(BUGS.length);
      expect(findings(r), `seed ${seed}`).toEqual(expect.arrayContaining(expected(starter, BUGS)));
    }
  });

  for (const bug of BUGS) {
    it(`fixing ${bug.rule} removes that finding and no other`, async () => {
      const fixed = fix(starter, bug);
      const others = BUGS.filter((b) => b !== bug);
      const r = await run(fixed);
      expect(findings(r)).toHaveLength(others.length);
      expect(findings(r)).toEqual(expect.arrayContaining(expected(fixed, others)));
    });
  }

  it('fixing all five gives the reference solution, which raises none', async () => {
    const all = BUGS.reduce(fix, starter);
    const body = (s: string) => s.slice(s.indexOf('import {'));
    expect(body(all)).toBe(body(solution));
    const r = await run(solution);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.console).toHaveLength(1);
  });

  it('the number of bugs the instructions and the starter announce is the number there are', () => {
    expect(read('instructions.md')).toContain(`**${BUGS.length} bugs**`);
    expect(starter).toContain('there are five bugs');
    expect(BUGS).toHaveLength(5);
  });
});
