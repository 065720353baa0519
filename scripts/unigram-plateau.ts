/**
 * Why the main job's wordnet pre-training stays at the unigram entropy while the
 * spam pre-training leaves it (README, main-job section): the quick preset's
 * pre-training (same data, BPE, model, schedule and seed as `src/demo/pipeline.ts`)
 * on one task's token stream, as built or changed by one `--variant`:
 *
 * | variant | the token stream |
 * |---|---|
 * | `as-built` | unchanged |
 * | `shuffled` | the same tokens in a random order: nothing beyond the unigram is left to learn |
 * | `no-repeats` | every run of one token collapsed to one token (`_ _ _ _` → `_`) |
 * | `block-shuffled` | the order shuffled inside each block of `ctx` tokens: a window still sees which tokens are near, not in which order |
 * | `planted` | every second token replaced by π(previous token), π a fixed random permutation of the vocabulary: a strong bigram that is not a repeat |
 *
 * It prints the variant's unigram entropy, the share of tokens equal to the token
 * before them, and the mean L₁ of each 50 updates, with the CPU time (user + system);
 * then, before and after training, on four windows of the stream: the input-dependent
 * share of the last hidden state h_n (what the tied head reads), i.e. its variance
 * across the 4 × ctx positions over its mean square (0: the same vector everywhere, so
 * the same prediction everywhere), and, Post-LN only, per block the RMS of n = LN₁(x +
 * attn) and of the FFN's contribution m to LN₂'s input n + m; and the mean rank of the
 * current token among the next-token logits (0: the model's favourite is a repeat).
 *
 * `--norm-placement pre` trains the Pre-LN switch of `docs/evolution.md` instead of
 * GPT-1's Post-LN.
 *
 *     npx tsx scripts/unigram-plateau.ts --task wordnet|spam [--variant as-built] [--steps 300] [--lr 6e-3] [--norm-placement post|pre]
 */
import '../src/kernels/node.ts';
import { parseArgs } from 'node:util';
import { prepareDemoData } from '../src/data/demo-data.ts';
import { unigramEntropy } from '../src/demo/pipeline.ts';
import { PRESETS } from '../src/demo/presets.ts';
import { makeConfig } from '../src/config.ts';
import { releaseBackends } from '../src/kernels/backend.ts';
import { type Params, initParams } from '../src/params.ts';
import { forward } from '../src/model/gpt.ts';
import { type Rng, fork, rng, shuffle } from '../src/random.ts';
import { encodeBatch, textEncoderFromData } from '../src/tokenizer/encoder.ts';
import { learnBpe, mergesText } from '../src/tokenizer/learn.ts';
import { pretrain } from '../src/train/pretrain.ts';

const VARIANTS = ['as-built', 'shuffled', 'no-repeats', 'block-shuffled', 'planted'] as const;
type Variant = (typeof VARIANTS)[number];

const { values: v } = parseArgs({
  options: { task: { type: 'string' }, variant: { type: 'string', default: 'as-built' }, steps: { type: 'string', default: '300' }, lr: { type: 'string' }, 'norm-placement': { type: 'string', default: 'post' }, seed: { type: 'string', default: '42' } },
});
if (v.task !== 'wordnet' && v.task !== 'spam') throw new Error('--task: expected wordnet or spam');
if (!(VARIANTS as readonly string[]).includes(v.variant)) throw new Error(`--variant: expected one of ${VARIANTS.join(', ')}`);
const variant = v.variant as Variant;
const normPlacement = v['norm-placement'];
if (normPlacement !== 'post' && normPlacement !== 'pre') throw new Error('--norm-placement: expected post (GPT-1) or pre');
const p = PRESETS.quick;
const seed = Number(v.seed);
const steps = Number(v.steps);
const lr = v.lr === undefined ? p.pretrainLr : Number(v.lr);

/** The token stream changed as `variant` says (see the module comment); `g` draws the shuffles and π. */
function vary(ids: readonly number[], variant: Variant, nVocab: number, block: number, g: Rng): number[] {
  switch (variant) {
    case 'as-built':
      return [...ids];
    case 'shuffled':
      return shuffle(g, ids)[0];
    case 'no-repeats':
      return ids.filter((x, i) => i === 0 || x !== ids[i - 1]);
    case 'block-shuffled': {
      const out: number[] = [];
      let r = g;
      for (let i = 0; i < ids.length; i += block) {
        let b: number[];
        [b, r] = shuffle(r, ids.slice(i, i + block));
        out.push(...b);
      }
      return out;
    }
    case 'planted': {
      const [perm] = shuffle(g, Array.from({ length: nVocab }, (_, i) => i));
      const out = [ids[0]];
      for (let i = 1; i < ids.length; i++) out.push(i % 2 === 0 ? perm[out[i - 1]] : ids[i]);
      return out;
    }
  }
}

const cpu0 = process.cpuUsage();
const cpu = () => {
  const c = process.cpuUsage(cpu0);
  return `${((c.user + c.system) / 1e6).toFixed(0)} s`;
};
const data = prepareDemoData({ task: v.task, seed, nTrain: p.nTrain, nValid: p.nValid, nTest: p.nTest, pretrainChars: p.pretrainChars } as Parameters<typeof prepareDemoData>[0]);
const vocab = learnBpe(data.pretrainText, p.merges);
const enc = textEncoderFromData(vocab.encoder, mergesText(vocab.merges), 'learned encoder', 'learned merges');
const corpus = vary(encodeBatch(enc, data.pretrainText).flat(), variant, enc.nVocab, p.pretrainCtx, fork(rng(seed), `variant/${variant}`));

const unigram = unigramEntropy(corpus);
const repeats = corpus.filter((x, i) => i > 0 && x === corpus[i - 1]).length / (corpus.length - 1);
console.log(`${v.task}, ${variant}: ${corpus.length} tokens, unigram entropy ${unigram.toFixed(3)} nats/token, ${(100 * repeats).toFixed(1)}% of tokens repeat the one before; cpu ${cpu()}`);

const config = makeConfig({ n_vocab: enc.nVocab, n_ctx: p.n_ctx, n_embd: p.n_embd, n_head: p.n_head, n_layer: p.n_layer, norm_placement: normPlacement });
const init = initParams(config, fork(rng(seed), 'init'));

/** Variance across rows over mean square of `rows` (each of length d): the share that depends on the position's input. */
function inputDependentShare(rows: readonly Float32Array[]): number {
  const d = rows[0].length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / rows.length;
  let total = 0;
  let deviation = 0;
  for (const r of rows) for (let j = 0; j < d; j++) [total, deviation] = [total + r[j] ** 2, deviation + (r[j] - mean[j]) ** 2];
  return deviation / total;
}
const rms = (rows: readonly Float32Array[]) => Math.sqrt(rows.reduce((a, r) => a + r.reduce((b, x) => b + x * x, 0), 0) / (rows.length * rows[0].length));

/** The hidden-state diagnostics of the module comment, on four windows spread over the stream. */
async function hiddenStates(params: Params, when: string): Promise<void> {
  const d = config.n_embd;
  const last: Float32Array[] = [];
  let rankSum = 0;
  const n: Float32Array[][] = Array.from({ length: config.n_layer }, () => []);
  const m: Float32Array[][] = Array.from({ length: config.n_layer }, () => []);
  for (const k of [0, 1, 2, 3]) {
    const start = Math.floor((k * (corpus.length - p.pretrainCtx)) / 4);
    const f = await forward(params, config, corpus.slice(start, start + p.pretrainCtx));
    const h = f.hiddenStates[f.hiddenStates.length - 1];
    const V = f.logits.shape[1];
    for (let t = 0; t < h.shape[0]; t++) {
      last.push(h.data.slice(t * d, (t + 1) * d));
      const row = f.logits.data.subarray(t * V, (t + 1) * V);
      rankSum += row.filter((x) => x > row[f.ids[t]]).length;
    }
    if (normPlacement === 'post') {
      f.blocks.forEach((b, l) => {
        for (let t = 0; t < h.shape[0]; t++) {
          // LN₂'s input, centred per row, is x̂/rstd; n centred likewise; m is the rest.
          const row = b.ln1.y.data.slice(t * d, (t + 1) * d);
          const mu = row.reduce((a, x) => a + x, 0) / d;
          const nc = row.map((x) => x - mu);
          n[l].push(nc);
          m[l].push(b.ln2.xhat.data.slice(t * d, (t + 1) * d).map((x, j) => x / b.ln2.rstd[t] - nc[j]));
        }
      });
    }
  }
  const blocks = normPlacement === 'post' ? n.map((_, l) => `; block ${l}: RMS of n ${rms(n[l]).toFixed(2)}, of the FFN's m ${rms(m[l]).toFixed(2)}`).join('') : '';
  console.log(`  ${when}: input-dependent share of h_n ${inputDependentShare(last).toFixed(3)}${blocks}; mean rank of the current token as the next ${(rankSum / last.length).toFixed(1)} of ${config.n_vocab}`);
}

await hiddenStates(init, 'initialisation');
let sum = 0;
const trained = await pretrain({
  params: init, config, corpusIds: corpus, steps, batch: p.pretrainBatch, ctx: p.pretrainCtx, lr, seed,
  onStep: (i) => {
    sum += i.loss;
    if (i.step % 50 === 0 || i.step === steps) {
      const n = i.step % 50 === 0 ? 50 : i.step % 50;
      console.log(`  update ${i.step}: L1, mean of the last ${n}, ${(sum / n).toFixed(3)} (unigram ${unigram.toFixed(3)}); cpu ${cpu()}`);
      sum = 0;
    }
  },
});
await hiddenStates(trained.params, `after ${steps} updates`);
await releaseBackends();
