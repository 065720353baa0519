/**
 * Driving the explorer page (web/) through its `data-testid` hooks: shared by its
 * spec (`spec/web.spec.ts`) and `scripts/web-verify.ts`.
 *
 * @module
 */
import type { Page } from 'playwright-core';

const STATUS = "document.querySelector('[data-testid=status]')";

/**
 * Sets the status to a fence value, runs `act` (a navigation, a new text, new
 * files), and waits until the page says `ready` or `error: …`; returns that.
 */
export async function settle(page: Page, act: () => Promise<unknown>, timeout = 120_000): Promise<string> {
  await page.evaluate(`(() => { const s = ${STATUS}; if (s) s.textContent = 'waiting'; })()`);
  await act();
  await page.waitForFunction(`(() => { const s = ${STATUS}.textContent; return s === 'ready' || s.startsWith('error'); })()`, undefined, { timeout });
  return (await page.textContent('[data-testid=status]')) ?? '';
}

/** The `data-id` of every child of a `data-testid` element (`tokens`, `generated`). */
export function childIds(page: Page, testid: string): Promise<number[]> {
  return page.$$eval(`[data-testid=${testid}] > *`, (els) => els.map((e) => Number((e as unknown as { dataset: { id: string } }).dataset.id)));
}

/** The next-token rows: id and probability. */
export function topRows(page: Page): Promise<{ id: number; p: number }[]> {
  return page.$$eval('[data-testid=next-token] > *', (els) =>
    els.map((e) => {
      const d = (e as unknown as { dataset: { id: string; p: string } }).dataset;
      return { id: Number(d.id), p: Number(d.p) };
    }),
  );
}

/** Streams `n` greedy tokens after the text in the box; returns their ids, the status and the ms/token shown. */
export async function generateGreedy(page: Page, n: number, timeout = 120_000): Promise<{ ids: number[]; status: string; msPerToken: string }> {
  await page.check('#greedy');
  await page.fill('#max-tokens', String(n));
  await page.evaluate(`delete document.querySelector('[data-testid=generated]').dataset.done`);
  await page.click('[data-testid=generate]');
  await page.waitForSelector('[data-testid=generated][data-done]', { timeout });
  return {
    ids: await childIds(page, 'generated'),
    status: (await page.textContent('[data-testid=status]')) ?? '',
    msPerToken: (await page.textContent('[data-testid=ms-per-token]')) ?? '',
  };
}
