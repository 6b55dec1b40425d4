import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readVcd } from '../src/sim/trace/vcdReader';
import { expect, startHost, stopHost, test } from './fixtures';
import { filesUnder, lab, openLab, typeDriver } from './workbench';

// The trace export dialog in a browser: the file arrives as a download that a VCD reader
// reads back and that leaves nothing behind in the host's folder. (Cancelling a long export
// is in playground.spec.ts, which has a long run to export.)

test('exports a finished run as VCD, downloaded and read back', async ({ page }) => {
  test.setTimeout(150_000);
  // The host writes downloads under its temporary folder: this one, so the test can look inside.
  const dataDir = join(test.info().outputPath('data'));
  const temp = test.info().outputPath('tmp');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(temp, { recursive: true });
  const host = await startHost(dataDir, { TMPDIR: temp });
  try {
    await openLab(page, host.url, /A packet-based read/);
    await expect(page.getByTestId('export-trace')).toBeDisabled();
    await typeDriver(page, lab('02-packet-read', 'solution.ts'));
    await page.getByTestId('run').click();
    await expect(page.getByTestId('verdict')).toHaveText('Every check passed.', { timeout: 30_000 });

    await page.getByTestId('export-trace').click();
    const dialog = page.getByTestId('export-dialog');
    await expect(dialog).toBeVisible();
    await page.screenshot({ path: 'artifacts/e2e-export-dialog.png' });
    await dialog.getByTestId('export-format-vcd').check();
    const downloading = page.waitForEvent('download');
    await dialog.getByTestId('export-start').click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('02-packet-read.vcd');
    const saved = test.info().outputPath('02-packet-read.vcd');
    await download.saveAs(saved);
    await expect(dialog.getByTestId('export-done')).toContainText('as the download 02-packet-read.vcd');
    await page.screenshot({ path: 'artifacts/e2e-export-done.png' });
    const vcd = readVcd(readFileSync(saved, 'latin1'));
    expect(vcd.strange).toEqual([]);
    expect(vcd.bare).toEqual(expect.arrayContaining(['DREQ2', 'DACK2', 'TC2', 'IRQ6']));
    // Five sectors read: five terminal counts on channel 2.
    const tc = vcd.changes.get(vcd.names.find((n) => n.endsWith('TC2'))!)!;
    expect(tc.filter(([, v]) => v === '1')).toHaveLength(5);
    // Fetched once, then gone from the host's folder.
    expect(filesUnder(temp)).toEqual([]);
    await dialog.getByTestId('export-close').click();
    await expect(dialog).toHaveCount(0);
  } finally {
    await stopHost(host.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
