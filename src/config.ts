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

/**
 * Largest value of every size field (n_vocab, n_ctx, n_embd, n_inner, …): 2²⁴. The
 * gpu.js kernels index with float32 numbers, which are exact integers only below 2²⁴,
 * and GPT-1's largest size, n_vocab = 40478, is far below it.
 */
export const MAX_SIZE = 2 ** 24;
/** Largest n_layer: GPT-1 has 12, the largest published GPTs about 100. */
export const MAX_LAYERS = 1024;
/**
 * Largest parameter count: 2³⁰ numbers (4 GiB of float32), about 9× GPT-1. The
 * original layout is loaded into one Float32Array, and Node allocates at most 4 GiB
 * in one buffer.
 */
export const MAX_PARAMS = 2 ** 30;

/**
 * The number of parameters of `c`, from the sizes alone (no list of tensors is built,
 * so it is safe to call on any config before {@link validateConfig} accepts it):
 * n_ctx·d + (n_vocab + n_special)·d + n_layer·(4d² + 2d·n_inner + 9d + n_inner).
 */
export function paramCount(c: GPTConfig): number {
  const d = c.n_embd;
  const perLayer = 3 * d * d + 3 * d + d * d + d + 2 * d + d * c.n_inner + c.n_inner + c.n_inner * d + d + 2 * d;
  return c.n_ctx * d + nTokenRows(c) * d + c.n_layer * perLayer;
}

/**
 * Throws a one-line error naming the first field that is missing, not finite, out of
 * range or inconsistent. Every size is bounded ({@link MAX_SIZE}, {@link MAX_LAYERS},
 * {@link MAX_PARAMS}) so that a hostile config fails here, before anything is allocated.
 */
export function validateConfig(c: GPTConfig): void {
  const positive: (keyof GPTConfig)[] = ['n_vocab', 'n_ctx', 'n_embd', 'n_head', 'n_layer', 'n_inner'];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`config.${k} must be a positive integer, got ${String(v)}`);
    const max = k === 'n_layer' ? MAX_LAYERS : MAX_SIZE;
    if (v > max) throw new Error(`config.${k} is ${v}, more than the largest supported ${max}`);
  }
  if (typeof c.n_special !== 'number' || !Number.isInteger(c.n_special) || c.n_special < 0 || c.n_special > MAX_SIZE) {
    throw new Error(`config.n_special must be an integer in [0, ${MAX_SIZE}], got ${String(c.n_special)}`);
  }
  if (c.n_embd % c.n_head !== 0) throw new Error(`config.n_embd (${c.n_embd}) is not divisible by config.n_head (${c.n_head})`);
  if (typeof c.layer_norm_epsilon !== 'number' || !(c.layer_norm_epsilon > 0 && Number.isFinite(c.layer_norm_epsilon))) {
    throw new Error(`config.layer_norm_epsilon must be a finite number > 0, got ${String(c.layer_norm_epsilon)}`);
  }
  if (!['gelu', 'relu', 'swish'].includes(c.afn)) throw new Error(`config.afn must be gelu, relu or swish, got ${String(c.afn)}`);
  for (const k of ['embd_pdrop', 'attn_pdrop', 'resid_pdrop', 'clf_pdrop'] as const) {
    if (typeof c[k] !== 'number' || !(c[k] >= 0 && c[k] < 1)) throw new Error(`config.${k} must be in [0, 1), got ${String(c[k])}`);
  }
  if (typeof c.initializer_range !== 'number' || !(c.initializer_range >= 0 && Number.isFinite(c.initializer_range))) {
    throw new Error(`config.initializer_range must be a finite number ≥ 0, got ${String(c.initializer_range)}`);
  }
  const n = paramCount(c);
  if (n > MAX_PARAMS) throw new Error(`the config has ${n} parameters, more than the largest supported ${MAX_PARAMS} (4 GiB of float32)`);
}

/** Named sizes used by the command line and the tests. */
export const PRESETS: Readonly<Record<string, GPTConfig>> = Object.freeze({
  gpt1: GPT1,
  small: makeConfig({ n_embd: 256, n_head: 8, n_layer: 4, n_ctx: 256 }),
  tiny: makeConfig({ n_vocab: 64, n_ctx: 16, n_embd: 16, n_head: 2, n_layer: 2 }),
});
