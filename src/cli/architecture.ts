/**
 * The architecture flags of `gpt1 init` and `gpt1 pretrain`: `--arch gpt1|modern|moe`
 * (`architectures.ts`: `modern` and `moe` match GPT-1's parameter count at the same
 * width) and one flag per switch of `config.ts`, applied after `--arch`, so any
 * variant can be made: e.g. `--position-embedding rope` alone is GPT-1 with RoPE.
 *
 * @module
 */
import { ARCHITECTURE_NAMES, type ArchitectureName, withArchitecture } from '../architectures.ts';
import { type GPTConfig, makeConfig } from '../config.ts';
import { type FlagSpec, type ParsedFlags, UsageError } from './args.ts';
import { num, str } from './common.ts';

/** The flags, to spread into a command's `flags`. */
export const ARCHITECTURE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  arch: { kind: 'string', choices: ARCHITECTURE_NAMES, help: 'gpt1 (the paper, default), modern (RoPE + RMSNorm + Pre-LN + SwiGLU) or moe (modern with 4 experts, top-2); modern/moe choose n_inner to match GPT-1\'s (active) parameter count (docs/evolution.md)' },
  'position-embedding': { kind: 'string', choices: ['learned', 'rope'], help: 'learned (GPT-1) or rope (rotary, no positions_embed)' },
  'rope-theta': { kind: 'number', help: 'RoPE base θ (default 10000)' },
  normalization: { kind: 'string', choices: ['layernorm', 'rmsnorm'], help: 'layernorm (GPT-1) or rmsnorm (gain only)' },
  'norm-placement': { kind: 'string', choices: ['post', 'pre'], help: 'post (GPT-1) or pre (norm before each sublayer, final ln_f)' },
  afn: { kind: 'string', choices: ['gelu', 'relu', 'swish', 'swiglu'], help: 'FFN activation: gelu (GPT-1), relu, swish or swiglu (gated, adds c_gate)' },
  'n-experts': { kind: 'int', help: 'experts per block (0: a dense FFN, GPT-1)' },
  'experts-top-k': { kind: 'int', help: 'experts per token (default 2)' },
  'moe-aux-loss-coef': { kind: 'number', help: 'weight of the load-balancing loss in the objective (default 0.01)' },
};

/** `config` with `--arch` then the switch flags applied. @throws a UsageError naming the command. */
export function applyArchitectureFlags(flags: ParsedFlags, config: GPTConfig, cmd: string): GPTConfig {
  const arch = (str(flags, 'arch') ?? 'gpt1') as ArchitectureName;
  const switches: Record<string, unknown> = {};
  const strings = { 'position-embedding': 'position_embedding', normalization: 'normalization', 'norm-placement': 'norm_placement', afn: 'afn' } as const;
  const numbers = { 'rope-theta': 'rope_theta', 'n-experts': 'n_experts', 'experts-top-k': 'experts_top_k', 'moe-aux-loss-coef': 'moe_aux_loss_coef' } as const;
  for (const [flag, field] of Object.entries(strings)) if (str(flags, flag) !== undefined) switches[field] = str(flags, flag);
  for (const [flag, field] of Object.entries(numbers)) if (num(flags, flag) !== undefined) switches[field] = num(flags, flag);
  try {
    return makeConfig({ ...withArchitecture(config, arch), ...switches });
  } catch (e) {
    throw new UsageError(`gpt1 ${cmd}: ${(e as Error).message}`);
  }
}
