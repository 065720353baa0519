/**
 * The tied output head: next-token logits from the final hidden states (paper eq. 2).
 *
 * > P(u) = softmax(h_n·W_eᵀ)
 *
 * ```math
 * P(u) = \operatorname{softmax}(h_n W_e^\top)
 * ```
 *
 * The output projection is the token embedding matrix W_e itself ("tied"), not a
 * copy and not a separate parameter: the same `tokens_embed.weight` tensor is read
 * here and in the embedding, so training updates both uses at once.
 *
 *     logits[t, v] = Σ_c h[t, c] · W_e[v, c]        [T, n_vocab + n_special]
 *
 * Original code (`train.py`, `model()`): `lm_logits = tf.matmul(lm_h, we,
 * transpose_b=True)`. The original `we` also holds the n_ctx position rows, so its
 * softmax ran over n_vocab + n_special + n_ctx columns; the released weights are the
 * same either way, and this implementation (like Hugging Face's `lm_head`) scores
 * only the token rows, which are the only possible targets.
 *
 * Because W_e is read twice (here and in the embedding), its gradient is the sum of
 * two contributions: {@link headBackward}'s dlogitsᵀ·h and the embedding's scatter-add.
 * `gpt.ts` adds them.
 *
 * @module
 */
import { matmul, matmulNT, matmulTN } from '../kernels/matmul.ts';
import type { Params } from '../params.ts';
import type { Tensor } from '../tensor.ts';

/**
 * logits = h·W_eᵀ, the argument of eq. 2's softmax: $`\text{logits} = h_n W_e^\top`$, with W_e the token embedding itself.
 * @param h final hidden states, [T, d]
 * @returns logits over every row of W_e, [T, n_vocab + n_special]
 */
export function headForward(params: Params, h: Tensor): Promise<Tensor> {
  return matmulNT(h, params['tokens_embed.weight']);
}

/** Gradients of {@link headForward}. */
export interface HeadGrads {
  /** dL/dh, [T, d] */
  readonly dh: Tensor;
  /** This head's share of dL/dW_e, [n_vocab + n_special, d] (the embedding adds its own). */
  readonly dTokens: Tensor;
}

/**
 * Backward of logits = h·W_eᵀ given dlogits [T, V]. From logits[t, v] = Σ_c h[t, c]·W_e[v, c]:
 *
 *     dh[t, c]   = Σᵥ dlogits[t, v]·W_e[v, c]     ⇒ dh   = dlogits·W_e      [T, V]·[V, d] (matmul)
 *     dW_e[v, c] = Σₜ dlogits[t, v]·h[t, c]       ⇒ dW_e = dlogitsᵀ·h       [V, T]·[T, d] (matmulTN)
 *
 * @param params the parameters the forward used (with embedding dropout: the dropped W̃_e)
 * @param h the final hidden states, [T, d]
 * @param dLogits [T, n_vocab + n_special]
 */
export async function headBackward(params: Params, h: Tensor, dLogits: Tensor): Promise<HeadGrads> {
  const dh = await matmul(dLogits, params['tokens_embed.weight']); // [T, V]·[V, d] → [T, d]
  const dTokens = await matmulTN(dLogits, h); // [T, V]ᵀ·[T, d] → [V, d]
  return { dh, dTokens };
}
