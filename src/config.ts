/**
 * Model hyper-parameters.
 *
 * Paper §4.1 (Model specifications): "We trained a 12-layer decoder-only transformer
 * with masked self-attention heads (768 dimensional states and 12 attention heads).
 * For the position-wise feed-forward networks, we used 3072 dimensional inner states.
 * [...] We used a bytepair encoding (BPE) vocabulary with 40,000 merges [...]
 * We also employed a modified version of L2 regularization [...] w = 0.01 on all non
 * bias or gain weights. For the activation function, we used the Gaussian Error
 * Linear Unit (GELU)."
 *
 * The names follow the original `train.py` flags (`n_vocab`, `n_ctx`, `n_embd`,
 * `n_head`, `n_layer`, `afn`, `*_pdrop`), which are also the Hugging Face
 * `OpenAIGPTConfig` names except `n_vocab` (HF: `vocab_size`) and `n_ctx`
 * (HF: `n_positions`).
 *
 * @module
 */

/** Activation of the feed-forward network; GPT-1 uses `gelu` (tanh approximation). */
export type Activation = 'gelu' | 'relu' | 'swish';

export interface GPTConfig {
  /** Ordinary BPE tokens: 40478 for the release (40,000 merges + base symbols). */
  readonly n_vocab: number;
  /** Special tokens appended after the vocabulary for fine-tuning (`_start_`, `_delimiter_`, `_classify_`): 0 or 3. */
  readonly n_special: number;
  /** Context length: learned position embeddings exist for positions 0..n_ctx-1. */
  readonly n_ctx: number;
  /** Width of the residual stream, d_model. */
  readonly n_embd: number;
  /** Attention heads per layer; d_head = n_embd / n_head. */
  readonly n_head: number;
  /** Transformer blocks. */
  readonly n_layer: number;
  /** Inner width of the feed-forward network (4·n_embd in GPT-1). */
  readonly n_inner: number;
  /** LayerNorm epsilon, added to the variance inside the rsqrt. */
  readonly layer_norm_epsilon: number;
  /** FFN activation. */
  readonly afn: Activation;
  /** Dropout rates (paper §4.1: 0.1 everywhere). Only used when training. */
  readonly embd_pdrop: number;
  readonly attn_pdrop: number;
  readonly resid_pdrop: number;
  readonly clf_pdrop: number;
  /** Standard deviation of the N(0, σ²) initialisation (paper: 0.02). */
  readonly initializer_range: number;
}

/** GPT-1 as released: 12 × (768, 12 heads, 3072), 40478 tokens, 512 positions. */
export const GPT1: GPTConfig = Object.freeze({
  n_vocab: 40478,
  n_special: 0,
  n_ctx: 512,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_inner: 3072,
  layer_norm_epsilon: 1e-5,
  afn: 'gelu',
  embd_pdrop: 0.1,
  attn_pdrop: 0.1,
  resid_pdrop: 0.1,
  clf_pdrop: 0.1,
  initializer_range: 0.02,
});

/** A GPT-1 with other sizes; everything not given is GPT-1's, and n_inner defaults to 4·n_embd. */
export function makeConfig(overrides: Partial<GPTConfig>): GPTConfig {
  const n_embd = overrides.n_embd ?? GPT1.n_embd;
  const config: GPTConfig = Object.freeze({ ...GPT1, n_inner: 4 * n_embd, ...overrides });
  validateConfig(config);
  return config;
}

/** Rows of the token embedding matrix We: the vocabulary plus the special tokens. */
export function nTokenRows(config: GPTConfig): number {
  return config.n_vocab + config.n_special;
}

/** Width of one attention head. */
export function dHead(config: GPTConfig): number {
  return config.n_embd / config.n_head;
}

/** Throws a one-line error naming the first inconsistent field. */
export function validateConfig(c: GPTConfig): void {
  const positive: (keyof GPTConfig)[] = ['n_vocab', 'n_ctx', 'n_embd', 'n_head', 'n_layer', 'n_inner'];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`config.${k} must be a positive integer, got ${String(v)}`);
  }
  if (!Number.isInteger(c.n_special) || c.n_special < 0) throw new Error(`config.n_special must be a non-negative integer, got ${c.n_special}`);
  if (c.n_embd % c.n_head !== 0) throw new Error(`config.n_embd (${c.n_embd}) is not divisible by config.n_head (${c.n_head})`);
  if (!(c.layer_norm_epsilon > 0)) throw new Error(`config.layer_norm_epsilon must be > 0, got ${c.layer_norm_epsilon}`);
  if (!['gelu', 'relu', 'swish'].includes(c.afn)) throw new Error(`config.afn must be gelu, relu or swish, got ${String(c.afn)}`);
  for (const k of ['embd_pdrop', 'attn_pdrop', 'resid_pdrop', 'clf_pdrop'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) throw new Error(`config.${k} must be in [0, 1), got ${c[k]}`);
  }
}

/** Named sizes used by the command line and the tests. */
export const PRESETS: Readonly<Record<string, GPTConfig>> = Object.freeze({
  gpt1: GPT1,
  small: makeConfig({ n_embd: 256, n_head: 8, n_layer: 4, n_ctx: 256 }),
  tiny: makeConfig({ n_vocab: 64, n_ctx: 16, n_embd: 16, n_head: 2, n_layer: 2 }),
});
