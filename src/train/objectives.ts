/**
 * The fine-tuning objectives (paper §3.2) and their gradients, per example and per batch.
 *
 * > L₂(C) = Σ_(x,y) log P(y | x¹, …, xᵐ)                                  (eq. 4)
 * > L₃(C) = L₂(C) + λ·L₁(C)                                               (eq. 5)
 *
 * ```math
 * L_2(\mathcal{C}) = \sum_{(x, y)} \log P(y \mid x^1, \ldots, x^m)
 * \tag{4}
 * ```
 * ```math
 * L_3(\mathcal{C}) = L_2(\mathcal{C}) + \lambda \cdot L_1(\mathcal{C})
 * \tag{5}
 * ```
 *
 * "We additionally found that including language modeling as an auxiliary objective to
 * the fine-tuning helped learning [...]. Specifically, we optimize the following
 * objective (with weight λ)". As losses to minimise, per example with sequences
 * j = 1..k (k = 1, or 2 for similarity, or the number of choices):
 *
 *     clf_loss = −log softmax(scores)[y]
 *     lm_loss  = (1/k) Σⱼ mean next-token cross-entropy of sequence j (masked by M)
 *     loss     = clf_loss + λ·lm_loss
 *
 * and over a batch, the mean of the per-example losses.
 *
 * **Regression** (`regression: true`, e.g. STS-B similarity scores): the head has one
 * output s and clf_loss = (s − y)², the squared error (the paper does not say which loss
 * it used for STS-B; squared error is the usual choice, e.g. Hugging Face's); the
 * prediction is s itself. This is the original's
 * `train_loss = tf.reduce_mean(clf_losses) + lm_coef*tf.reduce_mean(lm_losses)`, in
 * which `lm_losses` has one entry per sequence (every example of a batch has the same
 * number of sequences, so the mean over examples of per-example means is the same
 * number). With λ = 0 (`lm_coef 0`) the LM logits are not even computed.
 *
 * The scores come from the classifier head on the final hidden state h_l^m at the
 * ⟨e⟩ token (`pool`) of each sequence, after classifier dropout; eq. 3 is
 * {@link classifierProbs}, eq. 4 {@link classifierLoss}, eq. 5 {@link finetuneLoss}:
 *
 * | task | classifier input | scores |
 * |---|---|---|
 * | classification, entailment | x = h(seq 1) [1, d] | x·W + b, [n_out] |
 * | similarity | x = h(seq 1) + h(seq 2) [1, d] | x·W + b, [n_out] |
 * | multiple choice | X = [h(seq 1); …; h(seq k)] [k, d] | X·W + b with n_out = 1, [k] |
 *
 * Backward: dscores = softmax(scores) − onehot(y); the classifier backward gives dX,
 * whose rows (through the dropout mask) become `dHidden` of each sequence, non-zero
 * only at its pooling position; the LM gradient λ/k·dL₁/dlogits of each sequence is
 * passed with it to the model's backward pass, which sums the two at h_n.
 *
 * Dropout streams: with `dropout: { rng }`, a batch draws one embedding dropout (the
 * masks of W_e and W_p) from `fork(rng, 'embedding')` and shares it between all the
 * sequences of all its examples, as the original draws one mask of `we` per `model()`
 * call; example i of a batch then uses `fork(rng, 'ex/i')`, in which sequence j draws
 * its other masks from `fork(·, 'seq/j')` and the classifier dropout comes from
 * `fork(·, 'clf')`. A single example without a given embedding dropout draws its own
 * from `fork(rng, 'embedding')`.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { type DropoutMask, dropoutBackward, dropoutForward } from '../model/dropout.ts';
import { type EmbeddingDropout, sharedEmbeddingDropout } from '../model/embedding.ts';
import { addGrads, backward, forward, type ForwardOutput, scaleGrads } from '../model/gpt.ts';
import { lmLoss, lmLossBackward } from '../model/objectives.ts';
import type { Params } from '../params.ts';
import { type Rng, fork } from '../random.ts';
import { type Tensor, scale, tensor } from '../tensor.ts';
import { type ClassifierHead, classifierBackward, classifierDropoutMask, classifierForward, classifierProbs } from './classifier.ts';
import type { LabeledInput } from './task-files.ts';
import type { TaskInput } from './transforms.ts';

/** Options of one fine-tuning forward (and backward) pass. */
export interface FinetuneLossOptions {
  /** λ, the weight of the auxiliary LM loss (paper: 0.5). 0 disables it. */
  readonly lmCoef: number;
  /**
   * Training mode: model dropout (the config's rates) and classifier dropout
   * (`clf_pdrop`). `embedding` is an embedding dropout to share (drawn from the same params).
   */
  readonly dropout?: { readonly rng: Rng; readonly embedding?: EmbeddingDropout };
  /** Compute the LM loss even when λ = 0 (evaluation reports it). Default: only when λ > 0. */
  readonly lmLoss?: boolean;
  /** One output, squared-error loss, real-valued labels (similarity regression). */
  readonly regression?: boolean;
}

/** What one example gives. */
export interface ExampleResult {
  /** loss = clf_loss + λ·lm_loss (lm_loss counted only if λ > 0). */
  readonly loss: number;
  readonly clfLoss: number;
  /** Mean LM loss of the example's sequences; NaN when not computed. */
  readonly lmLoss: number;
  /** The classifier's scores: one per class, or one per choice. */
  readonly scores: Float32Array;
  /** argmax of the scores; for regression the single score. */
  readonly prediction: number;
}

/** An example's result with the gradients of its loss. */
export interface ExampleGrads extends ExampleResult {
  /** dloss/dθ for every model parameter. */
  readonly grads: Params;
  /** dloss/dW_y, dloss/db_y. */
  readonly headGrads: ClassifierHead;
}

/**
 * Eq. 4 for one example: the classification loss −log P(y | x¹, …, xᵐ), with P from
 * eq. 3 ({@link classifierProbs}), and its gradient with respect to the scores,
 * dscores = P − onehot(y). L₂(C) = Σ log P(y | x) is minus the sum of these over the
 * labelled examples; the training loops minimise their mean over a batch.
 * Original: `clf_losses = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=clf_logits, labels=Y)`.
 *
 * ```math
 * L_2(\mathcal{C}) = \sum_{(x, y)} \log P(y \mid x^1, \ldots, x^m)
 * \tag{4}
 * ```
 * @param scores the classifier's scores: [n_out] (one per class) or [k] (one per choice)
 * @param y the label: a class index or the index of the right choice
 */
export function classifierLoss(scores: Float32Array, y: number): { loss: number; dScores: Float32Array } {
  if (!Number.isInteger(y) || y < 0 || y >= scores.length) throw new Error(`label ${y} out of range for ${scores.length} scores`);
  let m = -Infinity;
  for (const s of scores) m = Math.max(m, s);
  let sum = 0;
  for (const s of scores) sum += Math.exp(s - m);
  const logZ = m + Math.log(sum);
  const d = new Float32Array(scores.length);
  for (let i = 0; i < scores.length; i++) d[i] = Math.exp(scores[i] - logZ) - (i === y ? 1 : 0);
  return { loss: logZ - scores[y], dScores: d };
}

/**
 * Eq. 5 for one example: L₃ = L₂ + λ·L₁, as losses to minimise, `clf_loss + λ·lm_loss`
 * (the original's `train_loss = clf_losses + lm_coef*lm_losses`). With λ = 0 the LM
 * term is left out entirely, even when it was computed for the report.
 *
 * ```math
 * L_3(\mathcal{C}) = L_2(\mathcal{C}) + \lambda \cdot L_1(\mathcal{C})
 * \tag{5}
 * ```
 */
export function finetuneLoss(clfLoss: number, lmLoss: number, lmCoef: number): number {
  return clfLoss + (lmCoef > 0 ? lmCoef * lmLoss : 0);
}

/** Index of the largest value (the first one on ties). */
export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Row `t` of a [T, d] tensor. */
function row(x: Tensor, t: number): Float32Array {
  const d = x.shape[1];
  return x.data.slice(t * d, (t + 1) * d);
}

interface Pass {
  readonly fwds: readonly ForwardOutput[];
  /** Classifier input after dropout, [N, d]. */
  readonly x: Tensor;
  /** Classifier dropout mask, [N, d] (one draw of d features broadcast over the N rows); undefined when evaluating. */
  readonly mask: DropoutMask | undefined;
  readonly scores: Float32Array;
  readonly lmLosses: readonly number[];
}

async function forwardPass(params: Params, config: GPTConfig, head: ClassifierHead, input: TaskInput, opts: FinetuneLossOptions): Promise<Pass> {
  const d = config.n_embd;
  const withLm = opts.lmCoef > 0 || opts.lmLoss === true;
  const fwds: ForwardOutput[] = [];
  const embedding = sharedEmbeddingDropout(params, config, opts.dropout);
  for (let j = 0; j < input.sequences.length; j++) {
    const s = input.sequences[j];
    const dropout = opts.dropout === undefined ? undefined : { rng: fork(opts.dropout.rng, `seq/${j}`), embedding };
    fwds.push(await forward(params, config, s.ids, { skipLogits: !withLm, ...(dropout ? { dropout } : {}) }));
  }
  const pooled = fwds.map((f, j) => row(f.hiddenStates[config.n_layer], input.sequences[j].pool));
  let xData: Float32Array;
  if (input.kind === 'multiple-choice') {
    xData = new Float32Array(pooled.length * d);
    pooled.forEach((p, j) => xData.set(p, j * d));
  } else {
    xData = new Float32Array(d);
    for (const p of pooled) for (let c = 0; c < d; c++) xData[c] += p[c]; // similarity: h(a$b) + h(b$a)
  }
  const N = xData.length / d;
  const mask = opts.dropout === undefined ? undefined : classifierDropoutMask(fork(opts.dropout.rng, 'clf'), N, d, config.clf_pdrop);
  const x = dropoutForward(tensor([N, d], xData), mask);
  const logits = await classifierForward(head, x); // [1, n_out] or [k, 1]
  const lmLosses = withLm ? fwds.map((f, j) => lmLoss(f.logits, input.sequences[j].ids, input.sequences[j].mask)) : [];
  return { fwds, x, mask, scores: logits.data, lmLosses };
}

/** (s − y)² of a single score and its gradient 2(s − y). */
export function squaredError(scores: Float32Array, y: number): { loss: number; dScores: Float32Array } {
  if (scores.length !== 1) throw new Error(`regression needs a classifier with 1 output, got ${scores.length}`);
  if (!Number.isFinite(y)) throw new Error(`regression target ${y} is not a finite number`);
  const r = scores[0] - y;
  return { loss: r * r, dScores: Float32Array.of(2 * r) };
}

function summarise(pass: Pass, label: number | undefined, opts: FinetuneLossOptions): ExampleResult & { dScores?: Float32Array } {
  const lmCoef = opts.lmCoef;
  const lm = pass.lmLosses.length ? pass.lmLosses.reduce((a, b) => a + b, 0) / pass.lmLosses.length : NaN;
  const prediction = opts.regression ? pass.scores[0] : argmax(pass.scores);
  if (label === undefined) return { loss: NaN, clfLoss: NaN, lmLoss: lm, scores: pass.scores, prediction };
  const { loss: clfLoss, dScores } = opts.regression ? squaredError(pass.scores, label) : classifierLoss(pass.scores, label);
  return { loss: finetuneLoss(clfLoss, lm, lmCoef), clfLoss, lmLoss: lm, scores: pass.scores, prediction, dScores };
}

/**
 * Scores of one example (no gradients). With a label, also its losses.
 * Without `opts.dropout` this is the evaluation pass.
 */
export async function exampleForward(
  params: Params,
  config: GPTConfig,
  head: ClassifierHead,
  input: TaskInput,
  label: number | undefined,
  opts: FinetuneLossOptions,
): Promise<ExampleResult> {
  const pass = await forwardPass(params, config, head, input, opts);
  return withoutDScores(summarise(pass, label, opts));
}

/** The loss L₃ of one labelled example and its gradient for every model and classifier parameter. */
export async function exampleLossAndGrads(
  params: Params,
  config: GPTConfig,
  head: ClassifierHead,
  example: LabeledInput,
  opts: FinetuneLossOptions,
): Promise<ExampleGrads> {
  const { input, label } = example;
  const pass = await forwardPass(params, config, head, input, opts);
  const result = summarise(pass, label, opts);
  const dScores = result.dScores as Float32Array;
  const d = config.n_embd;
  const dLogits = tensor(input.kind === 'multiple-choice' ? [dScores.length, 1] : [1, dScores.length], dScores);
  const { dx, grads: headGrads } = await classifierBackward(head, pass.x, dLogits);
  const dxIn = dropoutBackward(dx, pass.mask); // through the classifier dropout

  const k = input.sequences.length;
  let grads: Params | undefined; // the sum over the k sequences
  for (let j = 0; j < k; j++) {
    const s = input.sequences[j];
    const T = s.ids.length;
    const dHidden = new Float32Array(T * d);
    // multiple choice: row j of dX; classification/entailment: the one row; similarity: the sum's gradient goes to both
    dHidden.set(row(dxIn, input.kind === 'multiple-choice' ? j : 0), s.pool * d);
    const upstream: { dHidden: Tensor; dLogits?: Tensor } = { dHidden: tensor([T, d], dHidden) };
    if (opts.lmCoef > 0) upstream.dLogits = scale(lmLossBackward(pass.fwds[j].logits, s.ids, s.mask), opts.lmCoef / k);
    const g = await backward(params, config, pass.fwds[j], upstream);
    grads = grads === undefined ? g : addGrads(grads, g);
  }
  return { ...withoutDScores(result), grads: grads as Params, headGrads };
}

function withoutDScores(r: ExampleResult & { dScores?: Float32Array }): ExampleResult {
  const { dScores: _unused, ...rest } = r;
  return rest;
}

/** Mean losses, gradients and correct predictions of a batch. */
export interface BatchGrads {
  readonly loss: number;
  readonly clfLoss: number;
  readonly lmLoss: number;
  /** Examples whose argmax score is the label (0 for regression). */
  readonly correct: number;
  readonly grads: Params;
  readonly headGrads: ClassifierHead;
}

/**
 * The mean of L₃ over a batch of examples and its gradients (per-example gradients
 * summed, then divided by the batch size). With `dropout`, one embedding dropout is
 * shared by the whole batch and example i uses `fork(dropout.rng, 'ex/i')`.
 */
export async function batchLossAndGrads(
  params: Params,
  config: GPTConfig,
  head: ClassifierHead,
  batch: readonly LabeledInput[],
  opts: FinetuneLossOptions,
): Promise<BatchGrads> {
  if (batch.length === 0) throw new Error('batchLossAndGrads: the batch is empty');
  let loss = 0;
  let clf = 0;
  let lm = 0;
  let correct = 0;
  let grads: Params | undefined;
  let headGrads: ClassifierHead | undefined;
  const embedding = sharedEmbeddingDropout(params, config, opts.dropout);
  for (let i = 0; i < batch.length; i++) {
    const dropout = opts.dropout === undefined ? undefined : { rng: fork(opts.dropout.rng, `ex/${i}`), embedding };
    const r = await exampleLossAndGrads(params, config, head, batch[i], { ...opts, dropout });
    loss += r.loss;
    clf += r.clfLoss;
    lm += r.lmLoss;
    if (!opts.regression && r.prediction === batch[i].label) correct++;
    grads = grads === undefined ? r.grads : addGrads(grads, r.grads);
    headGrads = headGrads === undefined ? r.headGrads : addGrads(headGrads, r.headGrads);
  }
  const n = batch.length;
  return {
    loss: loss / n,
    clfLoss: clf / n,
    lmLoss: lm / n,
    correct,
    grads: scaleGrads(grads as Params, 1 / n),
    headGrads: scaleGrads(headGrads as ClassifierHead, 1 / n),
  };
}
