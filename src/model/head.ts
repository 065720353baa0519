/**
 * The tied output head: next-token logits from the final hidden states (paper eq. 2).
 *
 * > P(u) = softmax(h_n·W_eᵀ)
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
 * @module
 */
import { matmulNT } from '../kernels/matmul.ts';
import type { Params } from '../params.ts';
import type { Tensor } from '../tensor.ts';

/**
 * logits = h·W_eᵀ
 * @param h final hidden states, [T, d]
 * @returns logits over every row of W_e, [T, n_vocab + n_special]
 */
export function headForward(params: Params, h: Tensor): Promise<Tensor> {
  return matmulNT(h, params['tokens_embed.weight']);
}
