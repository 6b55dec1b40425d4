import { rmSync } from 'node:fs';
import { expect, startHost, stopHost, test } from './fixtures';
import { lab, openLab, typeDriver } from './workbench';

// Progress kept in the data folder: passing a lab shows in the catalog, and the code in the
// editor and the hints asked for are there again after the host restarts.

test('passing lab 01 marks it passed; code typed and a hint asked for in lab 02 are there after a restart', async ({ page }) => {
  test.setTimeout(120_000);
  const first = await startHost();
  try {
    await openLab(page, first.url, /The adapter object/);
    const catalog = page.getByTestId('catalog');
    await expect(catalog.locator('[data-lab="01-adapter-object"]')).toHaveAttribute('data-status', 'not-started');
    await typeDriver(page, lab('01-adapter-object', 'solution.ts'));
    await page.getByTestId('run').click();
    await expect(page.getByTestId('verdict')).toHaveText('Every check passed.', { timeout: 30_000 });
    await expect(catalog.locator('[data-lab="01-adapter-object"]')).toHaveAttribute('data-status', 'passed');
    // Passed: the reference solution opens.
    await page.getByTestId('tab-instructions').click();
    await page.getByTestId('show-solution').click();
    await expect(page.getByTestId('solution-code')).toContainText(lab('01-adapter-object', 'solution.ts').split('\n')[0]!);

    // Lab 02, changed and left: in progress, its code saved as typed.
    await page.getByTestId('catalog').getByRole('button', { name: /A packet-based read/ }).click();
    await expect(page.getByTestId('lab-title')).toHaveText(/A packet-based read/);
    const mine = `// my attempt at lab 02\n${lab('02-packet-read', 'starter.ts')}`;
    await typeDriver(page, mine);
    await expect(catalog.locator('[data-lab="02-packet-read"]')).toHaveAttribute('data-status', 'in-progress');
    // Reset to starter, and Ctrl+Z brings the code back.
    const lines = page.getByTestId('editor').locator('.view-lines');
    await page.getByTestId('reset-starter').click();
    await expect(lines).not.toContainText('// my attempt at lab 02');
    await page.keyboard.press('Control+Z');
    await expect(lines).toContainText('// my attempt at lab 02');
    // Not passed and no attempts yet: the solution stays shut.
    await page.getByTestId('tab-instructions').click();
    await expect(page.getByTestId('solution')).toContainText('It opens once you pass the lab, or after 5 attempts (0 so far)');
    // The lab's instructions, and its first hint asked for.
    await page.getByTestId('tab-instructions').click();
    await expect(page.getByTestId('instructions')).toContainText('MapTransfer');
    await expect(page.getByTestId('hint')).toHaveCount(0);
    await page.getByTestId('next-hint').click();
    await expect(page.getByTestId('hint')).toHaveCount(1);
    await page.waitForTimeout(1500); // the autosave waits for typing to settle
    await page.screenshot({ path: 'artifacts/e2e-progress-catalog.png' });
    await stopHost(first.child);

    // A new host on the same data folder: the page finds both as they were left.
    const second = await startHost(first.dataDir);
    try {
      await openLab(page, second.url, /A packet-based read/);
      await expect(page.getByTestId('editor').locator('.view-lines')).toContainText('// my attempt at lab 02');
      await expect(catalog.locator('[data-lab="01-adapter-object"]')).toHaveAttribute('data-status', 'passed');
      await expect(catalog.locator('[data-lab="02-packet-read"]')).toHaveAttribute('data-status', 'in-progress');
      await page.getByTestId('tab-instructions').click();
      await expect(page.getByTestId('hint')).toHaveCount(1);
      await expect(page.getByTestId('next-hint')).toContainText('Show the next hint (2 of');
      await page.screenshot({ path: 'artifacts/e2e-progress-instructions.png' });
    } finally {
      await stopHost(second.child);
    }
  } finally {
    await stopHost(first.child);
    rmSync(first.dataDir, { recursive: true, force: true });
  }
});
