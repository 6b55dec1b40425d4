import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';

// What the workbench's tests do as a person would: open a lab, put a driver in the editor.

const root = join(import.meta.dirname, '..');
export const lab = (id: string, file: string) => readFileSync(join(root, 'labs', id, file), 'utf8');

export async function openLab(page: Page, url: string, title: RegExp): Promise<void> {
  await page.goto(url);
  await page.getByTestId('catalog').getByRole('button', { name: title }).click();
  // The lab opened first may still be on screen: wait for this one's title, then its editor.
  await expect(page.getByTestId('lab-title')).toHaveText(title);
  await expect(page.getByTestId('editor').locator('.view-lines')).toBeVisible();
}

/** Replaces the editor's text with a paste (typing it would let the editor re-indent each line). */
export async function typeDriver(page: Page, source: string): Promise<void> {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.evaluate((text) => navigator.clipboard.writeText(text), source);
  const lines = page.getByTestId('editor').locator('.view-lines');
  const first = source.split('\n')[0]!;
  // A page still busy loading may take the click without giving the editor the keyboard, so
  // the paste is tried again until it lands.
  for (let attempt = 1; ; attempt++) {
    // The text area by the editor's own box: the lines may be scrolled sideways.
    await page.getByTestId('editor').click({ position: { x: 200, y: 10 } });
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+V');
    // Back to the top: the editor draws only the lines in view.
    await page.keyboard.press('Control+Home');
    try {
      await expect(lines).toContainText(first, { timeout: 5000 });
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** Every file under `dir`, however deep (what a host has left in its folders). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}
