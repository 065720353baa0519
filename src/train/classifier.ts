/**
 * The fine-tuning additions to the model: the three special tokens and the linear
 * output layer W_y (paper §3.2, eq. 3).
 *
 * > P(y | x¹, …, xᵐ) = softmax(h_l^m · W_y)
 *
 * ```math
 * P(y \mid x^1, \ldots, x^m) = \operatorname{softmax}(h_l^m W_y)
 * \tag{3}
 * ```
 *
 * "where the inputs are passed through our pre-trained model to obtain the final
 * transformer block's activation h_l^m, which is then fed into an added linear output
 * layer with parameters W_y to predict y." As the original `clf()`, the layer has a
 * weight w ~ N(0, 0.02²) and a bias b = 0:
 *
 *     logits = x·W + b          x [N, n_embd], W [n_embd, n_out], b [n_out]
 *
 * Original code (`train.py`): `clf(x, ny, w_init=tf.random_normal_initializer(stddev=0.02),
 * b_init=tf.constant_initializer(0))` → `tf.matmul(x, w)+b`, with scope `clf`, so the
 * parameters are called `clf.weight` and `clf.bias` here.
 *
 * The classifier dropout (`clf_pdrop`, paper §4.1: "we add dropout to the classifier
 * with a rate of 0.1") is applied to x, as `tf.nn.dropout`: kept values are scaled by
 * 1/(1 − p). For multiple choice the original drops the same features of every choice
 * of an example (`noise_shape` with 1 on the choice axis); {@link classifierDropoutMask}
 * draws one mask of d features per example and broadcasts it over its rows.
 *
 * Both the layer and its dropout are the model's own: `conv1d.ts` and `dropout.ts`.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { conv1dBackward, conv1dForward } from '../model/conv1d.ts';
import { type DropoutMask, dropoutMask } from '../model/dropout.ts';
import type { Params } from '../params.ts';
import { type Rng, fork, normals } from '../random.ts';
import { type Tensor, assertShape, concatRows, tensor, zeros } from '../tensor.ts';

/** Names of the classifier parameters (the original's `clf/w`, `clf/b`). */
export const CLF_WEIGHT = 'clf.weight';
export const CLF_BIAS = 'clf.bias';

/** The linear output layer W_y as a parameter record `{ 'clf.weight': [d, n_out], 'clf.bias': [n_out] }`. */
export type ClassifierHead = Params;

/** Number of special tokens fine-tuning adds: `_start_`, `_delimiter_`, `_classify_`. */
export const N_SPECIAL = 3;

/**
 * Appends the rows of the three special tokens to the token embedding, drawn from
 * N(0, 0.02²) like the original (`np.random.randn(n_special, n_embd)*0.02`), and
 * returns the parameters with `n_special = 3`. A model that already has them is
 * returned unchanged (so a fine-tuned checkpoint can be fine-tuned again).
 * @throws if the model has a number of special tokens other than 0 or 3.
 */
export function addSpecialTokens(params: Params, config: GPTConfig, rng: Rng): { params: Params; config: GPTConfig } {
  if (config.n_special === N_SPECIAL) return { params, config };
  if (config.n_special !== 0) throw new Error(`the model has ${config.n_special} special tokens; expected 0 (pre-trained) or ${N_SPECIAL}`);
  const d = config.n_embd;
  const we = params['tokens_embed.weight'];
  assertShape(we, [config.n_vocab, d], 'tokens_embed.weight');
  const [rows] = normals(fork(rng, 'special_tokens'), N_SPECIAL * d, 0, 0.02);
  const out = { ...params, 'tokens_embed.weight': concatRows([we, tensor([N_SPECIAL, d], rows)]) };
  return { params: Object.freeze(out), config: Object.freeze({ ...config, n_special: N_SPECIAL }) };
}

/** A fresh classifier: W ~ N(0, 0.02²), b = 0 (the original's initialisers). */
export function initClassifier(nEmbd: number, nOut: number, rng: Rng): ClassifierHead {
  if (!Number.isInteger(nOut) || nOut < 1) throw new Error(`the classifier needs at least one output, got ${nOut}`);
  const [w] = normals(fork(rng, CLF_WEIGHT), nEmbd * nOut, 0, 0.02);
  return Object.freeze({ [CLF_WEIGHT]: tensor([nEmbd, nOut], w), [CLF_BIAS]: zeros([nOut]) });
}

/** Checks a classifier's shapes against a model width; returns its number of outputs. */
export function validateClassifier(head: ClassifierHead, nEmbd: number): number {
  const w = head[CLF_WEIGHT];
  const b = head[CLF_BIAS];
  if (w === undefined || b === undefined) throw new Error(`a classifier needs ${CLF_WEIGHT} and ${CLF_BIAS}`);
  if (w.shape.length !== 2 || w.shape[0] !== nEmbd) throw new Error(`${CLF_WEIGHT} has shape [${w.shape.join(', ')}], expected [${nEmbd}, n_out]`);
  assertShape(b, [w.shape[1]], CLF_BIAS);
  return w.shape[1];
}

/**
 * The linear output layer, logits = x·W_y + b_y: the model's position-wise linear layer
 * (`conv1dForward`, the original's `conv1d`) with the classifier's weights.
 * @param x [N, n_embd]: one row per sequence pooled at its ⟨e⟩ token (N = 1, or k choices)
 * @returns [N, n_out]
 */
export function classifierForward(head: ClassifierHead, x: Tensor): Promise<Tensor> {
  return conv1dForward(x, head[CLF_WEIGHT], head[CLF_BIAS]);
}

/**
 * Eq. 3: P(y | x¹, …, xᵐ) = softmax(h_l^m·W_y), the classifier's scores turned into a
 * distribution. The scores are one per class (classification, entailment, similarity:
 * logits [1, n_out]) or one per choice (multiple choice: logits [k, 1], a softmax over
 * the k answers, as the original's `clf_logits = tf.reshape(clf_logits, [-1, 2])`).
 *
 * ```math
 * P(y \mid x^1, \ldots, x^m) = \operatorname{softmax}(h_l^m W_y)
 * \tag{3}
 * ```
 * @param scores [n_out] or [k]
 * @returns the probabilities, same length, summing to 1
 */
export function classifierProbs(scores: Float32Array): Float32Array {
  let m = -Infinity;
  for (const s of scores) m = Math.max(m, s);
  let sum = 0;
  for (const s of scores) sum += Math.exp(s - m);
  return scores.map((s) => Math.exp(s - m) / sum);
}

/**
 * Gradients of logits = x·W + b (the linear layer's backward, `conv1dBackward`):
 *
 *     dW = xᵀ·dlogits      [d, n_out]
 *     db = Σ_rows dlogits  [n_out]
 *     dx = dlogits·Wᵀ      [N, d]
 */
export async function classifierBackward(head: ClassifierHead, x: Tensor, dLogits: Tensor): Promise<{ dx: Tensor; grads: ClassifierHead }> {
  const { dx, dw, db } = await conv1dBackward(x, head[CLF_WEIGHT], dLogits);
  return { dx, grads: Object.freeze({ [CLF_WEIGHT]: dw, [CLF_BIAS]: db }) };
}

/**
 * The classifier dropout of one example: a mask over its classifier input x [N, d]
 * whose N rows repeat one draw of d features, the original's
 * `tf.nn.dropout(clf_h, 1 - clf_pdrop, noise_shape)` with `noise_shape[1] = 1` (the same
 * features of every choice are dropped). Drawn with `dropoutMask` of `model/dropout.ts`
 * (a unit is kept when its draw u ≥ p), then broadcast over the rows, so that
 * `dropoutForward` and `dropoutBackward` apply it as they apply any other mask.
 * @returns the [N, d] mask, or undefined when p = 0 (nothing drawn)
 */
export function classifierDropoutMask(rng: Rng, rows: number, d: number, p: number): DropoutMask | undefined {
  const one = dropoutMask(rng, [d], p); // noise_shape [1, d]
  if (one === undefined) return undefined;
  const keep = new Uint8Array(rows * d);
  for (let r = 0; r < rows; r++) keep.set(one.keep, r * d); // broadcast over the N rows
  return { shape: [rows, d], keep, p };
}
