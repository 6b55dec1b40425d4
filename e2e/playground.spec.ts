import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, startHost, stopHost, test } from './fixtures';
import { filesUnder } from './workbench';

// The playground as a person uses it: a scenario file that does not fit is refused with the
// CLI's own messages; one that fits is kept and run with a driver opened from a file; its
// long trace's export is cancelled and leaves nothing; both are there after a reload.

const root = join(import.meta.dirname, '..');

/** Twelve seconds of sound: a run long enough that its trace takes seconds to write. */
function longPlayback(): string {
  const writes = Array.from({ length: 12 }, () => '  - { major: write, device: sb0, length: 176400 }');
  return [
    'title: "Sound Blaster 16: twelve seconds of 16-bit stereo playback"',
    'machine: { memoryMiB: 64, cache: coherent }',
    'devices:',
    '  - { type: sound, name: sb0, port: 0x220, irq: 5, channel8: 1, channel16: 5 }',
    'workload:',
    ...writes,
    'checks:',
    '  - kind: data-integrity',
    '  - { kind: irp-status, status: STATUS_SUCCESS }',
    '  - kind: no-violations',
    '  - kind: resources-released',
    '  - kind: no-underrun',
    'timeLimitMs: 14000',
    '',
  ].join('\n');
}

test('a scenario file is refused as the CLI refuses it, or kept and run; a long export is cancelled and leaves no file', async ({ page }) => {
  test.setTimeout(180_000);
  const dataDir = test.info().outputPath('data');
  const temp = test.info().outputPath('tmp');
  const files = test.info().outputPath('files');
  for (const dir of [dataDir, temp, files]) mkdirSync(dir, { recursive: true });
  const host = await startHost(dataDir, { TMPDIR: temp });
  try {
    await page.goto(host.url);
    await expect(page.getByTestId('lab-title')).toHaveText(/The adapter object/);
    const picker = page.getByTestId('open-file-input');

    // A scenario with two mistakes: the page lists what `dmalab run` says about it.
    const broken = join(files, 'broken.yaml');
    writeFileSync(broken, longPlayback().replace('irq: 5', 'irq: 16').replace('major: write', 'major: wirte'));
    await picker.setInputFiles(broken);
    const refusal = page.getByTestId('open-file-error');
    await expect(refusal).toContainText('broken.yaml was not opened');
    const cli = spawnSync(process.execPath, [join(root, 'bin', 'dmalab.mjs'), 'run', '--scenario', broken, '--driver', join(root, 'labs', 'playground', 'sound-common-buffer.driver.ts')], { encoding: 'utf8' });
    expect(cli.status).toBe(2);
    const cliProblems = cli.stderr.split('\n').filter((l) => l.startsWith(`${broken}: `)).map((l) => l.slice(broken.length + 2));
    expect(cliProblems.length).toBe(2);
    for (const problem of cliProblems) await expect(refusal).toContainText(`broken.yaml: ${problem}`);
    await page.screenshot({ path: 'artifacts/e2e-playground-refused.png' });
    await refusal.getByRole('button', { name: 'Dismiss' }).click();

    // The good one is kept and opened, with a skeleton driver; a driver file replaces it.
    const good = join(files, 'long-playback.yaml');
    writeFileSync(good, longPlayback());
    await picker.setInputFiles(good);
    await expect(page.getByTestId('lab-title')).toHaveText(/twelve seconds of 16-bit stereo playback/);
    await expect(page.getByTestId('scenarios').locator('[data-scenario="mine/long-playback"]')).toBeVisible();
    await expect(page.getByTestId('scenario-text')).toContainText('length: 176400');
    const lines = page.getByTestId('editor').locator('.view-lines');
    await expect(lines).toContainText('A driver for: Sound Blaster 16');
    await picker.setInputFiles(join(root, 'labs', 'playground', 'sound-common-buffer.driver.ts'));
    await expect(lines).not.toContainText('A driver for: Sound Blaster 16');
    await page.screenshot({ path: 'artifacts/e2e-playground-open.png' });

    await page.getByTestId('run').click();
    await expect(page.getByTestId('verdict')).toHaveText('Every check passed.', { timeout: 90_000 });

    // Its trace, millions of events as CSV: cancelled while it is written.
    await page.getByTestId('export-trace').click();
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByTestId('export-format-csv').check();
    let downloads = 0;
    page.on('download', () => downloads++);
    await dialog.getByTestId('export-start').click();
    await expect(dialog.getByTestId('export-progress')).toBeVisible();
    await dialog.getByTestId('export-cancel').click();
    await expect(dialog.getByTestId('export-cancelled')).toHaveText('Cancelled: no file was written.');
    await page.screenshot({ path: 'artifacts/e2e-export-cancelled.png' });
    expect(downloads).toBe(0);
    expect(filesUnder(temp)).toEqual([]);
    await dialog.getByTestId('export-close').click();

    // A playground run is no lab's attempt.
    await page.getByTestId('open-overview').click();
    await expect(page.getByTestId('overview-tally')).toContainText('0 attempts');

    // After a reload the scenario is open again, with the driver as it was left.
    await page.waitForTimeout(1000); // the autosave and the settings settle
    await page.reload();
    await expect(page.getByTestId('lab-title')).toHaveText(/twelve seconds of 16-bit stereo playback/);
    await expect(lines).toContainText('Sound Blaster');
    await expect(lines).not.toContainText('A driver for: Sound Blaster 16');
    expect(filesUnder(join(dataDir, 'scenarios')).map((f) => f.slice(dataDir.length + 1)).sort()).toEqual([join('scenarios', 'long-playback.driver.ts'), join('scenarios', 'long-playback.scenario.yaml')]);
  } finally {
    await stopHost(host.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
