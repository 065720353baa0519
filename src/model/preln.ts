/**
 * The Pre-LN block (Xiong et al. 2020, "On Layer Normalization in the Transformer
 * Architecture"), as in GPT-2, LLaMA and Mixtral. A switch
 * (`config.norm_placement = "pre"`), not GPT-1: GPT-1's block is Post-LN (`block.ts`).
 *
 * Xiong et al. §3: "the Pre-LN Transformer [...] puts the layer normalization inside
 * the residual connection and equips [it] with an additional final-layer
 * normalization before prediction", and their Theorem 1: in Post-LN "the expected
 * gradients of the parameters near the output layer are large", which is why Post-LN
 * needs the learning-rate warm-up. The residual stream is never normalised; each
 * sublayer reads a normalised copy:
 *
 *     a = x + attn(LN₁(x))            [T, d]
 *     h = a + ffn(LN₂(a))             [T, d]
 *
 * and the model applies a final norm `ln_f` to h_n before the tied head (`gpt.ts`).
 * LN is the norm of `config.normalization` (`norm.ts`). With every sublayer's output
 * zeroed, h = x exactly (tested): the identity path of Pre-LN is exact.
 *
 * ## Backward
 * Two residual connections, each passing the gradient straight through plus through
 * its branch:
 *
 *     da = dh + LN₂ backward of (ffn backward of dh)
 *     dx = da + LN₁ backward of (attn backward of da)
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { type Params, layerParams } from '../params.ts';
import type { Rng } from '../random.ts';
import { type Tensor, add } from '../tensor.ts';
import { type KeyValue, attentionBackward, attentionForward } from './attention.ts';
import { type BlockGrads, type BlockOutput, blockGrads } from './block.ts';
import { mlpBackward, mlpForward } from './moe.ts';
import { normBackward, normForward } from './norm.ts';

/**
 * Pre-LN block `layer` on x [T, d]. The record is the Post-LN block's with other
 * meanings: `ln1` = LN₁(x) (the attention's input), `ln2` = LN₂(a) (the FFN's input).
 */
export async function preLnBlockForward(params: Params, config: GPTConfig, layer: number, x: Tensor, past?: KeyValue, dropout?: Rng): Promise<BlockOutput> {
  const { ln_1, ln_2 } = layerParams(params, config, layer);
  const ln1 = normForward(ln_1, config, x);
  const attn = await attentionForward(params, config, layer, ln1.y, past, dropout);
  const a = add(x, attn.y); // [T, d]
  const ln2 = normForward(ln_2, config, a);
  const ffn = await mlpForward(params, config, layer, ln2.y, dropout);
  return { h: add(a, ffn.y), x, attn, ln1, ffn, ln2 };
}

/** Backward of {@link preLnBlockForward} given dh [T, d]. */
export async function preLnBlockBackward(params: Params, config: GPTConfig, layer: number, fwd: BlockOutput, dh: Tensor): Promise<BlockGrads> {
  const { ln_1, ln_2 } = layerParams(params, config, layer);
  const ffn = await mlpBackward(params, config, layer, fwd.ffn, dh);
  const ln2 = normBackward(ln_2, config, fwd.ln2, ffn.dx);
  const da = add(dh, ln2.dx); // [T, d]
  const attn = await attentionBackward(params, config, layer, fwd.attn, da);
  const ln1 = normBackward(ln_1, config, fwd.ln1, attn.dx);
  const dx = add(da, ln1.dx); // [T, d]
  return { dx, grads: blockGrads(layer, attn.grads, ln1.grads, ffn.grads, ln2.grads) };
}
