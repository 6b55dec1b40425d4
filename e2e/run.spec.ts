import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { lab, openLab, typeDriver } from './workbench';

// The workbench in a real browser: type a driver, run it, watch the DMA panel, read the
// checks; a finding lands on its line; a breakpoint stops the run, step moves the line, and
// step back returns to the stop before with the panels as they were.

/** Scrolls the editor to `line` (Ctrl+G) and clicks its number, which sets a breakpoint there. */
async function toggleBreakpoint(page: Page, line: number): Promise<void> {
  // The text area, by the editor's own box (the lines may be scrolled sideways by now).
  await page.getByTestId('editor').click({ position: { x: 200, y: 10 } });
  await page.keyboard.press('Control+G');
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.getByTestId('editor').locator('.line-numbers', { hasText: new RegExp(`^${line}$`) }).click();
}

test.describe('running a driver', () => {
  test('lab 02 solved: channel 2 reaches terminal count and every check passes', async ({ page, host }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openLab(page, host.url, /A packet-based read/);
    await typeDriver(page, lab('02-packet-read', 'solution.ts'));
    await page.getByTestId('run').click();

    await expect(page.getByTestId('verdict')).toHaveText('Every check passed.', { timeout: 30_000 });
    await expect(page.getByTestId('check-data-integrity')).toContainText('pass');
    await page.screenshot({ path: 'artifacts/e2e-run-result.png' });

    await page.getByTestId('tab-dma').click();
    const ch2 = page.getByTestId('dma-ch2');
    await expect(ch2.getByTestId('tc')).toBeVisible();
    await expect(ch2.getByTestId('current-count')).toHaveText('FFFF');
    await page.screenshot({ path: 'artifacts/e2e-run-dma.png' });
    await page.getByTestId('tab-irps').click();
    await expect(page.getByTestId('irp-panel')).toContainText('STATUS_SUCCESS');
    await page.screenshot({ path: 'artifacts/e2e-run-irps.png' });
    await page.getByTestId('tab-machine').click();
    await expect(page.getByTestId('device-fdc0')).toContainText('5 sectors read');
    await page.screenshot({ path: 'artifacts/e2e-run-machine.png' });

    // The trace, read from the finished run: a driver row links to its line.
    await page.getByTestId('tab-trace').click();
    const rows = page.getByTestId('trace-rows');
    await expect(rows).toContainText('DriverEntry');
    await page.getByTestId('trace-filter').selectOption('dma');
    // The HAL's MapTransfer programming channel 2 through the 8237's ports, then the transfer.
    await expect(rows).toContainText('channel 2 mode ← 0x44');
    await expect(rows).toContainText('DREQ2 asserted');
    await page.getByTestId('trace-filter').selectOption('driver');
    const linked = rows.locator('.row.linked', { hasText: 'IoCreateDevice(' }).first();
    await expect(linked).toBeVisible();
    const line = (await linked.locator('.line').textContent())!.slice(1);
    await linked.click();
    await expect(page.getByTestId('editor').locator('.line-numbers.active-line-number')).toHaveText(line);
    await page.screenshot({ path: 'artifacts/e2e-run-trace.png' });

    // The bus lines as a logic analyser draws them.
    await page.getByTestId('tab-waveform').click();
    await expect(page.getByTestId('waveform').locator('canvas')).toBeVisible();
    await page.screenshot({ path: 'artifacts/e2e-run-waveform.png' });

    // The processor's timeline: IRQ 6 taken at least once per sector, its ISR and DPC drawn.
    await page.getByTestId('tab-timeline').click();
    await expect(page.getByTestId('timeline').locator('canvas')).toBeVisible();
    expect(Number(await page.getByTestId('timeline').getAttribute('data-interrupts'))).toBeGreaterThanOrEqual(5);
    await expect(page.getByTestId('timeline-legend')).toContainText('InterruptService');
    await expect(page.getByTestId('timeline-legend')).toContainText('DeferredRoutine');
    await page.screenshot({ path: 'artifacts/e2e-run-timeline.png' });

    // The same in the dark theme.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByTestId('tab-dma').click();
    await page.screenshot({ path: 'artifacts/e2e-run-dma-dark.png' });
    await page.getByTestId('tab-result').click();
    await page.screenshot({ path: 'artifacts/e2e-run-result-dark.png' });
    expect(errors).toEqual([]);
  });

  test('a wrong driver shows its verifier finding at its line', async ({ page, host }) => {
    await openLab(page, host.url, /Find the bugs/);
    await page.getByTestId('run').click();
    const first = page.getByTestId('finding').first();
    await expect(first).toBeVisible({ timeout: 30_000 });
    const line = Number(/line (\d+)/.exec((await first.getByRole('button').textContent()) ?? '')![1]);
    await first.getByRole('button').click();
    const editor = page.getByTestId('editor');
    // The finding's line is on screen, marked in the margin and underlined.
    await expect(editor.locator(`.dmalab-line-${line}`)).toBeAttached();
    await expect(editor.locator('.dmalab-marker-warning').first()).toBeVisible();
    await expect(editor.locator('.squiggly-warning').first()).toBeVisible();
    await page.screenshot({ path: 'artifacts/e2e-run-finding.png' });
  });

  test('a breakpoint stops the run at its line, step moves on, step back returns with the panels as they were', async ({ page, host }) => {
    await openLab(page, host.url, /A packet-based read/);
    const source = lab('02-packet-read', 'solution.ts');
    await typeDriver(page, source);
    const flush = source.split('\n').findIndex((l) => l.includes('adapter.DmaOperations.FlushAdapterBuffers(')) + 1;
    await toggleBreakpoint(page, flush);
    await expect(page.getByTestId('editor').locator('.dmalab-breakpoint')).toHaveCount(1);

    await page.getByTestId('run').click();
    const status = page.getByTestId('run-status');
    await expect(status).toContainText(`Stopped (breakpoint) at line ${flush}`, { timeout: 30_000 });
    await expect(page.getByTestId('editor').locator('.dmalab-current-line')).toBeVisible();
    await page.getByTestId('tab-dma').click();
    // At the first flush: the first sector has moved, channel 2 is at terminal count.
    await expect(page.getByTestId('dma-ch2').getByTestId('tc')).toBeVisible();
    const before = await page.getByTestId('dma-panel').textContent();
    await page.screenshot({ path: 'artifacts/e2e-run-breakpoint.png' });

    // Memory: the first read's buffer holds disk sector 0 now (patterned: 00 00, then 2 × 11, 3 × 11, …).
    await page.getByTestId('tab-memory').click();
    await expect(page.getByTestId('page-map')).toBeVisible();
    await page.getByTestId('region').filter({ hasText: "IRP 1's buffer" }).click();
    await expect(page.getByTestId('hex-view')).toContainText('00 00 16 21 2C 37');
    await page.screenshot({ path: 'artifacts/e2e-run-memory.png' });
    await page.getByTestId('tab-dma').click();

    await page.getByTestId('step-line').click();
    await expect(status).toContainText(`Stopped (line) at line ${flush + 1}`);
    await page.getByTestId('step-event').click();
    await expect(status).toContainText('Stopped (event)');
    await expect(page.getByTestId('step-back')).toBeEnabled();

    await page.getByTestId('step-back').click();
    await expect(status).toContainText(`Stopped (line) at line ${flush + 1}`);
    await page.getByTestId('step-back').click();
    await expect(status).toContainText(`Stopped (breakpoint) at line ${flush}`);
    expect(await page.getByTestId('dma-panel').textContent()).toBe(before);

    // Keys work too: F5 goes on to the next breakpoint.
    await page.keyboard.press('F5');
    await expect(status).toContainText(`Stopped (breakpoint) at line ${flush}`);
    // Without the breakpoint the run goes to its end; step back from there returns to its last stop.
    await toggleBreakpoint(page, flush);
    await page.keyboard.press('F5');
    await expect(status).toContainText('Finished');
    await expect(page.getByTestId('step-back')).toBeEnabled();
    await page.keyboard.press('Shift+F10');
    await expect(status).toContainText(`Stopped (breakpoint) at line ${flush}`);
    // Shift+F5 stops.
    await page.keyboard.press('Shift+F5');
    await expect(status).toContainText('Finished');
    await expect(page.getByTestId('step-back')).toBeDisabled();
  });

  test('a sound run streams: the common buffer, the controller going round it, and Pause', async ({ page, host }) => {
    await openLab(page, host.url, /Auto-initialize playback/);
    await typeDriver(page, lab('07-autoinit-playback', 'solution.ts'));
    await page.getByTestId('speed').selectOption('0.1');
    await page.getByTestId('run').click();
    await page.getByTestId('tab-machine').click();
    await expect(page.getByTestId('sound-ring')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('run-status')).toContainText('Running at');
    // The other side of the card: what the speaker has played.
    await expect(page.getByTestId('sound-scope')).toContainText('Speaker (DAC out), last 40 ms');
    await expect(page.getByTestId('sound-scope').locator('canvas')).toBeVisible();
    await page.screenshot({ path: 'artifacts/e2e-run-sound.png' });
    await page.getByTestId('pause').click();
    await expect(page.getByTestId('run-status')).toContainText('Stopped (pause)');
    await page.getByTestId('stop').click();
    await expect(page.getByTestId('run-status')).toContainText('Finished');
  });

  test('a scan streams into its buffer, line by line', async ({ page, host }) => {
    await openLab(page, host.url, /Scatter\/gather on system DMA/);
    await typeDriver(page, lab('09-scatter-gather', 'solution.ts'));
    // A hundredth of real time: the scans take about 14 s, so the run is still going when Stop is pressed.
    await page.getByTestId('speed').selectOption('0.01');
    await page.getByTestId('run').click();
    await page.getByTestId('tab-machine').click();
    await expect(page.getByTestId('scanner-lines').locator('canvas')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('device-scn0')).toContainText('lines');
    await page.waitForTimeout(1000);
    await page.screenshot({ path: 'artifacts/e2e-run-scanner.png' });
    await page.getByTestId('stop').click();
    await expect(page.getByTestId('run-status')).toContainText('Finished');
  });
});
