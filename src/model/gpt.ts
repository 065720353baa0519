/**
 * The whole GPT-1 forward pass (paper §3.1, eq. 2):
 *
 *     h₀ = U·W_e + W_p
 *     h_l = transformer_block(h_{l−1})    ∀ l ∈ [1, n]
 *     P(u) = softmax(h_n·W_eᵀ)
 *
 * Original code (`train.py`): `model(X, M, Y, train, reuse)`: `embed`, then
 * `for layer in range(n_layer): h = block(h, 'h%d'%layer, ...)`, then the tied
 * `lm_logits`. Dropout (training only) lives in the training code.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import type { Params } from '../params.ts';
import type { Tensor } from '../tensor.ts';
import type { KeyValue } from './attention.ts';
import { type BlockOutput, blockForward } from './block.ts';
import { embeddingForward, validateIds } from './embedding.ts';
import { headForward } from './head.ts';

export interface ForwardOptions {
  /** Keys/values of earlier positions, one entry per layer (from a previous call's `present`). */
  readonly past?: readonly KeyValue[];
  /** Skip the [T, n_vocab] logits (e.g. when only hidden states are wanted). Default false. */
  readonly skipLogits?: boolean;
}

export interface ForwardOutput {
  /** Next-token logits, [T, n_vocab + n_special] (empty [T, 0] when `skipLogits`). */
  readonly logits: Tensor;
  /** h₀, h₁, …, h_n: the embeddings then every block's output, each [T, d] (Hugging Face's `hidden_states`). */
  readonly hiddenStates: readonly Tensor[];
  /** Attention probabilities per layer, each [n_head, T, P+T]. */
  readonly attentions: readonly Tensor[];
  /** Keys/values of all P+T positions per layer: pass as `past` to continue. */
  readonly present: readonly KeyValue[];
  /** Everything each block computed (the backward pass reads it). */
  readonly blocks: readonly BlockOutput[];
  /** The token ids and the position of the first one. */
  readonly ids: readonly number[];
  readonly positionOffset: number;
}

/** Number of positions already in a key/value cache. */
export function cachedLength(past: readonly KeyValue[] | undefined): number {
  return past === undefined || past.length === 0 ? 0 : past[0].k.shape[1];
}

/**
 * GPT-1 on one sequence of token ids.
 * @throws a one-line error for an empty or overlong sequence or an id outside the vocabulary.
 */
export async function forward(params: Params, config: GPTConfig, ids: readonly number[], options: ForwardOptions = {}): Promise<ForwardOutput> {
  const past = options.past;
  if (past !== undefined && past.length !== config.n_layer) {
    throw new Error(`the key/value cache has ${past.length} layers, the model has ${config.n_layer}`);
  }
  const positionOffset = cachedLength(past);
  validateIds(config, ids, positionOffset);

  const h0 = embeddingForward(params, config, ids, positionOffset); // [T, d]
  const hiddenStates: Tensor[] = [h0];
  const blocks: BlockOutput[] = [];
  let h = h0;
  for (let layer = 0; layer < config.n_layer; layer++) {
    const block = await blockForward(params, config, layer, h, past?.[layer]);
    blocks.push(block);
    h = block.h; // [T, d]
    hiddenStates.push(h);
  }
  const logits = options.skipLogits
    ? { shape: [ids.length, 0], data: new Float32Array(0) }
    : await headForward(params, h); // [T, n_vocab + n_special]
  return {
    logits,
    hiddenStates,
    attentions: blocks.map((b) => b.attn.probs),
    present: blocks.map((b) => b.attn.present),
    blocks,
    ids,
    positionOffset,
  };
}
