import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { stringify } from 'yaml';
import { SPINNING_DRIVER, SPINNING_SCENARIO } from '../src/sim/driver/spinningDriver';
import { expect, test } from './fixtures';
import { lab, openLab, typeDriver } from './workbench';

// A hostile driver that keeps its simulation busy without end, run in one window, while a
// person works in another: lab 02 runs to a pass beside it, the spinning window's own page
// still answers (its run streams on, its tabs switch), and Stop ends it.

/** The simulated time the run toolbar shows, in ms, or null when it shows none. */
async function shownTime(page: Page): Promise<number | null> {
  const text = (await page.getByTestId('run-status').textContent()) ?? '';
  const match = /^Running at ([\d.]+) ms/.exec(text);
  return match ? Number(match[1]) : null;
}

test('a spinning driver runs in one window while lab 02 passes in another, and Stop ends it', async ({ page, host }) => {
  test.setTimeout(180_000);
  const files = test.info().outputPath('files');
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, 'spinning.yaml'), stringify(SPINNING_SCENARIO));
  writeFileSync(join(files, 'spinning.driver.ts'), SPINNING_DRIVER);

  // The spinning driver, opened from files in the playground and run.
  await page.goto(host.url);
  await expect(page.getByTestId('lab-title')).toHaveText(/The adapter object/);
  const picker = page.getByTestId('open-file-input');
  await picker.setInputFiles(join(files, 'spinning.yaml'));
  await expect(page.getByTestId('lab-title')).toHaveText(/a driver that never lets go/);
  await picker.setInputFiles(join(files, 'spinning.driver.ts'));
  await expect(page.getByTestId('editor').locator('.view-lines')).toContainText('let x = 0;');
  await page.getByTestId('run').click();
  await expect.poll(() => shownTime(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  const before = (await shownTime(page))!;

  // Another window: lab 02's reference solution runs to a pass beside it.
  const other = await page.context().newPage();
  await openLab(other, host.url, /A packet-based read/);
  await typeDriver(other, lab('02-packet-read', 'solution.ts'));
  await other.getByTestId('run').click();
  await expect(other.getByTestId('verdict')).toHaveText('Every check passed.', { timeout: 90_000 });
  await other.screenshot({ path: 'artifacts/e2e-sandbox-beside.png' });

  // The spinning window still answers: its run has gone on, and its tabs switch.
  await expect.poll(() => shownTime(page), { timeout: 30_000 }).toBeGreaterThan(before);
  await page.getByTestId('tab-dma').click();
  await expect(page.getByTestId('dma-panel')).toBeVisible();
  await page.getByTestId('tab-machine').click();
  await expect(page.getByTestId('machine-panel')).toBeVisible();
  await page.screenshot({ path: 'artifacts/e2e-sandbox-spinning.png' });

  // Stop ends it: no bug check, no crash, the page says it was stopped.
  await page.getByTestId('stop').click();
  await page.getByTestId('tab-result').click();
  await expect(page.getByTestId('verdict')).toHaveText('The run was stopped.');
  await expect(page.getByTestId('run-status')).not.toContainText('Running');
  await other.close();
});
