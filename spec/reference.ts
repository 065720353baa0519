/**
 * A float64 oracle for the tests: plain-JavaScript matrix products and a complete
 * GPT-1 forward pass, written from the paper (§3.1, eq. 2) and the original
 * `train.py`, independently of `src/model/` and `src/kernels/`.
 *
 * It may only import `src/tensor`, `src/config`, `src/params` and `src/random` (types,
 * initialisation); it never calls a model function or a kernel. Everything is
 * computed in float64 from the float32 inputs, so the only differences with `src/`
 * are (a) float32 rounding in `src/` and (b) bugs.
 *
 * Deliberate differences of *method* (so that a shared misconception cannot hide):
 * - the causal mask skips j > i outright (weights exactly 0 by construction) instead
 *   of the original's `w·B − 1e9·(1 − B)`;
 * - softmax is computed from log-sum-exp, attention is a per-(head, query) loop
 *   over the key positions, no split/merge of heads;
 * - LayerNorm uses the two-pass mean/variance in float64.
 *
 * @module
 */
import type { Activation, GPTConfig } from '../src/config.ts';
import type { Params } from '../src/params.ts';
import type { Tensor } from '../src/tensor.ts';

/** A float64 matrix [rows, cols], row-major. */
export interface Mat64 {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat64 {
  const d = new Float64Array(rows * cols);
  if (data !== undefined) d.set(data);
  return { rows, cols, data: d };
}

// ---------------------------------------------------------------------------------
// Products (the kernel oracle)
// ---------------------------------------------------------------------------------

/** The seven products of `src/kernels/matmul.ts`, by what they compute. */
export type ProductKind = 'matmul' | 'matmulBias' | 'matmulNT' | 'matmulTN' | 'bmm' | 'bmmNT' | 'bmmTN';

/** A reference product: the exact-ish float64 value and, per cell, Σ_k |a_k·b_k| (+|bias|) for error bounds. */
export interface RefProduct {
  readonly shape: number[];
  readonly value: Float64Array;
  readonly absSum: Float64Array;
  /** Terms per cell (K, plus one for a bias). */
  readonly terms: number;
}

/**
 * Reference C for one product kind. Index conventions (row-major):
 * - matmul:   A [M,K], B [K,N]   C[m,n] = Σ_k A[m,k]·B[k,n] (+ bias[n])
 * - matmulNT: A [M,K], B [N,K]   C[m,n] = Σ_k A[m,k]·B[n,k]
 * - matmulTN: A [K,M], B [K,N]   C[m,n] = Σ_k A[k,m]·B[k,n]
 * - bmm*: the same with a leading batch index z on A, B and C.
 */
export function refProduct(kind: ProductKind, a: Tensor, b: Tensor, bias?: Tensor): RefProduct {
  const batched = kind.startsWith('bmm');
  const Bn = batched ? a.shape[0] : 1;
  const as = batched ? a.shape.slice(1) : a.shape;
  const bs = batched ? b.shape.slice(1) : b.shape;
  const transA = kind === 'matmulTN' || kind === 'bmmTN';
  const transB = kind === 'matmulNT' || kind === 'bmmNT';
  const M = transA ? as[1] : as[0];
  const K = transA ? as[0] : as[1];
  const N = transB ? bs[0] : bs[1];
  const value = new Float64Array(Bn * M * N);
  const absSum = new Float64Array(Bn * M * N);
  for (let z = 0; z < Bn; z++) {
    const ao = z * M * K;
    const bo = z * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        let sa = 0;
        for (let k = 0; k < K; k++) {
          const x = a.data[ao + (transA ? k * M + m : m * K + k)];
          const y = b.data[bo + (transB ? n * K + k : k * N + n)];
          s += x * y;
          sa += Math.abs(x * y);
        }
        if (bias !== undefined) {
          s += bias.data[n];
          sa += Math.abs(bias.data[n]);
        }
        value[(z * M + m) * N + n] = s;
        absSum[(z * M + m) * N + n] = sa;
      }
    }
  }
  return { shape: batched ? [Bn, M, N] : [M, N], value, absSum, terms: K + (bias !== undefined ? 1 : 0) };
}

/** C = A·B (+ bias) in float64 on Mat64. */
function matmul64(a: Mat64, b: Mat64, bias?: Float64Array): Mat64 {
  if (a.cols !== b.rows) throw new Error(`reference matmul: ${a.rows}x${a.cols} · ${b.rows}x${b.cols}`);
  const c = mat(a.rows, b.cols);
  const N = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const row = c.data.subarray(i * N, (i + 1) * N); // accumulate row i over k (i-k-j order: contiguous reads of B)
    if (bias !== undefined) row.set(bias);
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      const bk = k * N;
      for (let j = 0; j < N; j++) row[j] += aik * b.data[bk + j];
    }
  }
  return c;
}

/** C = A·Bᵀ in float64 (B stored [N, K]). */
function matmulNT64(a: Mat64, b: Mat64): Mat64 {
  const c = mat(a.rows, b.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k] * b.data[j * b.cols + k];
      c.data[i * b.rows + j] = s;
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------
// Elementwise pieces
// ---------------------------------------------------------------------------------

/** GELU, tanh form (Hendrycks & Gimpel; `train.py` `gelu`): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function refGelu(x: number): number {
  const c = Math.sqrt(2 / Math.PI);
  return 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * Math.pow(x, 3))));
}

/** GELU, exact erf form x·Φ(x), for telling the two apart (erf by a high-accuracy series). */
export function refGeluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** erf by its Maclaurin series (|x| ≤ 3 is all the tests need; converges to float64 precision). */
export function erf(x: number): number {
  if (Math.abs(x) > 3) throw new Error('reference erf: |x| > 3 not needed');
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-18) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

function activation(afn: Activation): (x: number) => number {
  switch (afn) {
    case 'gelu':
      return refGelu;
    case 'relu':
      return (x) => Math.max(0, x);
    case 'swish':
      return (x) => x * (1 / (1 + Math.exp(-x)));
  }
}

/** log-softmax of one row (float64, log-sum-exp around the max). */
export function refLogSoftmaxRow(row: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let j = 0; j < row.length; j++) if (row[j] > m) m = row[j];
  let s = 0;
  for (let j = 0; j < row.length; j++) s += Math.exp(row[j] - m);
  const lse = m + Math.log(s);
  const out = new Float64Array(row.length);
  for (let j = 0; j < row.length; j++) out[j] = row[j] - lse;
  return out;
}

/** softmax of one row as exp(log-softmax). */
export function refSoftmaxRow(row: ArrayLike<number>): Float64Array {
  return refLogSoftmaxRow(row).map(Math.exp);
}

/** LayerNorm of one row: (x − μ)/√(σ² + ε)·g + b, biased variance; returns x̂ and y. */
export function refLayerNormRow(x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, eps: number): { xhat: Float64Array; y: Float64Array } {
  const d = x.length;
  let mu = 0;
  for (let i = 0; i < d; i++) mu += x[i];
  mu /= d;
  let v = 0;
  for (let i = 0; i < d; i++) v += (x[i] - mu) ** 2;
  v /= d;
  const xhat = new Float64Array(d);
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    xhat[i] = (x[i] - mu) / Math.sqrt(v + eps);
    y[i] = xhat[i] * g[i] + b[i];
  }
  return { xhat, y };
}

function layerNorm64(x: Mat64, g: Tensor, b: Tensor, eps: number): Mat64 {
  const out = mat(x.rows, x.cols);
  for (let t = 0; t < x.rows; t++) {
    out.data.set(refLayerNormRow(x.data.subarray(t * x.cols, (t + 1) * x.cols), g.data, b.data, eps).y, t * x.cols);
  }
  return out;
}

/** Mean next-token cross-entropy, float64: −(1/(T−1)) Σ_t log softmax(logits[t])[ids[t+1]]. */
export function refLmLoss(logits: Tensor, ids: readonly number[]): number {
  const [T, V] = logits.shape;
  let total = 0;
  for (let t = 0; t + 1 < T; t++) total -= refLogSoftmaxRow(logits.data.subarray(t * V, (t + 1) * V))[ids[t + 1]];
  return total / (T - 1);
}

// ---------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------

function p64(params: Params, name: string): Mat64 {
  const t = params[name];
  if (t === undefined) throw new Error(`reference: missing parameter ${name}`);
  return t.shape.length === 2 ? mat(t.shape[0], t.shape[1], t.data) : mat(1, t.shape[0], t.data);
}

function add64(a: Mat64, b: Mat64): Mat64 {
  const out = mat(a.rows, a.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i] + b.data[i];
  return out;
}

/** Keys and values of every position so far, per layer: [S, n_embd] each (heads side by side). */
export interface RefCache {
  readonly k: Mat64;
  readonly v: Mat64;
}

export interface RefForward {
  /** h₀ … h_n, each [T, n_embd]. */
  readonly hiddenStates: Mat64[];
  /** [T, n_vocab + n_special]. */
  readonly logits: Mat64;
  /** Per layer, per head: [T][S] probabilities (S = T₀ + T). */
  readonly attentions: number[][][][];
  /** Per layer: keys/values of all S positions. */
  readonly present: RefCache[];
}

/** Causal multi-head attention of layer `l` on x [T, d] with cached keys/values of T₀ earlier positions. */
function attention64(params: Params, config: GPTConfig, l: number, x: Mat64, past: RefCache | undefined): { y: Mat64; probs: number[][][]; cache: RefCache } {
  const d = config.n_embd;
  const H = config.n_head;
  const dh = d / H;
  const T = x.rows;
  const pre = `h.${l}.attn.`;
  const qkv = matmul64(x, p64(params, `${pre}c_attn.weight`), p64(params, `${pre}c_attn.bias`).data); // [T, 3d]
  const T0 = past === undefined ? 0 : past.k.rows;
  const S = T0 + T;
  const K = mat(S, d);
  const V = mat(S, d);
  if (past !== undefined) {
    K.data.set(past.k.data);
    V.data.set(past.v.data);
  }
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < d; c++) {
      K.data[(T0 + t) * d + c] = qkv.data[t * 3 * d + d + c];
      V.data[(T0 + t) * d + c] = qkv.data[t * 3 * d + 2 * d + c];
    }
  }
  const a = mat(T, d);
  const probs: number[][][] = [];
  for (let h = 0; h < H; h++) {
    const ph: number[][] = [];
    for (let i = 0; i < T; i++) {
      const limit = T0 + i; // query i sits at absolute position T₀ + i and sees keys 0 … T₀ + i
      const scores: number[] = [];
      for (let j = 0; j <= limit; j++) {
        let s = 0;
        for (let c = 0; c < dh; c++) s += qkv.data[i * 3 * d + h * dh + c] * K.data[j * d + h * dh + c];
        scores.push(s / Math.sqrt(dh));
      }
      const p = refSoftmaxRow(scores);
      const row = new Array<number>(S).fill(0);
      for (let j = 0; j <= limit; j++) row[j] = p[j];
      ph.push(row);
      for (let c = 0; c < dh; c++) {
        let s = 0;
        for (let j = 0; j <= limit; j++) s += p[j] * V.data[j * d + h * dh + c];
        a.data[i * d + h * dh + c] = s;
      }
    }
    probs.push(ph);
  }
  const y = matmul64(a, p64(params, `${pre}c_proj.weight`), p64(params, `${pre}c_proj.bias`).data);
  return { y, probs, cache: { k: K, v: V } };
}

/**
 * GPT-1 forward in float64 (paper eq. 2, Post-LN blocks as in `train.py` `block`):
 *
 *     h₀ = W_e[ids] + W_p[T₀ … T₀+T−1]
 *     n  = LN₁(h + attn(h));  h' = LN₂(n + mlp(n))        per layer
 *     logits = h_n · W_eᵀ
 */
export function refForward(params: Params, config: GPTConfig, ids: readonly number[], past?: readonly RefCache[]): RefForward {
  const d = config.n_embd;
  const T = ids.length;
  const T0 = past === undefined ? 0 : past[0].k.rows;
  const We = params['tokens_embed.weight'];
  const Wp = params['positions_embed.weight'];
  let h = mat(T, d);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < d; c++) h.data[t * d + c] = We.data[ids[t] * d + c] + Wp.data[(T0 + t) * d + c];
  }
  const hiddenStates = [h];
  const attentions: number[][][][] = [];
  const present: RefCache[] = [];
  const act = activation(config.afn as Activation); // GPT-1's activations only (the variants are checked in variants.spec.ts)
  for (let l = 0; l < config.n_layer; l++) {
    const pre = `h.${l}.`;
    const at = attention64(params, config, l, h, past?.[l]);
    attentions.push(at.probs);
    present.push(at.cache);
    const n = layerNorm64(add64(h, at.y), params[`${pre}ln_1.weight`], params[`${pre}ln_1.bias`], config.layer_norm_epsilon);
    const u = matmul64(n, p64(params, `${pre}mlp.c_fc.weight`), p64(params, `${pre}mlp.c_fc.bias`).data);
    const g = mat(u.rows, u.cols, u.data.map(act));
    const m = matmul64(g, p64(params, `${pre}mlp.c_proj.weight`), p64(params, `${pre}mlp.c_proj.bias`).data);
    h = layerNorm64(add64(n, m), params[`${pre}ln_2.weight`], params[`${pre}ln_2.bias`], config.layer_norm_epsilon);
    hiddenStates.push(h);
  }
  const logits = matmulNT64(h, p64(params, 'tokens_embed.weight'));
  return { hiddenStates, logits, attentions, present };
}
