import { expect, test } from './fixtures';
import { lab, openLab, typeDriver } from './workbench';

// Every panel after a run, in the light and the dark theme, at 1280×800 and at 1920×1080:
// each shows the run and fits its pane (nothing cut off sideways), and each is saved to
// artifacts/panels/ for a person to look at.

const TABS = ['instructions', 'result', 'dma', 'irps', 'machine', 'memory', 'trace', 'waveform', 'timeline'] as const;
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;

test('every panel, in both themes, at both sizes', async ({ page, host }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openLab(page, host.url, /A packet-based read/);
  await typeDriver(page, lab('02-packet-read', 'solution.ts'));
  await page.getByTestId('run').click();
  await expect(page.getByTestId('verdict')).toHaveText('Every check passed.', { timeout: 30_000 });

  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      for (const tab of TABS) {
        await page.getByTestId(`tab-${tab}`).click();
        const body = page.locator('.panel-body');
        await expect(body.locator('section, [data-testid]').first()).toBeVisible();
        // The plots draw into a canvas once they have the run.
        if (tab === 'waveform' || tab === 'timeline') await expect(body.locator('canvas').first()).toBeVisible();
        const { scrollWidth, clientWidth } = await body.evaluate((e) => ({ scrollWidth: e.scrollWidth, clientWidth: e.clientWidth }));
        expect(scrollWidth, `the ${tab} panel is wider than its pane at ${size.width}×${size.height}`).toBeLessThanOrEqual(clientWidth + 1);
        const tabs = await page.getByRole('tablist').evaluate((e) => e.scrollWidth - e.clientWidth);
        expect(tabs, 'the tabs are cut off').toBeLessThanOrEqual(1);
        await page.screenshot({ path: `artifacts/panels/${size.width}x${size.height}-${theme}-${tab}.png` });
      }
    }
  }
  expect(errors).toEqual([]);
});
