/**
 * The normalisation named by `config.normalization`, by parameter name: LayerNorm
 * (GPT-1, `layernorm.ts`) or RMSNorm (`rmsnorm.ts`). The blocks and the final norm
 * call these two functions, so the switch lives in one place.
 *
 * For LayerNorm this is exactly `layerNormForward(x, g, b, ε)` with
 * g = `{name}.weight`, b = `{name}.bias`: GPT-1 is unchanged, bit for bit.
 *
 * @module
 */
import { type GPTConfig, usesRMSNorm } from '../config.ts';
import type { Params } from '../params.ts';
import type { Tensor } from '../tensor.ts';
import { type LayerNormOutput, layerNormBackward, layerNormForward } from './layernorm.ts';
import { rmsNormBackward, rmsNormForward } from './rmsnorm.ts';

/** Norm `name` (e.g. `h.0.ln_1`, `ln_f`) of x [T, d]. */
export function normForward(params: Params, config: GPTConfig, name: string, x: Tensor): LayerNormOutput {
  const g = params[`${name}.weight`];
  const eps = config.layer_norm_epsilon;
  return usesRMSNorm(config) ? rmsNormForward(x, g, eps) : layerNormForward(x, g, params[`${name}.bias`], eps);
}

/** Backward of norm `name` given dy [T, d]: dx and the gradients of its gain (and bias) by parameter name. */
export function normBackward(params: Params, config: GPTConfig, name: string, fwd: LayerNormOutput, dy: Tensor): { dx: Tensor; grads: Record<string, Tensor> } {
  const g = params[`${name}.weight`];
  if (usesRMSNorm(config)) {
    const r = rmsNormBackward(fwd, g, dy);
    return { dx: r.dx, grads: { [`${name}.weight`]: r.dg } };
  }
  const l = layerNormBackward(fwd, g, dy);
  return { dx: l.dx, grads: { [`${name}.weight`]: l.dg, [`${name}.bias`]: l.db } };
}
