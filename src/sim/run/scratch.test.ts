import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { test } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { runScenario } from './session';

test('scratch', async () => {
  const scenario = Scenario.parse(parse(readFileSync('labs/01-adapter-object/scenario.yaml', 'utf8')));
  const source = readFileSync('labs/01-adapter-object/solution.ts', 'utf8');
  const t = performance.now();
  const s = await runScenario({ scenario, source, file: 'solution.ts', seed: 1 });
  console.log(JSON.stringify(s.result, null, 1), performance.now() - t);
});
