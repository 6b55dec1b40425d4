import { performance } from 'node:perf_hooks';
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { RunState } from '../../shared/runState';
import type { DebugCommand, DebugHost, RunPosition, Stop } from '../../sim/run/debugger';
import { CONTROL, type DebugMessage, type DebugReport, type DebugSetup, STATE_INTERVAL_MS, type TraceQueryMessage } from './debugProtocol';

// The debugger's host inside a simulation worker (see debugProtocol.ts): blocks while the
// run is stopped, answers state requests meanwhile, and while the run goes streams its state
// at a bounded rate and holds it to the chosen speed.

/** Wall-clock checks happen every this many events: performance.now() per event would cost more than the event. */
const CHECK_EVERY = 64;
/** …or after this much simulated time, whichever comes first. */
const CHECK_SIM_NS = 1_000_000;
/** Longest sleep at a time when ahead of the chosen speed, so that Pause is felt at once. */
const MAX_SLEEP_MS = 20;

/** The messages the main thread has posted, oldest first, taken without waiting (the worker's event loop is blocked). */
function* pending(port: MessagePort): Generator<DebugMessage> {
  for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) yield received.message as DebugMessage;
}

export function createDebugHost(setup: DebugSetup, state: () => RunState, post: (report: DebugReport) => void, answer: (query: TraceQueryMessage) => void): DebugHost {
  const control = new Int32Array(setup.control);
  let events = 0;
  let lastCheckSim = 0;
  let lastPost = performance.now();
  // Speed anchors: the wall time and simulated time when the speed last took effect.
  let anchor: { wall: number; sim: number; speed: number } | null = null;

  const streamState = (now: number) => {
    if (setup.quiet || now - lastPost < STATE_INTERVAL_MS) return;
    lastPost = now;
    post({ kind: 'state', state: state() });
  };

  let breakpoints: number[] | null = null;
  let signalSeen = 0;

  /** Takes the port's messages; answers the first command among them, if any. */
  const drain = (): DebugCommand | null => {
    for (const message of pending(setup.port)) {
      if (message.kind === 'command') return message.command;
      if (message.kind === 'breakpoints') breakpoints = message.lines;
      else if (message.kind === 'state') post({ kind: 'state', state: state() });
      else answer(message);
    }
    return null;
  };

  const waitForCommand = (): DebugCommand => {
    for (;;) {
      signalSeen = Atomics.load(control, CONTROL.signal);
      const command = drain();
      if (command !== null) {
        breakpoints = null; // the command carries the breakpoints that count
        return command;
      }
      Atomics.wait(control, CONTROL.signal, signalSeen); // no spinning: sleeps until the main thread signals
    }
  };

  // The panels show the machine as the run begins (a replay shows only where it lands, and a
  // run that stops at its start shows it with that stop).
  if (!setup.replayTo && !setup.stopAtStart && !setup.quiet) post({ kind: 'state', state: state() });

  return {
    breakpointsChanged(): readonly number[] | null {
      // A cheap look at the signal word; the port only when something was posted.
      const signal = Atomics.load(control, CONTROL.signal);
      if (signal === signalSeen) return null;
      signalSeen = signal;
      drain();
      const changed = breakpoints;
      breakpoints = null;
      return changed;
    },
    stopped(stop: Stop): DebugCommand {
      Atomics.store(control, CONTROL.pause, 0);
      post({ kind: 'stopped', stop, state: state() });
      const command = waitForCommand();
      anchor = null;
      lastPost = performance.now();
      return command;
    },
    pauseRequested(_position: RunPosition, timeNs: number): boolean {
      if (Atomics.load(control, CONTROL.pause) === 1) return true;
      // The speed counts from the first event after a start or a stop, so that a leap of
      // simulated time before the first check (a motor spinning up) is held to it too.
      if (anchor === null) {
        const speed = Atomics.load(control, CONTROL.speed);
        if (speed > 0) anchor = { wall: performance.now(), sim: timeNs, speed };
      }
      // Look at the clock every CHECK_EVERY events, or sooner when simulated time leaps (a
      // seek, a motor spinning up), so that a slow speed holds in quiet stretches too.
      if (++events % CHECK_EVERY !== 0 && timeNs - lastCheckSim < CHECK_SIM_NS) return false;
      lastCheckSim = timeNs;
      const now = performance.now();
      streamState(now);
      const speed = Atomics.load(control, CONTROL.speed);
      if (speed <= 0) {
        anchor = null;
        return false;
      }
      if (anchor === null || anchor.speed !== speed) anchor = { wall: now, sim: timeNs, speed };
      // At speed s the run covers s × 1000 simulated ns per wall ms (real time: s = 1000).
      const due = anchor.wall + (timeNs - anchor.sim) / (speed * 1000);
      for (let t = now; t < due; t = performance.now()) {
        // Sleeps on the pause word, so a Pause (or a new speed, which also notifies it) wakes it at once.
        Atomics.wait(control, CONTROL.pause, 0, Math.min(MAX_SLEEP_MS, due - t));
        if (Atomics.load(control, CONTROL.pause) === 1) return true;
        if (Atomics.load(control, CONTROL.speed) !== speed) break;
        streamState(performance.now());
      }
      return false;
    },
  };
}

/**
 * After the run: the worker stays, answering questions about the finished run's trace,
 * until the main thread ends it.
 */
export function serveFinishedRun(setup: DebugSetup, answer: (query: TraceQueryMessage) => void): never {
  const control = new Int32Array(setup.control);
  for (;;) {
    const seen = Atomics.load(control, CONTROL.signal);
    for (const message of pending(setup.port)) if (message.kind !== 'command' && message.kind !== 'state' && message.kind !== 'breakpoints') answer(message);
    Atomics.wait(control, CONTROL.signal, seen);
  }
}
