import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Scenario } from './scenario';
import { formatPath } from './schemaError';

const issuesOf = (input: unknown) => {
  const r = Scenario.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
};

describe('scenario schema', () => {
  it("accepts lab 01's scenario and fills the machine's defaults", () => {
    const text = readFileSync(new URL('../../labs/01-adapter-object/scenario.yaml', import.meta.url), 'utf8');
    const scenario = Scenario.parse(parse(text));
    expect(scenario.devices[0]).toMatchObject({ type: 'floppy', channel: 2, irq: 6, port: 0x3f0 });
    expect(scenario.machine).toEqual({ memoryMiB: 64, cache: 'coherent', controllerBufferBytes: 0 });
    expect(scenario.timeLimitMs).toBe(10_000);
  });

  it('reports a misspelt key instead of ignoring it', () => {
    const issues = issuesOf({ devices: [{ type: 'floppy', chanel: 2 }], checks: [{ kind: 'no-violations' }] });
    expect(issues.join('\n')).toMatch(/devices\[0\]: .*chanel/);
  });

  it('refuses channel 4, the cascade, for a device', () => {
    const issues = issuesOf({ devices: [{ type: 'scanner', channel: 4 }], checks: [{ kind: 'no-violations' }] });
    expect(issues).toEqual([expect.stringMatching(/^devices\[0\]\.channel: channel 4 is the cascade/)]);
  });

  it('names the path of a bad buffer placement', () => {
    const issues = issuesOf({
      devices: [{ type: 'floppy' }],
      workload: [{ major: 'read', length: 512, buffer: { placement: 'sideways' } }],
      checks: [{ kind: 'data-integrity' }],
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^workload\[0\]\.buffer\.placement: /);
  });

  it('needs a device and a check', () => {
    expect(issuesOf({ devices: [], checks: [] })).toEqual([
      'devices: a scenario needs at least one device',
      'checks: a scenario needs at least one check',
    ]);
  });
});
