import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Scenario } from '../../shared/scenario';
import { runScenario } from './session';

// Two floppy controllers on DMA channel 2 (lab 11): the scenario allows it, the adapter
// objects take turns, and the throughput check says where the time went.

const labScenario = () => parse(readFileSync('labs/11-shared-controller/scenario.yaml', 'utf8')) as Record<string, unknown>;
const driver = readFileSync('labs/playground/floppy-packet.driver.ts', 'utf8');

describe('a shared DMA channel', () => {
  it('is allowed between floppy controllers, and refused between a floppy and another card', () => {
    expect(Scenario.safeParse(labScenario()).success).toBe(true);
    const mixed = Scenario.safeParse({
      devices: [
        { type: 'floppy', channel: 2 },
        { type: 'scanner', channel: 2, irq: 11 },
      ],
      checks: [{ kind: 'data-integrity' }],
    });
    expect(mixed.success).toBe(false);
    expect(mixed.error?.issues.map((i) => i.message)).toEqual(['DMA channel 2 is already used by devices[0]']);
  });

  it('carries both controllers’ transfers when the adapter objects take turns', async () => {
    const { result } = await runScenario({ scenario: Scenario.parse(labScenario()), source: driver, file: 'driver.ts', seed: 1 });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.irps.map((irp) => irp.device)).toEqual(['fdc0', 'fdc1', 'fdc0', 'fdc1', 'fdc0', 'fdc1', 'fdc0', 'fdc1']);
    const throughput = result.checks.find((c) => c.id === 'throughput')!;
    expect(throughput.message).toMatch(/^30208 bytes in [0-9.]+ ms: [0-9.]+ KiB\/s, at least the 20 KiB\/s asked for$/);
  });

  it('says, when the rate is too low, how long each device held the channel and waited for it', async () => {
    const scenario = Scenario.parse({ ...labScenario(), checks: [{ kind: 'throughput', minKiBPerSec: 1000 }] });
    const { result } = await runScenario({ scenario, source: driver, file: 'driver.ts', seed: 1 });
    const check = result.checks[0]!;
    expect(check.ok).toBe(false);
    const [rate, fdc0, fdc1] = check.message.split('; ');
    expect(rate).toMatch(/^30208 bytes in ([0-9.]+) ms: ([0-9.]+) KiB\/s, below the 1000 KiB\/s asked for$/);
    expect(fdc0).toMatch(/^fdc0 held DMA channel 2 for [0-9.]+ ms in 4 grant\(s\) and waited [0-9.]+ ms for it$/);
    expect(fdc1).toMatch(/^fdc1 held DMA channel 2 for [0-9.]+ ms in 4 grant\(s\) and waited [0-9.]+ ms for it$/);
    // The rate is the bytes over the span from the first request to the last completion.
    const [, ms, kib] = /in ([0-9.]+) ms: ([0-9.]+) KiB/.exec(rate!)!;
    expect(Number(kib)).toBeCloseTo(30208 / 1024 / (Number(ms) / 1000), 1);
  });
});
