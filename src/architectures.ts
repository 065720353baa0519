/**
 * Named architectures on top of any size: `gpt1` (the paper), `modern` (RoPE +
 * RMSNorm + Pre-LN + SwiGLU, as LLaMA) and `moe` (`modern` with 4 experts, top-2, as
 * Mixtral), each with the FFN width chosen so that the parameter count matches
 * GPT-1's at the same width (for `moe`: the *active* parameters, those one token
 * uses). docs/evolution.md walks from one to the next.
 *
 * @module
 */
import { type GPTConfig, makeConfig } from './config.ts';
import { countActiveParams } from './params.ts';

/** The architecture names of `--arch`. */
export const ARCHITECTURE_NAMES = ['gpt1', 'modern', 'moe'] as const;
export type ArchitectureName = (typeof ARCHITECTURE_NAMES)[number];

/** The switches of `modern`: RoPE, RMSNorm before each sublayer, SwiGLU. */
export const MODERN: Partial<GPTConfig> = Object.freeze({ position_embedding: 'rope', normalization: 'rmsnorm', norm_placement: 'pre', afn: 'swiglu' });
/** What `moe` adds to `modern`: 4 experts, 2 per token. */
export const MOE: Partial<GPTConfig> = Object.freeze({ ...MODERN, n_experts: 4, experts_top_k: 2, moe_aux_loss_coef: 0.01 });

/**
 * `config` with `switches`, and n_inner chosen so that the (active) parameter count is
 * as close as it can be to `config`'s own: the count is linear in n_inner, so two
 * evaluations give its slope and the best integer follows.
 */
export function matchParams(config: GPTConfig, switches: Partial<GPTConfig>): GPTConfig {
  const target = countActiveParams(config);
  const at = (n_inner: number): number => countActiveParams(makeConfig({ ...config, ...switches, n_inner }));
  const slope = at(2) - at(1);
  const best = Math.max(1, Math.round(1 + (target - at(1)) / slope));
  return makeConfig({ ...config, ...switches, n_inner: best });
}

/** The architecture `name` at the sizes of `config` (a GPT-1-style config). */
export function withArchitecture(config: GPTConfig, name: ArchitectureName): GPTConfig {
  if (name === 'gpt1') return config;
  return matchParams(config, name === 'modern' ? MODERN : MOE);
}
