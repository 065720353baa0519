/**
 * Input embedding: token embedding plus learned position embedding (paper §3.1, eq. 2).
 *
 * > h₀ = U·W_e + W_p
 *
 * where U = (u_{-k}, …, u_{-1}) is the context of tokens as one-hot rows, W_e is the
 * token embedding matrix and W_p the position embedding matrix. Multiplying a
 * one-hot row by W_e selects one row of W_e, so U·W_e is a row lookup (a gather),
 * not a matrix product.
 *
 * Original code (`train.py`): `embed(X, we)`, which gathers rows of one matrix `we`
 * holding the vocabulary, the special tokens and the n_ctx positions
 * (`[n_vocab + n_special + n_ctx, n_embd]`) for a pair (token id, position id) per
 * input and sums the two channels: `h = tf.reduce_sum(tf.gather(we, X), 2)`. Here the
 * two parts of `we` are the two Hugging Face tensors `tokens_embed.weight` and
 * `positions_embed.weight`.
 *
 * @module
 */
import { type GPTConfig, nTokenRows } from '../config.ts';
import type { Params } from '../params.ts';
import { type Tensor, tensor } from '../tensor.ts';

/**
 * Checks a sequence of token ids before it reaches the model: non-empty, fits the
 * context (`positionOffset + T ≤ n_ctx`), every id an integer row of W_e.
 * @throws a one-line error naming the first problem.
 */
export function validateIds(config: GPTConfig, ids: readonly number[], positionOffset = 0): void {
  const T = ids.length;
  if (T === 0) throw new Error('the input sequence is empty: at least one token id is needed');
  if (positionOffset + T > config.n_ctx) {
    throw new Error(`sequence too long: ${positionOffset > 0 ? `${positionOffset} cached + ` : ''}${T} tokens exceed the context of n_ctx = ${config.n_ctx}`);
  }
  const V = nTokenRows(config);
  for (let t = 0; t < T; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new Error(`token id ${id} at position ${t} is outside the vocabulary [0, ${V})`);
    }
  }
}

/**
 * h₀[t, :] = W_e[ids[t], :] + W_p[positionOffset + t, :]
 *
 * @param ids token ids, length T
 * @param positionOffset position of `ids[0]` (non-zero when continuing from a key/value cache)
 * @returns h₀, [T, n_embd]
 */
export function embeddingForward(params: Params, config: GPTConfig, ids: readonly number[], positionOffset = 0): Tensor {
  validateIds(config, ids, positionOffset);
  const d = config.n_embd;
  const We = params['tokens_embed.weight'].data; // [n_vocab + n_special, d]
  const Wp = params['positions_embed.weight'].data; // [n_ctx, d]
  const h = new Float32Array(ids.length * d); // [T, d]
  for (let t = 0; t < ids.length; t++) {
    const tokenRow = ids[t] * d;
    const positionRow = (positionOffset + t) * d;
    for (let c = 0; c < d; c++) h[t * d + c] = We[tokenRow + c] + Wp[positionRow + c];
  }
  return tensor([ids.length, d], h);
}
