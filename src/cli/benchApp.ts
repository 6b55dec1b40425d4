import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserType, Page } from '@playwright/test';
import { createServices } from '../main/services';
import { startWebHost, type WebHost } from '../main/webhost/server';
import type { Benchmark } from './bench';

// Figures of the workbench in a real browser (Debian's Chromium through the web host),
// measured with the page's own clock (the Performance API): load to an editor that takes
// input, Run to the first panel update, frames while a run streams, the longest main-thread
// task meanwhile, and step back.

const CHROMIUM = process.env.DMALAB_CHROMIUM ?? '/usr/bin/chromium';
/** Machine states the panels have had (App.vue's data-state-updates), as an expression the page evaluates. */
const UPDATES = `Number(document.querySelector('.panels')?.getAttribute('data-state-updates') ?? 0)`;
/** The run's status line, as an expression the page evaluates. */
const status = `(document.querySelector('[data-testid="run-status"]')?.textContent ?? '')`;

async function withPage<T>(appRoot: string, body: (page: Page, host: WebHost) => Promise<T>): Promise<T> {
  // Loaded at run time, not bundled: Playwright is a development tool, and only this benchmark needs it.
  const playwright = '@playwright/test';
  const { chromium } = (await import(/* @vite-ignore */ playwright)) as { chromium: BrowserType };
  // Progress goes to a folder of the benchmark's own, never the person's.
  const dataDir = mkdtempSync(join(tmpdir(), 'dmalab-bench-app-'));
  const services = createServices(appRoot, { progressFile: join(dataDir, 'progress.sqlite') });
  services.warmUp();
  const host = await startWebHost({ rendererDir: services.paths.rendererDir, handlers: services.handlers });
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    return await body(await context.newPage(), host);
  } finally {
    await browser?.close();
    services.runs.stopAll();
    await host.close();
    services.progress.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function openLab(page: Page, url: string, title: string, source: string | null): Promise<void> {
  await page.goto(url);
  await page.getByText(title).first().click();
  await page.waitForSelector('[data-testid="editor"] .view-lines');
  if (source === null) return;
  await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(source)})`);
  await page.locator('[data-testid="editor"] .view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+V');
}

/**
 * Lets the editor finish with the pasted driver (its language service checks it on the
 * page's main thread), so that what is measured is the run's own cost.
 */
const settle = () => new Promise((r) => setTimeout(r, 3000));

/** Waits until `expression` holds in the page (evaluated from outside: the page's policy forbids eval inside it). */
async function until(page: Page, expression: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`the page never got to ${expression}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Clicks `button` from inside the page and answers the ms until `done` (an expression) holds there, polled every frame. */
async function timeInPage(page: Page, button: string, done: string): Promise<number> {
  return page.evaluate(`new Promise((resolve, reject) => {
    const t0 = performance.now();
    document.querySelector('[data-testid="${button}"]').click();
    const poll = () => {
      if (${done}) resolve(performance.now() - t0);
      else if (performance.now() - t0 > 60000) reject(new Error('the page never got there'));
      else requestAnimationFrame(poll);
    };
    poll();
  })`);
}

/** Clicks Run at real-time speed and watches the frames while the run streams (up to 1.5 s). */
async function watchRun(page: Page): Promise<{ fps: number; longestTask: number; longestFrame: number }> {
  return page.evaluate(`new Promise((resolve) => {
    const text = () => ${status};
    let longestTask = 0;
    const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longestTask = Math.max(longestTask, e.duration); });
    observer.observe({ type: 'longtask' });
    document.querySelector('[data-testid="run"]').click();
    let frames = 0, start = 0, last = 0, longestFrame = 0;
    const tick = (t) => {
      if (/Running at/.test(text())) {
        if (start === 0) start = t; else longestFrame = Math.max(longestFrame, t - last);
        frames++;
      }
      last = t;
      if (/Finished|Stopped/.test(text()) || (start > 0 && t - start > 1500)) {
        observer.disconnect();
        resolve({ fps: (frames * 1000) / Math.max(1, t - start), longestTask, longestFrame });
      } else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })`);
}


export const appBenchmarks: Benchmark[] = [
  {
    name: 'app.interactiveMs',
    unit: 'ms',
    what: "page load to the editor showing the lab's code, which then takes typed input (web host, Chromium)",
    async run({ appRoot }) {
      return withPage(appRoot, async (page, host) => {
        await page.goto(host.url);
        // The moment the editor shows the lab's code, taken by the page on the frame it happens.
        const ready = (await page.evaluate(`new Promise((resolve) => {
          const look = () => (document.querySelector('[data-testid="editor"] .view-lines')?.textContent?.length ? resolve(performance.now()) : requestAnimationFrame(look));
          look();
        })`)) as number;
        // …and it takes input from then on (this part is the test harness's, not counted).
        await page.locator('[data-testid="editor"] .view-line').first().click({ position: { x: 40, y: 5 } });
        await page.keyboard.type('Z');
        await until(page, `document.querySelector('[data-testid="editor"] .view-lines')?.textContent?.includes('Z')`);
        return ready;
      });
    },
  },
  {
    name: 'app.labSwitchMs',
    unit: 'ms',
    what: "click on another lab to the editor holding that lab's code (median of 6 switches between labs 02, 03 and 04)",
    async run({ appRoot }) {
      const labs = ['02-packet-read', '03-packet-write-coherency', '04-splitting-transfers'].map((id) => ({
        id,
        first: readFileSync(join(appRoot, 'labs', id, 'starter.ts'), 'utf8').split('\n')[0]!.slice(0, 40),
      }));
      return withPage(appRoot, async (page, host) => {
        await page.goto(host.url);
        await page.waitForSelector('[data-testid="editor"] .view-lines');
        await settle();
        const times: number[] = [];
        for (let i = 0; i < 6; i++) {
          const lab = labs[i % labs.length]!;
          times.push(
            (await page.evaluate(`new Promise((resolve, reject) => {
              const t0 = performance.now();
              document.querySelector('[data-lab="${lab.id}"]').click();
              const look = () => {
                // The editor draws spaces as no-break spaces.
                const text = (document.querySelector('[data-testid="editor"] .view-lines')?.textContent ?? '').replace(/\\u00a0/g, ' ');
                if (text.includes(${JSON.stringify(lab.first)})) resolve(performance.now() - t0);
                else if (performance.now() - t0 > 30000) reject(new Error('the editor never showed ${lab.id}'));
                else requestAnimationFrame(look);
              };
              look();
            })`)) as number,
          );
        }
        return times.sort((a, b) => a - b)[3]!;
      });
    },
  },
  {
    name: 'app.runStartMs',
    unit: 'ms',
    what: "click on Run to the first panel update, lab 02's solution (median of 5 runs, 2 s apart as a person would click)",
    async run({ appRoot }) {
      const source = readFileSync(join(appRoot, 'labs', '02-packet-read', 'solution.ts'), 'utf8');
      return withPage(appRoot, async (page, host) => {
        await openLab(page, host.url, 'A packet-based read', source);
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
          await new Promise((r) => setTimeout(r, 2000));
          times.push(await timeInPage(page, 'run', `${UPDATES} > ${await page.evaluate(UPDATES)}`));
          await until(page, `/Finished/.test(${status})`);
        }
        return times.sort((a, b) => a - b)[2]!;
      });
    },
  },
  {
    name: 'app.runFps',
    unit: 'frames/s',
    what: 'frames the page draws per second while a 2 s audio run streams its state in real time (lab 07)',
    async run({ appRoot }) {
      const source = readFileSync(join(appRoot, 'labs', '07-autoinit-playback', 'solution.ts'), 'utf8');
      return withPage(appRoot, async (page, host) => {
        await openLab(page, host.url, 'Auto-initialize playback', source);
        await page.getByTestId('speed').selectOption('1');
        await page.getByTestId('tab-machine').click();
        await settle();
        return (await watchRun(page)).fps;
      });
    },
  },
  {
    name: 'app.longestTaskMs',
    unit: 'ms',
    what: 'the longest main-thread task (PerformanceObserver longtask, else the longest frame) while that run streams',
    async run({ appRoot }) {
      const source = readFileSync(join(appRoot, 'labs', '07-autoinit-playback', 'solution.ts'), 'utf8');
      return withPage(appRoot, async (page, host) => {
        await openLab(page, host.url, 'Auto-initialize playback', source);
        await page.getByTestId('speed').selectOption('1');
        await page.getByTestId('tab-dma').click();
        await settle();
        const watched = await watchRun(page);
        return watched.longestTask > 0 ? watched.longestTask : watched.longestFrame;
      });
    },
  },
  {
    name: 'app.stepBackMs',
    unit: 'ms',
    what: "step back from the last stop of lab 02's run (its fifth flush, a line on) to the stop before it",
    async run({ appRoot }) {
      const source = readFileSync(join(appRoot, 'labs', '02-packet-read', 'solution.ts'), 'utf8');
      const flush = source.split('\n').findIndex((l) => l.includes('adapter.DmaOperations.FlushAdapterBuffers(')) + 1;
      return withPage(appRoot, async (page, host) => {
        await openLab(page, host.url, 'A packet-based read', source);
        await page.keyboard.press('Control+G');
        await page.keyboard.type(String(flush));
        await page.keyboard.press('Enter');
        await page.locator('[data-testid="editor"] .line-numbers', { hasText: new RegExp(`^${flush}$`) }).click();
        const atFlush = `${status}.includes('(breakpoint) at line ${flush}')`;
        await settle();
        for (let hit = 1; hit <= 5; hit++) await timeInPage(page, 'run', `${UPDATES} > ${await page.evaluate(UPDATES)} && ${atFlush}`);
        await timeInPage(page, 'step-line', `${status}.includes('(line)')`);
        return timeInPage(page, 'step-back', `${UPDATES} > ${await page.evaluate(UPDATES)} && ${atFlush}`);
      });
    },
  },
];
