/**
 * Masked multi-head self-attention (paper §3.1; Vaswani et al. 2017 §3.2).
 *
 * The paper: "This model applies a multi-headed self-attention operation over the
 * input context tokens followed by position-wise feedforward layers". Because the
 * model is a language model, position t may only attend to positions ≤ t.
 *
 * For input x [T, d] and heads of width d_h = d / n_head:
 *
 *     [Q | K | V] = x·W_attn + b_attn                      [T, 3d]    (c_attn)
 *     Qₕ, Kₕ, Vₕ  = columns h·d_h … (h+1)·d_h − 1 of Q, K, V  [T, d_h]  (split_heads)
 *     wₕ          = Qₕ·Kₕᵀ / √d_h                           [T, T]
 *     wₕ          = wₕ ⊙ B + (−1e9)·(1 − B)                  B[i, j] = 1 if j ≤ i else 0
 *     Pₕ          = softmax(wₕ) over each row                [T, T]
 *     aₕ          = Pₕ·Vₕ                                    [T, d_h]
 *     a           = [a₁ | … | a_H]                           [T, d]     (merge_heads)
 *     y           = a·W_proj + b_proj                        [T, d]     (c_proj)
 *
 * The mask is applied exactly as the original: multiply by B and add −1e9 where B is
 * 0, *after* scaling. exp(−1e9 − max) underflows to exactly 0 in float32, so the
 * weights above the diagonal are exactly zero, not merely small.
 *
 * Original code (`train.py`): `attn(x, scope, n_state, n_head, train, scale)` calls
 * `conv1d(x, 'c_attn', n_state*3, 1)`, `split_heads`, `_attn(q, k, v, train, scale)`
 * (which does `w = tf.matmul(q, k)`, `w = w*tf.rsqrt(tf.cast(tf.shape(v)[-1], tf.float32))`,
 * `w = mask_attn_weights(w)`, `w = softmax(w)`, `a = tf.matmul(w, v)`),
 * `merge_heads`, and `conv1d(a, 'c_proj', n_state, 1)`.
 *
 * ## Key/value cache
 * For generation, the keys and values of earlier positions can be passed in as
 * `past`; then x holds only the T new positions, which sit at absolute positions
 * P … P+T−1 after the P cached ones, the scores are [T, P+T], and the mask becomes
 * B[i, j] = 1 if j ≤ P + i. With P = 0 this is the formula above.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { bmm, bmmNT } from '../kernels/matmul.ts';
import type { Params } from '../params.ts';
import { type Tensor, tensor } from '../tensor.ts';
import { conv1dForward } from './conv1d.ts';
import { softmax } from './softmax.ts';

/** Keys and values of the positions seen so far, per head: both [n_head, P, d_h]. */
export interface KeyValue {
  readonly k: Tensor;
  readonly v: Tensor;
}

/** What the forward pass computed and the backward pass needs. */
export interface AttentionOutput {
  /** The attention sublayer's output, [T, d]. */
  readonly y: Tensor;
  /** Attention probabilities Pₕ, [n_head, T, P+T]; exactly 0 above the causal diagonal. */
  readonly probs: Tensor;
  /** Queries per head, [n_head, T, d_h]. */
  readonly q: Tensor;
  /** Keys and values of all P+T positions, per head: the cache for the next step. */
  readonly present: KeyValue;
  /** Merged head outputs a (input of c_proj), [T, d]. */
  readonly a: Tensor;
}

/** The value added to masked scores: the original's `-1e9`. */
export const MASK_VALUE = -1e9;

/**
 * split_heads: columns [offset + h·d_h, offset + (h+1)·d_h) of a [T, width] matrix,
 * for every head h, as [n_head, T, d_h].
 */
export function splitHeads(x: Tensor, offset: number, nHead: number, dH: number): Tensor {
  const [T, width] = x.shape;
  const out = new Float32Array(nHead * T * dH); // [H, T, d_h]
  for (let h = 0; h < nHead; h++) {
    for (let t = 0; t < T; t++) {
      const src = t * width + offset + h * dH;
      out.set(x.data.subarray(src, src + dH), (h * T + t) * dH);
    }
  }
  return tensor([nHead, T, dH], out);
}

/** merge_heads: [n_head, T, d_h] → [T, n_head·d_h], head h in columns h·d_h … (h+1)·d_h − 1. */
export function mergeHeads(x: Tensor): Tensor {
  const [H, T, dH] = x.shape;
  const out = new Float32Array(T * H * dH); // [T, d]
  for (let h = 0; h < H; h++) {
    for (let t = 0; t < T; t++) {
      const src = (h * T + t) * dH;
      out.set(x.data.subarray(src, src + dH), t * H * dH + h * dH);
    }
  }
  return tensor([T, H * dH], out);
}

/** Appends T new positions to P cached ones along the position axis: [H, P, d_h] + [H, T, d_h] → [H, P+T, d_h]. */
function appendPositions(past: Tensor | undefined, now: Tensor): Tensor {
  if (past === undefined) return now;
  const [H, P, dH] = past.shape;
  const T = now.shape[1];
  const out = new Float32Array(H * (P + T) * dH);
  for (let h = 0; h < H; h++) {
    out.set(past.data.subarray(h * P * dH, (h + 1) * P * dH), h * (P + T) * dH);
    out.set(now.data.subarray(h * T * dH, (h + 1) * T * dH), (h * (P + T) + P) * dH);
  }
  return tensor([H, P + T, dH], out);
}

/**
 * Scale by 1/√d_h, then mask_attn_weights: w·B + (−1e9)·(1 − B), for scores
 * [H, T, S] whose query i sits at absolute position S − T + i.
 */
export function scaleAndMask(scores: Tensor, dH: number): Tensor {
  const [H, T, S] = scores.shape;
  const P = S - T;
  const scale = 1 / Math.sqrt(dH);
  const out = new Float32Array(scores.data.length);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < S; j++) {
        const idx = (h * T + i) * S + j;
        const b = j <= P + i ? 1 : 0; // B[i, j]
        out[idx] = scores.data[idx] * scale * b + MASK_VALUE * (1 - b);
      }
    }
  }
  return tensor(scores.shape, out);
}

/**
 * Masked multi-head self-attention of block `layer`.
 * @param x [T, d]: the block input (the residual stream)
 * @param past cached keys/values of earlier positions, or undefined
 */
export async function attentionForward(params: Params, config: GPTConfig, layer: number, x: Tensor, past?: KeyValue): Promise<AttentionOutput> {
  const p = `h.${layer}.attn.`;
  const d = config.n_embd;
  const H = config.n_head;
  const dH = d / H;

  const qkv = await conv1dForward(x, params[`${p}c_attn.weight`], params[`${p}c_attn.bias`]); // [T, 3d]
  const q = splitHeads(qkv, 0, H, dH); // [H, T, d_h]
  const k = appendPositions(past?.k, splitHeads(qkv, d, H, dH)); // [H, S, d_h], S = P + T
  const v = appendPositions(past?.v, splitHeads(qkv, 2 * d, H, dH)); // [H, S, d_h]

  const scores = await bmmNT(q, k); // Qₕ·Kₕᵀ: [H, T, S]
  const probs = softmax(scaleAndMask(scores, dH)); // [H, T, S]
  const heads = await bmm(probs, v); // Pₕ·Vₕ: [H, T, d_h]
  const a = mergeHeads(heads); // [T, d]
  const y = await conv1dForward(a, params[`${p}c_proj.weight`], params[`${p}c_proj.bias`]); // [T, d]
  return { y, probs, q, present: { k, v }, a };
}
