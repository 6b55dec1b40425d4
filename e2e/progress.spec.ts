import { rmSync } from 'node:fs';
import { expect, startHost, stopHost, test } from './fixtures';
import { lab, openLab, typeDriver } from './workbench';

// Progress kept in the data folder: passing a lab shows in the catalog, and the code in the
// editor is autosaved and there again after the host restarts.

test('passing lab 01 marks it passed; code typed in lab 02 is there after a restart', async ({ page }) => {
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

    // Lab 02, changed and left: in progress, its code saved as typed.
    await page.getByTestId('catalog').getByRole('button', { name: /A packet-based read/ }).click();
    await expect(page.getByTestId('lab-title')).toHaveText(/A packet-based read/);
    const mine = `// my attempt at lab 02\n${lab('02-packet-read', 'starter.ts')}`;
    await typeDriver(page, mine);
    await expect(catalog.locator('[data-lab="02-packet-read"]')).toHaveAttribute('data-status', 'in-progress');
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
    } finally {
      await stopHost(second.child);
    }
  } finally {
    await stopHost(first.child);
    rmSync(first.dataDir, { recursive: true, force: true });
  }
});
