/**
 * Position-wise feed-forward network (paper §3.1 and §4.1), with GELU.
 *
 * The paper (§4.1): "For the position-wise feed-forward networks, we used 3072
 * dimensional inner states. [...] For the activation function, we used the Gaussian
 * Error Linear Unit (GELU)."
 *
 *     u = x·W_fc + b_fc              [T, n_inner]   (c_fc)
 *     g = GELU(u)                    [T, n_inner]
 *     y = g·W_proj + b_proj          [T, d]         (c_proj)
 *
 * with the tanh approximation of GELU (Hendrycks & Gimpel 2016):
 *
 *     GELU(u) = 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³)))
 *
 * ```math
 * \begin{aligned}
 * \operatorname{FFN}(x) &= \operatorname{GELU}(x W_{fc} + b_{fc}) \, W_{proj} + b_{proj} \\
 * \operatorname{GELU}(u) &= \tfrac{1}{2} \, u \left(1 + \tanh\!\left(\sqrt{2/\pi} \, (u + 0.044715 \, u^3)\right)\right)
 * \end{aligned}
 * ```
 *
 * GPT-1 uses GELU, not ReLU: a ReLU model cannot reproduce the released checkpoint.
 * ReLU and swish (u·σ(u)) are offered as `config.afn` only because the original code
 * offers them (`act_fns = {'relu': tf.nn.relu, 'swish': swish, 'gelu': gelu}`).
 *
 * Original code (`train.py`): `mlp(x, scope, n_state, train)`:
 * `h = act(conv1d(x, 'c_fc', n_state, 1))`, `h2 = conv1d(h, 'c_proj', nx, 1)`; and
 * `gelu(x)`: `0.5*x*(1+tf.tanh(math.sqrt(2/math.pi)*(x+0.044715*tf.pow(x, 3))))`.
 * When training, the output is dropped out: `h2 = dropout(h2, resid_pdrop, train)`.
 *
 * ## Backward
 * With ỹ = g·W_proj + b_proj and y = drop(ỹ):
 *
 *     dỹ = drop(dy)                                     (same mask, see dropout.ts)
 *     dg = dỹ·W_projᵀ, dW_proj = gᵀ·dỹ, db_proj = Σₜ dỹ   (conv1d backward)
 *     du = dg ⊙ act′(u)                                 (element-wise)
 *     dx = du·W_fcᵀ,  dW_fc = xᵀ·du,   db_fc = Σₜ du
 *
 * with the derivatives of the activations ({@link ACTIVATION_GRADS}):
 *
 *     GELU′(u)  = ½(1 + th) + ½·u·(1 − th²)·√(2/π)·(1 + 3·0.044715·u²),  th = tanh(√(2/π)·(u + 0.044715·u³))
 *     swish′(u) = σ(u) + u·σ(u)·(1 − σ(u))
 *     relu′(u)  = 1 if u > 0 else 0            (0 at the kink, like TensorFlow's ReluGrad)
 *
 * ## Switches (docs/evolution.md)
 * `afn: swiglu` is the gated FFN of `swiglu.ts` ({@link ffnForwardWith} hands it over).
 * Each expert of a mixture (`moe.ts`) is this FFN with its parameters under
 * `h.{i}.mlp.experts.{e}.`: {@link ffnForwardWith} takes its weights. Off: GPT-1's FFN.
 *
 * @module
 */
import type { Activation, GPTConfig } from '../config.ts';
import { type FFNParams, type Params, layerParams, namedLayerPart } from '../params.ts';
import { type Rng, fork } from '../random.ts';
import { type Tensor, map, tensor } from '../tensor.ts';
import { conv1dBackward, conv1dForward } from './conv1d.ts';
import { type DropoutMask, dropoutBackward, dropoutForward, dropoutMask } from './dropout.ts';
import { swigluBackward, swigluForward } from './swiglu.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU, tanh approximation: 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))).
 *
 * ```math
 * \operatorname{GELU}(u) = \tfrac{1}{2} \, u \left(1 + \tanh\!\left(\sqrt{2/\pi} \, (u + 0.044715 \, u^3)\right)\right)
 * ```
 */
export function gelu(u: number): number {
  return 0.5 * u * (1 + Math.tanh(SQRT_2_OVER_PI * (u + 0.044715 * u * u * u)));
}

/** swish(u) = u·σ(u) (original `swish`). */
export function swish(u: number): number {
  return u / (1 + Math.exp(-u));
}

/** relu(u) = max(u, 0). */
export function relu(u: number): number {
  return u > 0 ? u : 0;
}

/** The activation named by `config.afn`. */
export const ACTIVATIONS: Readonly<Record<Activation, (u: number) => number>> = { gelu, relu, swish };

/** d GELU/du (tanh approximation): ½(1 + th) + ½·u·(1 − th²)·√(2/π)·(1 + 3·0.044715·u²). */
export function geluGrad(u: number): number {
  const th = Math.tanh(SQRT_2_OVER_PI * (u + 0.044715 * u * u * u));
  return 0.5 * (1 + th) + 0.5 * u * (1 - th * th) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * u * u);
}

/** d swish/du = σ(u) + u·σ(u)·(1 − σ(u)). */
export function swishGrad(u: number): number {
  const s = 1 / (1 + Math.exp(-u));
  return s + u * s * (1 - s);
}

/** d relu/du = 1 if u > 0 else 0. */
export function reluGrad(u: number): number {
  return u > 0 ? 1 : 0;
}

/** The derivative of each activation. */
export const ACTIVATION_GRADS: Readonly<Record<Activation, (u: number) => number>> = { gelu: geluGrad, relu: reluGrad, swish: swishGrad };

/** What the forward pass computed and the backward pass needs. */
export interface FFNOutput {
  /** y, [T, d] (after dropout when training) */
  readonly y: Tensor;
  /** The input x, [T, d]. */
  readonly x: Tensor;
  /** u = x·W_fc + b_fc, the pre-activation, [T, n_inner] */
  readonly u: Tensor;
  /** g = act(u), [T, n_inner] */
  readonly g: Tensor;
  /** Residual dropout mask on the output, [T, d]; undefined when not training. */
  readonly drop?: DropoutMask;
  /** SwiGLU only (`swiglu.ts`): the gate's pre-activation v = x·W_gate + b_gate, [T, n_inner]; then g = silu(v) ⊙ u. */
  readonly gate?: Tensor;
}

/**
 * The feed-forward network of block `layer` on x [T, d].
 * @param dropout the generator for this layer when training (the mask is drawn from
 *   `fork(dropout, 'h.{layer}.mlp.resid')`); undefined for evaluation
 */
export async function ffnForward(params: Params, config: GPTConfig, layer: number, x: Tensor, dropout?: Rng): Promise<FFNOutput> {
  return ffnForwardWith(denseFFN(params, config, layer), config, x, dropout === undefined ? undefined : fork(dropout, `h.${layer}.mlp.resid`));
}

/**
 * {@link ffnForward} with the weights given: a block's `mlp`, or an expert's in `moe.ts`;
 * `swiglu` goes to `swiglu.ts`.
 * @param resid the generator of the output's dropout mask when training; undefined for evaluation
 */
export async function ffnForwardWith(w: FFNParams, config: GPTConfig, x: Tensor, resid?: Rng): Promise<FFNOutput> {
  if (config.afn === 'swiglu') return swigluForward(w, config, x, resid);
  const act = ACTIVATIONS[config.afn];
  const u = await conv1dForward(x, w.c_fc.weight, w.c_fc.bias); // [T, n_inner]
  const g = map(u, act); // [T, n_inner]
  const h2 = await conv1dForward(g, w.c_proj.weight, w.c_proj.bias); // [T, d]
  const drop = resid === undefined ? undefined : dropoutMask(resid, h2.shape, config.resid_pdrop);
  const y = dropoutForward(h2, drop); // [T, d]
  return { y, x, u, g, drop };
}

/** Gradients of {@link ffnForward} (and of `moe.ts`'s FFN sublayer): the input's and this layer's parameters' (by name). */
export interface FFNGrads {
  /** dL/dx, [T, d] */
  readonly dx: Tensor;
  /**
   * `h.{layer}.mlp.c_fc.weight`, `.c_fc.bias`, (`.c_gate.*` with SwiGLU,) `.c_proj.weight`,
   * `.c_proj.bias`; with experts, `.router.weight` and every expert's under `.experts.{e}.`.
   */
  readonly grads: Readonly<Record<string, Tensor>>;
}

/** Backward of the feed-forward network of block `layer`, given dy [T, d]. */
export async function ffnBackward(params: Params, config: GPTConfig, layer: number, fwd: FFNOutput, dy: Tensor): Promise<FFNGrads> {
  const g = await ffnBackwardWith(denseFFN(params, config, layer), config, fwd, dy);
  return { dx: g.dx, grads: namedLayerPart(layer, 'mlp', g.grads) };
}

/** {@link ffnBackward} with the weights given: dx, and the gradients as a record shaped like `w`. */
export async function ffnBackwardWith(w: FFNParams, config: GPTConfig, fwd: FFNOutput, dy: Tensor): Promise<{ readonly dx: Tensor; readonly grads: FFNParams }> {
  if (config.afn === 'swiglu') return swigluBackward(w, fwd, dy);
  const actGrad = ACTIVATION_GRADS[config.afn];
  const dh2 = dropoutBackward(dy, fwd.drop); // [T, d]
  const proj = await conv1dBackward(fwd.g, w.c_proj.weight, dh2); // dg: [T, n_inner]
  const du = new Float32Array(fwd.u.data.length); // [T, n_inner]
  for (let i = 0; i < du.length; i++) du[i] = proj.dx.data[i] * actGrad(fwd.u.data[i]);
  const fc = await conv1dBackward(fwd.x, w.c_fc.weight, tensor(fwd.u.shape, du)); // dx: [T, d]
  return { dx: fc.dx, grads: { c_fc: { weight: fc.dw, bias: fc.db }, c_proj: { weight: proj.dw, bias: proj.db } } };
}

/** Block `layer`'s dense FFN weights; a block with experts has none (`moe.ts` runs it). */
function denseFFN(params: Params, config: GPTConfig, layer: number): FFNParams {
  const { mlp } = layerParams(params, config, layer);
  if ('experts' in mlp) throw new Error(`block ${layer} is a mixture of experts: mlpForward/mlpBackward run it, not the dense FFN`);
  return mlp;
}
