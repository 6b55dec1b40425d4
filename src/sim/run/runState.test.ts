import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type RunState, SCOPE_COLUMNS, type SoundState } from '../../shared/runState';
import { Scenario } from '../../shared/scenario';
import { SoundBlaster16 } from '../hw/sb16';
import { captureRunState } from './runState';
import { runScenario, type SessionParts } from './session';
import { captureSignal, workItems } from './workload';

// The sound device's scope in the run state: the last 40 ms of the DAC's output or the
// ADC's input as a min/max envelope, taken at a debugger stop while the stream runs, and
// after the run (idle: the side of the card the last transfer used).

const DRIVER = 'labs/playground/sound-common-buffer.driver.ts';
const source = readFileSync(DRIVER, 'utf8');
/** 40 ms at 44.1 kHz. */
const WINDOW = 1764;

function scenario(name: string): Scenario {
  return Scenario.parse(parse(readFileSync(`labs/playground/${name}.scenario.yaml`, 'utf8')));
}

function sb(parts: Pick<SessionParts, 'machine'>): SoundBlaster16 {
  const d = parts.machine.devices.get('sb0');
  if (!(d instanceof SoundBlaster16)) throw new Error('sb0 is not a sound device');
  return d;
}

function soundOf(state: RunState): SoundState {
  const d = state.devices.find((x) => x.type === 'sound');
  if (d?.type !== 'sound') throw new Error('no sound device in the state');
  return d;
}

function envelope(samples: Int16Array): { min: number[]; max: number[] } {
  const columns = Math.min(SCOPE_COLUMNS, samples.length);
  const min: number[] = [];
  const max: number[] = [];
  for (let c = 0; c < columns; c++) {
    const part = [...samples.subarray(Math.floor((c * samples.length) / columns), Math.floor(((c + 1) * samples.length) / columns))];
    min.push(Math.min(...part));
    max.push(Math.max(...part));
  }
  return { min, max };
}

/** Runs the scenario to its fifth interrupt, takes the state and the device's recent samples there, then runs to the end. */
async function atFifthInterrupt(s: Scenario, recent: (d: SoundBlaster16) => Int16Array) {
  let state: RunState | null = null;
  let samples: Int16Array | null = null;
  let stops = 0;
  const session = await runScenario({
    scenario: s,
    source,
    file: 'sound-common-buffer.driver.ts',
    seed: 1,
    debug: {
      options: { stopAtStart: true },
      host: (parts) => ({
        stopped() {
          if (++stops === 6) {
            state = captureRunState(parts);
            samples = recent(sb(parts));
          }
          return stops < 6 ? { mode: 'interrupt' } : { mode: 'run', breakpoints: [] };
        },
        pauseRequested: () => false,
      }),
    },
  });
  expect(session.result.ok).toBe(true);
  const after = captureRunState({ ...session, debugger: null });
  return { state: state as RunState | null, samples: samples as Int16Array | null, after, session };
}

describe('the sound scope in the run state', () => {
  it('playback: the DAC output of the last 40 ms while streaming, and what played last at the end of the run', async () => {
    const { state, samples, after, session } = await atFifthInterrupt(scenario('sound-playback'), (d) => d.recentOutput(WINDOW));
    const sound = soundOf(state!);
    expect(sound.mode).toBe('playback');
    expect(samples!.length).toBe(WINDOW);
    expect(sound.scope).toEqual({ source: 'output', rate: 44_100, frames: WINDOW, ...envelope(samples!) });
    expect(sound.scope!.min).toHaveLength(SCOPE_COLUMNS);
    expect(sound.scope!.max.some((v, i) => v > sound.scope!.min[i]!)).toBe(true);

    // The run ends when the last write completes; the FIFO may still be playing out.
    expect(soundOf(after).scope).toEqual({ source: 'output', rate: 44_100, frames: WINDOW, ...envelope(sb(session).recentOutput(WINDOW)) });
  });

  it('capture: the ADC input of the last 40 ms (the scenario signal, left channel) while streaming and once idle', async () => {
    const s = scenario('sound-capture');
    const { state, samples, after, session } = await atFifthInterrupt(s, (d) => d.recentInput(WINDOW));
    const sound = soundOf(state!);
    expect(sound.mode).toBe('capture');
    expect(samples!.length).toBe(WINDOW);
    expect(sound.scope).toEqual({ source: 'input', rate: 44_100, frames: WINDOW, ...envelope(samples!) });
    // The samples are the scenario's input signal (16-bit signed stereo), left channel, frame-aligned.
    const signal = captureSignal(workItems(s, 1), 1);
    const left = (f: number) => ((signal[f * 4 + 1]! << 24) >> 16) | signal[f * 4]!;
    const start = Array.from({ length: signal.length / 4 - WINDOW }, (_, f) => f).find((f) => samples!.every((v, k) => v === left(f + k)));
    expect(start).toBeDefined();

    const idle = soundOf(after);
    expect(idle.mode).toBe('idle');
    expect(idle.scope).toEqual({ source: 'input', rate: 44_100, frames: WINDOW, ...envelope(sb(session).recentInput(WINDOW)) });
  });
});
