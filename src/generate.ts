/**
 * Sampling text from the language model, one token at a time, with a key/value cache.
 *
 * The model gives P(u_i | u_1 … u_{i−1}) = softmax(h_n·W_eᵀ) at the last position
 * (paper eq. 2). Generation draws u_i from it (or takes the arg-max), appends it,
 * and repeats. Recomputing all i positions at each step would cost O(i) block
 * evaluations per token; instead each step feeds only the new token and the cached
 * keys and values of the earlier positions (see `attention.ts`), which gives the
 * same logits because position t's hidden states never depend on later positions
 * (the causal mask).
 *
 * The original repository has no sampling code (it fine-tunes); this follows the
 * usual practice: temperature τ divides the logits, top-k keeps the k largest,
 * greedy takes the arg-max (ties → lowest id). Only the n_vocab ordinary tokens are
 * candidates: the fine-tuning special tokens never appear in generated text.
 *
 * @module
 */
import type { GPTConfig } from './config.ts';
import { type KeyValue } from './model/attention.ts';
import { forward } from './model/gpt.ts';
import type { Params } from './params.ts';
import { type Rng, rng, uniform } from './random.ts';

export interface GenerateOptions {
  /** How many tokens to produce (fewer if the context n_ctx fills up). */
  readonly maxTokens: number;
  /** Always take the most probable token. */
  readonly greedy?: boolean;
  /** Softmax temperature τ > 0 (default 1). */
  readonly temperature?: number;
  /** Sample among the k most probable tokens only (default: all). */
  readonly topK?: number;
  /** Seed of the sampling generator (default 0). */
  readonly seed?: number;
  /** Use the key/value cache (default true); false recomputes the whole prefix every step. */
  readonly useCache?: boolean;
}

/**
 * Picks the next token from one row of logits: arg-max when greedy, otherwise a draw
 * from softmax(logits/τ) restricted to the top k. Returns the id and the next generator.
 */
export function pickToken(logits: Float32Array, options: GenerateOptions, g: Rng): [number, Rng] {
  if (options.greedy) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    return [best, g];
  }
  const tau = options.temperature ?? 1;
  if (!(tau > 0)) throw new Error(`temperature must be > 0, got ${tau}`);
  const k = Math.min(options.topK ?? logits.length, logits.length);
  if (!(k >= 1)) throw new Error(`top-k must be ≥ 1, got ${options.topK}`);
  // Candidates: the k largest logits (ties broken by lower id), as (id, logit/τ).
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, k);
  const max = logits[order[0]] / tau;
  const weights = order.map((v) => Math.exp(logits[v] / tau - max));
  const total = weights.reduce((s, w) => s + w, 0);
  const [u, next] = uniform(g);
  let acc = 0;
  for (let i = 0; i < order.length; i++) {
    acc += weights[i] / total;
    if (u < acc) return [order[i], next];
  }
  return [order[order.length - 1], next];
}

/**
 * Yields generated token ids one at a time after `prompt`.
 * Stops after `maxTokens` or when the context of n_ctx positions is full.
 */
export async function* generate(params: Params, config: GPTConfig, prompt: readonly number[], options: GenerateOptions): AsyncGenerator<number> {
  if (prompt.length === 0) throw new Error('the prompt is empty: give at least one token');
  if (prompt.length > config.n_ctx) throw new Error(`the prompt has ${prompt.length} tokens, more than the context n_ctx = ${config.n_ctx}`);
  const useCache = options.useCache ?? true;
  let g = rng(options.seed ?? 0);
  let ids = [...prompt];
  let past: readonly KeyValue[] | undefined;
  let feed = ids; // what the next forward call sees
  for (let step = 0; step < options.maxTokens; step++) {
    const out = await forward(params, config, feed, { past });
    const V = out.logits.shape[1];
    const last = out.logits.data.subarray((feed.length - 1) * V, (feed.length - 1) * V + config.n_vocab);
    let next: number;
    [next, g] = pickToken(last, options, g);
    yield next;
    ids = [...ids, next];
    // Feeding `next` puts it at position ids.length − 1, which needs a position embedding.
    if (ids.length > config.n_ctx) return;
    if (useCache) {
      past = out.present;
      feed = [next];
    } else {
      feed = ids;
    }
  }
}

/** All generated ids as an array (convenience over {@link generate}). */
export async function generateIds(params: Params, config: GPTConfig, prompt: readonly number[], options: GenerateOptions): Promise<number[]> {
  const out: number[] = [];
  for await (const id of generate(params, config, prompt, options)) out.push(id);
  return out;
}
