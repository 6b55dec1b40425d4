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

  it("accepts only the sound device's jumper settings", () => {
    const sound = (extra: object) => issuesOf({ devices: [{ type: 'sound', ...extra }], checks: [{ kind: 'no-underrun' }] });
    expect(sound({})).toEqual([]);
    expect(sound({ port: 0x240, irq: 7, channel8: 3, channel16: 6 })).toEqual([]);
    expect(sound({ irq: 9 })).toEqual(['devices[0].irq: IRQ 2, 5, 7 or 10']);
    expect(sound({ channel8: 2 })).toEqual(['devices[0].channel8: 8-bit DMA channel 0, 1 or 3']);
    expect(sound({ port: 0x224 })).toEqual(['devices[0].port: a base port of the form 2x0h, such as 0x220']);
  });

  it('refuses two devices on one port range, DMA channel, IRQ or name', () => {
    const issues = issuesOf({
      devices: [
        { type: 'floppy', name: 'a' },
        { type: 'scanner', name: 'a', port: 0x3f4, channel: 2, irq: 6 },
      ],
      checks: [{ kind: 'data-integrity' }],
    });
    expect(issues).toEqual([
      'devices[1].name: the name "a" is already used by devices[0]',
      'devices[1].channel: DMA channel 2 is already used by devices[0]',
      'devices[1].irq: IRQ 6 is already used by devices[0]',
      'devices[1].port: ports 0x3f4–0x3fb overlap devices[0]',
    ]);
  });

  it('takes a per-IRP expected status, as an NTSTATUS name', () => {
    const scenario = (expect: unknown) => ({ devices: [{ type: 'floppy' }], workload: [{ major: 'read', length: 512, expect }], checks: [{ kind: 'irp-status' }] });
    expect(Scenario.parse(scenario('STATUS_IO_TIMEOUT')).workload[0]!.expect).toBe('STATUS_IO_TIMEOUT');
    expect(Scenario.parse({ ...scenario(undefined), workload: [{ major: 'read', length: 512 }] }).workload[0]!.expect).toBeUndefined();
    expect(issuesOf(scenario('timeout'))).toEqual(['workload[0].expect: an NTSTATUS name such as "STATUS_IO_TIMEOUT"']);
  });

  it('takes no-interrupt at a byte for the floppy, and refuses it for the other devices', () => {
    const faults = (atByte: number, device?: string) => [{ kind: 'no-interrupt', atByte, ...(device ? { device } : {}) }];
    const floppy = Scenario.parse({ devices: [{ type: 'floppy' }], faults: faults(1536), checks: [{ kind: 'irp-status' }] });
    expect(floppy.faults[0]).toEqual({ kind: 'no-interrupt', atByte: 1536 });
    expect(issuesOf({ devices: [{ type: 'floppy' }], faults: [{ kind: 'no-interrupt' }], checks: [{ kind: 'irp-status' }] })).toEqual([]);
    expect(issuesOf({ devices: [{ type: 'floppy' }, { type: 'scanner', name: 'scn0' }], faults: faults(10, 'scn0'), checks: [{ kind: 'irp-status' }] })).toEqual([
      'faults[0].atByte: no-interrupt at a byte is modelled for the floppy only, not the scanner',
    ]);
    expect(issuesOf({ devices: [{ type: 'sound' }], faults: faults(10), checks: [{ kind: 'irp-status' }] })).toEqual([
      'faults[0].atByte: no-interrupt at a byte is modelled for the floppy only, not the sound',
    ]);
  });

  it('needs a device and a check', () => {
    expect(issuesOf({ devices: [], checks: [] })).toEqual([
      'devices: a scenario needs at least one device',
      'checks: a scenario needs at least one check',
    ]);
  });
});
