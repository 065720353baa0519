/**
 * The normalisation named by `config.normalization`: LayerNorm
 * (GPT-1, `layernorm.ts`) or RMSNorm (`rmsnorm.ts`). The blocks and the final norm
 * call these two functions, so the switch lives in one place.
 *
 * For LayerNorm this is exactly `layerNormForward(x, g, b, ε)` with
 * g = `{name}.weight`, b = `{name}.bias` (a `NormParams` record of `params.ts`): GPT-1 is
 * unchanged, bit for bit.
 *
 * @module
 */
import { type GPTConfig, usesRMSNorm } from '../config.ts';
import type { NormParams } from '../params.ts';
import type { Tensor } from '../tensor.ts';
import { type LayerNormOutput, layerNormBackward, layerNormForward } from './layernorm.ts';
import { rmsNormBackward, rmsNormForward } from './rmsnorm.ts';

/** A norm (e.g. `layerParams(…).ln_1`, `modelParams(…).ln_f`) of x [T, d]. */
export function normForward(norm: NormParams, config: GPTConfig, x: Tensor): LayerNormOutput {
  const eps = config.layer_norm_epsilon;
  return usesRMSNorm(config) ? rmsNormForward(x, norm.weight, eps) : layerNormForward(x, norm.weight, biasOf(norm), eps);
}

/** Backward of a norm given dy [T, d]: dx and the gradients of its gain (and bias), shaped like `norm`. */
export function normBackward(norm: NormParams, config: GPTConfig, fwd: LayerNormOutput, dy: Tensor): { dx: Tensor; grads: NormParams } {
  if (usesRMSNorm(config)) {
    const r = rmsNormBackward(fwd, norm.weight, dy);
    return { dx: r.dx, grads: { weight: r.dg } };
  }
  const l = layerNormBackward(fwd, norm.weight, dy);
  return { dx: l.dx, grads: { weight: l.dg, bias: l.db } };
}

/** LayerNorm's bias (only RMSNorm has none). */
function biasOf(norm: NormParams): Tensor {
  if (norm.bias === undefined) throw new Error('LayerNorm needs a bias (only normalization: rmsnorm has none)');
  return norm.bias;
}
