import { expect, test } from './fixtures';

// Settings kept in the data folder: the theme, the run speed, the editor's share of the
// window and the lab open last come back when the page is opened again.

test('the theme, speed, splitter and last lab are there again after a reload', async ({ page, host }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(host.url);
  await expect(page.getByTestId('lab-title')).toHaveText(/The adapter object/);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');

  await page.getByTestId('theme').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByTestId('editor').locator('.monaco-editor')).toHaveClass(/vs-dark/);
  await page.getByTestId('catalog').getByRole('button', { name: /Scatter\/gather/ }).click();
  await expect(page.getByTestId('lab-title')).toHaveText(/Scatter\/gather/);
  await page.getByTestId('speed').selectOption('0.01');
  // The splitter between editor and panels, dragged to the left.
  const splitter = page.locator('.splitpanes__splitter').first();
  const box = (await splitter.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x - 200, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const editorWidth = async () => (await page.locator('.splitpanes__pane').first().boundingBox())!.width;
  const dragged = await editorWidth();
  await page.waitForTimeout(1000); // settings are saved once changes settle

  await page.reload();
  await expect(page.getByTestId('lab-title')).toHaveText(/Scatter\/gather/);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByTestId('speed')).toHaveValue('0.01');
  expect(Math.abs((await editorWidth()) - dragged)).toBeLessThan(8);
  await page.screenshot({ path: 'artifacts/e2e-settings-dark.png' });

  // Back to the system's choice, which is light here.
  await page.getByTestId('theme').selectOption('system');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});
