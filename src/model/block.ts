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
 * (GPT-2 moved the LayerNorm in front of each sublayer; that is a different model.)
 *
 * Original code (`train.py`): `block(x, scope, train, scale)`:
 * `a = attn(x, 'attn', nx, n_head, train=train, scale=scale)`, `n = norm(x+a, 'ln_1')`,
 * `m = mlp(n, 'mlp', nx*4, train=train)`, `h = norm(n+m, 'ln_2')`.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import type { Params } from '../params.ts';
import { type Tensor, add } from '../tensor.ts';
import { type AttentionOutput, type KeyValue, attentionForward } from './attention.ts';
import { type FFNOutput, ffnForward } from './ffn.ts';
import { type LayerNormOutput, layerNormForward } from './layernorm.ts';

/** What the forward pass computed and the backward pass needs. */
export interface BlockOutput {
  /** The block's output h, [T, d]. */
  readonly h: Tensor;
  /** The block's input x, [T, d]. */
  readonly x: Tensor;
  readonly attn: AttentionOutput;
  /** LN₁ of x + attn(x); its `y` is n. */
  readonly ln1: LayerNormOutput;
  readonly ffn: FFNOutput;
  /** LN₂ of n + ffn(n); its `y` is h. */
  readonly ln2: LayerNormOutput;
}

/** Block `layer` on x [T, d]: n = LN₁(x + attn(x)); h = LN₂(n + ffn(n)). */
export async function blockForward(params: Params, config: GPTConfig, layer: number, x: Tensor, past?: KeyValue): Promise<BlockOutput> {
  const p = `h.${layer}.`;
  const eps = config.layer_norm_epsilon;
  const attn = await attentionForward(params, config, layer, x, past);
  const ln1 = layerNormForward(add(x, attn.y), params[`${p}ln_1.weight`], params[`${p}ln_1.bias`], eps);
  const n = ln1.y;
  const ffn = await ffnForward(params, config, layer, n);
  const ln2 = layerNormForward(add(n, ffn.y), params[`${p}ln_2.weight`], params[`${p}ln_2.bias`], eps);
  return { h: ln2.y, x, attn, ln1, ffn, ln2 };
}
