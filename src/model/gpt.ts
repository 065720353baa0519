/**
 * The whole GPT-1 forward pass (paper §3.1, eq. 2):
 *
 *     h₀ = U·W_e + W_p
 *     h_l = transformer_block(h_{l−1})    ∀ l ∈ [1, n]
 *     P(u) = softmax(h_n·W_eᵀ)
 *
 * Original code (`train.py`): `model(X, M, Y, train, reuse)`: `embed`, then
 * `for layer in range(n_layer): h = block(h, 'h%d'%layer, ...)`, then the tied
 * `lm_logits`.
 *
 * ## The forward pass on one screen
 * Every line names the file that computes it; the symbols are in the table below.
 *
 *     forward(params, config, ids)                              ids: T token ids (u in the paper)
 *       W̃_e, W̃_p = drop(W_e), drop(W_p)                        embedding.ts   [V, d], [n_ctx, d]   (training only)
 *       h = W̃_e[ids] + W̃_p[T₀ … T₀+T−1]                        embedding.ts   [T, d]        eq. 2: h₀ = U·W_e + W_p
 *       for l = 1 … n:                                           block.ts                     eq. 2: h_l = transformer_block(h_{l−1})
 *         q, k, v = split_heads(h·W_attn + b_attn)               attention.ts   q [H, T, d_h]; k, v [H, S, d_h] (cache + new)
 *         w = (q·kᵀ/√d_h) ⊙ B − 1e9·(1 − B)                       attention.ts   [H, T, S]     B: the causal mask, B[i, j] = 1 iff j ≤ T₀ + i
 *         a = merge_heads(drop(softmax(w))·v)                    attention.ts   [T, d]
 *         n = LN₁(h + drop(a·W_proj + b_proj))                   layernorm.ts   [T, d]        Post-LN, ε inside the rsqrt
 *         m = GELU(n·W_fc + b_fc)                                ffn.ts         [T, d_ff]     GELU: the tanh approximation
 *         h = LN₂(n + drop(m·W_proj' + b_proj'))                 block.ts       [T, d]
 *       logits = h·W̃_eᵀ                                         head.ts        [T, V]        eq. 2: P(u) = softmax(h_n·W_eᵀ), tied head
 *       L₁ = mean over t of −log softmax(logits[t])[ids[t+1]]   objectives.ts  a number      eq. 1 (as a loss to minimise)
 *
 * Every product (·) is a gpu.js kernel (`kernels/matmul.ts`); `drop` is dropout
 * (`dropout.ts`), the identity when evaluating.
 *
 * ## Symbols
 * The same letters mean the same things in every file of `src/model/`:
 *
 * | symbol | meaning | GPT-1 | config field |
 * |---|---|---|---|
 * | T | positions (tokens) in this call: the sequence, or the new tokens after a cache | ≤ 512 | — |
 * | T₀ | positions already in the key/value cache (0 without one); the T new ones sit at T₀ … T₀+T−1 (`T0` in code, `positionOffset` in `embedding.ts`) | — | — |
 * | S | key positions each query sees: S = T₀ + T | ≤ 512 | — |
 * | Pₕ | head h's attention probabilities, softmax(wₕ), [T, S] (`attention.ts`); P alone is always a probability, never a count | — | — |
 * | n | layers (blocks); l numbers them | 12 | `n_layer` |
 * | d | model width, the size of every hidden state h_l | 768 | `n_embd` |
 * | H | attention heads | 12 | `n_head` |
 * | d_h | head width, d / H | 64 | — |
 * | d_ff | inner width of the feed-forward network | 3072 | `n_inner` |
 * | V | rows of the token embedding: BPE tokens plus special tokens | 40478 (+ 3 when fine-tuning) | `n_vocab + n_special` |
 * | n_ctx | positions with a learned embedding (the paper's context size k) | 512 | `n_ctx` |
 * | W_e, W_p | token embedding [V, d], position embedding [n_ctx, d] | — | `tokens_embed.weight`, `positions_embed.weight` |
 * | h_l | the hidden state after block l, [T, d]; h₀ is the embedding | — | — |
 * | B | the causal mask, B[i, j] = 1 if key j may be seen by query i | — | — |
 * | M | per-token loss mask (1 = counts), length T | — | — |
 * | U | the context: the token ids, one-hot as a matrix [T, V] | — | — |
 * | E, k | experts per block (0: one dense FFN), experts per token (`moe.ts`) | 0, — | `n_experts`, `experts_top_k` |
 *
 * Block l's weights are read through `layerParams(params, config, l)` (`params.ts`),
 * a typed record whose paths are the checkpoint names `h.{l}.…`: W_attn and b_attn
 * are `.attn.c_attn.weight` and `.attn.c_attn.bias`, W_proj and b_proj `.attn.c_proj.*`,
 * LN₁ and LN₂ `.ln_1` and `.ln_2`, W_fc and W_proj' `.mlp.c_fc.*` and `.mlp.c_proj.*`.
 *
 * ## Dropout
 * `forward(..., { dropout: { rng } })` is a training forward pass: the embedding
 * matrices, the attention probabilities and both residual branches are dropped out
 * as in the original (see `dropout.ts` for the table), with masks drawn from named
 * streams forked from `rng` and saved in the output, so {@link backward} applies the
 * same masks. Without `dropout` the pass is deterministic (evaluation).
 *
 * ## Backward
 * {@link backward} runs the chain rule from the top down:
 *
 *     dh_n  = dlogits·W̃_e + dHidden                       [T, d]   (tied head, plus a fine-tuning head's gradient)
 *     dh_{l−1} = block_l backward of dh_l               l = n … 1
 *     dW̃_e  = dlogitsᵀ·h_n + scatter-add of dh₀ rows at ids      (W_e is read twice: head and embedding)
 *     dW̃_p  = dh₀ rows at their positions
 *     dW_e  = drop(dW̃_e),  dW_p = drop(dW̃_p)             (the embedding dropout masks)
 *
 * ## Batches
 * A batch is several sequences: run {@link forward} and {@link backward} per sequence
 * and combine the gradients with {@link addGrads} and {@link scaleGrads}.
 * {@link batchLmLossAndGrads} does that for the language-model loss, averaging over
 * sequences like the original (`tf.reduce_mean(lm_losses)` of per-sequence means).
 *
 * ## Switches (docs/evolution.md)
 * The outline above is GPT-1, every switch off. Each switch changes the lines it
 * names, in one file; with all of them off the pass is GPT-1's, bit for bit:
 *
 * | switch | what changes | where |
 * |---|---|---|
 * | `position_embedding: rope` | h = W̃_e[ids] (no W_p, no dW_p); q and k rotated to their positions right after split_heads | `embedding.ts`; `attention.ts` → `rope.ts` |
 * | `normalization: rmsnorm` | every LN is RMSNorm (gain only) | `norm.ts` → `rmsnorm.ts` |
 * | `norm_placement: pre` | a = h + drop(attn(LN₁(h))), h = a + drop(ffn(LN₂(a))); then h_n ← ln_f(h_n) before the head (the last `hiddenStates` entry is after it, as in HF GPT-2/LLaMA), and the backward starts with ln_f's | `block.ts` → `preln.ts`; here |
 * | `afn: swiglu` | m = silu(n·W_gate + b_gate) ⊙ (n·W_fc + b_fc) | `ffn.ts` → `swiglu.ts` |
 * | `n_experts: E` | the FFN is the top-k of E experts' FFNs, weighted by the router; the objective adds `moe_aux_loss_coef` × the mean load-balancing loss (`moeAuxLoss`), whose gradient {@link backward} includes | `block.ts` → `moe.ts`; here |
 *
 * @module
 */
import { type GPTConfig, nExperts, nTokenRows, usesRope } from '../config.ts';
import { type Params, modelParams, namedModelPart, paramShapes, validateParams } from '../params.ts';
import { type Rng, fork } from '../random.ts';
import { type Tensor, add, assertShape, scale, zeros } from '../tensor.ts';
import type { KeyValue } from './attention.ts';
import { type BlockOutput, blockBackward, blockForward } from './block.ts';
import { dropoutBackward } from './dropout.ts';
import { type EmbeddingDropout, embeddingBackward, embeddingDropout, embeddingForward, sharedEmbeddingDropout, validateIds } from './embedding.ts';
import { headBackward, headForward } from './head.ts';
import type { LayerNormOutput } from './layernorm.ts';
import type { MoEOutput } from './moe.ts';
import { normBackward, normForward } from './norm.ts';
import { lmLoss, lmLossBackward } from './objectives.ts';

export interface ForwardOptions {
  /** Keys/values of earlier positions, one entry per layer (from a previous call's `present`). */
  readonly past?: readonly KeyValue[];
  /** Skip the [T, n_vocab] logits (e.g. when only hidden states are wanted). Default false. */
  readonly skipLogits?: boolean;
  /**
   * Training mode: apply dropout (rates from the config) with masks drawn from `rng`.
   * Absent: evaluation, no dropout. The same rng gives the same masks.
   *
   * `embedding` optionally supplies an embedding dropout already drawn with
   * {@link embeddingDropout} from the same `params`, to share one mask over the
   * embedding matrices between the sequences of a batch, as the original does (one
   * `we = dropout(we, ...)` per `model()` call, i.e. per batch). It also saves drawing
   * a [n_vocab, n_embd] mask per sequence (about 2 s for GPT-1's 31M entries).
   */
  readonly dropout?: { readonly rng: Rng; readonly embedding?: EmbeddingDropout };
}

export interface ForwardOutput {
  /** Next-token logits, [T, n_vocab + n_special] (empty [T, 0] when `skipLogits`). */
  readonly logits: Tensor;
  /** h₀, h₁, …, h_n: the embeddings then every block's output, each [T, d] (Hugging Face's `hidden_states`). */
  readonly hiddenStates: readonly Tensor[];
  /** Attention probabilities per layer, each [n_head, T, S] (S = T₀ + T). */
  readonly attentions: readonly Tensor[];
  /** Keys/values of all S = T₀ + T positions per layer: pass as `past` to continue. */
  readonly present: readonly KeyValue[];
  /** Everything each block computed (the backward pass reads it). */
  readonly blocks: readonly BlockOutput[];
  /** The token ids and the position of the first one. */
  readonly ids: readonly number[];
  readonly positionOffset: number;
  /** The embedding matrices this pass used (dropped out when training) and their masks. */
  readonly embedding: EmbeddingDropout;
  /** Pre-LN only: the final norm ln_f of the last block's output (its `y` is the last `hiddenStates` entry). */
  readonly finalNorm?: LayerNormOutput;
  /** Mixture of experts only: the mean over layers of the load-balancing loss (`moe.ts`). */
  readonly moeAuxLoss?: number;
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
  validateParams(params, config); // a missing or misshapen tensor is a one-line error, not NaNs
  validateIds(config, ids, positionOffset);

  const rng = options.dropout?.rng;
  const embedding = options.dropout?.embedding ?? embeddingDropout(params, config, rng); // W̃_e, W̃_p (= W_e, W_p when evaluating)
  const h0 = embeddingForward(embedding.params, config, ids, positionOffset); // [T, d]
  const hiddenStates: Tensor[] = [h0];
  const blocks: BlockOutput[] = [];
  let h = h0;
  for (let layer = 0; layer < config.n_layer; layer++) {
    const block = await blockForward(params, config, layer, h, past?.[layer], rng);
    blocks.push(block);
    h = block.h; // [T, d]
    hiddenStates.push(h);
  }
  const { ln_f } = modelParams(params, config);
  const finalNorm = ln_f === undefined ? undefined : normForward(ln_f, config, h); // Pre-LN: h_n ← ln_f(h_n)
  if (finalNorm !== undefined) {
    h = finalNorm.y;
    hiddenStates[config.n_layer] = h;
  }
  const logits = options.skipLogits
    ? { shape: [ids.length, 0], data: new Float32Array(0) }
    : await headForward(embedding.params, h); // [T, n_vocab + n_special]
  const moeAuxLoss = nExperts(config) > 0 ? blocks.reduce((s, b) => s + (b.ffn as MoEOutput).aux, 0) / config.n_layer : undefined;
  return {
    ...(finalNorm === undefined ? {} : { finalNorm }),
    ...(moeAuxLoss === undefined ? {} : { moeAuxLoss }),
    logits,
    hiddenStates,
    attentions: blocks.map((b) => b.attn.probs),
    present: blocks.map((b) => b.attn.present),
    blocks,
    ids,
    positionOffset,
    embedding,
  };
}

/** Gradients arriving at the top of the model from the losses. */
export interface Upstream {
  /** dL/dlogits, [T, n_vocab + n_special] (e.g. from `lmLossBackward`). */
  readonly dLogits?: Tensor;
  /** dL/dh_n, [T, d]: the gradient on the final hidden state, e.g. from a fine-tuning classifier. */
  readonly dHidden?: Tensor;
}

/**
 * The gradient of a loss with respect to every parameter, by the chain rule through
 * the saved forward pass `fwd` (equations in the module documentation).
 *
 * @param fwd the output of {@link forward} on the same params (with its dropout masks, if any)
 * @param upstream dL/dlogits and/or dL/dh_n; the two are summed at h_n
 * @returns one fresh tensor per parameter, same names and shapes as `params`
 * @throws if neither upstream gradient is given or one has the wrong shape
 */
export async function backward(params: Params, config: GPTConfig, fwd: ForwardOutput, upstream: Upstream): Promise<Params> {
  const { dLogits, dHidden } = upstream;
  if (dLogits === undefined && dHidden === undefined) throw new Error('backward needs upstream.dLogits or upstream.dHidden');
  const T = fwd.ids.length;
  const d = config.n_embd;
  const hN = fwd.hiddenStates[config.n_layer]; // [T, d]

  let dh = zeros([T, d]); // dL/dh_n
  let dTokensFromHead: Tensor | undefined; // the head's share of dW̃_e
  if (dLogits !== undefined) {
    assertShape(dLogits, [T, nTokenRows(config)], 'upstream.dLogits');
    const head = await headBackward(fwd.embedding.params, hN, dLogits);
    dh = head.dh;
    dTokensFromHead = head.dTokens;
  }
  if (dHidden !== undefined) {
    assertShape(dHidden, [T, d], 'upstream.dHidden');
    dh = add(dh, dHidden);
  }

  const grads: Record<string, Tensor> = {};
  const { ln_f } = modelParams(params, config); // Pre-LN only
  if (ln_f !== undefined) {
    if (fwd.finalNorm === undefined) throw new Error('backward: config has the final norm ln_f, but the forward pass did not run it');
    const lnf = normBackward(ln_f, config, fwd.finalNorm, dh);
    Object.assign(grads, namedModelPart('ln_f', lnf.grads));
    dh = lnf.dx; // dL/dh_n before ln_f
  }
  for (let layer = config.n_layer - 1; layer >= 0; layer--) {
    const block = await blockBackward(params, config, layer, fwd.blocks[layer], dh);
    Object.assign(grads, block.grads);
    dh = block.dx; // dL/dh_{layer}
  }

  const emb = embeddingBackward(config, fwd.ids, dh, fwd.positionOffset); // dh is dL/dh₀ now
  const dTokensDropped = dTokensFromHead === undefined ? emb.dTokens : add(emb.dTokens, dTokensFromHead); // dW̃_e
  Object.assign(grads, namedModelPart('tokens_embed', { weight: dropoutBackward(dTokensDropped, fwd.embedding.tokens) }));
  if (!usesRope(config)) Object.assign(grads, namedModelPart('positions_embed', { weight: dropoutBackward(emb.dPositions, fwd.embedding.positions) }));

  const ordered: Record<string, Tensor> = {}; // checkpoint order, like params
  for (const [name] of paramShapes(config)) ordered[name] = grads[name];
  return Object.freeze(ordered);
}

/**
 * The language-model loss L₁ of one sequence (mean next-token cross-entropy, see
 * `objectives.ts`) and its gradient with respect to every parameter. With experts,
 * the gradient is of the training objective L₁ + coef·aux, and `moeAuxLoss` is aux.
 * @param mask optional per-token mask M, length T
 * @param options forward options, e.g. `{ dropout: { rng } }` for a training step
 */
export async function lmLossAndGrads(
  params: Params,
  config: GPTConfig,
  ids: readonly number[],
  mask?: readonly number[],
  options: ForwardOptions = {},
): Promise<{ loss: number; grads: Params; moeAuxLoss?: number }> {
  const fwd = await forward(params, config, ids, options);
  const loss = lmLoss(fwd.logits, ids, mask);
  const grads = await backward(params, config, fwd, { dLogits: lmLossBackward(fwd.logits, ids, mask) });
  return fwd.moeAuxLoss === undefined ? { loss, grads } : { loss, grads, moeAuxLoss: fwd.moeAuxLoss };
}

/**
 * The language-model loss and gradients of a batch of sequences, averaged over the
 * sequences (each sequence's loss is already a mean over its tokens), as the original
 * `tf.reduce_mean(lm_losses)`. With `dropout`, one embedding dropout for the whole
 * batch is drawn from `fork(dropout.rng, 'embedding')` by {@link sharedEmbeddingDropout}
 * (as the original's one mask of `we` per batch) and sequence i draws its other masks
 * from `fork(dropout.rng, String(i))`.
 */
export async function batchLmLossAndGrads(
  params: Params,
  config: GPTConfig,
  batch: readonly { readonly ids: readonly number[]; readonly mask?: readonly number[] }[],
  dropout?: { readonly rng: Rng },
): Promise<{ loss: number; grads: Params; moeAuxLoss?: number }> {
  if (batch.length === 0) throw new Error('batchLmLossAndGrads: the batch is empty');
  const embedding = sharedEmbeddingDropout(params, config, dropout); // one for the batch, from fork(dropout.rng, 'embedding')
  let loss = 0;
  let aux = 0;
  let sum: Params | undefined;
  for (let i = 0; i < batch.length; i++) {
    const options: ForwardOptions = dropout === undefined ? {} : { dropout: { rng: fork(dropout.rng, String(i)), embedding } };
    const one = await lmLossAndGrads(params, config, batch[i].ids, batch[i].mask, options);
    loss += one.loss;
    aux += one.moeAuxLoss ?? 0;
    sum = sum === undefined ? one.grads : addGrads(sum, one.grads);
  }
  const out = { loss: loss / batch.length, grads: scaleGrads(sum as Params, 1 / batch.length) };
  return nExperts(config) > 0 ? { ...out, moeAuxLoss: aux / batch.length } : out;
}

/** a + b, parameter by parameter (both must have the same names and shapes). */
export function addGrads(a: Params, b: Params): Params {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(a)) {
    if (b[name] === undefined) throw new Error(`addGrads: ${name} is missing from the right operand`);
    out[name] = add(a[name], b[name]);
  }
  if (Object.keys(b).length !== Object.keys(a).length) throw new Error('addGrads: the operands have different parameters');
  return Object.freeze(out);
}

/** s·g, parameter by parameter. */
export function scaleGrads(g: Params, s: number): Params {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(g)) out[name] = scale(g[name], s);
  return Object.freeze(out);
}
