import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bugCheckOf, RULES, type Rule } from './rules';

// The rule table itself: every finding the code can raise has a rule, each rule says what
// to do in one line and names its WDK page, and Driver Verifier's DMA checks carry the
// parameter 1 values of bug-check-0xe6.md (restated here).
const E6_PARAMETER_1: Record<string, number> = {
  DMA_FLUSH_TOO_MANY_BYTES: 0x00,
  DMA_COMMON_BUFFER_FREED_TWICE: 0x03,
  DMA_CHANNEL_FREED_TWICE: 0x04,
  DMA_MAP_REGISTERS_FREED_TWICE: 0x05,
  DMA_SG_LIST_FREED_TWICE: 0x06,
  DMA_PUT_ADAPTER_WITH_COMMON_BUFFERS: 0x07,
  DMA_PUT_ADAPTER_WITH_CHANNEL: 0x08,
  DMA_PUT_ADAPTER_WITH_MAP_REGISTERS: 0x09,
  DMA_PUT_ADAPTER_WITH_SG_LISTS: 0x0a,
  DMA_TWO_CHANNELS: 0x0b,
  DMA_TOO_MANY_MAP_REGISTERS: 0x0c,
  DMA_NOT_FLUSHED: 0x0d,
  DMA_BUFFER_NOT_LOCKED: 0x0e,
  DMA_FREE_WHILE_MAPPED: 0x10,
  DMA_WRONG_IRQL: 0x13,
  DMA_FLUSH_NOT_MAPPED: 0x16,
  DMA_ADAPTER_ALREADY_PUT: 0x18,
  DMA_NULL_ADAPTER: 0x19,
  DMA_ADDRESS_NOT_IN_MDL: 0x1b,
  DMA_ALREADY_MAPPED: 0x1d,
  DMA_LENGTH_BEYOND_MDL: 0x1f,
  DMA_FLUSH_WRONG_MAP_REGISTERS: 0x20,
  DMA_ZERO_LENGTH: 0x21,
  DMA_UNKNOWN_DESCRIPTION_VERSION: 0x25,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the verifier rules', () => {
  const rules = Object.entries(RULES) as [string, Rule][];

  it('give each Driver Verifier DMA check its bug check 0xE6 parameter 1', () => {
    const e6 = rules.filter(([, r]) => r.e6).map(([id, r]) => [id, r.e6![0]]);
    expect(Object.fromEntries(e6)).toEqual(E6_PARAMETER_1);
    for (const [id] of e6) expect(bugCheckOf(RULES[id as keyof typeof RULES])).toMatchObject({ code: 0xe6, p1: E6_PARAMETER_1[id as string] });
  });

  it('say what to do in one sentence and name a WDK page', () => {
    for (const [id, r] of rules) {
      expect(r.advice, id).toMatch(/^[A-Z][^\n]*\.$/);
      expect(r.advice.length, id).toBeLessThan(200);
      expect(r.page, id).toMatch(/^(kernel|ddi)(\/[a-z0-9_-]+\.md)?$/);
    }
  });

  it('cover every finding the simulator raises', () => {
    const raised = new Set<string>();
    for (const file of sources('src/sim')) for (const m of readFileSync(file, 'utf8').matchAll(/report\(\s*'([A-Z0-9_]+)'/g)) raised.add(m[1]!);
    expect(raised.size).toBeGreaterThan(30);
    for (const id of raised) expect(Object.keys(RULES), id).toContain(id);
  });
});
