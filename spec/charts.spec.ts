/**
 * The pictures (src/report/svg.ts and the main job's charts in src/demo/pipeline.ts),
 * rendered by headless Chromium (spec/browser/harness.ts): each chart's labels are
 * found in the rendered page, and every label lies inside the picture (nothing
 * clipped, e.g. a title wider than the heat map). The same checks of the SVG text
 * run without a browser.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { finetuneChart, pretrainChart } from '../src/demo/pipeline.ts';
import { heatmap, niceRange, niceTicks } from '../src/report/svg.ts';
import { browserSkipReason, withPage, withServer } from './browser/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'gpt1-charts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Loss curves shaped like a real run's: noisy, decreasing. */
const losses = Array.from({ length: 120 }, (_, k) => 7 - 2 * (1 - Math.exp(-k / 40)) + 0.3 * Math.sin(k * 2.3));
const epochs = Array.from({ length: 75 }, (_, k) => 1 + Math.floor(k / 25));
const arm = (name: string, shift: number, acc: number[]) => ({ name, loss: epochs.map((_, k) => 0.7 - shift * k / 75 + 0.02 * Math.sin(k)), epoch: epochs, validAccuracy: acc });

const T = 12;
const tokens = ['the', 'president', 'is', 'a', 'man', 'who', 'has', 'been', 'elected', 'by', 'the', 'people'];
const probs = new Float32Array(T * T);
for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) probs[i * T + j] = 1 / (i + 1);
const heatTitle = 'attention probabilities, layer 11, head 0 (row: query, column: key)';

/** Each chart and the labels it must show. */
const CHARTS: Readonly<Record<string, { svg: string; labels: readonly string[] }>> = {
  'pretrain.svg': {
    svg: pretrainChart('spam', losses, 7.1, 5.2),
    labels: ['Pre-training (spam): language-model loss', 'L1, batch (raw)', 'L1, mean of 10', 'held-out L1', 'update', 'cross-entropy (nats/token)'],
  },
  'finetune.svg': {
    svg: finetuneChart('spam', [arm('w/o pre-training', 0.05, [0.55, 0.6, 0.62]), arm('w/o aux LM', 0.2, [0.7, 0.8, 0.82]), arm('full', 0.25, [0.72, 0.83, 0.85])]),
    labels: ['epoch 1', 'epoch 2', 'epoch 3', 'validation accuracy', 'full: valid. accuracy', 'w/o pre-training: L2', 'L2 (nats)', 'update'],
  },
  'attention.svg': {
    svg: heatmap(probs, T, T, { title: heatTitle, rowLabels: tokens, colLabels: tokens }),
    labels: [heatTitle, 'president', 'elected', 'people', '0', '0.5', '1'],
  },
};
for (const [name, c] of Object.entries(CHARTS)) writeFileSync(join(dir, name), c.svg);

/** The text of every `<text>` element of an SVG string. */
const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&amp;/g, '&'));

describe('charts (SVG text)', () => {
  for (const [name, c] of Object.entries(CHARTS)) {
    test(`${name}: every label present`, () => {
      const t = texts(c.svg);
      for (const l of c.labels) assert.ok(t.includes(l), `${name}: no label ${JSON.stringify(l)}`);
    });
  }

  test('axes end on labelled ticks: niceRange widens [lo, hi] to whole steps that niceTicks labels', () => {
    for (const [lo, hi] of [[0.56, 0.72], [4.7, 7.1], [1, 300], [0.001, 0.0042], [-3, 2]]) {
      const [a, b] = niceRange(lo, hi);
      assert.ok(a <= lo && b >= hi, `${a}..${b} covers ${lo}..${hi}`);
      const ticks = niceTicks(a, b);
      assert.equal(ticks[0], a, `lowest tick of ${a}..${b} is labelled`);
      assert.equal(ticks[ticks.length - 1], b, `highest tick of ${a}..${b} is labelled`);
    }
  });

  test('the heat map is at least as wide as its title, with a colour bar and token labels', () => {
    const width = Number(/width="(\d+)"/.exec(CHARTS['attention.svg'].svg)?.[1]);
    assert.ok(width >= heatTitle.length * 14 * 0.5, `width ${width} for a ${heatTitle.length}-character title`);
    assert.match(CHARTS['attention.svg'].svg, /<linearGradient id="heat"/);
  });
});

describe('charts (rendered in Chromium)', () => {
  const skip = browserSkipReason();
  test('each chart renders with its labels, none outside the picture', { skip, timeout: 180_000 }, async () => {
    await withServer(dir, async (url) => {
      await withPage({}, async (page, errors) => {
        for (const [name, c] of Object.entries(CHARTS)) {
          await page.goto(`${url}${name}`);
          // Evaluated in the page (this project's tsconfig has no DOM types, so as source text).
          const seen = (await page.evaluate(`(() => {
            const svg = document.querySelector('svg');
            const box = svg.getBoundingClientRect();
            return { width: box.width, height: box.height, texts: [...document.querySelectorAll('text')].map((t) => {
              const b = t.getBoundingClientRect();
              return { text: t.textContent, left: b.left - box.left, right: b.right - box.left, top: b.top - box.top, bottom: b.bottom - box.top };
            }) };
          })()`)) as { width: number; height: number; texts: { text: string; left: number; right: number; top: number; bottom: number }[] };
          const shown = seen.texts.map((t) => t.text);
          for (const l of c.labels) assert.ok(shown.includes(l), `${name}: no rendered label ${JSON.stringify(l)}`);
          for (const t of seen.texts) {
            assert.ok(t.left >= -0.5 && t.right <= seen.width + 0.5 && t.top >= -0.5 && t.bottom <= seen.height + 0.5, `${name}: ${JSON.stringify(t.text)} is clipped (${t.left.toFixed(0)}..${t.right.toFixed(0)} of ${seen.width}, ${t.top.toFixed(0)}..${t.bottom.toFixed(0)} of ${seen.height})`);
          }
        }
        // The browser's own request for /favicon.ico is answered 404; nothing else may fail.
        assert.deepEqual(errors.filter((e) => !e.includes('404')), []);
      });
    });
  });
});
