import type { z } from 'zod';
import { deviceName, type IrpSpec, type Scenario } from '../../shared/scenario';
import { Random } from '../machine/random';

// The scenario's IRPs as the I/O manager's callers would make them: a buffer placed in
// physical memory as the scenario says, filled with data a check can recognise (what a
// write sends, or a poison a read must overwrite), and for the sound device the signal
// its ADC hears.

export const READ_POISON = 0xa5;

export interface WorkItem {
  spec: z.output<typeof IrpSpec>;
  device: string;
  deviceType: 'floppy' | 'sound' | 'scanner';
  /** What a write sends (the buffer's content at the start). */
  data: Uint8Array | null;
}

/** A chirp in 16-bit little-endian samples, so that no stretch of it repeats. */
function chirp(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i + 1 < length; i += 2) {
    const n = i / 2;
    const v = Math.round(12000 * Math.sin((2 * Math.PI * (300 + n / 400) * n) / 44100)) & 0xffff;
    out[i] = v & 0xff;
    out[i + 1] = v >> 8;
  }
  return out;
}

export function workItems(scenario: Scenario, seed: number): WorkItem[] {
  const random = new Random((seed ^ 0x5eed_f00d) >>> 0);
  return scenario.workload.map((spec) => {
    const index = spec.device === undefined ? 0 : scenario.devices.findIndex((d, i) => deviceName(d, i) === spec.device);
    const config = scenario.devices[Math.max(0, index)]!;
    const device = deviceName(config, Math.max(0, index));
    let data: Uint8Array | null = null;
    if (spec.major === 'write') {
      if (config.type === 'sound') data = chirp(spec.length);
      else {
        data = new Uint8Array(spec.length);
        for (let i = 0; i < data.length; i++) data[i] = random.nextUint32() & 0xff;
      }
    }
    return { spec, device, deviceType: config.type, data };
  });
}

/** What the sound device's ADC hears: seeded noise, long enough for every read. */
export function captureSignal(items: WorkItem[], seed: number): Uint8Array {
  const total = items.filter((w) => w.deviceType === 'sound' && w.spec.major === 'read').reduce((n, w) => n + w.spec.length, 0);
  const random = new Random((seed ^ 0xadc0_0001) >>> 0);
  const out = new Uint8Array(total + 65536);
  for (let i = 0; i < out.length; i++) out[i] = random.nextUint32() & 0xff;
  return out;
}
