/**
 * Regenerates `docs/web-explorer.png`, the README's picture of the explorer page:
 * the page built by `web/build.ts`, in headless Chromium (WebGL2 on SwiftShader),
 * with the bundled model, a text, and a short sampled generation (temperature 0.8, top-k 40, seed 1).
 *
 *     npx tsx scripts/web-screenshot.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withPage, withServer } from '../spec/browser/harness.ts';
import { buildSite } from '../web/build.ts';

const ROOT = join(import.meta.dirname, '..');
const TEXT = 'If you have any questions, please reply to this email. Click here to unsubscribe.';
const site = await buildSite();
await withServer(site, async (url) => {
  await withPage({}, async (page) => {
    await page.setViewportSize({ width: 1100, height: 1300 });
    await page.goto(`${url}?backend=webgl&text=${encodeURIComponent(TEXT)}`);
    const ready = `document.querySelector('[data-testid=status]').textContent === 'ready'`;
    await page.waitForFunction(ready, undefined, { timeout: 300_000 });
    await page.selectOption('#layer', '1');
    await page.selectOption('#head', '2');
    await page.check('#sample');
    await page.click('[data-testid=generate]');
    await page.waitForSelector('[data-testid=generated][data-done]', { timeout: 300_000 });
    await page.evaluate('window.scrollTo(0, 0)');
    const top = await page.locator('#tokens-view').boundingBox();
    const bottom = await page.locator('#generate-view').boundingBox();
    if (top === null || bottom === null) throw new Error('the page has no views');
    const png = await page.screenshot({ fullPage: true, clip: { x: 0, y: top.y - 8, width: 1100, height: bottom.y + bottom.height - top.y + 16 } });
    writeFileSync(join(ROOT, 'docs/web-explorer.png'), png);
    console.log(`wrote docs/web-explorer.png (${png.length} bytes)`);
  });
});
