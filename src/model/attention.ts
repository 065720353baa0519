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
 * ```math
 * \begin{aligned}
 * w_h &= \frac{Q_h K_h^\top}{\sqrt{d_h}} \odot B + (-10^9)(1 - B),
 * \qquad B_{ij} = \begin{cases} 1 & j \le i \\ 0 & j > i \end{cases} \\
 * P_h &= \operatorname{softmax}(w_h), \qquad
 * y = [P_1 V_1 \mid \cdots \mid P_H V_H] \, W_{proj} + b_{proj}
 * \end{aligned}
 * ```
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
 * T₀ … T₀+T−1 after the T₀ cached ones. Each query then sees S = T₀ + T key positions:
 * Kₕ and Vₕ are [S, d_h] (the cached rows, then the new ones), the scores are [T, S],
 * and the mask becomes B[i, j] = 1 if j ≤ T₀ + i. Without a cache T₀ = 0 and S = T:
 * the formula above.
 *
 * ## Dropout (training only)
 * Two dropouts, exactly where the original has them: on the probabilities, after the
 * softmax and before ·V (`_attn`: `w = dropout(w, attn_pdrop, train)`), so
 * aₕ = drop(Pₕ)·Vₕ; and on the output after c_proj (`attn`: `a = dropout(a,
 * resid_pdrop, train)`), so y = drop(a·W_proj + b_proj).
 *
 * ## Backward
 * Reverse order, one line per forward line (P̃ₕ = drop(Pₕ), ỹ = a·W_proj + b_proj; S key
 * positions as above):
 *
 *     dỹ = drop(dy)                                                  [T, d]
 *     da = dỹ·W_projᵀ, dW_proj = aᵀ·dỹ, db_proj = Σₜ dỹ             (conv1d backward)
 *     daₕ = columns h·d_h … of da                                    [T, d_h]   (merge_heads⁻¹ = split_heads)
 *     dP̃ₕ = daₕ·Vₕᵀ                                                  [T, S]     (bmmNT)
 *     dVₕ = P̃ₕᵀ·daₕ                                                  [S, d_h]   (bmmTN)
 *     dPₕ = drop(dP̃ₕ)                                                [T, S]
 *     dwₕ = Pₕ ⊙ (dPₕ − rowsum(dPₕ ⊙ Pₕ))                            (softmax backward)
 *     dsₕ = dwₕ ⊙ B / √d_h                                           (masked scores get 0)
 *     dQₕ = dsₕ·Kₕ                                                   [T, d_h]   (bmm)
 *     dKₕ = dsₕᵀ·Qₕ                                                  [S, d_h]   (bmmTN)
 *     d[Q | K | V] = heads merged back into columns                  [T, 3d]
 *     dx = d[Q|K|V]·W_attnᵀ, dW_attn = xᵀ·d[Q|K|V], db_attn = Σₜ d[Q|K|V]
 *
 * The mask line is w = s·B/√d_h − 1e9·(1 − B), whose derivative in s is B/√d_h: a
 * masked score's gradient is exactly 0, so no future position receives gradient from
 * a past one. (Its softmax weight is exactly 0 too, so dwₕ is already 0 there.)
 * With a key/value cache (T₀ > 0) the cached keys and values are constants: only the
 * last T rows of dKₕ and dVₕ belong to x.
 *
 * ## RoPE (switch, `rope.ts`)
 * With `position_embedding: rope`, Qₕ and the new Kₕ are rotated to their absolute
 * positions T₀ … T₀+T−1 right after split_heads (the cache holds rotated keys), and in
 * the backward dQₕ and the new rows of dKₕ are rotated back (Rᵀ). `q` and `present.k`
 * then hold the rotated vectors. Off (GPT-1): nothing changes.
 *
 * @module
 */
import { type GPTConfig, architecture, usesRope } from '../config.ts';
import { bmm, bmmNT, bmmTN } from '../kernels/matmul.ts';
import { type AttentionParams, type Params, layerParams, namedLayerPart } from '../params.ts';
import { type Rng, fork } from '../random.ts';
import { type Tensor, tensor } from '../tensor.ts';
import { conv1dBackward, conv1dForward } from './conv1d.ts';
import { type DropoutMask, dropoutBackward, dropoutForward, dropoutMask } from './dropout.ts';
import { ropeBackward, ropeForward } from './rope.ts';
import { softmax, softmaxBackward } from './softmax.ts';

/** Keys and values of the positions seen so far, per head: both [n_head, T₀, d_h]. */
export interface KeyValue {
  readonly k: Tensor;
  readonly v: Tensor;
}

/** What the forward pass computed and the backward pass needs. */
export interface AttentionOutput {
  /** The attention sublayer's output, [T, d] (after dropout when training). */
  readonly y: Tensor;
  /** The input x, [T, d]. */
  readonly x: Tensor;
  /** Attention probabilities Pₕ, [n_head, T, S] (S = T₀ + T); exactly 0 above the causal diagonal. Before dropout. */
  readonly probs: Tensor;
  /** Queries per head, [n_head, T, d_h]. */
  readonly q: Tensor;
  /** Keys and values of all S = T₀ + T positions, per head: the cache for the next step. */
  readonly present: KeyValue;
  /** Merged head outputs a (input of c_proj), [T, d]. */
  readonly a: Tensor;
  /** Attention dropout mask on the probabilities, [n_head, T, S]; undefined when not training. */
  readonly probsDrop?: DropoutMask;
  /** Residual dropout mask on the c_proj output, [T, d]; undefined when not training. */
  readonly residDrop?: DropoutMask;
  /** RoPE only: c_attn's output [T, 3d] before the rotation (`q` and `present.k` are rotated). */
  readonly qkv?: Tensor;
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

/** Appends T new positions to T₀ cached ones along the position axis: [H, T₀, d_h] + [H, T, d_h] → [H, T₀+T, d_h]. */
function appendPositions(past: Tensor | undefined, now: Tensor): Tensor {
  if (past === undefined) return now;
  const [H, T0, dH] = past.shape;
  const T = now.shape[1];
  const out = new Float32Array(H * (T0 + T) * dH);
  for (let h = 0; h < H; h++) {
    out.set(past.data.subarray(h * T0 * dH, (h + 1) * T0 * dH), h * (T0 + T) * dH);
    out.set(now.data.subarray(h * T * dH, (h + 1) * T * dH), (h * (T0 + T) + T0) * dH);
  }
  return tensor([H, T0 + T, dH], out);
}

/**
 * Scale by 1/√d_h, then mask_attn_weights: w·B + (−1e9)·(1 − B), for scores
 * [H, T, S] whose query i sits at absolute position S − T + i.
 *
 * ```math
 * w = \frac{s}{\sqrt{d_h}} \odot B + (-10^9)(1 - B), \qquad
 * B_{ij} = \begin{cases} 1 & j \le S - T + i \\ 0 & \text{otherwise} \end{cases}
 * ```
 */
export function scaleAndMask(scores: Tensor, dH: number): Tensor {
  const [H, T, S] = scores.shape;
  const T0 = S - T; // cached positions
  const scale = 1 / Math.sqrt(dH);
  const out = new Float32Array(scores.data.length);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < S; j++) {
        const idx = (h * T + i) * S + j;
        const b = j <= T0 + i ? 1 : 0; // B[i, j]
        out[idx] = scores.data[idx] * scale * b + MASK_VALUE * (1 - b);
      }
    }
  }
  return tensor(scores.shape, out);
}

/**
 * Backward of {@link scaleAndMask}: ds = dw ⊙ B / √d_h (0 at masked entries).
 * @param dScores dL/dw, [H, T, S]
 * @returns dL/ds, [H, T, S]
 */
export function scaleAndMaskBackward(dScores: Tensor, dH: number): Tensor {
  const [H, T, S] = dScores.shape;
  const T0 = S - T; // cached positions
  const scale = 1 / Math.sqrt(dH);
  const out = new Float32Array(dScores.data.length);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j <= T0 + i; j++) { // B[i, j] = 1 only for j ≤ T₀ + i; the rest stay 0
        const idx = (h * T + i) * S + j;
        out[idx] = dScores.data[idx] * scale;
      }
    }
  }
  return tensor(dScores.shape, out);
}

/**
 * Masked multi-head self-attention of block `layer`.
 * @param x [T, d]: the block input (the residual stream)
 * @param past cached keys/values of earlier positions, or undefined
 * @param dropout the generator for this layer when training (masks drawn from
 *   `fork(dropout, 'h.{layer}.attn.probs')` and `fork(dropout, 'h.{layer}.attn.resid')`);
 *   undefined for evaluation
 */
export async function attentionForward(params: Params, config: GPTConfig, layer: number, x: Tensor, past?: KeyValue, dropout?: Rng): Promise<AttentionOutput> {
  const { c_attn, c_proj } = layerParams(params, config, layer).attn;
  const p = `h.${layer}.attn.`; // the dropout streams' names
  const d = config.n_embd;
  const H = config.n_head;
  const dH = d / H;

  const qkv = await conv1dForward(x, c_attn.weight, c_attn.bias); // [T, 3d]
  const T0 = past?.k.shape[1] ?? 0; // cached positions
  const q = rotateQK(config, splitHeads(qkv, 0, H, dH), T0); // [H, T, d_h] (RoPE: rotated)
  const k = appendPositions(past?.k, rotateQK(config, splitHeads(qkv, d, H, dH), T0)); // [H, S, d_h], S = T₀ + T
  const v = appendPositions(past?.v, splitHeads(qkv, 2 * d, H, dH)); // [H, S, d_h]

  const scores = await bmmNT(q, k); // Qₕ·Kₕᵀ: [H, T, S]
  const probs = softmax(scaleAndMask(scores, dH)); // [H, T, S]
  const probsDrop = dropout === undefined ? undefined : dropoutMask(fork(dropout, `${p}probs`), probs.shape, config.attn_pdrop);
  const heads = await bmm(dropoutForward(probs, probsDrop), v); // drop(Pₕ)·Vₕ: [H, T, d_h]
  const a = mergeHeads(heads); // [T, d]
  const proj = await conv1dForward(a, c_proj.weight, c_proj.bias); // [T, d]
  const residDrop = dropout === undefined ? undefined : dropoutMask(fork(dropout, `${p}resid`), proj.shape, config.resid_pdrop);
  const y = dropoutForward(proj, residDrop); // [T, d]
  return { y, x, probs, q, present: { k, v }, a, probsDrop, residDrop, ...(usesRope(config) ? { qkv } : {}) };
}

/** Gradients of {@link attentionForward}: the input's and this layer's four parameters' (by name). */
export interface AttentionGrads {
  /** dL/dx, [T, d] */
  readonly dx: Tensor;
  /** `h.{layer}.attn.c_attn.weight`, `.c_attn.bias`, `.c_proj.weight`, `.c_proj.bias`. */
  readonly grads: Readonly<Record<string, Tensor>>;
}

/**
 * Backward of masked multi-head self-attention of block `layer` (equations in the
 * module documentation), given dy = dL/dy [T, d].
 */
export async function attentionBackward(params: Params, config: GPTConfig, layer: number, fwd: AttentionOutput, dy: Tensor): Promise<AttentionGrads> {
  const { c_attn, c_proj } = layerParams(params, config, layer).attn;
  const d = config.n_embd;
  const H = config.n_head;
  const dH = d / H;
  const T = fwd.x.shape[0];
  const { k, v } = fwd.present; // [H, S, d_h]

  const dProj = dropoutBackward(dy, fwd.residDrop); // [T, d]
  const cProj = await conv1dBackward(fwd.a, c_proj.weight, dProj); // da: [T, d]
  const dHeads = splitHeads(cProj.dx, 0, H, dH); // [H, T, d_h]
  const dProbsDropped = await bmmNT(dHeads, v); // daₕ·Vₕᵀ: [H, T, S]
  const dV = await bmmTN(dropoutForward(fwd.probs, fwd.probsDrop), dHeads); // P̃ₕᵀ·daₕ: [H, S, d_h]
  const dProbs = dropoutBackward(dProbsDropped, fwd.probsDrop); // [H, T, S]
  const dScores = scaleAndMaskBackward(softmaxBackward(fwd.probs, dProbs), dH); // [H, T, S]
  const dQ = await bmm(dScores, k); // dsₕ·Kₕ: [H, T, d_h]
  const dK = await bmmTN(dScores, fwd.q); // dsₕᵀ·Qₕ: [H, S, d_h]

  const T0 = k.shape[1] - T; // cached positions
  const dQKV = joinHeads([unrotateQK(config, dQ, T0), unrotateQK(config, lastPositions(dK, T), T0), lastPositions(dV, T)]); // [T, 3d]
  const cAttn = await conv1dBackward(fwd.x, c_attn.weight, dQKV); // dx: [T, d]
  const grads: AttentionParams = { c_attn: { weight: cAttn.dw, bias: cAttn.db }, c_proj: { weight: cProj.dw, bias: cProj.db } };
  return { dx: cAttn.dx, grads: namedLayerPart(layer, 'attn', grads) };
}

/** RoPE on per-head q or k [H, T, d_h] at positions T₀ …, when `config` uses it; else x itself. */
function rotateQK(config: GPTConfig, x: Tensor, T0: number): Tensor {
  return usesRope(config) ? ropeForward(x, T0, architecture(config).rope_theta) : x;
}

/** The backward of {@link rotateQK}: Rᵀ·dx, or dx itself. */
function unrotateQK(config: GPTConfig, dx: Tensor, T0: number): Tensor {
  return usesRope(config) ? ropeBackward(dx, T0, architecture(config).rope_theta) : dx;
}

/** The last T positions of [H, S, d_h]: [H, T, d_h] (drops the cached positions' rows). */
function lastPositions(x: Tensor, T: number): Tensor {
  const [H, S, dH] = x.shape;
  if (S === T) return x;
  const out = new Float32Array(H * T * dH);
  for (let h = 0; h < H; h++) out.set(x.data.subarray((h * S + S - T) * dH, (h + 1) * S * dH), h * T * dH);
  return tensor([H, T, dH], out);
}

/**
 * The inverse of the three {@link splitHeads} calls of the forward: Q, K and V (or
 * their gradients), each [H, T, d_h], merged side by side into [T, 3d] = [Q | K | V].
 * The backward uses it for dQKV; `intermediates.ts` for c_attn's output.
 */
export function joinHeads(parts: readonly Tensor[]): Tensor {
  const merged = parts.map(mergeHeads); // each [T, d]
  const [T, d] = merged[0].shape;
  const width = d * parts.length;
  const out = new Float32Array(T * width);
  for (let t = 0; t < T; t++) {
    merged.forEach((m, i) => out.set(m.data.subarray(t * d, (t + 1) * d), t * width + i * d));
  }
  return tensor([T, width], out);
}
