import { defineStore } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import type { RunAction, RunEvent, RunOutcome } from '../../../shared/run';
import type { RunState, Stop } from '../../../shared/runState';
import { isScenarioId } from '../../../shared/playground';
import { useApi } from '../api';

export type RunStatus = 'idle' | 'starting' | 'running' | 'stopped' | 'finished';

/** Speeds offered: simulated time per wall time (0 = as fast as possible). */
export const SPEEDS = [
  { value: 0, label: 'As fast as possible' },
  { value: 1, label: 'Real time' },
  { value: 0.1, label: '1/10 real time' },
  { value: 0.01, label: '1/100 real time' },
  { value: 0.001, label: '1/1000 real time' },
] as const;

/**
 * The run of the open lab's driver: its status, the last stop, the machine state the panels
 * draw, and how it ended. States stream in faster than a screen refreshes; only the newest
 * is kept and applied once per animation frame, so the renderer never falls behind.
 */
export const useRunStore = defineStore('run', () => {
  const runId = ref<number | null>(null);
  const labId = ref<string | null>(null);
  const status = ref<RunStatus>('idle');
  const stop = shallowRef<Stop | null>(null);
  const state = shallowRef<RunState | null>(null);
  const outcome = shallowRef<RunOutcome | null>(null);
  const canStepBack = ref(false);
  const speed = ref<number>(0);
  const error = ref<string | null>(null);
  /** Breakpoint lines per lab. */
  const breakpoints = ref<Record<string, number[]>>({});
  /** Bumped at each stop and at the end: the trace panels read the trace again then. */
  const traceVersion = ref(0);
  /** Every new machine state the panels get, streamed or at a stop (the benchmarks watch it). */
  const stateUpdates = ref(0);
  watch(state, (s) => {
    if (s !== null) stateUpdates.value++;
  });

  let pendingState: RunState | null = null;
  let frame = 0;
  const applyState = () => {
    frame = 0;
    if (pendingState !== null) {
      state.value = pendingState;
      pendingState = null;
    }
  };

  let listening = false;
  function listen(): void {
    if (listening) return;
    listening = true;
    useApi().on('run.event', ({ runId: id, event }) => {
      if (id === runId.value) onEvent(event);
      else if (status.value === 'starting') early.push({ id, event }); // may come before run.start's answer
    });
  }
  let early: { id: number; event: RunEvent }[] = [];

  function onEvent(event: RunEvent): void {
    switch (event.kind) {
      case 'state':
        if (status.value !== 'running') return;
        pendingState = event.state;
        frame ||= requestAnimationFrame(applyState);
        return;
      case 'stopped':
        pendingState = null;
        // Stepped back from the end: the run goes on from here, so its result no longer stands.
        if (status.value === 'finished') outcome.value = null;
        status.value = 'stopped';
        stop.value = event.stop;
        state.value = event.state;
        canStepBack.value = event.canStepBack;
        traceVersion.value++;
        return;
      case 'finished':
        if (pendingState !== null) applyState();
        status.value = 'finished';
        stop.value = null;
        canStepBack.value = event.canStepBack;
        outcome.value = event.outcome;
        traceVersion.value++;
        return;
    }
  }

  async function start(lab: string, source: string, options: { stopAtStart?: boolean } = {}): Promise<void> {
    listen();
    if (runId.value !== null && status.value !== 'finished') await control('stop').catch(() => {});
    labId.value = lab;
    status.value = 'starting';
    stop.value = null;
    state.value = null;
    outcome.value = null;
    error.value = null;
    canStepBack.value = false;
    try {
      const { runId: id } = await useApi().call('run.start', {
        ...(isScenarioId(lab) ? { scenarioId: lab } : { labId: lab }),
        source,
        breakpoints: breakpoints.value[lab] ?? [],
        stopAtStart: options.stopAtStart ?? false,
        speed: speed.value,
      });
      runId.value = id;
      if (status.value === 'starting') status.value = 'running';
      const mine = early.filter((e) => e.id === id);
      early = [];
      for (const e of mine) onEvent(e.event);
    } catch (err) {
      status.value = 'idle';
      error.value = err instanceof Error ? err.message : String(err);
    }
  }

  /** The lab open and its driver as the person has it now: the app gets ready for its run, so that Run starts sooner. */
  function prepare(lab: string, source: string): void {
    void useApi()
      .call('run.prepare', { ...(isScenarioId(lab) ? { scenarioId: lab } : { labId: lab }), source })
      .catch(() => {});
  }

  async function control(action: RunAction): Promise<void> {
    if (runId.value === null) return;
    error.value = null;
    const before = status.value;
    if (action !== 'pause' && action !== 'stop' && (before === 'stopped' || (before === 'finished' && action === 'step-back'))) status.value = 'running';
    try {
      await useApi().call('run.control', { runId: runId.value, action });
    } catch (err) {
      status.value = before;
      error.value = err instanceof Error ? err.message : String(err);
    }
  }

  async function toggleBreakpoint(lab: string, line: number): Promise<void> {
    const current = breakpoints.value[lab] ?? [];
    const next = current.includes(line) ? current.filter((l) => l !== line) : [...current, line].sort((a, b) => a - b);
    breakpoints.value = { ...breakpoints.value, [lab]: next };
    if (runId.value !== null && labId.value === lab && (status.value === 'running' || status.value === 'stopped')) {
      await useApi().call('run.set', { runId: runId.value, breakpoints: next }).catch(() => {});
    }
  }

  async function setSpeed(value: number): Promise<void> {
    speed.value = value;
    if (runId.value !== null && (status.value === 'running' || status.value === 'stopped')) {
      await useApi().call('run.set', { runId: runId.value, speed: value }).catch(() => {});
    }
  }


  return { runId, labId, status, stop, state, outcome, canStepBack, speed, error, breakpoints, traceVersion, stateUpdates, start, prepare, control, toggleBreakpoint, setSpeed };
});
