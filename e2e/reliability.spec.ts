import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, startHost, stopHost, test } from './fixtures';

// A damaged progress database found at start: the page says it was set aside and where,
// progress goes on in a new one, and the old file is there, unchanged.

test('a damaged progress database is set aside, said so on the page, and progress goes on', async ({ page }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dmalab-e2e-damaged-'));
  const junk = 'SQLite format 3\u0000'.padEnd(4096, '\u00ff');
  writeFileSync(join(dataDir, 'progress.sqlite'), junk);
  const host = await startHost(dataDir);
  try {
    await page.goto(host.url);
    const notice = page.getByTestId('progress-notice');
    await expect(notice).toContainText('Your progress starts afresh: the progress database could not be used');
    const aside = readdirSync(dataDir).find((f) => f.startsWith('progress.sqlite.set-aside-'))!;
    await expect(notice).toContainText(join(dataDir, aside));
    expect(readFileSync(join(dataDir, aside), 'utf8')).toBe(junk);
    await page.screenshot({ path: 'artifacts/e2e-progress-set-aside.png' });
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await expect(notice).toHaveCount(0);
    await expect(page.getByTestId('progress-problem')).toHaveCount(0);
  } finally {
    await stopHost(host.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
