import { readFileSync } from 'node:fs';
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
  await page.getByTestId('editor').locator('.view-lines').click({ position: { x: 40, y: 10 } });
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+V');
  await page.keyboard.press('Control+Home');
  await expect(page.getByTestId('editor').locator('.view-lines')).toContainText(source.split('\n')[0]!);
}

