/**
 * The browser harness itself (spec/browser/harness.ts): the static server answers
 * on 127.0.0.1 only and refuses paths outside its root; headless Chromium loads a
 * page from it, with WebGL2 always and a WebGPU adapter when asked for one.
 *
 * Skipped with the reason where Chromium is absent; under CI a missing Chromium
 * fails (`.ci/run` installs it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { browserSkipReason, withPage, withServer } from './browser/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'gpt1-harness-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>harness</title><p id="x">served</p>');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('browser harness', () => {
  test('the server binds 127.0.0.1, serves index.html for /, and answers 404 outside its root', async () => {
    await withServer(dir, async (url) => {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const ok = await fetch(url);
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /served/);
      assert.equal((await fetch(`${url}..%2f..%2fetc%2fpasswd`)).status, 404);
      assert.equal((await fetch(`${url}missing.js`)).status, 404);
    });
  });

  const skip = browserSkipReason();
  test('Chromium loads the page, with WebGL2, and a WebGPU adapter under --enable-unsafe-webgpu', { skip, timeout: 180_000 }, async () => {
    await withServer(dir, async (url) => {
      for (const webgpu of [false, true]) {
        const seen = await withPage({ webgpu }, async (page) => {
          await page.goto(url);
          // Evaluated in the page (this project's tsconfig has no DOM types, so as source text).
          return (await page.evaluate(`(async () => ({
            text: document.getElementById('x')?.textContent,
            webgl2: document.createElement('canvas').getContext('webgl2') !== null,
            adapter: navigator.gpu ? (await navigator.gpu.requestAdapter()) !== null : false,
          }))()`)) as { text?: string; webgl2: boolean; adapter: boolean };
        });
        assert.equal(seen.text, 'served');
        assert.equal(seen.webgl2, true, 'WebGL2 context');
        if (webgpu) assert.equal(seen.adapter, true, 'WebGPU adapter with --enable-unsafe-webgpu');
      }
    });
  });
});
