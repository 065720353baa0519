/**
 * The released checkpoint's greedy continuation, checked in the explorer page: what
 * `gpt1 verify`'s `greedy generation` check does, but through the page, in Chromium,
 * on the browser's backend.
 *
 *     npx tsx scripts/web-verify.ts --checkpoint path/to/model [--backend webgpu|webgl|webasm|cpu]
 *
 * Builds the page, serves it on 127.0.0.1, loads every file of the checkpoint
 * folder through the page's file input (either layout), checks that "the president
 * is" is [481, 4735, 544], streams 17 greedy tokens, and compares the ids with the
 * published sequence (`RELEASE` in `src/cli/verify.ts`). Exit status 0 when they
 * match, 1 when not. The browser is Debian's `chromium` (or `GPT1_CHROMIUM`).
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RELEASE } from '../src/cli/verify.ts';
import { childIds, generateGreedy, settle } from '../spec/browser/explorer.ts';
import { withPage, withServer } from '../spec/browser/harness.ts';
import { buildSite } from '../web/build.ts';

const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, backend: { type: 'string', default: '' } } });
const dir = values.checkpoint;
if (dir === undefined) {
  console.error('usage: npx tsx scripts/web-verify.ts --checkpoint DIR [--backend webgpu|webgl|webasm|cpu]');
  process.exit(2);
}
const files = readdirSync(dir).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
const { prompt, ids: published } = RELEASE.greedy;
const want = published.slice(prompt.length);
const text = RELEASE.encode.text;
const out = mkdtempSync(join(tmpdir(), 'gpt1-web-verify-'));
let ok = false;
try {
  const site = await buildSite(join(out, 'dist'));
  await withServer(site, async (url) => {
    await withPage({ webgpu: values.backend === 'webgpu' }, async (page) => {
      const query = `?text=${encodeURIComponent(text)}${values.backend ? `&backend=${values.backend}` : ''}`;
      const first = await settle(page, () => page.goto(`${url}${query}`), 600_000);
      if (first !== 'ready') throw new Error(`the page did not start: ${first}`);
      console.log(`backend: ${await page.textContent('[data-testid=backend]')} ${await page.textContent('[data-testid=adapter]')}`);
      const loaded = await settle(page, () => page.setInputFiles('[data-testid=file-input]', files), 1_800_000);
      if (loaded !== 'ready') throw new Error(`loading ${dir}: ${loaded}`);
      console.log(`model: ${await page.textContent('[data-testid=model]')}`);
      const tokens = await childIds(page, 'tokens');
      console.log(`"${text}" → [${tokens.join(', ')}] (published: [${prompt.join(', ')}])`);
      const r = await generateGreedy(page, want.length, 1_800_000);
      console.log(`greedy: [${r.ids.join(', ')}] at ${r.msPerToken} ms/token`);
      console.log(`published:  [${want.join(', ')}]`);
      ok = r.status === 'ready' && tokens.join() === prompt.join() && r.ids.join() === want.join();
    });
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(ok ? 'pass: the page streams the published greedy continuation' : 'FAIL: the page does not give the published ids');
process.exit(ok ? 0 : 1);
