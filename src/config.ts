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

/**
 * The FFN of `config.afn`: one of the {@link Activation}s, or `swiglu`, the gated unit
 * of Shazeer 2020 (`swiglu.ts`), which adds a third matrix `c_gate`.
 */
export type FFNKind = Activation | 'swiglu';

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
  /** FFN activation (`swiglu`: the gated FFN of `swiglu.ts`, not GPT-1). */
  readonly afn: FFNKind;
  /** Dropout rates (paper §4.1: 0.1 everywhere). Only used when training. */
  readonly embd_pdrop: number;
  readonly attn_pdrop: number;
  readonly resid_pdrop: number;
  readonly clf_pdrop: number;
  /** Standard deviation of the N(0, σ²) initialisation (paper: 0.02). */
  readonly initializer_range: number;

  // The switches of the later decoders (docs/evolution.md). Each is optional: absent
  // means GPT-1's choice, so a GPT-1 config, its files and its numbers never change.

  /** `learned` (GPT-1, absent) or `rope`: rotary positions on q and k (`rope.ts`), no `positions_embed.weight`. */
  readonly position_embedding?: 'learned' | 'rope';
  /** RoPE base θ of inv_freqᵢ = θ^(−2i/d_h) (default 10000). */
  readonly rope_theta?: number;
  /** `layernorm` (GPT-1, absent) or `rmsnorm` (`rmsnorm.ts`: gain only, no `ln_*.bias`). */
  readonly normalization?: 'layernorm' | 'rmsnorm';
  /** `post` (GPT-1, absent) or `pre` (`preln.ts`: a norm before each sublayer and a final `ln_f`). */
  readonly norm_placement?: 'post' | 'pre';
  /** 0 (dense FFN, absent) or E > 0: each block's FFN is a mixture of E experts (`moe.ts`). */
  readonly n_experts?: number;
  /** Experts per token, k ≤ E (default 2). */
  readonly experts_top_k?: number;
  /** Weight of the load-balancing loss in the training objective (default 0.01). */
  readonly moe_aux_loss_coef?: number;
}

/** The architecture switches of {@link GPTConfig}, with their defaults filled in. */
export interface Architecture {
  readonly position_embedding: 'learned' | 'rope';
  readonly rope_theta: number;
  readonly normalization: 'layernorm' | 'rmsnorm';
  readonly norm_placement: 'post' | 'pre';
  readonly n_experts: number;
  readonly experts_top_k: number;
  readonly moe_aux_loss_coef: number;
}

/** GPT-1's choices: what an absent switch means. */
export const GPT1_ARCHITECTURE: Architecture = Object.freeze({
  position_embedding: 'learned',
  rope_theta: 10000,
  normalization: 'layernorm',
  norm_placement: 'post',
  n_experts: 0,
  experts_top_k: 2,
  moe_aux_loss_coef: 0.01,
});

/** The switch names, in the order the config files write them. */
export const ARCHITECTURE_FIELDS = Object.keys(GPT1_ARCHITECTURE) as (keyof Architecture)[];

/** The switches of `config` with absent ones filled with GPT-1's. */
export function architecture(config: GPTConfig): Architecture {
  const out: Record<string, unknown> = {};
  for (const k of ARCHITECTURE_FIELDS) out[k] = config[k] ?? GPT1_ARCHITECTURE[k];
  return out as unknown as Architecture;
}

/**
 * The switches of `config` that differ from GPT-1's (what a config file records; an
 * `afn` other than gelu is recorded by the files' own `afn` field).
 */
export function architectureOverrides(config: GPTConfig): Partial<Architecture> {
  const a = architecture(config);
  const out: Record<string, unknown> = {};
  for (const k of ARCHITECTURE_FIELDS) if (a[k] !== GPT1_ARCHITECTURE[k]) out[k] = a[k];
  // The MoE details are written whenever there are experts, the RoPE base whenever RoPE
  // is on (so the file says them), and never otherwise (they would mean nothing).
  if (a.n_experts > 0) Object.assign(out, { experts_top_k: a.experts_top_k, moe_aux_loss_coef: a.moe_aux_loss_coef });
  else { delete out.experts_top_k; delete out.moe_aux_loss_coef; }
  if (a.position_embedding === 'rope') out.rope_theta = a.rope_theta;
  else delete out.rope_theta;
  return out as Partial<Architecture>;
}

/** True when `config` uses rotary positions (and so has no `positions_embed.weight`). */
export const usesRope = (config: GPTConfig): boolean => config.position_embedding === 'rope';
/** True when `config` normalises before each sublayer (and has a final `ln_f`). */
export const usesPreLN = (config: GPTConfig): boolean => config.norm_placement === 'pre';
/** True when `config`'s norms are RMSNorm (gains only). */
export const usesRMSNorm = (config: GPTConfig): boolean => config.normalization === 'rmsnorm';
/** Number of experts per block; 0 for a dense FFN. */
export const nExperts = (config: GPTConfig): number => config.n_experts ?? 0;

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
/** Largest n_experts (per block): Mixtral has 8, `--arch moe` 4. */
export const MAX_EXPERTS = 1024;
/**
 * Largest parameter count: 2³⁰ numbers (4 GiB of float32), about 9× GPT-1. The
 * original layout is loaded into one Float32Array, and Node allocates at most 4 GiB
 * in one buffer.
 */
export const MAX_PARAMS = 2 ** 30;

/**
 * The number of parameters of `c`, from the sizes alone (no list of tensors is built,
 * so it is safe to call on any config before {@link validateConfig} accepts it). For
 * GPT-1: n_ctx·d + (n_vocab + n_special)·d + n_layer·(4d² + 2d·n_inner + 9d + n_inner).
 * The switches change the terms as the table in `params.ts` says; the result equals
 * `countParams` (the list of tensors) for GPT-1 and every variant (tested).
 */
export function paramCount(c: GPTConfig): number {
  const d = c.n_embd;
  const a = architecture(c);
  const norm = a.normalization === 'rmsnorm' ? d : 2 * d; // gain (and bias)
  const ffn = (c.afn === 'swiglu' ? 2 : 1) * (d * c.n_inner + c.n_inner) + c.n_inner * d + d; // c_fc, (c_gate,) c_proj
  const mlp = a.n_experts > 0 ? d * a.n_experts + a.n_experts * ffn : ffn; // the router and E experts, or one FFN
  const block = 4 * d * d + 4 * d + 2 * norm + mlp; // c_attn, c_proj, ln_1, ln_2, the FFN
  const positions = a.position_embedding === 'rope' ? 0 : c.n_ctx * d;
  return positions + nTokenRows(c) * d + c.n_layer * block + (a.norm_placement === 'pre' ? norm : 0);
}

/**
 * Throws a one-line error naming the first field that is missing, not finite, out of
 * range or inconsistent. Every size is bounded ({@link MAX_SIZE}, {@link MAX_LAYERS},
 * {@link MAX_EXPERTS}, {@link MAX_PARAMS}) so that a hostile config fails here, before
 * anything is allocated.
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
  if (!['gelu', 'relu', 'swish', 'swiglu'].includes(c.afn)) throw new Error(`config.afn must be gelu, relu, swish or swiglu, got ${String(c.afn)}`);
  validateArchitecture(c);
  for (const k of ['embd_pdrop', 'attn_pdrop', 'resid_pdrop', 'clf_pdrop'] as const) {
    if (typeof c[k] !== 'number' || !(c[k] >= 0 && c[k] < 1)) throw new Error(`config.${k} must be in [0, 1), got ${String(c[k])}`);
  }
  if (typeof c.initializer_range !== 'number' || !(c.initializer_range >= 0 && Number.isFinite(c.initializer_range))) {
    throw new Error(`config.initializer_range must be a finite number ≥ 0, got ${String(c.initializer_range)}`);
  }
  const n = paramCount(c);
  if (n > MAX_PARAMS) throw new Error(`the config has ${n} parameters, more than the largest supported ${MAX_PARAMS} (4 GiB of float32)`);
}

/** Throws a one-line error naming the first invalid architecture switch. */
function validateArchitecture(c: GPTConfig): void {
  const a = architecture(c);
  const oneOf = (k: keyof Architecture, values: readonly string[]): void => {
    if (!values.includes(a[k] as string)) throw new Error(`config.${k} must be ${values.join(' or ')}, got ${JSON.stringify(a[k])}`);
  };
  oneOf('position_embedding', ['learned', 'rope']);
  oneOf('normalization', ['layernorm', 'rmsnorm']);
  oneOf('norm_placement', ['post', 'pre']);
  if (!(a.rope_theta > 1 && Number.isFinite(a.rope_theta))) throw new Error(`config.rope_theta must be > 1, got ${a.rope_theta}`);
  if (a.position_embedding === 'rope' && (c.n_embd / c.n_head) % 2 !== 0) throw new Error(`config.position_embedding rope needs an even head width, got n_embd/n_head = ${c.n_embd / c.n_head}`);
  if (!Number.isInteger(a.n_experts) || a.n_experts < 0 || a.n_experts > MAX_EXPERTS) throw new Error(`config.n_experts must be an integer in [0, ${MAX_EXPERTS}], got ${a.n_experts}`);
  if (a.n_experts > 0 && !(Number.isInteger(a.experts_top_k) && a.experts_top_k >= 1 && a.experts_top_k <= a.n_experts)) {
    throw new Error(`config.experts_top_k must be an integer in [1, n_experts = ${a.n_experts}], got ${a.experts_top_k}`);
  }
  if (!(a.moe_aux_loss_coef >= 0 && Number.isFinite(a.moe_aux_loss_coef))) throw new Error(`config.moe_aux_loss_coef must be >= 0, got ${a.moe_aux_loss_coef}`);
}

/** Named sizes used by the command line and the tests. */
export const PRESETS: Readonly<Record<string, GPTConfig>> = Object.freeze({
  gpt1: GPT1,
  small: makeConfig({ n_embd: 256, n_head: 8, n_layer: 4, n_ctx: 256 }),
  tiny: makeConfig({ n_vocab: 64, n_ctx: 16, n_embd: 16, n_head: 2, n_layer: 2 }),
});
