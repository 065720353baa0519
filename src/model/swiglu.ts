/**
 * The SwiGLU feed-forward network (Shazeer 2020, "GLU Variants Improve Transformer"),
 * as in LLaMA and Mixtral. A switch (`config.afn = "swiglu"`), not GPT-1: GPT-1's FFN
 * is GELU(x·W_fc + b_fc)·W_proj + b_proj (`ffn.ts`).
 *
 * Shazeer 2020 §2: "GLU(x, W, V, b, c) = σ(xW + b) ⊗ (xV + c) [...] We define
 * additional variations [...] SwiGLU(x, W, V, b, c, β) = Swish_β(xW + b) ⊗ (xV + c)",
 * and "FFN_SwiGLU(x, W, V, W₂) = (Swish₁(xW) ⊗ xV)W₂". With β = 1, Swish₁ = SiLU.
 * We keep GPT-1's biases, so a SwiGLU block differs from GPT-1's by the gate only:
 *
 *     u = x·W_fc + b_fc              [T, n_inner]   (c_fc, "up")
 *     v = x·W_gate + b_gate          [T, n_inner]   (c_gate, the gate)
 *     g = silu(v) ⊙ u                [T, n_inner]   silu(v) = v·σ(v)
 *     y = g·W_proj + b_proj          [T, d]         (c_proj, "down"), dropped out when training
 *
 * Three matrices instead of two: at n_inner = (8/3)·d the count matches GPT-1's 4·d
 * (`matchParams` in `architectures.ts` chooses n_inner so the totals match). silu(0) = 0, so with
 * W_gate = 0 and b_gate = 0 the FFN adds exactly b_proj (tested).
 *
 * ## Backward
 *
 *     dỹ = drop(dy)
 *     dg = dỹ·W_projᵀ, dW_proj = gᵀ·dỹ, db_proj = Σₜ dỹ
 *     du = dg ⊙ silu(v)
 *     dv = dg ⊙ u ⊙ silu′(v),        silu′(v) = σ(v)·(1 + v·(1 − σ(v)))
 *     dx = du·W_fcᵀ + dv·W_gateᵀ,   dW_fc = xᵀ·du, db_fc = Σₜ du, dW_gate = xᵀ·dv, db_gate = Σₜ dv
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import type { FFNParams, LinearParams } from '../params.ts';
import type { Rng } from '../random.ts';
import { type Tensor, add, tensor } from '../tensor.ts';
import { conv1dBackward, conv1dForward } from './conv1d.ts';
import { dropoutBackward, dropoutForward, dropoutMask } from './dropout.ts';
import type { FFNOutput } from './ffn.ts';

/** silu(v) = v·σ(v) (Swish with β = 1). */
export function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

/** d silu/dv = σ(v)·(1 + v·(1 − σ(v))). */
export function siluGrad(v: number): number {
  const s = 1 / (1 + Math.exp(-v));
  return s * (1 + v * (1 - s));
}

/**
 * SwiGLU FFN with weights `w` (a block's `mlp` or an expert's, with `c_gate`) on x [T, d].
 * Returns the FFN record with `gate` = v; `u` is the up projection and `g` the product.
 * @param resid the generator of the output's dropout mask when training (`fork(dropout, 'h.{i}.mlp.resid')`)
 */
export async function swigluForward(w: FFNParams, config: GPTConfig, x: Tensor, resid?: Rng): Promise<FFNOutput> {
  const c_gate = gateOf(w);
  const u = await conv1dForward(x, w.c_fc.weight, w.c_fc.bias); // [T, n_inner]
  const v = await conv1dForward(x, c_gate.weight, c_gate.bias); // [T, n_inner]
  const g = new Float32Array(u.data.length); // silu(v) ⊙ u
  for (let i = 0; i < g.length; i++) g[i] = silu(v.data[i]) * u.data[i];
  const gt = tensor(u.shape, g);
  const h2 = await conv1dForward(gt, w.c_proj.weight, w.c_proj.bias); // [T, d]
  const drop = resid === undefined ? undefined : dropoutMask(resid, h2.shape, config.resid_pdrop);
  return { y: dropoutForward(h2, drop), x, u, g: gt, gate: v, drop };
}

/** Backward of {@link swigluForward} given dy [T, d]: dx and the six parameters' gradients, shaped like `w`. */
export async function swigluBackward(w: FFNParams, fwd: FFNOutput, dy: Tensor): Promise<{ readonly dx: Tensor; readonly grads: FFNParams }> {
  const c_gate = gateOf(w);
  const v = fwd.gate;
  if (v === undefined) throw new Error('swigluBackward: the forward record has no gate');
  const dh2 = dropoutBackward(dy, fwd.drop); // [T, d]
  const proj = await conv1dBackward(fwd.g, w.c_proj.weight, dh2); // dg: [T, n_inner]
  const du = new Float32Array(fwd.u.data.length);
  const dv = new Float32Array(fwd.u.data.length);
  for (let i = 0; i < du.length; i++) {
    const dg = proj.dx.data[i];
    du[i] = dg * silu(v.data[i]);
    dv[i] = dg * fwd.u.data[i] * siluGrad(v.data[i]);
  }
  const fc = await conv1dBackward(fwd.x, w.c_fc.weight, tensor(fwd.u.shape, du));
  const gate = await conv1dBackward(fwd.x, c_gate.weight, tensor(fwd.u.shape, dv));
  return {
    dx: add(fc.dx, gate.dx),
    grads: { c_fc: { weight: fc.dw, bias: fc.db }, c_gate: { weight: gate.dw, bias: gate.db }, c_proj: { weight: proj.dw, bias: proj.db } },
  };
}

/** The gate's weights; an FFN without them is not a SwiGLU one. */
function gateOf(w: FFNParams): LinearParams {
  if (w.c_gate === undefined) throw new Error('swiglu: the FFN has no c_gate (afn: swiglu adds h.{i}.mlp.c_gate)');
  return w.c_gate;
}
