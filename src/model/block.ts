/**
 * One transformer block with Post-LN residual connections (paper §3.1).
 *
 * The paper's eq. 2 writes the stack as h_l = transformer_block(h_{l−1}) ∀ l ∈ [1, n].
 * Inside a block, GPT-1 (like the original Transformer) normalises *after* each
 * residual addition ("Post-LN"):
 *
 *     n = LN₁(x + attn(x))
 *     h = LN₂(n + ffn(n))
 *
 * ```math
 * \begin{aligned}
 * n &= \operatorname{LN}_1\big(x + \operatorname{attn}(x)\big) \\
 * h &= \operatorname{LN}_2\big(n + \operatorname{ffn}(n)\big)
 * \end{aligned}
 * \qquad \text{for } h = \operatorname{transformer\_block}(x)
 * ```
 *
 * (GPT-2 moved the LayerNorm in front of each sublayer; that is a different model.)
 *
 * Original code (`train.py`): `block(x, scope, train, scale)`:
 * `a = attn(x, 'attn', nx, n_head, train=train, scale=scale)`, `n = norm(x+a, 'ln_1')`,
 * `m = mlp(n, 'mlp', nx*4, train=train)`, `h = norm(n+m, 'ln_2')`.
 *
 * ## Backward
 * A residual connection z = x + f(x) passes its gradient to x twice: directly and
 * through f, dx = dz + f′(x)ᵀ·dz. Reading the two lines above from the bottom up:
 *
 *     dz₂ = LN₂ backward of dh                     (z₂ = n + ffn(n))
 *     dn  = dz₂ + ffn backward of dz₂
 *     dz₁ = LN₁ backward of dn                     (z₁ = x + attn(x))
 *     dx  = dz₁ + attn backward of dz₁
 *
 * ## Switches (docs/evolution.md)
 * `norm_placement: pre` hands the block to `preln.ts`; `normalization: rmsnorm` swaps
 * LN for RMSNorm (`norm.ts`); `n_experts` > 0 swaps the FFN for a mixture of experts
 * (`moe.ts`). With none of them this is GPT-1's block, bit for bit.
 *
 * @module
 */
import { type GPTConfig, usesPreLN } from '../config.ts';
import { type NormParams, type Params, layerParams, namedLayerPart } from '../params.ts';
import type { Rng } from '../random.ts';
import { type Tensor, add } from '../tensor.ts';
import { type AttentionOutput, type KeyValue, attentionBackward, attentionForward } from './attention.ts';
import type { FFNOutput } from './ffn.ts';
import type { LayerNormOutput } from './layernorm.ts';
import { mlpBackward, mlpForward } from './moe.ts';
import { normBackward, normForward } from './norm.ts';
import { preLnBlockBackward, preLnBlockForward } from './preln.ts';

/** What the forward pass computed and the backward pass needs. */
export interface BlockOutput {
  /** The block's output h, [T, d]. */
  readonly h: Tensor;
  /** The block's input x, [T, d]. */
  readonly x: Tensor;
  readonly attn: AttentionOutput;
  /** LN₁ of x + attn(x); its `y` is n. (Pre-LN, `preln.ts`: LN₁ of x, the attention's input.) */
  readonly ln1: LayerNormOutput;
  /** The FFN's record (with experts: a `MoEOutput` of `moe.ts`). */
  readonly ffn: FFNOutput;
  /** LN₂ of n + ffn(n); its `y` is h. (Pre-LN: LN₂ of a, the FFN's input.) */
  readonly ln2: LayerNormOutput;
}

/**
 * Block `layer` on x [T, d]: n = LN₁(x + attn(x)); h = LN₂(n + ffn(n)).
 * @param dropout the generator for this forward pass when training (each sublayer
 *   forks its own named stream from it); undefined for evaluation
 */
export async function blockForward(params: Params, config: GPTConfig, layer: number, x: Tensor, past?: KeyValue, dropout?: Rng): Promise<BlockOutput> {
  if (usesPreLN(config)) return preLnBlockForward(params, config, layer, x, past, dropout);
  const { ln_1, ln_2 } = layerParams(params, config, layer);
  const attn = await attentionForward(params, config, layer, x, past, dropout);
  const ln1 = normForward(ln_1, config, add(x, attn.y));
  const n = ln1.y;
  const ffn = await mlpForward(params, config, layer, n, dropout);
  const ln2 = normForward(ln_2, config, add(n, ffn.y));
  return { h: ln2.y, x, attn, ln1, ffn, ln2 };
}

/** Gradients of {@link blockForward}: the input's and this block's twelve parameters' (by name). */
export interface BlockGrads {
  /** dL/dx, [T, d] */
  readonly dx: Tensor;
  /** Every `h.{layer}.*` parameter's gradient. */
  readonly grads: Readonly<Record<string, Tensor>>;
}

/** Backward of block `layer` given dh = dL/dh [T, d]. */
export async function blockBackward(params: Params, config: GPTConfig, layer: number, fwd: BlockOutput, dh: Tensor): Promise<BlockGrads> {
  if (usesPreLN(config)) return preLnBlockBackward(params, config, layer, fwd, dh);
  const { ln_1, ln_2 } = layerParams(params, config, layer);
  const ln2 = normBackward(ln_2, config, fwd.ln2, dh); // dz₂: [T, d]
  const ffn = await mlpBackward(params, config, layer, fwd.ffn, ln2.dx);
  const dn = add(ln2.dx, ffn.dx); // [T, d]
  const ln1 = normBackward(ln_1, config, fwd.ln1, dn); // dz₁: [T, d]
  const attn = await attentionBackward(params, config, layer, fwd.attn, ln1.dx);
  const dx = add(ln1.dx, attn.dx); // [T, d]
  return { dx, grads: blockGrads(layer, attn.grads, ln1.grads, ffn.grads, ln2.grads) };
}

/** A block's gradients by name, in checkpoint order: the attention's and the FFN's (already named), and the two norms'. */
export function blockGrads(layer: number, attn: Readonly<Record<string, Tensor>>, ln1: NormParams, mlp: Readonly<Record<string, Tensor>>, ln2: NormParams): Readonly<Record<string, Tensor>> {
  return { ...attn, ...namedLayerPart(layer, 'ln_1', ln1), ...mlp, ...namedLayerPart(layer, 'ln_2', ln2) };
}
