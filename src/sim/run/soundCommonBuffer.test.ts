import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { SoundBlaster16 } from '../hw/sb16';
import { runScenario, type Session } from './session';
import { captureSignal, workItems } from './workload';

// The reference common-buffer, auto-initialize driver for the Sound Blaster 16
// (labs/playground/sound-common-buffer.driver.ts) against its playground scenarios: the
// scenario's checks, and what they rest on (the DAC's output, the half-buffer interrupts,
// ReadDmaCounter), run twice for determinism; and a driver with a deliberate bug that a
// check must catch.

const DRIVER = 'labs/playground/sound-common-buffer.driver.ts';
const source = readFileSync(DRIVER, 'utf8');

/** 44,100 frames of 16-bit stereo. */
const BYTES_PER_SECOND = 176_400;
/** The driver's ring and its halves (one DSP block each). */
const RING = 8192;
const HALF = RING / 2;
const HALF_NS = (HALF / BYTES_PER_SECOND) * 1e9;

function scenario(name: string): Scenario {
  return Scenario.parse(parse(readFileSync(`labs/playground/${name}.scenario.yaml`, 'utf8')));
}

function run(s: Scenario, driver = source, seed = 1): Promise<Session> {
  return runScenario({ scenario: s, source: driver, file: 'sound-common-buffer.driver.ts', seed });
}

function sound(session: Session, name = 'sb0'): SoundBlaster16 {
  const device = session.machine.devices.get(name);
  if (!(device instanceof SoundBlaster16)) throw new Error(`${name} is not a sound device`);
  return device;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What every passing run of this driver shows, whatever the direction. */
function expectClean(session: Session, s: Scenario): void {
  const { result } = session;
  expect(result.bugcheck).toBeNull();
  expect(result.violations).toEqual([]);
  for (const check of result.checks) expect(check, check.message).toMatchObject({ ok: true });
  expect(result.checks.map((c) => c.id)).toEqual(['data-integrity', 'irp-status', 'no-violations', 'resources-released', 'no-underrun']);
  expect(result.ok).toBe(true);
  expect(result.irps).toEqual(s.workload.map((w) => ({ major: w.major, device: 'sb0', length: w.length, status: 'STATUS_SUCCESS', information: w.length })));
  // ReadDmaCounter always agreed with the block count, and the stream ended by itself (D9h).
  expect(result.console.join('')).not.toContain('missed');
  expect(result.console.join('')).toContain('stream stopped after');

  // Two interrupts per trip round the ring: one per half, about a half's playing time apart.
  const total = s.workload.reduce((n, w) => n + w.length, 0);
  const halves = Math.ceil(total / HALF);
  const snap = sound(session).snapshot();
  expect(snap.interrupts).toBe(result.stats.interrupts);
  expect(result.stats.interrupts).toBeGreaterThanOrEqual(halves);
  expect(result.stats.interrupts).toBeLessThanOrEqual(halves + 2);
  expect(result.stats.simulatedNs / result.stats.interrupts).toBeGreaterThan(0.95 * HALF_NS);
  expect(result.stats.simulatedNs / result.stats.interrupts).toBeLessThan(1.1 * HALF_NS);
  // Each interrupt's DpcForIsr asked the controller where it was.
  expect(result.stats.dpcs).toBe(result.stats.interrupts);
  expect(session.api.calls.get('ReadDmaCounter')).toBe(result.stats.dpcs);
  // One stream: the channel allocated once, the ring mapped once and flushed once.
  expect(session.api.calls.get('AllocateAdapterChannel')).toBe(1);
  expect(session.api.calls.get('MapTransfer')).toBe(1);
  expect(session.api.calls.get('FlushAdapterBuffers')).toBe(1);
  expect(session.api.calls.get('FreeAdapterChannel')).toBe(1);
  expect(snap).toMatchObject({ underruns: 0, overruns: 0, autoInit: true, dmaChannel: 5, format: { bits: 16, channels: 2, signed: true }, rate: 44_100, blockBytes: HALF });
}

describe('common-buffer auto-initialize sound driver', () => {
  it('plays five writes back to back, from buffers anywhere in memory, without a gap', async () => {
    const s = scenario('sound-playback');
    const session = await run(s);
    expectClean(session, s);

    const written = concat(workItems(s, 1).map((w) => w.data!));
    expect(written.length).toBe(BYTES_PER_SECOND);
    const output = sound(session).outputPcm();
    const at = indexOf(output, written.subarray(0, 256));
    expect(at).toBe(0); // both halves were filled before the DSP started
    expect(Buffer.from(output.subarray(at, at + written.length)).equals(Buffer.from(written))).toBe(true);
    // After the sound, silence until the DSP exits auto-initialize: at most the tail of the last half and one more half.
    const tail = output.subarray(written.length);
    expect(tail.length).toBeLessThanOrEqual(RING);
    expect(tail.every((b) => b === 0)).toBe(true);
  });

  it('captures into three reads exactly the signal the ADC heard, from its start', async () => {
    const s = scenario('sound-capture');
    const session = await run(s);
    expectClean(session, s);

    const items = workItems(s, 1);
    const signal = captureSignal(items, 1);
    let offset = 0;
    session.irps.forEach((irp) => {
      const got = session.machine.cpu.readBytes(irp.userBuffer, irp.length)!;
      expect(Buffer.from(got).equals(Buffer.from(signal.subarray(offset, offset + irp.length)))).toBe(true);
      offset += irp.length;
    });
    expect(sound(session).snapshot().bytesCaptured).toBeGreaterThanOrEqual(offset);
  });

  it('plays exactly one second of 44.1 kHz 16-bit stereo, the same way on every run', async () => {
    const s = scenario('sound-playback-1s');
    expect(s.workload.reduce((n, w) => n + w.length, 0)).toBe(BYTES_PER_SECOND);
    const first = await run(s);
    expectClean(first, s);
    expect(first.result.stats.simulatedNs).toBeGreaterThan(1e9);
    const output = sound(first).outputPcm();
    expect(output.length).toBeGreaterThanOrEqual(BYTES_PER_SECOND);
    expect(indexOf(output, concat(workItems(s, 1).map((w) => w.data!)))).toBe(0);

    const second = await run(s);
    expect(second.result).toEqual(first.result);
    expect(Buffer.from(sound(second).outputPcm()).equals(Buffer.from(output))).toBe(true);
  });

  it('a driver that refills the half the controller is in fails data integrity', async () => {
    const finished = 'const finished = left > HALF ? 1 : 0;';
    expect(source).toContain(finished);
    const buggy = source.replace(finished, 'const finished = left > HALF ? 0 : 1;');
    const session = await run(scenario('sound-playback'), buggy);
    expect(session.result.ok).toBe(false);
    expect(session.result.checks.find((c) => c.id === 'data-integrity')).toMatchObject({ ok: false });
    // Said in time: the half refilled too early had not been played yet.
    expect(session.result.checks.find((c) => c.id === 'data-integrity')!.message).toBe(
      'the audio played differs from the audio written from 23.2 ms in (frame 1024, byte 4096 of 176400, at 44100 Hz, 16-bit stereo): it holds the audio written from 46.4 ms, 23.2 ms later: audio was skipped (a half-buffer overwritten before it was used)',
    );
    expect(session.result.bugcheck).toBeNull();
  });

  it('a driver that never acknowledges the 16-bit interrupt gets one interrupt and never completes its IRPs', async () => {
    const ack = 'READ_PORT_UCHAR(ext.PortBase + SB_DSP_ACK16);';
    expect(source).toContain(ack);
    const buggy = source.replace(ack, '// (no acknowledge)');
    const s = { ...scenario('sound-playback-1s'), timeLimitMs: 300 };
    const session = await run(s, buggy);
    expect(session.result.ok).toBe(false);
    // The line stays high, so the edge-triggered PIC sees no second edge.
    expect(session.result.stats.interrupts).toBe(1);
    expect(session.result.checks.find((c) => c.id === 'irp-status')).toMatchObject({ ok: false });
    expect(session.result.checks.find((c) => c.id === 'run')?.message).toMatch(/not completed/);
  });
});
