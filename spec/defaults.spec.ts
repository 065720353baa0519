/**
 * Pre-training defaults that learn (src/train/defaults.ts, src/cli/pretrain.ts): the
 * paper's learning rate for GPT-1's size, a measured one for the small presets, said
 * at the start; a warning when the loss has not moved after the warm-up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { GPT1, PRESETS, makeConfig } from '../src/config.ts';
import { main } from '../src/cli/main.ts';
import { PRETRAIN_LR, defaultPretrainLr, lossHasNotMoved } from '../src/train/defaults.ts';
import { PRETRAIN_DEFAULTS } from '../src/train/pretrain.ts';
import { captureRun } from './helpers.ts';

const TMP = mkdtempSync(join(tmpdir(), 'gpt1-defaults-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

describe('pre-training learning rate by size', () => {
  test("GPT-1's size keeps the paper's 2.5e-4; each preset gets its own; other shapes the nearest by width", () => {
    assert.equal(PRETRAIN_DEFAULTS.lr, 2.5e-4);
    assert.deepEqual(defaultPretrainLr(GPT1), { lr: 2.5e-4, preset: 'gpt1' });
    for (const name of ['small', 'tiny']) assert.deepEqual(defaultPretrainLr(PRESETS[name]), { lr: PRETRAIN_LR[name], preset: name });
    assert.equal(defaultPretrainLr(makeConfig({ n_embd: 1024, n_head: 16, n_layer: 24 })).preset, 'gpt1');
    assert.equal(defaultPretrainLr(makeConfig({ n_embd: 384, n_head: 6, n_layer: 6 })).preset, 'small');
    assert.equal(defaultPretrainLr(makeConfig({ n_embd: 64, n_head: 4, n_layer: 2 })).preset, 'tiny');
    assert.ok(PRETRAIN_LR.tiny > PRETRAIN_LR.gpt1 && PRETRAIN_LR.small > PRETRAIN_LR.gpt1);
  });

  test('lossHasNotMoved: a flat curve has not moved, one falling by more than 1% has; too short a curve is never judged', () => {
    fc.assert(fc.property(fc.double({ min: 0.5, max: 10, noNaN: true }), fc.integer({ min: 20, max: 60 }), (level, n) => {
      assert.equal(lossHasNotMoved(Array(n).fill(level)), true);
      assert.equal(lossHasNotMoved(Array.from({ length: n }, (_, k) => level * (1 - (0.1 * k) / n))), false);
      assert.equal(lossHasNotMoved(Array(19).fill(level)), false);
    }));
  });
});

describe('gpt1 pretrain says its learning rate and warns about a loss that does not move', () => {
  test('the default for the tiny size is printed; a learning rate far too small draws the warning', async () => {
    const corpus = join(TMP, 'corpus.txt');
    writeFileSync(corpus, 'the cat sat on the mat. the dog sat on the log. a bird sang in the tree. '.repeat(20));
    const common = ['pretrain', '--data', corpus, '--steps', '30', '--batch', '2', '--ctx', '8', '--merges', '30', '--save-every', '0', '--config', 'tiny'];
    const ok = await captureRun(main, [...common, '--out', join(TMP, 'a')]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, new RegExp(`lr ${PRETRAIN_LR.tiny} \\(default for the tiny size, measured`));
    assert.doesNotMatch(ok.err, /warning/, 'the default learns');
    const stuck = await captureRun(main, [...common, '--out', join(TMP, 'b'), '--lr', '1e-9']);
    assert.equal(stuck.code, 0, stuck.err);
    assert.match(stuck.err, /lr 1e-9 \(--lr\)/);
    assert.match(stuck.err, /warning: the loss has not moved after the warm-up/);
  });
});
