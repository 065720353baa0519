/**
 * The exact binomial test behind "clearly above chance" (src/report/chance.ts) and
 * the main job's line that applies it (chanceLine in src/demo/pipeline.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CHANCE_ALPHA, chanceLine, runDemo } from '../src/demo/pipeline.ts';
import { PRESETS } from '../src/demo/presets.ts';
import type { ArmResult, DemoResults } from '../src/demo/pipeline.ts';
import { aboveChanceThreshold, binomialUpperTail } from '../src/report/chance.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('binomialUpperTail: P(X ≥ k), X ~ Binomial(n, p)', () => {
  it('small cases worked by hand', () => {
    // n = 2, p = 1/2: P(X=0,1,2) = 1/4, 1/2, 1/4.
    close(binomialUpperTail(2, 1, 0.5), 0.75);
    close(binomialUpperTail(2, 2, 0.5), 0.25);
    // n = 3, p = 1/4: P(X ≥ 2) = 3·(1/16)·(3/4) + 1/64 = 9/64 + 1/64 = 10/64.
    close(binomialUpperTail(3, 2, 0.25), 10 / 64);
    // Four-way guessing on 4 items, all right: (1/4)^4.
    close(binomialUpperTail(4, 4, 0.25), 1 / 256);
  });

  it('edges: k ≤ 0 is certain, k > n impossible, p = 0 and p = 1', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, p) => {
      assert.equal(binomialUpperTail(n, 0, p), 1);
      assert.equal(binomialUpperTail(n, -3, p), 1);
      assert.equal(binomialUpperTail(n, n + 1, p), 0);
    }));
    assert.equal(binomialUpperTail(10, 1, 0), 0);
    assert.equal(binomialUpperTail(10, 10, 1), 1);
  });

  it('the top term is p^n, and the tail falls as k grows', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (n, p) => {
      close(binomialUpperTail(n, n, p), p ** n, 1e-9);
      for (let k = 1; k <= n; k++) assert.ok(binomialUpperTail(n, k, p) <= binomialUpperTail(n, k - 1, p) + 1e-15);
    }));
  });

  it('P(X ≥ k) + P(Y ≥ n − k + 1) = 1 for Y = n − X ~ Binomial(n, 1 − p)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.nat(), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (n, kk, p) => {
      const k = kk % (n + 1);
      close(binomialUpperTail(n, k, p) + binomialUpperTail(n, n - k + 1, 1 - p), 1, 1e-9);
    }));
  });
});

describe('aboveChanceThreshold: the fewest right answers with P(X ≥ k) < α', () => {
  it('is the first k whose tail is below α', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.constantFrom(0.05, 0.01, 0.001), (n, p, alpha) => {
      const k = aboveChanceThreshold(n, p, alpha);
      if (k <= n) assert.ok(binomialUpperTail(n, k, p) < alpha);
      if (k >= 1) assert.ok(binomialUpperTail(n, k - 1, p) >= alpha);
    }));
  });

  it('four-way items: 4 of 4 right has p = 1/256, so it clears α = 0.01 but not α = 0.001', () => {
    assert.equal(aboveChanceThreshold(4, 0.25, 0.01), 4);
    assert.equal(aboveChanceThreshold(4, 0.25, 0.001), 5);
  });
});

describe('chanceLine: the main job says which arms are clearly above chance', () => {
  const arm = (name: string, accuracy: number): ArmResult => ({ name, description: '', pretrained: true, lm_coef: 0.5, accuracy, lm_loss: 1, clf_loss: 1, seconds: 0, valid_accuracy: [] });
  const data = (test: number, baselines: Record<string, number>) => ({ sizes: { train: 0, valid: 0, test }, baselines }) as unknown as DemoResults['data'];

  it('names the chance level, the threshold and every arm\'s p-value', () => {
    // 4 four-way items: only 4 of 4 right would do at α = 0.001, which no 4 items can beat: threshold 5.
    const line = chanceLine({ data: data(4, { chance: 0.25 }), arms: [arm('a', 1), arm('b', 0.25)] });
    assert.ok(line.includes('(0.250)'), line);
    assert.ok(line.includes(`p < ${CHANCE_ALPHA}`), line);
    assert.ok(line.includes('at least 5 right'), line);
    // p of 4/4 is 1/256 = 0.00390625; of 1/4 it is 1 − (3/4)^4 = 175/256 = 0.68359375.
    assert.ok(line.includes('a 0.0039'), line);
    assert.ok(line.includes('b 0.68'), line);
  });

  it('uses the majority share as chance for classification', () => {
    const line = chanceLine({ data: data(2, { majority: 0.5 }), arms: [arm('a', 1)] });
    assert.ok(line.includes('(0.500)'), line);
    assert.ok(line.includes('a 0.25'), line); // both of 2 right at p = 1/2: 1/4
  });

  it('is printed after the table and written into results.md', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gpt1-chance-'));
    try {
      const lines: string[] = [];
      const r = await runDemo({ task: 'wordnet', presetName: 'tiny', preset: PRESETS.tiny, seed: 5, out, progress: { write: () => true, isTTY: false }, log: (l) => lines.push(l) });
      const line = chanceLine(r);
      // 16 four-way test items: P(X ≥ k) < 0.001 first at k = 11 (P(X ≥ 10) ≈ 1.6e-3, P(X ≥ 11) ≈ 2.9e-4).
      assert.ok(line.includes('over the 16 test items: at least 11 right'), line);
      assert.ok(lines.some((l) => l.includes(line)), 'the line was not printed');
      assert.ok(readFileSync(join(out, 'results.md'), 'utf8').includes(line), 'the line is not in results.md');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
