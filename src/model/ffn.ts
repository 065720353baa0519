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
 * GPT-1 uses GELU, not ReLU: a ReLU model cannot reproduce the released checkpoint.
 * ReLU and swish (u·σ(u)) are offered as `config.afn` only because the original code
 * offers them (`act_fns = {'relu': tf.nn.relu, 'swish': swish, 'gelu': gelu}`).
 *
 * Original code (`train.py`): `mlp(x, scope, n_state, train)`:
 * `h = act(conv1d(x, 'c_fc', n_state, 1))`, `h2 = conv1d(h, 'c_proj', nx, 1)`; and
 * `gelu(x)`: `0.5*x*(1+tf.tanh(math.sqrt(2/math.pi)*(x+0.044715*tf.pow(x, 3))))`.
 *
 * @module
 */
import type { Activation, GPTConfig } from '../config.ts';
import type { Params } from '../params.ts';
import { type Tensor, map } from '../tensor.ts';
import { conv1dForward } from './conv1d.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation: 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))). */
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

/** What the forward pass computed and the backward pass needs. */
export interface FFNOutput {
  /** y, [T, d] */
  readonly y: Tensor;
  /** u = x·W_fc + b_fc, the pre-activation, [T, n_inner] */
  readonly u: Tensor;
  /** g = act(u), [T, n_inner] */
  readonly g: Tensor;
}

/** The feed-forward network of block `layer` on x [T, d]. */
export async function ffnForward(params: Params, config: GPTConfig, layer: number, x: Tensor): Promise<FFNOutput> {
  const p = `h.${layer}.mlp.`;
  const act = ACTIVATIONS[config.afn];
  const u = await conv1dForward(x, params[`${p}c_fc.weight`], params[`${p}c_fc.bias`]); // [T, n_inner]
  const g = map(u, act); // [T, n_inner]
  const y = await conv1dForward(g, params[`${p}c_proj.weight`], params[`${p}c_proj.bias`]); // [T, d]
  return { y, u, g };
}
