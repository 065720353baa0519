/**
 * A cheaper harness for the main job's multiple-choice task (`npm start -- --task
 * wordnet`): the same data, tokenizer, pre-training and fine-tuning calls as
 * `src/demo/pipeline.ts`, but only the arms asked for, plus two diagnostics that say
 * whether the pre-trained model has learned anything the task could use:
 *
 * - the unigram entropy of the pre-training corpus in nats per token: a language model
 *   whose loss sits at this value has learned token frequencies and nothing else; and
 *   the held-out loss of a bigram table, what looking one token back could gain;
 * - the paper's zero-shot heuristic (§5, "Zero-shot behaviors"): pick the choice to
 *   which the pre-trained LM gives the highest mean token log-probability after
 *   `word:` (the pre-training documents are written `word, word: definition`).
 *
 * Every accuracy is printed with the exact one-sided binomial p-value against
 * chance, and the run's CPU time (user + system) next to its wall time, since the
 * machine it was written on is shared.
 *
 *     npx tsx scripts/wordnet-probe.ts [--steps 300] [--n-embd 64] [--merges 1000]
 *         [--pretrain-lr 6e-3] [--lr 5e-4] [--epochs 3] [--n-train 200]
 *         [--arms full,w/o-aux,w/o-pre] [--zero-shot] [--pretrained runs/wordnet-quick/pretrained]
 *
 * Unset sizes come from the quick preset. `--pretrained DIR` fine-tunes a saved
 * pre-trained model (with its vocabulary, e.g. the one `npm start -- --task wordnet`
 * saves) instead of pre-training one; `--arms none` stops after the diagnostics.
 */
import '../src/kernels/node.ts';
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHF } from '../src/checkpoint/hf.ts';
import { makeConfig } from '../src/config.ts';
import { type MultipleChoiceExample, prepareDemoData } from '../src/data/demo-data.ts';
import { toTextExample, unigramEntropy } from '../src/demo/pipeline.ts';
import { PRESETS } from '../src/demo/presets.ts';
import { releaseBackends } from '../src/kernels/backend.ts';
import { binomialUpperTail } from '../src/report/chance.ts';
import { forward } from '../src/model/gpt.ts';
import { logSoftmax } from '../src/model/softmax.ts';
import { initParams } from '../src/params.ts';
import { fork, rng } from '../src/random.ts';
import { encode, encodeBatch, loadEncoder } from '../src/tokenizer/encoder.ts';
import { learnBpe, writeVocab } from '../src/tokenizer/learn.ts';
import { addSpecialTokens } from '../src/train/classifier.ts';
import { evaluate, evaluateLm } from '../src/train/evaluate.ts';
import { finetune } from '../src/train/finetune.ts';
import { pretrain } from '../src/train/pretrain.ts';
import { prepareExamples } from '../src/train/task-files.ts';
import { specialTokens } from '../src/train/transforms.ts';

const { values: v } = parseArgs({
  options: {
    steps: { type: 'string' }, 'n-embd': { type: 'string' }, merges: { type: 'string' }, 'pretrain-lr': { type: 'string' },
    lr: { type: 'string' }, epochs: { type: 'string' }, 'n-train': { type: 'string' }, seed: { type: 'string', default: '42' },
    arms: { type: 'string', default: 'full' }, 'zero-shot': { type: 'boolean', default: false }, pretrained: { type: 'string' },
  },
});
const num = (s: string | undefined, d: number) => (s === undefined ? d : Number(s));
const q = PRESETS.quick;
const p = {
  ...q,
  pretrainSteps: num(v.steps, q.pretrainSteps), n_embd: num(v['n-embd'], q.n_embd), merges: num(v.merges, q.merges),
  pretrainLr: num(v['pretrain-lr'], q.pretrainLr), lr: num(v.lr, q.lr), epochs: num(v.epochs, q.epochs), nTrain: num(v['n-train'], q.nTrain),
};
const seed = Number(v.seed);
const arms = v.arms === 'none' ? [] : v.arms.split(',');
for (const a of arms) if (!['full', 'w/o-aux', 'w/o-pre'].includes(a)) throw new Error(`--arms: unknown arm ${a} (full, w/o-aux, w/o-pre, or none)`);

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const stamp = (what: string) => {
  const c = process.cpuUsage(cpu0);
  console.log(`  [${what}] wall ${((performance.now() - t0) / 1000).toFixed(1)} s, cpu (user+sys) ${((c.user + c.system) / 1e6).toFixed(1)} s`);
};
const n = (k: number, of: number) => `${k}/${of} = ${(k / of).toFixed(3)}, one-sided binomial p vs 0.25: ${binomialUpperTail(of, k, 0.25).toPrecision(2)}`;

console.log(JSON.stringify({ ...p, seed, arms, pretrained: v.pretrained ?? null }));
const data = prepareDemoData({ task: 'wordnet', seed, nTrain: p.nTrain, nValid: p.nValid, nTest: p.nTest, pretrainChars: p.pretrainChars });
const scratch = mkdtempSync(join(tmpdir(), 'wordnet-probe-'));
const vocabDir = v.pretrained ?? join(scratch, 'vocab');
if (v.pretrained === undefined) writeVocab(vocabDir, learnBpe(data.pretrainText, p.merges));
const enc = loadEncoder(vocabDir);
const corpus = encodeBatch(enc, data.pretrainText).flat();
console.log(`  corpus ${corpus.length} tokens, unigram entropy ${unigramEntropy(corpus).toFixed(3)} nats/token; baselines ${JSON.stringify(data.stats.baselines)}`);
console.log(`  a bigram table fitted on the first 90% of the corpus scores ${heldOutBigram(corpus, enc.nVocab).toFixed(3)} nats/token on the last 10%`);
stamp('data + BPE');

/**
 * Cross-entropy on the last 10% of `ids` of a bigram table counted on the first 90%,
 * interpolated with add-½ unigram frequencies (the best of a few weights): how much a
 * model that only looks one token back could gain over token frequencies.
 */
function heldOutBigram(ids: readonly number[], V: number): number {
  const cut = Math.floor(ids.length * 0.9);
  const uni = new Float64Array(V);
  const prev = new Float64Array(V);
  const pairs = new Map<number, number>();
  for (let i = 0; i < cut; i++) {
    uni[ids[i]]++;
    if (i > 0) {
      prev[ids[i - 1]]++;
      pairs.set(ids[i - 1] * V + ids[i], (pairs.get(ids[i - 1] * V + ids[i]) ?? 0) + 1);
    }
  }
  let best = Infinity;
  for (const w of [0.3, 0.5, 0.7, 0.8, 0.9]) {
    let loss = 0;
    for (let i = cut + 1; i < ids.length; i++) {
      const pu = (uni[ids[i]] + 0.5) / (cut + 0.5 * V);
      const pb = prev[ids[i - 1]] > 0 ? (pairs.get(ids[i - 1] * V + ids[i]) ?? 0) / prev[ids[i - 1]] : 0;
      loss -= Math.log(w * pb + (1 - w) * pu);
    }
    best = Math.min(best, loss / (ids.length - cut - 1));
  }
  return best;
}

const loaded = v.pretrained === undefined ? undefined : loadHF(v.pretrained);
const config = loaded?.config ?? makeConfig({ n_vocab: enc.nVocab, n_ctx: p.n_ctx, n_embd: p.n_embd, n_head: p.n_head, n_layer: p.n_layer });
const root = rng(seed);
const init = initParams(config, fork(root, 'init'));
let pre = loaded?.params;
if (pre === undefined) {
  const r = await pretrain({
    params: init, config, corpusIds: corpus, steps: p.pretrainSteps, batch: p.pretrainBatch, ctx: p.pretrainCtx, lr: p.pretrainLr, seed,
    onStep: (i) => { if (i.step % 50 === 0) console.log(`    update ${i.step}: L1 ${i.loss.toFixed(3)}`); },
  });
  pre = r.params;
  const last = r.log.slice(-20);
  console.log(`  L1 ${r.log[0].loss.toFixed(3)} → ${(last.reduce((s, x) => s + x.loss, 0) / last.length).toFixed(3)} (mean of the last ${last.length} updates)`);
  stamp('pre-training');
}
const heldout = data.test.map((e) => encode(enc, e.context).slice(0, config.n_ctx)).filter((ids) => ids.length >= 2);
console.log(`  held-out LM loss of the pre-trained model ${(await evaluateLm(pre, config, heldout)).loss.toFixed(3)}`);

if (v['zero-shot']) {
  let right = 0;
  for (const e of data.test) {
    const prefix = encode(enc, `${e.context}:`).length;
    const scores: number[] = [];
    for (const choice of e.choices) {
      const ids = encode(enc, `${e.context}: ${choice}`).slice(0, config.n_ctx);
      const logits = (await forward(pre, config, ids)).logits; // [T, V]
      const V = logits.shape[1];
      const logp = logSoftmax(logits);
      let sum = 0;
      for (let t = prefix - 1; t + 1 < ids.length; t++) sum += logp.data[t * V + ids[t + 1]];
      scores.push(sum / Math.max(1, ids.length - prefix));
    }
    if (scores.indexOf(Math.max(...scores)) === e.label) right++;
  }
  console.log(`  zero-shot (highest mean log-probability of the definition): ${n(right, data.test.length)}`);
  stamp('zero-shot');
}

const sp = specialTokens(addSpecialTokens(init, config, fork(root, 'special')).config);
const prep = (split: readonly MultipleChoiceExample[]) =>
  prepareExamples(split.map((e) => toTextExample('multiple-choice', e)), (t) => encode(enc, t), sp, config.n_ctx, []).data;
const [train, valid, test] = [prep(data.train), prep(data.valid), prep(data.test)];
for (const arm of arms) {
  const ft = await finetune({
    params: arm === 'w/o-pre' ? init : pre, config, task: 'multiple-choice', train, valid, labels: [],
    epochs: p.epochs, batch: p.batch, lr: p.lr, lmCoef: arm === 'w/o-aux' ? 0 : 0.5, seed,
  });
  const m = await evaluate({ params: ft.params, config: ft.config, head: ft.head, task: 'multiple-choice', data: test });
  console.log(`  arm ${arm}: test ${n(Math.round(m.accuracy * test.length), test.length)}; validation by epoch ${ft.validation.map((x) => x.accuracy.toFixed(3)).join(', ')}`);
  stamp(`arm ${arm}`);
}
rmSync(scratch, { recursive: true, force: true });
await releaseBackends();
