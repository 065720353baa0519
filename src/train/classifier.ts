/**
 * The fine-tuning additions to the model: the three special tokens and the linear
 * output layer W_y (paper §3.2, eq. 3).
 *
 * > P(y | x¹, …, xᵐ) = softmax(h_l^m · W_y)
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
 * of an example (`noise_shape` with 1 on the choice axis); {@link dropoutMask} makes one
 * mask per example and the caller applies it to all its rows.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { matmul, matmulNT, matmulTN } from '../kernels/matmul.ts';
import type { Params } from '../params.ts';
import { type Rng, fork, normals, uniforms } from '../random.ts';
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

/** logits = x·W + b, x [N, d] → [N, n_out] (one matmul kernel). */
export function classifierForward(head: ClassifierHead, x: Tensor): Promise<Tensor> {
  return matmul(x, head[CLF_WEIGHT], head[CLF_BIAS]);
}

/**
 * Gradients of logits = x·W + b:
 *
 *     dW = xᵀ·dlogits      [d, n_out]   (matmulTN)
 *     db = Σ_rows dlogits  [n_out]
 *     dx = dlogits·Wᵀ      [N, d]       (matmulNT)
 */
export async function classifierBackward(head: ClassifierHead, x: Tensor, dLogits: Tensor): Promise<{ dx: Tensor; grads: ClassifierHead }> {
  const [N, nOut] = dLogits.shape;
  const dW = await matmulTN(x, dLogits);
  const db = new Float32Array(nOut);
  for (let n = 0; n < N; n++) for (let j = 0; j < nOut; j++) db[j] += dLogits.data[n * nOut + j];
  const dx = await matmulNT(dLogits, head[CLF_WEIGHT]);
  return { dx, grads: Object.freeze({ [CLF_WEIGHT]: dW, [CLF_BIAS]: tensor([nOut], db) }) };
}

/**
 * An inverted-dropout mask of `n` features: 0 with probability p, else 1/(1 − p)
 * (`tf.nn.dropout(x, keep_prob=1−p)`). All ones when p = 0.
 */
export function dropoutMask(rng: Rng, n: number, p: number): Float32Array {
  if (p <= 0) return new Float32Array(n).fill(1);
  const [u] = uniforms(rng, n);
  const keep = 1 / (1 - p);
  return u.map((x) => (x >= p ? keep : 0));
}

/** Every row of x [N, d] multiplied element-wise by the same mask [d]. */
export function applyRowMask(x: Tensor, mask: Float32Array): Tensor {
  const d = mask.length;
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] * mask[i % d];
  return tensor(x.shape, out);
}
