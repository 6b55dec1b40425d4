import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { test } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { runScenario } from './session';

test('scratch', async () => {
  for (const ch of [0, 1, 5, 6, 7]) {
    const raw = parse(readFileSync(`labs/playground/scanner-sg.scenario.yaml`, 'utf8'));
    raw.devices[0].channel = ch;
    const scenario = Scenario.parse(raw);
    const source = readFileSync('labs/playground/scanner-sg.driver.ts', 'utf8');
    const s = await runScenario({ scenario, source, file: 'scanner-sg.driver.ts', seed: 1 });
    console.log(ch, JSON.stringify(s.result.checks), s.result.console.join(''), s.result.stats.simulatedNs);
    if (ch === 5) console.log([...s.hal.sgLists.values()].map((r) => JSON.stringify(r.elements.map((e) => [e.Address.toString(16), e.Length]))).join('\n'));
  }
});
