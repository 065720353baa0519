/**
 * Input embedding: token embedding plus learned position embedding (paper §3.1, eq. 2).
 *
 * > h₀ = U·W_e + W_p
 *
 * ```math
 * h_0 = U W_e + W_p
 * ```
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
 * ## Embedding dropout
 * The original drops entries of the embedding *matrix*, not of h₀:
 * `we = dropout(we, embd_pdrop, train)` comes first in `model()`, and the dropped `we`
 * is used both by `embed` and by the tied head (`lm_logits = tf.matmul(lm_h, we,
 * transpose_b=True)`). {@link embeddingDropout} does the same: it returns the
 * parameters with W̃_e = drop(W_e) and W̃_p = drop(W_p), which the caller passes to
 * both {@link embeddingForward} and `headForward`. So the token and the position part
 * of h₀ have independent masks, a token that occurs twice gets the same mask twice,
 * and the head sees the same dropped W̃_e. (Hugging Face instead drops units of the sum
 * h₀ and leaves its head undropped: a different noise.)
 *
 * ## Backward
 * h₀ is a sum of row lookups, so its gradient is a scatter-add ({@link embeddingBackward}):
 *
 *     dW_e[v, :] = Σ_{t : ids[t] = v} dh₀[t, :]      (a token seen twice gets both rows)
 *     dW_p[positionOffset + t, :] = dh₀[t, :]        (every other row of W_p gets 0)
 *
 * ## RoPE (switch)
 * With `position_embedding: rope` there is no W_p: h₀ = U·W_e, and the positions enter
 * in attention instead (`rope.ts`). `dPositions` is then an empty [0, d].
 *
 * @module
 */
import { type GPTConfig, nTokenRows, usesRope } from '../config.ts';
import { type Params, modelParams, namedModelPart } from '../params.ts';
import { type Rng, fork } from '../random.ts';
import { type Tensor, tensor } from '../tensor.ts';
import { type DropoutMask, dropoutForward, dropoutMask } from './dropout.ts';

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
  const { tokens_embed, positions_embed } = modelParams(params, config);
  const We = tokens_embed.weight.data; // [n_vocab + n_special, d]
  const Wp = positions_embed?.weight.data ?? new Float32Array((positionOffset + ids.length) * d); // [n_ctx, d] (RoPE: zeros, adding 0 exactly)
  const h = new Float32Array(ids.length * d); // [T, d]
  for (let t = 0; t < ids.length; t++) {
    const tokenRow = ids[t] * d;
    const positionRow = (positionOffset + t) * d;
    for (let c = 0; c < d; c++) h[t * d + c] = We[tokenRow + c] + Wp[positionRow + c];
  }
  return tensor([ids.length, d], h);
}

/** The embedding matrices after embedding dropout, and the masks that made them. */
export interface EmbeddingDropout {
  /** `params` with `tokens_embed.weight` and `positions_embed.weight` replaced by W̃_e, W̃_p (the others are the same tensors). */
  readonly params: Params;
  /** Mask over W_e, [n_vocab + n_special, d]; undefined when not training or embd_pdrop = 0. */
  readonly tokens?: DropoutMask;
  /** Mask over W_p, [n_ctx, d]. */
  readonly positions?: DropoutMask;
}

/**
 * Embedding dropout as in the original `model()`: `we = dropout(we, embd_pdrop, train)`,
 * one mask over each whole embedding matrix, drawn from the streams
 * `fork(r, 'tokens_embed.weight')` and `fork(r, 'positions_embed.weight')`.
 * @param r the generator for this forward pass, or undefined for evaluation (no dropout)
 */
export function embeddingDropout(params: Params, config: GPTConfig, r: Rng | undefined): EmbeddingDropout {
  if (r === undefined || config.embd_pdrop === 0) return { params };
  const { tokens_embed, positions_embed } = modelParams(params, config);
  const We = tokens_embed.weight; // [n_vocab + n_special, d]
  const tokens = dropoutMask(fork(r, 'tokens_embed.weight'), We.shape, config.embd_pdrop);
  const droppedTokens = namedModelPart('tokens_embed', { weight: dropoutForward(We, tokens) });
  if (positions_embed === undefined) return { params: Object.freeze({ ...params, ...droppedTokens }), tokens }; // RoPE: no W_p
  const Wp = positions_embed.weight; // [n_ctx, d]
  const positions = dropoutMask(fork(r, 'positions_embed.weight'), Wp.shape, config.embd_pdrop);
  const dropped = { ...params, ...droppedTokens, ...namedModelPart('positions_embed', { weight: dropoutForward(Wp, positions) }) };
  return { params: Object.freeze(dropped), tokens, positions };
}

/**
 * The one embedding dropout of a training batch: `dropout.embedding` when the caller
 * drew it already (to share it wider), else one drawn from `fork(dropout.rng, 'embedding')`;
 * undefined when evaluating (`dropout` undefined). The original draws one mask of `we`
 * per `model()` call, that is per batch, so every sequence of a batch uses this one.
 * Both batch objectives draw it here: `batchLmLossAndGrads` (`gpt.ts`, L₁) and the
 * fine-tuning loss (`train/objectives.ts`, L₃).
 */
export function sharedEmbeddingDropout(
  params: Params,
  config: GPTConfig,
  dropout: { readonly rng: Rng; readonly embedding?: EmbeddingDropout } | undefined,
): EmbeddingDropout | undefined {
  if (dropout === undefined) return undefined;
  return dropout.embedding ?? embeddingDropout(params, config, fork(dropout.rng, 'embedding'));
}

/** Gradients of {@link embeddingForward} with respect to the two matrices it reads. */
export interface EmbeddingGrads {
  /** dL/dW_e, [n_vocab + n_special, d]: zero except the rows of the tokens in `ids`. */
  readonly dTokens: Tensor;
  /** dL/dW_p, [n_ctx, d]: zero except rows positionOffset … positionOffset + T − 1. */
  readonly dPositions: Tensor;
}

/**
 * Backward of h₀[t, :] = W_e[ids[t], :] + W_p[positionOffset + t, :] given dh₀ [T, d]:
 * a scatter-add of the rows of dh₀ into the rows they were gathered from.
 */
export function embeddingBackward(config: GPTConfig, ids: readonly number[], dh0: Tensor, positionOffset = 0): EmbeddingGrads {
  validateIds(config, ids, positionOffset);
  const d = config.n_embd;
  const dTokens = new Float32Array(nTokenRows(config) * d); // [n_vocab + n_special, d]
  const positionRows = usesRope(config) ? 0 : config.n_ctx;
  const dPositions = new Float32Array(positionRows * d); // [n_ctx, d] (RoPE: [0, d])
  for (let t = 0; t < ids.length; t++) {
    const tokenRow = ids[t] * d;
    const positionRow = (positionOffset + t) * d;
    for (let c = 0; c < d; c++) {
      const g = dh0.data[t * d + c];
      dTokens[tokenRow + c] += g;
      if (positionRows > 0) dPositions[positionRow + c] = g;
    }
  }
  return { dTokens: tensor([nTokenRows(config), d], dTokens), dPositions: tensor([positionRows, d], dPositions) };
}
