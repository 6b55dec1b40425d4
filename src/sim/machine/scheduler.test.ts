import { describe, expect, it } from 'vitest';
import { Random } from './random';
import { Scheduler } from './scheduler';

describe('the scheduler', () => {
  it('runs events in time order, and same-time events in the order they were scheduled', () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.schedule(30, () => log.push('c'));
    s.schedule(10, () => log.push('a1'));
    s.schedule(10, () => log.push('a2'));
    s.schedule(20, () => {
      log.push('b');
      s.schedule(0, () => log.push('b-then'));
      s.schedule(10, () => log.push('c-after'));
    });
    expect(s.runUntilIdle()).toBe('idle');
    expect(log).toEqual(['a1', 'a2', 'b', 'b-then', 'c', 'c-after']);
    expect(s.now).toBe(30);
  });

  it('runUntil stops at the time and moves the clock to it', () => {
    const s = new Scheduler();
    const log: number[] = [];
    for (const t of [5, 10, 15]) s.schedule(t, () => log.push(s.now));
    expect(s.runUntil(10)).toBe('time-reached');
    expect(log).toEqual([5, 10]);
    expect(s.now).toBe(10);
    expect(s.runUntil(100)).toBe('idle');
    expect(s.now).toBe(100);
  });

  it('cancels an event before it runs, and cancelling a run event does nothing', () => {
    const s = new Scheduler();
    const log: string[] = [];
    const a = s.schedule(10, () => log.push('a'));
    s.schedule(20, () => log.push('b'));
    s.cancel(a);
    s.runUntilIdle();
    s.cancel(a);
    expect(log).toEqual(['b']);
    expect(s.pending).toBe(0);
  });

  it('a timer can be set, moved and cleared without piling up events', () => {
    const s = new Scheduler();
    const fired: number[] = [];
    const t = s.createTimer(() => fired.push(s.now));
    t.setAt(50);
    t.setAt(20); // moved earlier
    expect(s.pending).toBe(1);
    s.runUntil(30);
    expect(fired).toEqual([20]);
    expect(t.pending).toBe(false);
    t.setAt(40);
    t.clear();
    t.setAt(60);
    s.runUntilIdle();
    expect(fired).toEqual([20, 60]);
  });

  it('refuses an event in the past or at a fractional time', () => {
    const s = new Scheduler();
    s.runUntil(100);
    expect(() => s.scheduleAt(99, () => {})).toThrow(RangeError);
    expect(() => s.schedule(0.5, () => {})).toThrow(RangeError);
  });

  it('reports a runaway instead of looping for ever', () => {
    const s = new Scheduler();
    const again = () => s.schedule(0, again);
    again();
    expect(s.runUntilIdle(10_000)).toBe('runaway');
  });

  it('stop() ends the run after the current event', () => {
    const s = new Scheduler();
    const log: number[] = [];
    s.schedule(1, () => log.push(1));
    s.schedule(2, () => {
      log.push(2);
      s.stop();
    });
    s.schedule(3, () => log.push(3));
    expect(s.runUntilIdle()).toBe('stopped');
    expect(log).toEqual([1, 2]);
  });

  it('keeps order across many random insertions and cancellations (heap invariant)', () => {
    const s = new Scheduler();
    const rng = new Random(5);
    const times: number[] = [];
    const handles = [];
    for (let i = 0; i < 2000; i++) {
      const t = rng.int(0, 10_000);
      handles.push({ t, h: s.scheduleAt(t, () => times.push(s.now)) });
    }
    const kept = handles.filter((_, i) => i % 3 !== 0);
    handles.forEach((x, i) => i % 3 === 0 && s.cancel(x.h));
    s.runUntilIdle();
    expect(times).toEqual(kept.map((x) => x.t).sort((a, b) => a - b));
  });
});

describe('the seeded generator', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const seq = (r: Random) => Array.from({ length: 100 }, () => r.nextUint32());
    const sa = seq(a);
    expect(seq(b)).toEqual(sa);
    expect(seq(c)).not.toEqual(sa);
  });

  it('int() stays within its bounds and reaches both ends', () => {
    const r = new Random(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(3, 9);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(9);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });
});
