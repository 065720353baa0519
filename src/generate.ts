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
 * The original repository has no sampling code (it fine-tunes); this follows
 * Hugging Face's `generate` (transformers' logits processors, in their order):
 *
 * 1. **repetition penalty** θ (`repetition_penalty`, Keskar et al. 2019 as transformers
 *    defines it): the logit s of every token already in the sequence (prompt
 *    included) becomes s/θ if s > 0 and s·θ otherwise; θ = 1 changes nothing;
 * 2. **temperature** τ divides the logits;
 * 3. **top-k** keeps the k largest (ties → lower id); k = 0 keeps all;
 * 4. **top-p** (nucleus, Holtzman et al. 2019) keeps the smallest set of the most
 *    probable tokens whose probabilities sum to at least p; p = 1 keeps all;
 * 5. a draw from the renormalised distribution, or, when greedy, the arg-max of the
 *    penalised logits (ties → lowest id).
 *
 * Only the n_vocab ordinary tokens are candidates: the fine-tuning special tokens
 * never appear in generated text. Generation stops after `maxTokens`, when the
 * context n_ctx is full, or right after a stop sequence of ids (which is kept, as
 * transformers keeps its `eos_token_id`).
 *
 * @module
 */
import type { GPTConfig } from './config.ts';
import { type KeyValue } from './model/attention.ts';
import { forward } from './model/gpt.ts';
import type { Params } from './params.ts';
import { type Rng, rng, uniform } from './random.ts';

export interface GenerateOptions {
  /** How many tokens to produce (fewer if the context n_ctx fills up); Hugging Face's `max_new_tokens`. */
  readonly maxTokens: number;
  /** Always take the most probable token (Hugging Face's `do_sample=False`). */
  readonly greedy?: boolean;
  /** Softmax temperature τ > 0 (default 1). */
  readonly temperature?: number;
  /** Sample among the k most probable tokens only (default, or 0: all). */
  readonly topK?: number;
  /** Sample among the smallest set of most probable tokens reaching probability p, 0 < p ≤ 1 (default 1: all). */
  readonly topP?: number;
  /** Repetition penalty θ > 0 on tokens already in the sequence (default 1: none). */
  readonly repetitionPenalty?: number;
  /** Stop right after any of these id sequences has been generated (it is kept). */
  readonly stopSequences?: readonly (readonly number[])[];
  /** Seed of the sampling generator (default 0). */
  readonly seed?: number;
  /** Use the key/value cache (default true); false recomputes the whole prefix every step. */
  readonly useCache?: boolean;
}

/**
 * Hugging Face's repetition penalty: every token id in `seen` gets its logit s
 * replaced by s/θ when s > 0 and by s·θ otherwise (each id once, however often it
 * occurred). Returns a new array; θ = 1 returns an equal copy.
 */
export function applyRepetitionPenalty(logits: Float32Array, seen: readonly number[], penalty: number): Float32Array {
  if (!(penalty > 0)) throw new Error(`the repetition penalty must be > 0, got ${penalty}`);
  const out = Float32Array.from(logits);
  if (penalty === 1) return out;
  for (const id of new Set(seen)) {
    if (id < 0 || id >= out.length) continue;
    const s = logits[id];
    out[id] = s > 0 ? s / penalty : s * penalty;
  }
  return out;
}

/**
 * The nucleus of top-p sampling: given probabilities in decreasing order, how many of
 * the first ones to keep: the smallest n with p₁ + … + pₙ ≥ p (all of them when p ≥ 1,
 * or when rounding keeps the total just under p).
 */
export function nucleusSize(sortedProbs: readonly number[], p: number): number {
  if (!(p > 0 && p <= 1)) throw new Error(`top-p must be in (0, 1], got ${p}`);
  if (p >= 1) return sortedProbs.length;
  let cum = 0;
  for (let i = 0; i < sortedProbs.length; i++) {
    cum += sortedProbs[i];
    if (cum >= p) return i + 1;
  }
  return sortedProbs.length;
}

/** Whether `ids` ends with one of the `stops` sequences (empty ones never match). */
export function endsWithStop(ids: readonly number[], stops: readonly (readonly number[])[]): boolean {
  return stops.some((s) => s.length > 0 && s.length <= ids.length && s.every((id, i) => ids[ids.length - s.length + i] === id));
}

/**
 * Picks the next token from one row of logits: arg-max when greedy, otherwise a draw
 * from softmax(logits/τ) restricted to the top k and then to the top-p nucleus.
 * `seen` (the sequence so far) is what the repetition penalty applies to.
 * Returns the id and the next generator.
 */
export function pickToken(logits: Float32Array, options: GenerateOptions, g: Rng, seen: readonly number[] = []): [number, Rng] {
  const theta = options.repetitionPenalty ?? 1;
  const scores = theta === 1 ? logits : applyRepetitionPenalty(logits, seen, theta);
  if (options.greedy) {
    let best = 0;
    for (let v = 1; v < scores.length; v++) if (scores[v] > scores[best]) best = v;
    return [best, g];
  }
  const tau = options.temperature ?? 1;
  if (!(tau > 0)) throw new Error(`temperature must be > 0, got ${tau}`);
  const k = options.topK === undefined || options.topK === 0 ? scores.length : Math.min(options.topK, scores.length);
  if (!(k >= 1)) throw new Error(`top-k must be ≥ 0, got ${options.topK}`);
  // Candidates: the k largest logits (ties broken by lower id), as (id, logit/τ).
  const topk = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
  const max = scores[topk[0]] / tau;
  const all = topk.map((v) => Math.exp(scores[v] / tau - max));
  const sumK = all.reduce((s, w) => s + w, 0);
  const n = options.topP === undefined ? topk.length : nucleusSize(all.map((w) => w / sumK), options.topP);
  const order = topk.slice(0, n);
  const weights = all.slice(0, n);
  const total = weights.reduce((s, w) => s + w, 0);
  const [u, next] = uniform(g);
  let acc = 0;
  for (let i = 0; i < order.length; i++) {
    acc += weights[i] / total;
    if (u < acc) return [order[i], next];
  }
  return [order[order.length - 1], next];
}

/** One generated token: its id and its log-probability log P(id | sequence so far) under the model (before penalty, temperature, top-k, top-p). */
export interface GeneratedToken {
  readonly id: number;
  readonly logprob: number;
}

/** log softmax(row)[id], in float64. */
function logProbability(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (let v = 0; v < row.length; v++) if (row[v] > max) max = row[v];
  let sum = 0;
  for (let v = 0; v < row.length; v++) sum += Math.exp(row[v] - max);
  return row[id] - max - Math.log(sum);
}

/**
 * Yields the generated tokens one at a time after `prompt`, each with its
 * log-probability. Stops after `maxTokens`, when the context of n_ctx positions is
 * full, or right after a stop sequence.
 */
export async function* generateTokens(params: Params, config: GPTConfig, prompt: readonly number[], options: GenerateOptions): AsyncGenerator<GeneratedToken> {
  if (prompt.length === 0) throw new Error('the prompt is empty: give at least one token');
  if (prompt.length > config.n_ctx) throw new Error(`the prompt has ${prompt.length} tokens, more than the context n_ctx = ${config.n_ctx}`);
  const useCache = options.useCache ?? true;
  const stops = options.stopSequences ?? [];
  let g = rng(options.seed ?? 0);
  let ids = [...prompt];
  let past: readonly KeyValue[] | undefined;
  let feed = ids; // what the next forward call sees
  for (let step = 0; step < options.maxTokens; step++) {
    const out = await forward(params, config, feed, { past });
    const V = out.logits.shape[1];
    const last = out.logits.data.subarray((feed.length - 1) * V, (feed.length - 1) * V + config.n_vocab);
    let next: number;
    [next, g] = pickToken(last, options, g, ids);
    yield { id: next, logprob: logProbability(last, next) };
    ids = [...ids, next];
    if (endsWithStop(ids.slice(prompt.length), stops)) return;
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

/** Yields generated token ids one at a time after `prompt` (see {@link generateTokens}). */
export async function* generate(params: Params, config: GPTConfig, prompt: readonly number[], options: GenerateOptions): AsyncGenerator<number> {
  for await (const t of generateTokens(params, config, prompt, options)) yield t.id;
}

/** All generated ids as an array (convenience over {@link generate}). */
export async function generateIds(params: Params, config: GPTConfig, prompt: readonly number[], options: GenerateOptions): Promise<number[]> {
  const out: number[] = [];
  for await (const id of generate(params, config, prompt, options)) out.push(id);
  return out;
}
