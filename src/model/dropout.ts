/**
 * Dropout (Srivastava et al. 2014), the only regulariser of GPT-1 besides weight decay.
 *
 * Paper §4.1: "We used residual, embedding, and attention dropouts with a rate of 0.1
 * for regularization." During training each unit is kept with probability 1 − p and
 * the kept units are scaled by 1/(1 − p) ("inverted dropout"), so the expected value
 * of every unit is unchanged and evaluation needs no rescaling:
 *
 *     keepᵢ ~ Bernoulli(1 − p)
 *     yᵢ    = xᵢ · keepᵢ / (1 − p)
 *
 * Backward: y is linear in x with a diagonal Jacobian, so
 *
 *     dxᵢ = dyᵢ · keepᵢ / (1 − p)
 *
 * i.e. the backward pass is the forward pass applied to the gradient, with the *same*
 * mask. That is why the forward functions save the mask in their outputs.
 *
 * Original code (`train.py`): `dropout(x, pdrop, train)` → `tf.nn.dropout(x, 1-pdrop)`,
 * which computes `x / keep_prob * floor(keep_prob + uniform)`: a unit is kept exactly
 * when its uniform draw u ∈ [0, 1) satisfies u ≥ p. We use the same rule on draws of
 * the seeded generator of `src/random.ts`, so masks are reproducible from the seed.
 * Like the original (`if train and pdrop > 0`), a rate of 0 draws nothing and changes
 * nothing.
 *
 * Where GPT-1 applies dropout (all in `train.py`):
 *
 * | where | rate | original line | here |
 * |---|---|---|---|
 * | the embedding *matrix* `we` (tokens and positions) | embd_pdrop | `model()`: `we = dropout(we, embd_pdrop, train)` | `embeddingDropout` in `embedding.ts` |
 * | attention probabilities, after softmax, before ·V | attn_pdrop | `_attn()`: `w = dropout(w, attn_pdrop, train)` | `attention.ts` |
 * | attention output, after c_proj | resid_pdrop | `attn()`: `a = dropout(a, resid_pdrop, train)` | `attention.ts` |
 * | feed-forward output, after c_proj | resid_pdrop | `mlp()`: `h2 = dropout(h2, resid_pdrop, train)` | `ffn.ts` |
 *
 * @module
 */
import { type Rng, uniform } from '../random.ts';
import { type Tensor, numel, showShape, tensor } from '../tensor.ts';

/** A dropout mask: which units survive, and the rate that drew it. */
export interface DropoutMask {
  /** The shape of the tensor it applies to. */
  readonly shape: readonly number[];
  /** 1 where the unit is kept, 0 where it is dropped (row-major, like the tensor). */
  readonly keep: Uint8Array;
  /** The dropout rate p ∈ (0, 1); kept units are divided by 1 − p. */
  readonly p: number;
}

/**
 * Draws a mask for a tensor of `shape` at rate `p` from the generator `r`.
 * Unit i is kept when its draw uᵢ ≥ p (the rule of `tf.nn.dropout`).
 * @returns the mask, or `undefined` when p = 0 (no dropout, nothing drawn)
 */
export function dropoutMask(r: Rng, shape: readonly number[], p: number): DropoutMask | undefined {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout rate must be in [0, 1), got ${p}`);
  if (p === 0) return undefined;
  const n = numel(shape);
  const keep = new Uint8Array(n);
  let g = r;
  for (let i = 0; i < n; i++) {
    let u: number;
    [u, g] = uniform(g);
    keep[i] = u >= p ? 1 : 0;
  }
  return { shape: [...shape], keep, p };
}

/** y = x ⊙ keep / (1 − p); with no mask, x itself (evaluation). */
export function dropoutForward(x: Tensor, mask: DropoutMask | undefined): Tensor {
  if (mask === undefined) return x;
  return applyMask(x, mask, 'dropoutForward');
}

/** dx = dy ⊙ keep / (1 − p): the same mask on the gradient; with no mask, dy itself. */
export function dropoutBackward(dy: Tensor, mask: DropoutMask | undefined): Tensor {
  if (mask === undefined) return dy;
  return applyMask(dy, mask, 'dropoutBackward');
}

function applyMask(x: Tensor, mask: DropoutMask, what: string): Tensor {
  if (x.data.length !== mask.keep.length) {
    throw new Error(`${what}: tensor ${showShape(x.shape)} does not match the mask ${showShape(mask.shape)}`);
  }
  const keepProb = 1 - mask.p;
  const out = new Float32Array(x.data.length);
  // tf.nn.dropout: x / keep_prob * floor(keep_prob + u)
  for (let i = 0; i < out.length; i++) out[i] = mask.keep[i] === 1 ? x.data[i] / keepProb : 0;
  return tensor(x.shape, out);
}
