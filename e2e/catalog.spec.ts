import { expect, test } from './fixtures';

test.describe('the lab catalog and the editor', () => {
  test('the catalog shows, lab 01 opens, and the editor holds its starter code', async ({ page, host }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(host.url);

    const catalog = page.getByTestId('catalog');
    await expect(catalog.getByRole('button', { name: /The adapter object/ })).toBeVisible();
    await catalog.getByRole('button', { name: /The adapter object/ }).click();

    await expect(page.getByTestId('lab-head')).toContainText('The adapter object');
    await expect(page.getByTestId('lab-head')).toContainText('DispatchPnp');
    const editor = page.getByTestId('editor');
    await expect(editor.locator('.view-lines')).toContainText('Lab 01: the adapter object.');
    await expect(editor.locator('.view-lines')).toContainText('export function DriverEntry');

    // The editor accepts input, and the language worker loaded from the app itself.
    await editor.locator('.view-lines').click({ position: { x: 40, y: 10 } });
    await page.keyboard.press('Control+Home');
    await page.keyboard.type('// my notes\n');
    await expect(editor.locator('.view-lines')).toContainText('// my notes');

    // The WDK's declarations (labs/wdm.d.ts) are loaded: on a line with two WDK names and
    // a misspelt routine, only the misspelling is an error (and so is nothing in the starter).
    await page.keyboard.type('NT_SUCCESS(STATUS_SUCCESS); IoCompleteReqest(null, 0);');
    const squiggles = editor.locator('.squiggly-error');
    await expect(squiggles.first()).toBeVisible();
    await expect(squiggles).toHaveCount(1);

    await page.screenshot({ path: 'artifacts/e2e-catalog.png' });

    // A lab's diagram is drawn in its instructions, in the page's colours.
    await catalog.getByRole('button', { name: /Auto-initialize playback/ }).click();
    const diagram = page.getByTestId('instructions').locator('.diagram');
    await expect(diagram.locator('svg')).toBeVisible();
    await expect(diagram).toHaveAttribute('aria-label', /The common buffer as a ring of two halves/);
    await expect(diagram.locator('svg text').first()).toHaveText('common buffer, 8 KiB, mapped once');
    expect(errors).toEqual([]);
  });

  test('a wrong token is refused and the page says so', async ({ page, host }) => {
    await page.goto(`${host.origin}/?token=wrong`);
    await expect(page.getByRole('alert')).toContainText('refused the connection');
  });

  test('the page can reach nothing but the typed API', async ({ page, host }) => {
    await page.goto(host.url);
    await expect(page.getByTestId('catalog')).toBeVisible();
    const probe = await page.evaluate(async () => {
      const blocked: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => blocked.push(e.violatedDirective));
      const outside = await fetch('http://127.0.0.2:9/').then(
        () => 'reached',
        () => 'blocked',
      );
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 100));
      const w = window as unknown as Record<string, unknown>;
      return { outside, inline: w.__inline ?? null, blocked, node: typeof w.require + typeof w.process, bridge: typeof w.dmalab };
    });
    expect(probe.outside).toBe('blocked');
    expect(probe.inline).toBeNull();
    expect(probe.blocked).toEqual(expect.arrayContaining(['connect-src', 'script-src-elem']));
    expect(probe.node).toBe('undefinedundefined');
    expect(probe.bridge).toBe('undefined'); // in a browser the API is the WebSocket, not a bridge
  });
});
