/**
 * The main job (`npm start`) at the tiny preset: the whole pipeline runs — data,
 * learned BPE, pre-training, samples, three fine-tuning arms, report — and writes
 * its files. This checks the structure of what it produces, not its numbers: at
 * this size the accuracies are noise, and the real run's figures are in the README.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type DemoResults, FINETUNED_DIR, PRETRAINED_DIR, runDemo, smooth, unigramEntropy } from '../src/demo/pipeline.ts';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { loadEncoder } from '../src/tokenizer/encoder.ts';
import { loadClassifier } from '../src/train/state.ts';
import { PRESETS } from '../src/demo/presets.ts';
import { start } from '../src/demo/start.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const quiet = { write: () => true, isTTY: false };

describe('the main job at the tiny preset', () => {
  for (const task of ['spam', 'wordnet'] as const) {
    it(`${task}: three arms, accuracies in [0, 1], every file written`, async () => {
      const out = mkdtempSync(join(tmpdir(), `gpt1-demo-${task}-`));
      dirs.push(out);
      const lines: string[] = [];
      const r = await runDemo({ task, presetName: 'tiny', preset: PRESETS.tiny, seed: 7, out, progress: quiet, log: (l) => lines.push(l) });

      // Table 5 in miniature: exactly the three ablation arms, in order.
      assert.deepEqual(r.arms.map((a) => a.name), ['w/o pre-training', 'w/o aux LM', 'full']);
      assert.deepEqual(r.arms.map((a) => [a.pretrained, a.lm_coef]), [[false, 0.5], [true, 0], [true, 0.5]]);
      for (const a of r.arms) {
        assert.ok(a.accuracy >= 0 && a.accuracy <= 1, `${a.name}: accuracy ${a.accuracy}`);
        assert.ok(Number.isFinite(a.lm_loss) && a.lm_loss > 0, `${a.name}: LM loss ${a.lm_loss}`);
        assert.ok(a.seconds >= 0);
        assert.equal(a.valid_accuracy.length, PRESETS.tiny.epochs);
      }
      assert.equal(r.task_kind, task === 'spam' ? 'classification' : 'multiple-choice');
      assert.equal(r.pretrain.steps, PRESETS.tiny.pretrainSteps);
      assert.ok(r.vocab.size > 0 && r.vocab.pretrain_tokens > 0);

      // Files: results.json equals the returned value; the Markdown has the table; the curves are SVG.
      for (const f of ['results.json', 'results.md', 'finetune-curves.svg', 'pretrain-curve.svg', 'vocab/encoder.json', 'vocab/merges.txt']) {
        assert.ok(existsSync(join(out, f)), `${f} was not written`);
      }
      const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as DemoResults;
      assert.equal(json.task, task);
      assert.deepEqual(json.arms.map((a) => a.name), r.arms.map((a) => a.name));
      assert.ok(json.arms.every((a) => typeof a.accuracy === 'number' && typeof a.lm_loss === 'number' && typeof a.seconds === 'number'));
      const md = readFileSync(join(out, 'results.md'), 'utf8');
      assert.match(md, /\| arm \| accuracy \| held-out LM loss \| time \(s\) \|/);
      for (const a of r.arms) assert.ok(md.includes(`| ${a.name} |`));
      for (const svg of ['finetune-curves.svg', 'pretrain-curve.svg']) {
        const text = readFileSync(join(out, svg), 'utf8');
        assert.match(text, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
        assert.match(text, /<path d="M/); // at least one curve was drawn
      }
      // The samples continue their prompts.
      assert.equal(r.samples.length, PRESETS.tiny.samples);
      // The printed report ends with the table.
      assert.ok(lines.some((l) => l.includes('| w/o aux LM |')));

      // It leaves the models: the pre-trained LM and the best fine-tuned arm, in the
      // Hugging Face layout with their vocabulary, and the test split to evaluate on;
      // and it ends by printing commands that use them.
      const pre = loadCheckpoint(join(out, PRETRAINED_DIR));
      assert.equal(pre.format, 'hf');
      assert.equal(pre.config.n_vocab, r.vocab.size);
      const fine = loadCheckpoint(join(out, FINETUNED_DIR));
      assert.equal(fine.config.n_special, 3);
      assert.equal(loadClassifier(join(out, FINETUNED_DIR), fine.config.n_embd).task.task, r.task_kind);
      assert.deepEqual(JSON.parse(readFileSync(join(out, FINETUNED_DIR, 'config.json'), 'utf8')).architectures, [task === 'spam' ? 'OpenAIGPTForSequenceClassification' : 'OpenAIGPTDoubleHeadsModel']);
      for (const d of [PRETRAINED_DIR, FINETUNED_DIR]) assert.equal(loadEncoder(join(out, d)).nVocab, r.vocab.size);
      assert.equal(readFileSync(join(out, 'data', 'test.jsonl'), 'utf8').trim().split('\n').length, PRESETS.tiny.nTest);
      const next = lines.join('\n');
      assert.ok(next.includes(`npx gpt1 generate --checkpoint ${join(out, PRETRAINED_DIR)}`), next);
      assert.ok(next.includes(`npx gpt1 evaluate --checkpoint ${join(out, FINETUNED_DIR)} --data ${join(out, 'data', 'test.jsonl')}`), next);
    });
  }

  it('is deterministic: the same seed gives the same table', async () => {
    const run = async () => {
      const out = mkdtempSync(join(tmpdir(), 'gpt1-demo-det-'));
      dirs.push(out);
      const r = await runDemo({ task: 'spam', presetName: 'tiny', preset: PRESETS.tiny, seed: 3, out, progress: quiet, log: () => {} });
      return r.arms.map((a) => [a.accuracy, a.lm_loss, a.clf_loss]);
    };
    assert.deepEqual(await run(), await run());
  });
});

describe('npm start flags', () => {
  it('rejects a bad flag with exit status 2', async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      assert.equal(await start(['--preset', 'huge']), 2);
      assert.equal(await start(['--epochs', '0']), 2);
      assert.equal(await start(['--nonsense']), 2);
    } finally {
      console.error = original;
    }
    assert.equal(errors.length, 3);
    assert.ok(errors.every((e) => !e.includes('\n')), 'each error is one line');
    assert.match(errors[0], /--preset must be one of tiny, quick, full/);
  });

  it('smooth is a trailing moving average', () => {
    // Hand-worked: window 2 over [1, 3, 5] → [1, (1+3)/2, (3+5)/2].
    assert.deepEqual(smooth([1, 3, 5], 2), [1, 2, 4]);
  });

  it('unigramEntropy is −Σ f ln f of the token frequencies', () => {
    // Hand-worked: one token only → 0; V tokens equally often → ln V; [7, 7, 9, 9] → ln 2.
    assert.equal(unigramEntropy([5, 5, 5]), 0);
    assert.ok(Math.abs(unigramEntropy([0, 1, 2, 3, 4, 5, 6, 7]) - Math.log(8)) < 1e-12);
    assert.ok(Math.abs(unigramEntropy([7, 7, 9, 9]) - Math.log(2)) < 1e-12);
    // Frequencies 1/2, 1/4, 1/4: −(½ ln ½ + 2 · ¼ ln ¼) = 1.5 ln 2.
    assert.ok(Math.abs(unigramEntropy([1, 1, 2, 3]) - 1.5 * Math.log(2)) < 1e-12);
  });
});
