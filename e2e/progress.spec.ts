import { rmSync, writeFileSync } from 'node:fs';
import { expect, startHost, stopHost, test } from './fixtures';
import { lab, openLab, typeDriver } from './workbench';

// Progress kept in the data folder: passing a lab shows in the catalog, and the code in the
// editor and the hints asked for are there again after the host restarts.

test('passing lab 01 marks it passed and leads on to lab 02; code and hints survive a restart; the progress file moves them to another data folder', async ({ page }) => {
  test.setTimeout(120_000);
  const first = await startHost();
  const exported = test.info().outputPath('progress.json');
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

    // Lab 02, opened from the result, changed and left: in progress, its code saved as typed.
    await page.getByTestId('tab-result').click();
    await page.getByTestId('next-lab').click();
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

      // The overview across the labs, and the whole progress exported as a file.
      await page.getByTestId('open-overview').click();
      const overview = page.getByTestId('overview');
      await expect(overview.getByTestId('overview-tally')).toContainText('1 of 12 labs passed');
      await expect(overview.locator('[data-lab="01-adapter-object"] [data-testid="overview-status"]')).toHaveText('Passed');
      await expect(overview.locator('[data-lab="02-packet-read"] [data-testid="overview-status"]')).toHaveText('In progress');
      await page.screenshot({ path: 'artifacts/e2e-progress-overview.png' });
      const downloading = page.waitForEvent('download');
      await overview.getByTestId('export-progress').click();
      await (await downloading).saveAs(exported);
    } finally {
      await stopHost(second.child);
    }

    // Another data folder, empty: a file of the wrong kind is refused, then the export is taken in.
    const third = await startHost();
    try {
      await page.goto(third.url);
      await page.getByTestId('open-overview').click();
      const overview = page.getByTestId('overview');
      await expect(overview.getByTestId('overview-tally')).toContainText('0 of 12 labs passed');
      const wrong = test.info().outputPath('scenario.json');
      writeFileSync(wrong, JSON.stringify({ name: 'floppy', devices: [] }));
      await overview.getByTestId('import-file').setInputFiles(wrong);
      await overview.getByTestId('import-replace').click();
      await expect(overview.getByTestId('progress-file-message')).toContainText('scenario.json was not imported, and your progress is as it was: this is not a DMA Lab progress file');
      await expect(overview.getByTestId('overview-tally')).toContainText('0 of 12 labs passed');

      await overview.getByTestId('import-file').setInputFiles(exported);
      await expect(overview.getByTestId('import-confirm')).toContainText('Replace all your progress with progress.json');
      await overview.getByTestId('import-replace').click();
      await expect(overview.getByTestId('progress-file-message')).toContainText('Imported progress.json');
      await expect(overview.getByTestId('overview-tally')).toContainText('1 of 12 labs passed');
      await expect(catalog.locator('[data-lab="01-adapter-object"]')).toHaveAttribute('data-status', 'passed');
      await page.screenshot({ path: 'artifacts/e2e-progress-imported.png' });
      // The code came with it.
      await overview.locator('[data-lab="02-packet-read"] button').click();
      await expect(page.getByTestId('editor').locator('.view-lines')).toContainText('// my attempt at lab 02');
    } finally {
      await stopHost(third.child);
      rmSync(third.dataDir, { recursive: true, force: true });
    }
  } finally {
    await stopHost(first.child);
    rmSync(first.dataDir, { recursive: true, force: true });
  }
});
