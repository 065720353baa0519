/**
 * Regenerates the explorer's bundled model, `web/model/`: the main job's
 * pre-trained language model (`npm start`, quick preset, seed 42) — a 2-layer,
 * 64-wide, 4-head GPT-1 with a 1,000-merge BPE vocabulary learned on the
 * SpamAssassin e-mails — saved in the Hugging Face layout with its vocabulary
 * (`model.safetensors`, `config.json`, `vocab.json`, `merges.txt`).
 *
 *     npx tsx scripts/web-model.ts [--out web/model] [--steps 300]
 *
 * The files are written, never edited by hand; the same command writes the same
 * bytes (everything is seeded). About a minute on a 2-core machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { saveHF } from '../src/checkpoint/hf.ts';
import { makeConfig } from '../src/config.ts';
import { prepareDemoData } from '../src/data/demo-data.ts';
import { PRESETS } from '../src/demo/presets.ts';
import { initParams } from '../src/params.ts';
import { fork, rng } from '../src/random.ts';
import { encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { learnBpe, writeVocab } from '../src/tokenizer/learn.ts';
import { pretrain } from '../src/train/pretrain.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'web/model' }, steps: { type: 'string' } } });
const p = PRESETS.quick;
const seed = 42;
const steps = values.steps === undefined ? p.pretrainSteps : Number(values.steps);

// The same data, vocabulary, model and pre-training as `npm start` (src/demo/pipeline.ts, steps 1–3).
const data = prepareDemoData({ task: 'spam', seed, nTrain: p.nTrain, nValid: p.nValid, nTest: p.nTest, pretrainChars: p.pretrainChars });
const tmp = mkdtempSync(join(tmpdir(), 'gpt1-web-model-'));
try {
  const vocabDir = join(tmp, 'vocab');
  writeVocab(vocabDir, learnBpe(data.pretrainText, p.merges));
  const enc = loadEncoder(vocabDir);
  const corpus: number[] = [];
  for (const doc of data.pretrainText) for (const id of encode(enc, doc)) corpus.push(id);
  const config = makeConfig({ n_vocab: enc.nVocab, n_ctx: p.n_ctx, n_embd: p.n_embd, n_head: p.n_head, n_layer: p.n_layer });
  const init = initParams(config, fork(rng(seed), 'init'));
  const t0 = performance.now();
  const pre = await pretrain({
    params: init, config, corpusIds: corpus, steps, batch: p.pretrainBatch, ctx: p.pretrainCtx, lr: p.pretrainLr, seed,
    onStep: (i) => { if (i.step % 50 === 0 || i.step === i.totalSteps) process.stderr.write(`step ${i.step}/${i.totalSteps} loss ${i.loss.toFixed(3)}\n`); },
  });
  saveHF(values.out as string, config, pre.params, { vocabDir });
  process.stderr.write(`wrote ${values.out}: ${enc.nVocab} tokens, ${config.n_layer} layers × ${config.n_embd}, L1 ${pre.log[pre.log.length - 1].loss.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
