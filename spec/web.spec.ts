/**
 * The explorer page (web/) in headless Chromium: it builds (`npm run web`), reaches
 * `ready` on WebGL2 and on WebGPU (SwiftShader) with the bundled model, and agrees
 * with the Node side:
 *
 * - token ids equal `encode` (the Node tokenizer) on sentences with quotes,
 *   contractions and newlines;
 * - the top-k ids and probabilities equal those of `gpt1 dump`'s logits within the
 *   float32 bound derived below;
 * - the greedy ids streamed by the page equal `gpt1 generate --greedy`;
 * - checkpoints made by the project load through the file input in both layouts,
 *   and a malformed file shows the CLI's one-line error while the page keeps working;
 * - a screenshot of each view has more than blank pixels; the stop button stops a generation;
 * - each view links to its page of the walk-through, its API page and its source in the
 *   documentation site, found at `../../docs/api/` or where `GPT1_DOCS_URL` says (that
 *   these resolve in a built site is checked by `spec/docs-site.spec.ts`).
 *
 * Skipped with the reason where Chromium is absent; under CI a missing Chromium
 * fails (`.ci/run` installs it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { convertCheckpoint, saveCheckpoint } from '../src/checkpoint/index.ts';
import { makeConfig } from '../src/config.ts';
import { readNpy } from '../src/io/npy.ts';
import { encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { DEFAULT_DOCS_URL, buildSite } from '../web/build.ts';
import { browserSkipReason, withPage, withServer } from './browser/harness.ts';
import { childIds as ids, generateGreedy, settle, topRows } from './browser/explorer.ts';
import { decodePng, inkStats } from './browser/png.ts';
import { randomParams } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const MODEL = join(ROOT, 'web/model');
const TMP = mkdtempSync(join(tmpdir(), 'gpt1-web-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const skip = browserSkipReason();

/**
 * Runs `gpt1 …` as a user does; resolves to its exit status, stdout and stderr.
 * Asynchronous, so that the Node side runs while the browser works.
 */
function gpt1(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, [join(ROOT, 'bin/gpt1.mjs'), ...args], { encoding: 'utf8', cwd: ROOT }, (e, stdout, stderr) => {
      ok({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : null, stdout, stderr });
    });
  });
}

/** Softmax of one row of `gpt1 dump`'s logits.npy, in float64. */
async function dumpProbs(text: string, checkpoint: string): Promise<{ probs: Float64Array; ids: number[]; loss: number | null }> {
  const out = join(TMP, `dump-${Math.random().toString(36).slice(2)}`);
  const r = await gpt1('dump', '--checkpoint', checkpoint, '--text', text, '--out', out, '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const logits = readNpy(join(out, 'logits.npy')).tensor;
  const ids = JSON.parse(readFileSync(join(out, 'ids.json'), 'utf8')) as number[];
  const [T, V] = logits.shape;
  const row = logits.data.subarray((T - 1) * V, T * V);
  const max = Math.max(...row);
  const e = Float64Array.from(row, (z) => Math.exp(z - max));
  const total = e.reduce((s, x) => s + x, 0);
  const loss = (JSON.parse(readFileSync(join(out, 'loss.json'), 'utf8')) as { lm_loss: number | null }).lm_loss;
  return { probs: e.map((x) => x / total), ids, loss };
}

/** `gpt1 generate --greedy`'s ids. */
async function greedyIds(prompt: string, checkpoint: string, n: number): Promise<number[]> {
  const r = await gpt1('generate', '--checkpoint', checkpoint, '--prompt', prompt, '--greedy', '--max-tokens', String(n), '--print-ids', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const m = /ids: (\[[\d,]*\])/.exec(r.stderr);
  assert.ok(m, `no ids in: ${r.stderr}`);
  return JSON.parse(m[1]) as number[];
}

/**
 * The float32 bound on the page's probabilities. The page and `gpt1 dump` run the
 * same float32 code except the matrix products, whose sums are taken in another
 * order on another backend. A K-term float32 dot product is within
 * γ_K·Σ|a_k·b_k| of the exact one, γ_K = K·u/(1 − K·u), u = 2⁻²⁴. With K ≤ 256
 * (n_inner of the bundled model) γ_K ≤ 1.53e-5 of the scale of each product; a
 * 2-layer model chains at most 9 products to a logit (4 per block, then the head),
 * LayerNorm re-normalising between them, so each logit of magnitude |z| ≤ 10 moves by
 * at most δ = 9 · 1.53e-5 · 10 ≈ 1.4e-3. Moving every logit by at most δ changes a
 * softmax probability by a factor within e^{±2δ}: |Δp| ≤ p·(e^{2δ} − 1) ≤ 2.8e-3·p.
 */
const P_REL = 2.8e-3;

/** Checks the page's top-k rows against the dump's probabilities of the same text. */
function assertTopK(rows: readonly { id: number; p: number }[], dump: Float64Array, k: number): void {
  assert.equal(rows.length, k);
  for (const { id, p } of rows) {
    assert.ok(Math.abs(p - dump[id]) <= P_REL * dump[id] + 1e-12, `token ${id}: page p = ${p}, gpt1 dump p = ${dump[id]}`);
  }
  // The page's k ids are the dump's k most probable, up to ties within the bound.
  const kth = Math.min(...rows.map((r) => r.p));
  const must = [...dump.keys()].filter((id) => dump[id] > kth * (1 + 2 * P_REL));
  for (const id of must) assert.ok(rows.some((r) => r.id === id), `token ${id} (p = ${dump[id]}) missing from the page's top ${k}`);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].p >= rows[i].p, 'rows sorted by probability');
}

/** Streams greedy tokens in the page and returns their ids. */
async function generateInPage(page: Page, n: number): Promise<number[]> {
  const r = await generateGreedy(page, n);
  assert.equal(r.status, 'ready');
  assert.match(r.msPerToken, /^\d+(\.\d+)?$/);
  return r.ids;
}

/** Screenshot of one element, checked for more than blank pixels. */
async function assertDrawn(page: Page, selector: string): Promise<void> {
  const img = decodePng(await page.locator(selector).screenshot());
  const { ink, colours } = inkStats(img);
  assert.ok(ink > 0.02 && colours > 8, `${selector}: screenshot ${img.width}×${img.height} is nearly blank (${(ink * 100).toFixed(1)}% ink, ${colours} colours)`);
}

const SENTENCES = [
  'the president is',
  "I'm sure, Mr. Smith. Don't you think it's \"free\"?",
  'Click here:\nhttp://example.com/unsubscribe\n\nThanks!',
  "She said 'hello' -- and we'll see... (maybe) 100% off!",
];

let site = '';
before(async () => {
  site = await buildSite(join(TMP, 'dist'));
});

describe('web explorer (web/)', () => {
  test('npm run web builds a static site: page, bundle, bundled model, GPT-1 vocabulary', () => {
    for (const f of ['index.html', 'style.css', 'app.js', 'model/model.safetensors', 'model/config.json', 'model/vocab.json', 'model/merges.txt', 'vocab/encoder_bpe_40000.json', 'vocab/vocab_40000.bpe']) {
      assert.ok(existsSync(join(site, f)), `${f} in the built site`);
    }
    const html = readFileSync(join(site, 'index.html'), 'utf8');
    for (const id of ['tokens', 'next-token', 'backend', 'status']) assert.match(html, new RegExp(`data-testid="${id}"`));
  });

  test('WebGL2: ready with the bundled model; tokens = Node tokenizer; top-k = gpt1 dump; greedy = gpt1 generate; every view drawn', { skip, timeout: 600_000 }, async () => {
    const enc = loadEncoder(MODEL);
    const dumps = SENTENCES.slice(0, 2).map((s) => dumpProbs(s, MODEL));
    const greedy = greedyIds(SENTENCES[0], MODEL, 8);
    await withServer(site, async (url) => {
      await withPage({}, async (page, errors) => {
        await page.setViewportSize({ width: 1200, height: 1400 });
        const status = await settle(page, () => page.goto(`${url}?backend=webgl&text=${encodeURIComponent(SENTENCES[0])}`));
        assert.equal(status, 'ready');
        assert.equal(await page.textContent('[data-testid=backend]'), 'webgl2');
        assert.match((await page.textContent('[data-testid=model]')) ?? '', /bundled model \(hf layout, 2 layers/);
        assert.equal(await page.inputValue('#text'), SENTENCES[0]);

        for (const s of SENTENCES) {
          assert.equal(await settle(page, () => page.fill('#text', s)), 'ready', s);
          assert.deepEqual(await ids(page, 'tokens'), encode(enc, s), JSON.stringify(s));
        }

        for (const [i, s] of SENTENCES.slice(0, 2).entries()) {
          await settle(page, () => page.fill('#text', s));
          const dump = await dumps[i];
          assert.deepEqual(await ids(page, 'tokens'), dump.ids);
          assertTopK(await topRows(page), dump.probs, 10);
          const loss = Number(await page.getAttribute('[data-testid=loss]', 'data-loss'));
          assert.ok(Math.abs(loss - (dump.loss as number)) <= P_REL * (dump.loss as number), `LM loss: page ${loss}, gpt1 dump ${dump.loss}`);
        }

        await settle(page, () => page.fill('#text', SENTENCES[0]));
        assert.deepEqual(await generateInPage(page, 8), await greedy);

        await settle(page, () => page.fill('#text', SENTENCES[1]));
        for (const view of ['#tokens-view', '#attention-view', '#next-view', '#loss-view', '#norms-view', '#generate-view']) await assertDrawn(page, view);
        assert.deepEqual(errors, []);
      });
    });
  });

  test('WebGPU (SwiftShader): ready with the bundled model, a software adapter, top-k = gpt1 dump', { skip, timeout: 600_000 }, async () => {
    const text = SENTENCES[1];
    const dumped = dumpProbs(text, MODEL);
    await withServer(site, async (url) => {
      await withPage({ webgpu: true }, async (page, errors) => {
        const status = await settle(page, () => page.goto(`${url}?backend=webgpu&text=${encodeURIComponent(text)}`));
        assert.equal(status, 'ready');
        assert.equal(await page.textContent('[data-testid=backend]'), 'webgpu');
        assert.equal(await page.getAttribute('[data-testid=adapter]', 'data-software'), 'true', 'SwiftShader is a software adapter');
        const dump = await dumped;
        assert.deepEqual(await ids(page, 'tokens'), dump.ids);
        assertTopK(await topRows(page), dump.probs, 10);

        // The stop button ends a long generation after the tokens streamed so far.
        await page.fill('#max-tokens', '40');
        await page.click('[data-testid=generate]');
        await page.waitForSelector('[data-testid=generated] > :nth-child(2)', { timeout: 120_000 });
        await page.click('[data-testid=stop]');
        await page.waitForSelector('[data-testid=generated][data-done]', { timeout: 120_000 });
        const streamed = (await ids(page, 'generated')).length;
        assert.ok(streamed >= 2 && streamed < 40, `stopped after ${streamed} of 40 tokens`);
        assert.equal(await page.textContent('[data-testid=status]'), 'ready');
        assert.deepEqual(errors, []);
      });
    });
  });

  test('checkpoints through the file input, both layouts; a malformed file shows the CLI\'s error and the page keeps working', { skip, timeout: 600_000 }, async () => {
    // A model with GPT-1's 40478-token vocabulary in the original layout, without vocabulary files (the page then
    // uses the released vocabulary it ships, as the CLI uses vocab/), and a 1-layer model with the bundled model's
    // vocabulary in the Hugging Face layout.
    const original = join(TMP, 'original');
    const release = makeConfig({ n_vocab: 40478, n_ctx: 24, n_embd: 16, n_head: 2, n_layer: 1 });
    saveCheckpoint(original, 'original', release, randomParams(release, 3));
    const hf = join(TMP, 'hf');
    const config = makeConfig({ n_vocab: loadEncoder(MODEL).nVocab, n_ctx: 32, n_embd: 32, n_head: 2, n_layer: 1 });
    saveCheckpoint(hf, 'hf', config, randomParams(config, 7), { vocabDir: MODEL });
    const bad = join(TMP, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'config.json'), readFileSync(join(hf, 'config.json')));
    writeFileSync(join(bad, 'model.safetensors'), readFileSync(join(hf, 'model.safetensors')).subarray(0, 5000));
    const cliError = gpt1('dump', '--checkpoint', bad, '--text', 'hi', '--out', join(TMP, 'bad-out'));
    const files = (dir: string): string[] => readdirSync(dir).map((f) => join(dir, f));
    const text = SENTENCES[0];
    const [originalDump, originalGreedy, hfDump] = [dumpProbs(text, original), greedyIds(text, original, 17), dumpProbs(text, hf)];

    await withServer(site, async (url) => {
      await withPage({}, async (page, errors) => {
        assert.equal(await settle(page, () => page.goto(`${url}?backend=webgl&text=${encodeURIComponent(text)}`)), 'ready');

        // Original layout: params_shapes.json, params_0..9.npy, gpt1-ts.json; "the president is" is [481, 4735, 544]
        // in the released vocabulary, and the greedy continuation is the CLI's (as `gpt1 verify` checks the real one).
        assert.equal(await settle(page, () => page.setInputFiles('[data-testid=file-input]', files(original))), 'ready');
        assert.match((await page.textContent('[data-testid=model]')) ?? '', /original layout, 1 layers, 16 wide, 2 heads, 40478 tokens/);
        assert.deepEqual(await ids(page, 'tokens'), [481, 4735, 544]);
        assertTopK(await topRows(page), (await originalDump).probs, 10);
        const greedy = await originalGreedy;
        assert.deepEqual(await generateInPage(page, 17), greedy);
        assert.equal(await page.textContent('[data-testid=generated-ids]'), `ids: ${JSON.stringify(greedy)}`);

        // Hugging Face layout: model.safetensors, config.json, vocab.json, merges.txt.
        assert.equal(await settle(page, () => page.setInputFiles('[data-testid=file-input]', files(hf))), 'ready');
        assert.match((await page.textContent('[data-testid=model]')) ?? '', /hf layout, 1 layers, 32 wide/);
        assert.deepEqual(await ids(page, 'tokens'), encode(loadEncoder(MODEL), text));
        assertTopK(await topRows(page), (await hfDump).probs, 10);

        // A truncated model.safetensors: the CLI's one-line error (without the directory), and the HF model stays.
        const status = await settle(page, () => page.setInputFiles('[data-testid=file-input]', files(bad)));
        const shown = (await page.textContent('[data-testid=load-error]')) ?? '';
        assert.match(shown, /^model\.safetensors: truncated/);
        assert.equal(status, `error: ${shown}`);
        const said = (await cliError).stderr;
        assert.ok(said.includes(`${join(bad, 'model.safetensors')}: ${shown.slice('model.safetensors: '.length)}`), `CLI said: ${said}`);
        assert.match((await page.textContent('[data-testid=model]')) ?? '', /hf layout, 1 layers, 32 wide/);
        assert.equal(await settle(page, () => page.fill('#text', SENTENCES[1])), 'ready');
        assert.deepEqual(await ids(page, 'tokens'), encode(loadEncoder(MODEL), SENTENCES[1]));
        assert.deepEqual(errors.filter((e) => !e.includes('model.safetensors')), []);
      });
    });
  });
  test('each view links to its walk-through page, its API page and its source; GPT1_DOCS_URL moves the links', { skip, timeout: 300_000 }, async () => {
    const elsewhere = await buildSite(join(TMP, 'dist-docs-elsewhere'), 'https://docs.example/gpt1-ts/');
    /** The explorer's links to the documentation site, once the page has started (`?backend=cpu`: no GPU work). */
    const docLinks = (url: string) =>
      withPage({}, async (page) => {
        await page.goto(`${url}?backend=cpu`);
        await page.waitForSelector('a[data-walk][href]');
        return (await page.evaluate(`[...document.querySelectorAll('a[data-walk], a[data-src], a[data-src] + a, a[data-docs]')].map((a) => ({
          href: a.href, walk: a.dataset.walk ?? null, src: a.dataset.src ?? null, view: a.closest('[id]')?.id ?? null,
        }))`)) as { href: string; walk: string | null; src: string | null; view: string | null }[];
      });
    const links = await withServer(site, async (url) => ({ url, links: await docLinks(url) }));
    const docs = new URL(DEFAULT_DOCS_URL, links.url).href;
    const byView = new Map<string, string[]>();
    for (const l of links.links) {
      assert.ok(l.href.startsWith(docs), `${l.href} is not in the documentation site ${docs}`);
      const path = l.href.slice(docs.length);
      if (l.view !== null) byView.set(l.view, [...(byView.get(l.view) ?? []), path]);
      if (l.walk !== null) {
        assert.equal(path, `walkthrough/${l.walk}.html`);
        assert.ok(existsSync(join(ROOT, 'docs/walkthrough', `${l.walk}.md`)), `${path}: no docs/walkthrough/${l.walk}.md`);
      } else if (l.src !== null) {
        assert.match(path, /^modules\/src_[\w-]+\.html$/);
        assert.ok(existsSync(join(ROOT, 'src', `${l.src}.ts`)), `${path}: no src/${l.src}.ts`);
      } else if (path.startsWith('source/')) {
        const file = /^source\/(src\/.+\.ts)\.html$/.exec(path);
        assert.ok(file && existsSync(join(ROOT, file[1])), `${path}: not the source page of a file of src/`);
      }
    }
    for (const view of ['model-section', 'tokens-view', 'forward-pass', 'attention-view', 'next-view', 'loss-view', 'norms-view', 'generate-view']) {
      const paths = byView.get(view) ?? [];
      assert.ok(paths.some((p) => p.startsWith('walkthrough/')), `#${view} links to no walk-through page: ${paths.join(', ')}`);
      assert.ok(paths.some((p) => p.startsWith('modules/')), `#${view} links to no API page`);
      assert.ok(paths.some((p) => p.startsWith('source/')), `#${view} links to no source`);
    }
    // Built with GPT1_DOCS_URL (here the second argument of buildSite), every documentation link starts with it.
    const moved = await withServer(elsewhere, (url) => docLinks(url));
    assert.equal(moved.length, links.links.length);
    for (const l of moved) assert.ok(l.href.startsWith('https://docs.example/gpt1-ts/'), `${l.href} ignores GPT1_DOCS_URL`);
  });
});
