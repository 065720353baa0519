/**
 * Float64 helpers for the gradient checks (`gradcheck.spec.ts`, `backward.spec.ts`,
 * `variants.spec.ts`), and the check itself ({@link assertGrad}, {@link GRAD_TOL}).
 *
 * A plain-loop float64 forward of every module and of the whole model, so that the
 * tests can take central differences of a loss computed with ~16 significant digits
 * instead of float32's ~7. It reads the same float32 parameters (converted exactly to
 * float64) and, for training passes, the *same* dropout masks as `src/` saved in its
 * forward outputs: dropout is then a fixed linear map and the loss is smooth.
 *
 * Nothing here calls a kernel or a `src/model` function (only the mask types and the
 * tensor record are imported), so a mistake shared by the forward and the backward of
 * `src/` cannot also hide here.
 *
 * @module
 */
import assert from 'node:assert/strict';
import type { Activation, GPTConfig } from '../src/config.ts';
import { architecture, nExperts, nTokenRows, usesPreLN, usesRMSNorm, usesRope } from '../src/config.ts';
import type { ForwardOutput } from '../src/model/gpt.ts';
import type { DropoutMask } from '../src/model/dropout.ts';
import { paramShapes, type Params } from '../src/params.ts';
import { type Rng, normals, randint, rng } from '../src/random.ts';
import { type Tensor, tensor } from '../src/tensor.ts';

/** Parameters as float64 arrays, by name. */
export type Params64 = Record<string, Float64Array>;

/** Exact float32 → float64 copy of every parameter. */
export function toParams64(params: Params): Params64 {
  const out: Params64 = {};
  for (const [name, t] of Object.entries(params)) out[name] = Float64Array.from(t.data);
  return out;
}

/** Exact float32 → float64 copy of a tensor's data. */
export function f64(t: Tensor): Float64Array {
  return Float64Array.from(t.data);
}

// ---------------------------------------------------------------------------------
// Modules, float64, row-major, explicit sizes
// ---------------------------------------------------------------------------------

/** y = x·W + b: x [T, nIn], W [nIn, nOut], b [nOut] → [T, nOut]. */
export function conv1d64(x: Float64Array, T: number, nIn: number, w: Float64Array, b: Float64Array, nOut: number): Float64Array {
  const y = new Float64Array(T * nOut);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < nOut; j++) {
      let s = b[j];
      for (let i = 0; i < nIn; i++) s += x[t * nIn + i] * w[i * nOut + j];
      y[t * nOut + j] = s;
    }
  }
  return y;
}

/** LayerNorm of each row of x [T, d] with gain g and bias b (biased variance, ε inside the root). */
export function layerNorm64(x: Float64Array, T: number, d: number, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[t * d + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[t * d + i] - mean) ** 2;
    v /= d;
    const r = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < d; i++) y[t * d + i] = g[i] * (x[t * d + i] - mean) * r + b[i];
  }
  return y;
}

/** RMSNorm of each row of x [T, d] with gain g: x/√(mean(x²) + ε)·g. */
export function rmsNorm64(x: Float64Array, T: number, d: number, g: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += x[t * d + i] ** 2;
    const r = 1 / Math.sqrt(ms / d + eps);
    for (let i = 0; i < d; i++) y[t * d + i] = g[i] * x[t * d + i] * r;
  }
  return y;
}

/** The norm `name` of `config.normalization` (LayerNorm or RMSNorm). */
export function norm64(p: Params64, config: GPTConfig, name: string, x: Float64Array, T: number): Float64Array {
  const d = config.n_embd;
  const eps = config.layer_norm_epsilon;
  return usesRMSNorm(config) ? rmsNorm64(x, T, d, p[`${name}.weight`], eps) : layerNorm64(x, T, d, p[`${name}.weight`], p[`${name}.bias`], eps);
}

/**
 * RoPE, rotate-half, in place on the head vectors of a [T, width] matrix: columns
 * offset + h·d_h … of row t rotated to position T₀ + t. Written from the definition
 * (pairs (i, i + d_h/2), angle p·θ^(−2i/d_h)), independently of `src/model/rope.ts`.
 */
export function rope64(m: Float64Array, T: number, width: number, offset: number, H: number, dH: number, T0: number, theta: number): void {
  const half = dH / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      const base = t * width + offset + h * dH;
      for (let i = 0; i < half; i++) {
        const phi = (T0 + t) / theta ** ((2 * i) / dH);
        const [a, b] = [m[base + i], m[base + i + half]];
        m[base + i] = a * Math.cos(phi) - b * Math.sin(phi);
        m[base + i + half] = a * Math.sin(phi) + b * Math.cos(phi);
      }
    }
  }
}

/** Softmax of each row of length C. */
export function softmax64(x: Float64Array, C: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length; r += C) {
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, x[r + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(x[r + j] - m);
    for (let j = 0; j < C; j++) y[r + j] = Math.exp(x[r + j] - m) / s;
  }
  return y;
}

/** Log-softmax of each row of length C. */
export function logSoftmax64(x: Float64Array, C: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length; r += C) {
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, x[r + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(x[r + j] - m);
    const logZ = m + Math.log(s);
    for (let j = 0; j < C; j++) y[r + j] = x[r + j] - logZ;
  }
  return y;
}

/** x ⊙ keep / (1 − p) with a mask saved by `src/` (identity when there is none). */
export function dropout64(x: Float64Array, mask: DropoutMask | undefined): Float64Array {
  if (mask === undefined) return x;
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = mask.keep[i] === 1 ? x[i] / (1 - mask.p) : 0;
  return y;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
/** The three activations of `config.afn`, in float64. */
export const ACT64: Record<Activation, (u: number) => number> = {
  gelu: (u) => 0.5 * u * (1 + Math.tanh(SQRT_2_OVER_PI * (u + 0.044715 * u ** 3))),
  swish: (u) => u / (1 + Math.exp(-u)),
  relu: (u) => (u > 0 ? u : 0),
};

/** Dropout masks of one block, as saved by `src/` (all undefined for evaluation). */
export interface BlockMasks {
  readonly probs?: DropoutMask;
  readonly attnResid?: DropoutMask;
  readonly mlpResid?: DropoutMask;
}

/** Cached keys and values of T₀ earlier positions, per head: [H, T₀, d_h] each. */
export interface Past64 {
  readonly k: Float64Array;
  readonly v: Float64Array;
  readonly T0: number;
}

/**
 * Masked multi-head self-attention of block `layer` on x [T, d], as a direct loop
 * over (head, query, key): the causal mask skips keys after the query outright.
 */
export function attention64(p: Params64, config: GPTConfig, layer: number, x: Float64Array, T: number, masks: BlockMasks = {}, past?: Past64): Float64Array {
  const d = config.n_embd;
  const H = config.n_head;
  const dH = d / H;
  const T0 = past?.T0 ?? 0;
  const S = T0 + T;
  const pre = `h.${layer}.attn.`;
  const qkv = conv1d64(x, T, d, p[`${pre}c_attn.weight`], p[`${pre}c_attn.bias`], 3 * d); // [T, 3d]
  if (usesRope(config)) for (const offset of [0, d]) rope64(qkv, T, 3 * d, offset, H, dH, T0, architecture(config).rope_theta); // q and k
  const key = (h: number, j: number, c: number): number => (j < T0 ? past!.k[(h * T0 + j) * dH + c] : qkv[(j - T0) * 3 * d + d + h * dH + c]);
  const val = (h: number, j: number, c: number): number => (j < T0 ? past!.v[(h * T0 + j) * dH + c] : qkv[(j - T0) * 3 * d + 2 * d + h * dH + c]);
  const probs = new Float64Array(H * T * S); // [H, T, S], 0 above the diagonal
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      const row = new Float64Array(T0 + i + 1);
      for (let j = 0; j <= T0 + i; j++) {
        let s = 0;
        for (let c = 0; c < dH; c++) s += qkv[i * 3 * d + h * dH + c] * key(h, j, c);
        row[j] = s / Math.sqrt(dH);
      }
      probs.set(softmax64(row, row.length), (h * T + i) * S);
    }
  }
  const dropped = dropout64(probs, masks.probs);
  const a = new Float64Array(T * d); // merged heads
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      for (let c = 0; c < dH; c++) {
        let s = 0;
        for (let j = 0; j < S; j++) s += dropped[(h * T + i) * S + j] * val(h, j, c);
        a[i * d + h * dH + c] = s;
      }
    }
  }
  return dropout64(conv1d64(a, T, d, p[`${pre}c_proj.weight`], p[`${pre}c_proj.bias`], d), masks.attnResid);
}

/** The feed-forward network of block `layer` on x [T, d]. */
export function ffn64(p: Params64, config: GPTConfig, layer: number, x: Float64Array, T: number, mask?: DropoutMask): Float64Array {
  return dropout64(ffnAt64(p, config, `h.${layer}.mlp.`, x, T), mask);
}

/** One FFN (activation or SwiGLU) with parameters under `pre`, without dropout. */
function ffnAt64(p: Params64, config: GPTConfig, pre: string, x: Float64Array, T: number): Float64Array {
  const u = conv1d64(x, T, config.n_embd, p[`${pre}c_fc.weight`], p[`${pre}c_fc.bias`], config.n_inner);
  let g: Float64Array;
  if (config.afn === 'swiglu') {
    const v = conv1d64(x, T, config.n_embd, p[`${pre}c_gate.weight`], p[`${pre}c_gate.bias`], config.n_inner);
    g = u.map((ui, i) => ui * (v[i] / (1 + Math.exp(-v[i])))); // silu(v) ⊙ u
  } else g = u.map(ACT64[config.afn]);
  return conv1d64(g, T, config.n_inner, p[`${pre}c_proj.weight`], p[`${pre}c_proj.bias`], config.n_embd);
}

/**
 * The mixture of experts of block `layer`, from the definition: per token the top-k
 * router logits (ties to the lower index), softmax over them, the weighted sum of
 * those experts' FFNs; and the load-balancing loss E·Σ f_e·P̄_e.
 */
export function moe64(p: Params64, config: GPTConfig, layer: number, x: Float64Array, T: number, mask?: DropoutMask): { y: Float64Array; aux: number } {
  const d = config.n_embd;
  const E = nExperts(config);
  const k = architecture(config).experts_top_k;
  const pre = `h.${layer}.mlp.`;
  const r = conv1d64(x, T, d, p[`${pre}router.weight`], new Float64Array(E), E); // [T, E]
  const probs = softmax64(r, E);
  const y = new Float64Array(T * d);
  const count = new Float64Array(E);
  for (let t = 0; t < T; t++) {
    const row = Array.from(r.subarray(t * E, (t + 1) * E));
    const order = row.map((_, e) => e).sort((a, b) => row[b] - row[a] || a - b).slice(0, k);
    const w = softmax64(Float64Array.from(order, (e) => row[e]), k);
    order.forEach((e, j) => {
      count[e] += 1;
      const out = ffnAt64(p, config, `${pre}experts.${e}.`, x.subarray(t * d, (t + 1) * d), 1);
      for (let c = 0; c < d; c++) y[t * d + c] += w[j] * out[c];
    });
  }
  let aux = 0;
  for (let e = 0; e < E; e++) {
    let pbar = 0;
    for (let t = 0; t < T; t++) pbar += probs[t * E + e] / T;
    aux += (count[e] / (T * k)) * pbar;
  }
  return { y: dropout64(y, mask), aux: E * aux };
}

/** The FFN sublayer: dense, or the mixture of experts; aux is 0 for a dense FFN. */
export function mlp64(p: Params64, config: GPTConfig, layer: number, x: Float64Array, T: number, mask?: DropoutMask): { y: Float64Array; aux: number } {
  return nExperts(config) > 0 ? moe64(p, config, layer, x, T, mask) : { y: ffn64(p, config, layer, x, T, mask), aux: 0 };
}

/** Element-wise sum. */
function plus(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((x, i) => x + b[i]);
}

/** Block `layer`: n = LN₁(x + attn(x)); h = LN₂(n + ffn(n)) (Post-LN), or a = x + attn(LN₁(x)); h = a + ffn(LN₂(a)) (Pre-LN). */
export function block64(p: Params64, config: GPTConfig, layer: number, x: Float64Array, T: number, masks: BlockMasks = {}, past?: Past64): Float64Array {
  return blockAux64(p, config, layer, x, T, masks, past).h;
}

/** {@link block64} with its MoE load-balancing loss (0 for a dense FFN). */
export function blockAux64(p: Params64, config: GPTConfig, layer: number, x: Float64Array, T: number, masks: BlockMasks = {}, past?: Past64): { h: Float64Array; aux: number } {
  const pre = `h.${layer}.`;
  if (usesPreLN(config)) {
    const a = plus(x, attention64(p, config, layer, norm64(p, config, `${pre}ln_1`, x, T), T, masks, past));
    const m = mlp64(p, config, layer, norm64(p, config, `${pre}ln_2`, a, T), T, masks.mlpResid);
    return { h: plus(a, m.y), aux: m.aux };
  }
  const n = norm64(p, config, `${pre}ln_1`, plus(x, attention64(p, config, layer, x, T, masks, past)), T);
  const m = mlp64(p, config, layer, n, T, masks.mlpResid);
  return { h: norm64(p, config, `${pre}ln_2`, plus(n, m.y), T), aux: m.aux };
}

/** All dropout masks of a training forward pass of `src/`. */
export interface ModelMasks {
  readonly tokens?: DropoutMask;
  readonly positions?: DropoutMask;
  readonly blocks: readonly BlockMasks[];
}

/** The masks `src/` drew and saved in a forward output. */
export function masksOf(fwd: ForwardOutput): ModelMasks {
  return {
    tokens: fwd.embedding.tokens,
    positions: fwd.embedding.positions,
    blocks: fwd.blocks.map((b) => ({ probs: b.attn.probsDrop, attnResid: b.attn.residDrop, mlpResid: b.ffn.drop })),
  };
}

/**
 * The whole model in float64: h₀ = W̃_e[ids] + W̃_p[0..T−1], the blocks, the tied head.
 * @returns the logits [T, V] and the final hidden state h_n [T, d]
 */
export function gpt64(p: Params64, config: GPTConfig, ids: readonly number[], masks: ModelMasks = { blocks: [] }): { logits: Float64Array; hN: Float64Array; aux: number } {
  const T = ids.length;
  const d = config.n_embd;
  const V = nTokenRows(config);
  const We = dropout64(p['tokens_embed.weight'], masks.tokens);
  const Wp = usesRope(config) ? new Float64Array(T * d) : dropout64(p['positions_embed.weight'], masks.positions); // RoPE: no W_p
  let h: Float64Array = new Float64Array(T * d);
  for (let t = 0; t < T; t++) for (let c = 0; c < d; c++) h[t * d + c] = We[ids[t] * d + c] + Wp[t * d + c];
  let aux = 0;
  for (let l = 0; l < config.n_layer; l++) {
    const b = blockAux64(p, config, l, h, T, masks.blocks[l] ?? {});
    h = b.h;
    aux += b.aux / config.n_layer;
  }
  if (usesPreLN(config)) h = norm64(p, config, 'ln_f', h, T);
  const logits = new Float64Array(T * V);
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += h[t * d + c] * We[v * d + c];
      logits[t * V + v] = s;
    }
  }
  return { logits, hN: h, aux };
}

/** The training objective: L₁ plus, with experts, moe_aux_loss_coef × the mean load-balancing loss. */
export function objective64(config: GPTConfig, out: { logits: Float64Array; aux: number }, ids: readonly number[], mask?: readonly number[]): number {
  return lmLoss64(out.logits, nTokenRows(config), ids, mask) + (nExperts(config) > 0 ? architecture(config).moe_aux_loss_coef * out.aux : 0);
}

/** Mean next-token cross-entropy with optional mask (as `lmLoss`), float64. */
export function lmLoss64(logits: Float64Array, V: number, ids: readonly number[], mask?: readonly number[]): number {
  const logp = logSoftmax64(logits, V);
  let total = 0;
  let count = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const m = mask === undefined ? 1 : mask[t + 1];
    total -= m * logp[t * V + ids[t + 1]];
    count += m;
  }
  return total / count;
}

/** Σᵢ rᵢ·yᵢ: the scalar "loss" whose gradient with respect to y is r (a random probe). */
export function dot64(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += r[i] * y[i];
  return s;
}

// ---------------------------------------------------------------------------------
// Central differences
// ---------------------------------------------------------------------------------

/**
 * Central difference (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h of `f` at entry i of `x`,
 * evaluated on a perturbed copy (x itself is left unchanged), with its rounding
 * floor: the two float64 losses are each rounded to ~2⁻⁵²·|L| (`Number.EPSILON`, one
 * unit in the last place of a loss of order 1: twice the unit roundoff ε₆₄ ≈ 1.1e-16
 * of gradcheck.spec.ts's derivation), so the difference is only known to ±2⁻⁵²·|L|/h.
 */
export function centralDiff(f: (x: Float64Array) => number, x: Float64Array, i: number, h: number): { numeric: number; roundoff: number } {
  const plusX = Float64Array.from(x);
  const minusX = Float64Array.from(x);
  plusX[i] += h;
  minusX[i] -= h;
  const plus = f(plusX);
  const minus = f(minusX);
  return { numeric: (plus - minus) / (2 * h), roundoff: (Number.EPSILON * Math.max(Math.abs(plus), Math.abs(minus))) / h };
}

/**
 * How many central-difference rounding floors a difference may reach: the loss is a
 * long float64 sum whose rounding can reach a few units in its last place. The case
 * this allows for (seed 5 of variants.spec's "moe, top-1, Pre-LN LayerNorm") is an
 * expert whose true gradient is 0: the analytic one is exactly 0 and the central
 * difference is one unit in the last place of the loss over 2h, 2.2e-11, below one
 * floor.
 */
const ROUNDOFF_FACTOR = 8;

/**
 * Compares an analytic gradient (float32, from `src/`) with central differences of
 * a float64 loss at the given entries. Returns a message for the first entry with
 * |analytic − numeric| > rtol·|numeric| + atol·scale, where scale = max |analytic|
 * over the whole tensor, or `tol.scale` if larger (float32 errors are relative to
 * the size of the terms that were summed, not to a result that happens to cancel to
 * nearly 0). Below the central difference's own rounding floor (`ROUNDOFF_FACTOR` of
 * 2⁻⁵²·|L|/h, ~2e-10 for a loss of order 1) a difference cannot be seen at all: a
 * tensor whose whole gradient is that small (an expert the router almost never
 * picks) is compared to within the floor.
 */
export function compareGrad(
  what: string,
  analytic: Tensor,
  f: (x: Float64Array) => number,
  x: Float64Array,
  entries: readonly number[],
  tol: { h: number; rtol: number; atol: number; scale?: number },
): string | undefined {
  let scale = tol.scale ?? 0; // a caller may know the size of the summed terms better
  for (const v of analytic.data) scale = Math.max(scale, Math.abs(v));
  for (const i of entries) {
    const { numeric, roundoff } = centralDiff(f, x, i, tol.h);
    const a = analytic.data[i];
    const err = Math.abs(a - numeric);
    if (!(err <= tol.rtol * Math.abs(numeric) + tol.atol * scale + ROUNDOFF_FACTOR * roundoff)) {
      return `${what}[${i}]: analytic ${a} vs central difference ${numeric} (|diff| ${err.toExponential(2)}, tensor scale ${scale.toExponential(2)})`;
    }
  }
  return undefined;
}

/** Every index 0 … n−1. */
export function allEntries(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Step and tolerances of every gradient check: h = 1e-5, and
 * |analytic − numeric| ≤ rtol·|numeric| + atol·scale (derived and measured in
 * `gradcheck.spec.ts`'s module documentation).
 */
export const GRAD_TOL = { h: 1e-5, rtol: 3e-4, atol: 3e-5 };

/**
 * Asserts the analytic gradient at every listed entry (all entries by default) with
 * {@link compareGrad} and {@link GRAD_TOL}.
 * @param termScale the size of the summed terms, when larger than the gradient's own entries
 * @param h the step, when x is far from unit size
 */
export function assertGrad(what: string, analytic: Tensor, f: (x: Float64Array) => number, x: Float64Array, entries = allEntries(x.length), termScale?: number, h = GRAD_TOL.h): void {
  assert.equal(analytic.data.length, x.length, `${what}: gradient and input sizes differ`);
  const failure = compareGrad(what, analytic, f, x, entries, { ...GRAD_TOL, h, scale: termScale });
  assert.equal(failure, undefined, failure);
}

/**
 * `count` random entries of a gradient (drawn from `g`) and its largest entry: where
 * a whole-model check looks. Returns them with the advanced generator.
 */
export function sampleEntries(grad: Tensor, g: Rng, count: number): [number[], Rng] {
  const n = grad.data.length;
  const entries: number[] = [];
  for (let k = 0; k < count; k++) {
    let i: number;
    [i, g] = randint(g, n);
    entries.push(i);
  }
  let big = 0;
  for (let i = 1; i < n; i++) if (Math.abs(grad.data[i]) > Math.abs(grad.data[big])) big = i;
  entries.push(big);
  return [entries, g];
}

/**
 * The size of the terms a norm's backward sums into dx, max over t, i of
 * rstd_t·|dy_{t,i}·g_i| (LayerNorm and RMSNorm both sum rstd·dx̂ terms). They can cancel
 * almost exactly (for d = 2, x̂ = ±σ/√(σ² + ε) whatever x is, so LayerNorm's dx is only
 * ε/(σ² + ε) of its terms), and the float32 error is relative to the terms: so this
 * is the scale of the absolute tolerance.
 */
export function normTermScale(rstd: Float32Array, dy: Tensor, g: Tensor): number {
  const d = g.data.length;
  let terms = 0;
  for (let t = 0; t < rstd.length; t++) for (let i = 0; i < d; i++) terms = Math.max(terms, rstd[t] * Math.abs(dy.data[t * d + i] * g.data[i]));
  return terms;
}

// ---------------------------------------------------------------------------------
// Random test data (seeded)
// ---------------------------------------------------------------------------------

/** A float32 tensor of N(0, std²) draws from `seed`. */
export function randn(shape: readonly number[], seed: number, std = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(shape, normals(rng(seed), n, 0, std)[0]);
}

/**
 * Parameters far from the N(0, 0.02²) initialisation, so that every path of the
 * model is exercised with non-trivial values: weights N(0, std²), biases N(0, 0.1²),
 * LayerNorm gains 1 + N(0, 0.3²).
 */
export function testParams(config: GPTConfig, r: Rng, std = 0.3): Params {
  const out: Record<string, Tensor> = {};
  let g = r;
  for (const [name, shape] of paramShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    [data, g] = normals(g, n, 0, 1);
    const isGain = /ln_(\d|f)\.weight$/.test(name);
    const s = isGain ? 0.3 : name.endsWith('.bias') ? 0.1 : std;
    for (let i = 0; i < n; i++) data[i] = (isGain ? 1 : 0) + s * data[i];
    out[name] = tensor(shape, data);
  }
  return Object.freeze(out);
}
