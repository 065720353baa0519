/**
 * Regenerates the conformance pack (docs/porting.md):
 *
 *     npx tsx conformance/regenerate.ts                 # rewrite conformance/ in place (then commit)
 *     npx tsx conformance/regenerate.ts --out /tmp/p    # write elsewhere (then check.py compares; spec/conformance.spec.ts does both)
 *
 * Every checkpoint is made by `gpt1 init` and every dump by `gpt1 dump` (the command
 * line's own code, called in-process); the training and tokenizer vectors come from
 * the library functions the `pretrain`/`finetune` commands and the tokenizer use.
 * The output is deterministic: the same sources give the same files, except for
 * float32 rounding that a different gpu.js backend may change (within the tolerances
 * of check.py). MANIFEST lists the sha256 of every file.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.ts';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import type { GPTConfig } from '../src/config.ts';
import { batchLmLossAndGrads } from '../src/model/gpt.ts';
import type { Params } from '../src/params.ts';
import { fork, rng } from '../src/random.ts';
import { encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { encoderJson, learnBpe, mergesText } from '../src/tokenizer/learn.ts';
import { CLF_BIAS, CLF_WEIGHT, type ClassifierHead, initClassifier } from '../src/train/classifier.ts';
import { batchLossAndGrads } from '../src/train/objectives.ts';
import { type AdamHParams, type AdamState, ADAM_DEFAULTS, adamStep, initAdamState } from '../src/train/optimizer.ts';
import { defaultPretrainWarmup } from '../src/train/pretrain.ts';
import { TASK_KINDS, type TaskKind, type TokenExample, specialTokens, transformExample } from '../src/train/transforms.ts';
import { TOKENIZER_TEXTS, BPE_CORPUS } from './texts.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The models of the pack: `gpt1 init` flags and the fixed ids of their dump. */
export const MODELS: readonly { name: string; why: string; init: string[]; ids: (nVocab: number) => number[] }[] = [
  {
    name: 'exposing',
    why: 'tiny, far from uniform (std 0.5: sharp attention, large GELU inputs), embeddings of std 0.003 and no biases (the first LayerNorm sees rows of variance near ε), LayerNorm gains spread, 4 heads of width 4, the 3 special tokens, a learned vocabulary, T = n_ctx',
    init: ['--n-layer', '2', '--n-embd', '16', '--n-head', '4', '--n-ctx', '8', '--n-special', '3', '--learn-vocab', 'BPE_CORPUS', '--merges', '60',
      '--std', '0.5', '--embd-std', '0.003', '--ln-gain-spread', '0.5', '--seed', '11'],
    // T = n_ctx = 8: _start_, the last ordinary ids, id 0, _delimiter_, _classify_
    ids: (v) => [v, 5, v - 1, v - 2, 0, 17, v + 1, v + 2],
  },
  {
    name: 'release-vocab',
    why: "the release's 40478-token vocabulary (bundled, not copied) on a narrow model: 1 layer × 4, 2 heads",
    init: ['--vocab', 'gpt1', '--n-layer', '1', '--n-embd', '4', '--n-head', '2', '--n-ctx', '8', '--std', '0.5', '--embd-std', '0.5', '--bias-std', '0.2', '--ln-gain-spread', '0.5', '--seed', '12'],
    // "the president is" + the last id of the vocabulary + id 0
    ids: () => [481, 4735, 544, 40477, 0],
  },
];

/** Runs `gpt1 argv…` in this process; throws if it fails. */
async function gpt1(argv: string[]): Promise<void> {
  const status = await main(argv);
  if (status !== 0) throw new Error(`gpt1 ${argv.join(' ')}: exit status ${status}`);
}

const json = (x: unknown): string => `${JSON.stringify(x, null, 1)}\n`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, relative paths, sorted. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p, base) : [relative(base, p)];
  });
}

// ---------------------------------------------------------------------------------
// Models and dumps
// ---------------------------------------------------------------------------------

async function modelsAndDumps(out: string, corpus: string): Promise<void> {
  for (const m of MODELS) {
    const dir = join(out, 'models', m.name);
    const init = m.init.map((a) => (a === 'BPE_CORPUS' ? corpus : a));
    for (const layout of ['original', 'hf']) await gpt1(['init', ...init, '--layout', layout, '--out', join(dir, layout), '--quiet']);
    const { config } = loadCheckpoint(join(dir, 'original'));
    const ids = m.ids(config.n_vocab);
    writeFileSync(join(dir, 'ids.json'), `${JSON.stringify(ids)}\n`);
    const shown = m.init.map((a) => (a === 'BPE_CORPUS' ? 'tokenizer/bpe-learn/corpus.txt' : a)).join(' ');
    writeFileSync(join(dir, 'README.md'), `# ${m.name}\n\n${m.why}.\n\nMade by \`gpt1 init ${shown} --layout original|hf\` (conformance/regenerate.ts).\n`);
    const scratch = mkdtempSync(join(tmpdir(), 'gpt1-pack-dump-'));
    try {
      await gpt1(['dump', '--checkpoint', join(dir, 'original'), '--ids', ids.join(','), '--grads', '--intermediates', '--out', join(scratch, 'd'), '--quiet']);
      const dumpDir = join(out, 'dumps', m.name);
      mkdirSync(dumpDir, { recursive: true });
      for (const f of walk(join(scratch, 'd'))) {
        if (f === 'dump.json') continue;
        mkdirSync(dirname(join(dumpDir, f)), { recursive: true });
        cpSync(join(scratch, 'd', f), join(dumpDir, f));
      }
      // dump.json without what changes from run to run (paths, hashes of this run, backend, commit)
      const meta = JSON.parse(readFileSync(join(scratch, 'd', 'dump.json'), 'utf8')) as Record<string, unknown>;
      const keep = ['config', 'ids', 'tokens', 'logits_columns', 'lm_loss', 'shapes'];
      writeFileSync(join(dumpDir, 'dump.json'), json(Object.fromEntries(keep.map((k) => [k, meta[k]]))));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------
// Optimizer steps: pretraining, then fine-tuning with L3 on each Figure-1 transformation
// ---------------------------------------------------------------------------------

/** Per-parameter float64 checksums: Σx, Σ|x|, Σx², and the number of elements. */
function checksums(params: Params): Record<string, { sum: number; sum_abs: number; sum_sq: number; size: number }> {
  const out: Record<string, { sum: number; sum_abs: number; sum_sq: number; size: number }> = {};
  for (const [name, t] of Object.entries(params)) {
    let s = 0, a = 0, q = 0;
    for (const x of t.data) {
      s += x;
      a += Math.abs(x);
      q += x * x;
    }
    out[name] = { sum: s, sum_abs: a, sum_sq: q, size: t.data.length };
  }
  return out;
}

const PRETRAIN_STEPS = 4;
const FINETUNE_STEPS = 3;

/** The hyper-parameters as JSON (train.py's flag names). */
function hpJson(hp: AdamHParams): Record<string, unknown> {
  return { lr: hp.lr, schedule: hp.schedule, warmup: hp.warmup, t_total: hp.tTotal, b1: hp.b1, b2: hp.b2, e: hp.e, l2: hp.l2, vector_l2: hp.vectorL2, max_grad_norm: hp.maxGradNorm };
}

/** Windows of n_ctx tokens of the encoded corpus: batch `step` is windows 2·step and 2·step + 1. */
function pretrainBatches(corpusIds: readonly number[], nCtx: number): number[][][] {
  const batches: number[][][] = [];
  for (let s = 0; s < PRETRAIN_STEPS; s++) batches.push([0, 1].map((j) => corpusIds.slice((2 * s + j) * nCtx, (2 * s + j + 1) * nCtx)));
  return batches;
}

/** Two fixed examples of each Figure-1 task, as token ids (from the ordinary vocabulary). */
function taskExamples(kind: TaskKind, v: number): { example: TokenExample; label: number }[] {
  const w = (k: number, n: number): number[] => Array.from({ length: n }, (_, i) => (k * 7 + i * 3) % v);
  switch (kind) {
    case 'classification':
      return [{ example: { kind, text: w(1, 4) }, label: 1 }, { example: { kind, text: w(2, 9) }, label: 0 }]; // the second is truncated
    case 'entailment':
      return [{ example: { kind, premise: w(3, 2), hypothesis: w(4, 1) }, label: 2 }, { example: { kind, premise: w(5, 1), hypothesis: w(6, 2) }, label: 0 }];
    case 'similarity':
      return [{ example: { kind, text1: w(7, 2), text2: w(8, 1) }, label: 1 }, { example: { kind, text1: w(9, 1), text2: w(10, 2) }, label: 0 }];
    case 'multiple-choice':
      return [{ example: { kind, context: w(11, 2), choices: [w(12, 1), w(13, 2)] }, label: 1 }, { example: { kind, context: w(14, 1), choices: [w(15, 2), w(16, 1)] }, label: 0 }];
  }
}

const N_CLASSES: Readonly<Record<TaskKind, number>> = { classification: 2, entailment: 3, similarity: 2, 'multiple-choice': 1 };

async function training(out: string, corpusText: string): Promise<void> {
  const dir = join(out, 'train');
  mkdirSync(dir, { recursive: true });
  const ckpt = loadCheckpoint(join(out, 'models', 'exposing', 'original'));
  const config: GPTConfig = ckpt.config;
  const enc = loadEncoder(join(out, 'models', 'exposing', 'original'));
  const corpusIds = encode(enc, corpusText);
  const batches = pretrainBatches(corpusIds, config.n_ctx);

  // Pretraining: L1, the paper's warmup_cosine schedule at lr 2.5e-4, no dropout.
  const hp: AdamHParams = { ...ADAM_DEFAULTS, lr: 2.5e-4, schedule: 'warmup_cosine', warmup: defaultPretrainWarmup(PRETRAIN_STEPS), tTotal: PRETRAIN_STEPS };
  let params = ckpt.params;
  let opt: AdamState = initAdamState(params);
  const steps: unknown[] = [];
  for (const batch of batches) {
    const r = await batchLmLossAndGrads(params, config, batch.map((ids) => ({ ids })));
    const s = adamStep(params, r.grads, opt, hp);
    steps.push({ step: s.state.t, loss: r.loss, grad_norm: s.gradNorm, lr: s.lr });
    params = s.params;
    opt = s.state;
  }
  writeFileSync(join(dir, 'pretrain.json'), json({
    what: 'L1 on the batches below, from models/exposing, Adam (train.py opt.py) with the paper\'s warmup_cosine schedule, dropout off; checksums of every parameter after the last step',
    model: 'exposing', objective: 'L1', hparams: hpJson(hp), batches, steps, checksums: checksums(params),
  }));

  // Fine-tuning from the pretrained parameters: L3 = L2 + 0.5·L1, warmup_linear at 6.25e-5, no dropout.
  const pretrained = params;
  const sp = specialTokens(config);
  for (const kind of TASK_KINDS) {
    const examples = taskExamples(kind, config.n_vocab);
    const batch = examples.map(({ example, label }) => ({ input: transformExample(example, sp, config.n_ctx), label }));
    const hpF: AdamHParams = { ...ADAM_DEFAULTS, tTotal: FINETUNE_STEPS };
    let model = pretrained;
    let head: ClassifierHead = initClassifier(config.n_embd, N_CLASSES[kind], fork(rng(0), `classifier/${kind}`));
    const headInit = { weight: Array.from(head[CLF_WEIGHT].data), bias: Array.from(head[CLF_BIAS].data), shape: head[CLF_WEIGHT].shape };
    let state = initAdamState({ ...model, ...head });
    const fsteps: unknown[] = [];
    for (let u = 0; u < FINETUNE_STEPS; u++) {
      const r = await batchLossAndGrads(model, config, head, batch, { lmCoef: 0.5 });
      const s = adamStep({ ...model, ...head }, { ...r.grads, ...r.headGrads }, state, hpF);
      fsteps.push({ step: s.state.t, loss: r.loss, clf_loss: r.clfLoss, lm_loss: r.lmLoss, grad_norm: s.gradNorm, lr: s.lr });
      const { [CLF_WEIGHT]: w, [CLF_BIAS]: b, ...rest } = s.params;
      model = rest;
      head = { [CLF_WEIGHT]: w, [CLF_BIAS]: b };
      state = s.state;
    }
    writeFileSync(join(dir, `finetune-${kind}.json`), json({
      what: `L3 = L2 + 0.5·L1 on the ${kind} transformation of Figure 1, from the parameters after pretrain.json, the classifier initialised as classifier_init, Adam with warmup_linear, dropout off`,
      model: 'exposing', start: 'pretrain.json', task: kind, lm_coef: 0.5, hparams: hpJson(hpF),
      examples: examples.map(({ example, label }, i) => ({ ...example, label, sequences: batch[i].input.sequences })),
      classifier_init: headInit, steps: fsteps, checksums: checksums({ ...model, ...head }),
    }));
  }
}

// ---------------------------------------------------------------------------------
// Tokenizer vectors
// ---------------------------------------------------------------------------------

function tokenizer(out: string, corpus: string): void {
  const dir = join(out, 'tokenizer');
  mkdirSync(join(dir, 'bpe-learn'), { recursive: true });
  const enc = loadEncoder();
  writeFileSync(join(dir, 'encode.jsonl'), TOKENIZER_TEXTS.map((text) => `${JSON.stringify({ text, ids: encode(enc, text) })}\n`).join(''));
  cpSync(corpus, join(dir, 'bpe-learn', 'corpus.txt'));
  const learned = learnBpe(BPE_CORPUS, 60);
  writeFileSync(join(dir, 'bpe-learn', 'merges.txt'), mergesText(learned.merges));
  writeFileSync(join(dir, 'bpe-learn', 'encoder.json'), encoderJson(learned.encoder));
}

/** Writes the whole pack to `out` (replacing the generated parts) and its MANIFEST. */
export async function regenerate(out: string): Promise<void> {
  for (const part of ['models', 'dumps', 'train', 'tokenizer']) rmSync(join(out, part), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'gpt1-pack-'));
  try {
    const corpus = join(scratch, 'corpus.txt');
    writeFileSync(corpus, `${BPE_CORPUS.join('\n')}\n`);
    tokenizer(out, corpus);
    await modelsAndDumps(out, corpus);
    await training(out, BPE_CORPUS.join('\n'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const files = ['models', 'dumps', 'train', 'tokenizer'].flatMap((p) => walk(join(out, p)).map((f) => join(p, f)));
  writeFileSync(join(out, 'MANIFEST'), files.map((f) => `${sha256(readFileSync(join(out, f)))}  ${f}\n`).join(''));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = i >= 0 ? process.argv[i + 1] : HERE;
  const t0 = Date.now();
  await regenerate(out);
  process.stderr.write(`regenerated ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
