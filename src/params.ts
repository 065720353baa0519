/**
 * The parameters of GPT-1: names, shapes, and the paper's random initialisation.
 *
 * Parameters are a plain readonly record from name to tensor, with the Hugging Face
 * names (`openai-community/openai-gpt`), which is also the order of the original
 * checkpoint's flat vector:
 *
 * | name | shape | original `train.py` variable |
 * |---|---|---|
 * | `positions_embed.weight` | [n_ctx, n_embd] | rows n_vocab+n_special.. of `model/we` |
 * | `tokens_embed.weight` | [n_vocab+n_special, n_embd] | first rows of `model/we` |
 * | `h.{i}.attn.c_attn.weight` | [n_embd, 3·n_embd] | `model/h{i}/attn/c_attn/w` (Conv1D, [1, nx, nf]) |
 * | `h.{i}.attn.c_attn.bias` | [3·n_embd] | `model/h{i}/attn/c_attn/b` |
 * | `h.{i}.attn.c_proj.weight` | [n_embd, n_embd] | `model/h{i}/attn/c_proj/w` |
 * | `h.{i}.attn.c_proj.bias` | [n_embd] | `model/h{i}/attn/c_proj/b` |
 * | `h.{i}.ln_1.weight` / `.bias` | [n_embd] | `model/h{i}/ln_1/g`, `/b` |
 * | `h.{i}.mlp.c_fc.weight` | [n_embd, n_inner] | `model/h{i}/mlp/c_fc/w` |
 * | `h.{i}.mlp.c_fc.bias` | [n_inner] | `model/h{i}/mlp/c_fc/b` |
 * | `h.{i}.mlp.c_proj.weight` | [n_inner, n_embd] | `model/h{i}/mlp/c_proj/w` |
 * | `h.{i}.mlp.c_proj.bias` | [n_embd] | `model/h{i}/mlp/c_proj/b` |
 * | `h.{i}.ln_2.weight` / `.bias` | [n_embd] | `model/h{i}/ln_2/g`, `/b` |
 *
 * Conv1D weights are stored [in, out] ("nx, nf"), so a linear layer is `x · W + b`.
 *
 * ## Typed access
 * The modules never build these names themselves: {@link layerParams} gives block i's
 * tensors as a typed record whose paths are the names (`.attn.c_attn.weight` is
 * `h.{i}.attn.c_attn.weight`), {@link modelParams} the whole model's, and
 * {@link namedLayerPart} / {@link namedModelPart} turn a record of gradients shaped
 * like the parameters back into names. A misspelled name is then a type error.
 *
 * ## The later decoders' switches (`config.ts`, docs/evolution.md)
 * Off by default; each changes the list above only as follows (HF LLaMA/Mixtral-like):
 *
 * | switch | change |
 * |---|---|
 * | `position_embedding: rope` | no `positions_embed.weight` |
 * | `normalization: rmsnorm` | no `h.{i}.ln_*.bias` (and no `ln_f.bias`) |
 * | `norm_placement: pre` | adds the final norm `ln_f.weight` (and `ln_f.bias` with LayerNorm) [n_embd], last |
 * | `afn: swiglu` | adds `h.{i}.mlp.c_gate.weight` [n_embd, n_inner] and `.bias` [n_inner] after `c_fc` |
 * | `n_experts: E` | `h.{i}.mlp.router.weight` [n_embd, E], then per expert e `h.{i}.mlp.experts.{e}.c_fc`, (`c_gate`,) `c_proj`, in place of the dense FFN |
 *
 * @module
 */
import { type GPTConfig, GPT1, architecture, nExperts, nTokenRows, usesPreLN, usesRMSNorm, usesRope } from './config.ts';
import { type Rng, fork, normals } from './random.ts';
import { type Tensor, assertShape, full, tensor, zeros } from './tensor.ts';

/** All parameters of a model, by Hugging Face name. */
export type Params = Readonly<Record<string, Tensor>>;

/**
 * A Conv1D (linear) layer's two tensors: `weight` [nx, nf] and `bias` [nf]
 * (`c_attn`, `c_proj`, `c_fc`, `c_gate`).
 */
export interface LinearParams {
  readonly weight: Tensor;
  readonly bias: Tensor;
}

/** A norm's gain g (`weight`, [d]) and bias b (`bias`, [d]); RMSNorm (`normalization: rmsnorm`) has no bias. */
export interface NormParams {
  readonly weight: Tensor;
  readonly bias?: Tensor;
}

/** A block's attention, `h.{i}.attn.*`: c_attn ([d, 3d], [3d]) and c_proj ([d, d], [d]). */
export interface AttentionParams {
  readonly c_attn: LinearParams;
  readonly c_proj: LinearParams;
}

/**
 * One feed-forward network, `h.{i}.mlp.*` (or an expert's `h.{i}.mlp.experts.{e}.*`):
 * c_fc ([d, d_ff], [d_ff]), c_gate (same shapes; `afn: swiglu` only), c_proj ([d_ff, d], [d]).
 */
export interface FFNParams {
  readonly c_fc: LinearParams;
  readonly c_gate?: LinearParams;
  readonly c_proj: LinearParams;
}

/** A block's mixture of experts (`n_experts: E`), `h.{i}.mlp.*`: the router's weight [d, E] (no bias) and E FFNs. */
export interface MoEParams {
  readonly router: { readonly weight: Tensor };
  readonly experts: readonly FFNParams[];
}

/**
 * Block i's parameters, `h.{i}.*`, as a typed record whose paths are the checkpoint
 * names: `layerParams(params, config, i).attn.c_attn.weight` is `h.{i}.attn.c_attn.weight`.
 * `mlp` is one dense FFN, or a {@link MoEParams} with experts (`'experts' in mlp` tells them apart).
 */
export interface LayerParams {
  readonly attn: AttentionParams;
  readonly ln_1: NormParams;
  readonly mlp: FFNParams | MoEParams;
  readonly ln_2: NormParams;
}

/**
 * The whole model's parameters as a typed record, in checkpoint order: W_e, W_p
 * (absent with `position_embedding: rope`), the blocks, and the final norm (Pre-LN only).
 */
export interface ModelParams {
  readonly positions_embed?: { readonly weight: Tensor };
  readonly tokens_embed: { readonly weight: Tensor };
  readonly h: readonly LayerParams[];
  readonly ln_f?: NormParams;
}

/** `params[name]`, or a one-line error naming the missing parameter. */
function need(params: Params, name: string): Tensor {
  const t = params[name];
  if (t === undefined) throw new Error(`missing parameter ${name}`);
  return t;
}

/** The gain and (LayerNorm only) the bias of norm `name` (`h.{i}.ln_1`, `h.{i}.ln_2`, `ln_f`). */
function normParams(params: Params, config: GPTConfig, name: string): NormParams {
  const weight = need(params, `${name}.weight`);
  return usesRMSNorm(config) ? { weight } : { weight, bias: need(params, `${name}.bias`) };
}

/** The Conv1D `name`'s weight and bias. */
function linearParams(params: Params, name: string): LinearParams {
  return { weight: need(params, `${name}.weight`), bias: need(params, `${name}.bias`) };
}

/** One FFN under `prefix` (`h.{i}.mlp.` or `h.{i}.mlp.experts.{e}.`); c_gate with SwiGLU only. */
function ffnParams(params: Params, config: GPTConfig, prefix: string): FFNParams {
  const c_fc = linearParams(params, `${prefix}c_fc`);
  const c_proj = linearParams(params, `${prefix}c_proj`);
  return config.afn === 'swiglu' ? { c_fc, c_gate: linearParams(params, `${prefix}c_gate`), c_proj } : { c_fc, c_proj };
}

/**
 * Block `layer`'s parameters as a typed record ({@link LayerParams}): the one place
 * where the model builds a block's parameter names, so a misspelled name in a module
 * is a type error. The record holds exactly the tensors `config`'s switches give the
 * block (the list of {@link blockParamShapes}); the tensors are `params`' own, not copies.
 * @throws a one-line error naming a parameter that `config` needs and `params` lacks.
 */
export function layerParams(params: Params, config: GPTConfig, layer: number): LayerParams {
  const p = `h.${layer}.`;
  const E = nExperts(config);
  const mlp: FFNParams | MoEParams = E === 0
    ? ffnParams(params, config, `${p}mlp.`)
    : { router: { weight: need(params, `${p}mlp.router.weight`) }, experts: Array.from({ length: E }, (_, e) => ffnParams(params, config, `${p}mlp.experts.${e}.`)) };
  return {
    attn: { c_attn: linearParams(params, `${p}attn.c_attn`), c_proj: linearParams(params, `${p}attn.c_proj`) },
    ln_1: normParams(params, config, `${p}ln_1`),
    mlp,
    ln_2: normParams(params, config, `${p}ln_2`),
  };
}

/** The whole model's parameters as a typed record ({@link ModelParams}); the blocks are {@link layerParams}. */
export function modelParams(params: Params, config: GPTConfig): ModelParams {
  return {
    ...(usesRope(config) ? {} : { positions_embed: { weight: need(params, 'positions_embed.weight') } }),
    tokens_embed: { weight: need(params, 'tokens_embed.weight') },
    h: Array.from({ length: config.n_layer }, (_, i) => layerParams(params, config, i)),
    ...(usesPreLN(config) ? { ln_f: normParams(params, config, 'ln_f') } : {}),
  };
}

/** Appends the tensors of a typed record under `prefix`, by path (`c_attn` → `weight` gives `{prefix}c_attn.weight`; an array's index is a path segment). */
function flatten(prefix: string, tree: object, out: Record<string, Tensor>): void {
  for (const [key, value] of Object.entries(tree) as [string, Tensor | object | undefined][]) {
    if (value === undefined) continue; // a field the config's switches leave out
    if ('shape' in value && 'data' in value) out[`${prefix}${key}`] = value;
    else flatten(`${prefix}${key}.`, value, out);
  }
}

/**
 * The inverse of {@link layerParams} for one part of block `layer`: a typed record of
 * tensors (the part's parameters, or their gradients) by checkpoint name, in the
 * record's order. E.g. `namedLayerPart(0, 'attn', { c_attn: { weight, bias }, c_proj: … })`
 * is `{ 'h.0.attn.c_attn.weight': weight, 'h.0.attn.c_attn.bias': bias, … }`.
 */
export function namedLayerPart<K extends keyof LayerParams>(layer: number, part: K, record: LayerParams[K]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  flatten(`h.${layer}.${part}.`, record, out);
  return out;
}

/** The same for a part outside the blocks: `namedModelPart('ln_f', { weight, bias })` is `{ 'ln_f.weight': weight, 'ln_f.bias': bias }`. */
export function namedModelPart<K extends Exclude<keyof ModelParams, 'h'>>(part: K, record: NonNullable<ModelParams[K]>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  flatten(`${part}.`, record, out);
  return out;
}

/** The parameter names of block `i`, in checkpoint order (of GPT-1, or of `config`'s variant if given). */
export function blockParamNames(i: number, config: GPTConfig = GPT1): string[] {
  return blockParamShapes(config, i).map(([name]) => name);
}

/**
 * Every parameter name with its shape, in the order of the original checkpoint
 * (positions, tokens, then the blocks; a variant drops the positions with RoPE and
 * adds `ln_f` last with Pre-LN).
 */
export function paramShapes(config: GPTConfig): [string, number[]][] {
  const d = config.n_embd;
  const out: [string, number[]][] = usesRope(config) ? [] : [['positions_embed.weight', [config.n_ctx, d]]];
  out.push(['tokens_embed.weight', [nTokenRows(config), d]]);
  for (let i = 0; i < config.n_layer; i++) out.push(...blockParamShapes(config, i));
  if (usesPreLN(config)) out.push(...normShapes(config, 'ln_f'));
  return out;
}

/** Block `i`'s parameters with their shapes, in checkpoint order: attention, ln_1, the FFN (or the router and the experts), ln_2. */
export function blockParamShapes(config: GPTConfig, i: number): [string, number[]][] {
  const d = config.n_embd;
  const p = `h.${i}.`;
  const E = nExperts(config);
  const mlp: [string, number[]][] = E === 0 ? ffnParamShapes(config, `${p}mlp.`) : [[`${p}mlp.router.weight`, [d, E]]];
  for (let e = 0; e < E; e++) mlp.push(...ffnParamShapes(config, `${p}mlp.experts.${e}.`));
  return [
    [`${p}attn.c_attn.weight`, [d, 3 * d]], [`${p}attn.c_attn.bias`, [3 * d]],
    [`${p}attn.c_proj.weight`, [d, d]], [`${p}attn.c_proj.bias`, [d]],
    ...normShapes(config, `${p}ln_1`),
    ...mlp,
    ...normShapes(config, `${p}ln_2`),
  ];
}

/** A norm's parameters: gain, and a bias for LayerNorm only. */
function normShapes(config: GPTConfig, name: string): [string, number[]][] {
  const d = config.n_embd;
  return usesRMSNorm(config) ? [[`${name}.weight`, [d]]] : [[`${name}.weight`, [d]], [`${name}.bias`, [d]]];
}

/** One feed-forward network's parameters under `prefix` (`h.{i}.mlp.` or an expert's `h.{i}.mlp.experts.{e}.`): c_fc, (c_gate,) c_proj. */
function ffnParamShapes(config: GPTConfig, prefix: string): [string, number[]][] {
  const { n_embd: d, n_inner } = config;
  const up: [string, number[]][] = [[`${prefix}c_fc.weight`, [d, n_inner]], [`${prefix}c_fc.bias`, [n_inner]]];
  if (config.afn === 'swiglu') up.push([`${prefix}c_gate.weight`, [d, n_inner]], [`${prefix}c_gate.bias`, [n_inner]]);
  return [...up, [`${prefix}c_proj.weight`, [n_inner, d]], [`${prefix}c_proj.bias`, [d]]];
}

/**
 * Parameters that a token's forward pass multiplies: all of them for a dense model;
 * with experts, only k of the E experts' FFNs per block (the router and the rest count fully).
 */
export function countActiveParams(config: GPTConfig): number {
  const E = nExperts(config);
  const total = countParams(config);
  if (E === 0) return total;
  const k = architecture(config).experts_top_k;
  const expert = ffnParamShapes(config, '').reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
  return total - (E - k) * expert * config.n_layer;
}

/** Total number of parameters (116,534,784 for GPT-1 as released). */
export function countParams(config: GPTConfig): number {
  return paramShapes(config).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

/**
 * Checks that `params` has exactly the parameters of `config` with the right shapes.
 * @throws a one-line error naming the first missing, extra or misshapen parameter.
 */
export function validateParams(params: Params, config: GPTConfig): void {
  const expected = paramShapes(config);
  for (const [name, shape] of expected) {
    const t = params[name];
    if (t === undefined) throw new Error(`missing parameter ${name}`);
    assertShape(t, shape, name);
  }
  const known = new Set(expected.map(([n]) => n));
  for (const name of Object.keys(params)) {
    if (!known.has(name)) throw new Error(`unexpected parameter ${name} for a ${config.n_layer}-layer model`);
  }
}

/**
 * Random initialisation as in the paper (§4.1: "Since layernorm is used extensively
 * throughout the model, a simple weight initialization of N(0, 0.02) was
 * sufficient") and the original code: weights and embeddings ~ N(0, 0.02²), biases 0,
 * LayerNorm gains 1 and biases 0.
 *
 * Each parameter draws from its own stream forked from `seed` by name, so adding a
 * layer never changes the values of the others.
 */
export function initParams(config: GPTConfig, seed: Rng): Params {
  return initParamsWith(config, seed, {});
}

/**
 * Spreads of {@link initParamsWith}. All absent: the paper's initialisation (std =
 * `config.initializer_range`, biases 0, gains 1), bit for bit.
 */
export interface InitSpread {
  /** Standard deviation of the Conv1D weights (default `config.initializer_range`). */
  readonly std?: number;
  /** Standard deviation of the token and position embeddings (default: `std`). */
  readonly embdStd?: number;
  /** Standard deviation of every bias, Conv1D and LayerNorm (default 0: biases are 0). */
  readonly biasStd?: number;
  /** LayerNorm gains are exp(s·N(0, 1)) (default s = 0: gains are 1). */
  readonly lnGainSpread?: number;
}

/**
 * Random parameters with chosen spreads, for checkpoints meant to expose bugs
 * (`gpt1 init`, docs/porting.md): large weights make attention far from uniform and
 * GELU inputs large, small embeddings make the first LayerNorm's input rows have a
 * variance near ε, non-trivial gains and biases make a gain/bias mix-up visible.
 * Same streams as {@link initParams} (one per parameter name).
 */
export function initParamsWith(config: GPTConfig, seed: Rng, spread: InitSpread): Params {
  const std = spread.std ?? config.initializer_range;
  const embdStd = spread.embdStd ?? std;
  const biasStd = spread.biasStd ?? 0;
  const gainSpread = spread.lnGainSpread ?? 0;
  const out: Record<string, Tensor> = {};
  for (const [name, shape] of paramShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const draw = (s: number): Float32Array => normals(fork(seed, name), n, 0, s)[0];
    if (/ln_(\d|f)\.weight$/.test(name)) out[name] = gainSpread === 0 ? full(shape, 1) : tensor(shape, draw(gainSpread).map(Math.exp));
    else if (name.endsWith('.bias')) out[name] = biasStd === 0 ? zeros(shape) : tensor(shape, draw(biasStd));
    else out[name] = tensor(shape, draw(name.includes('_embed.') ? embdStd : std));
  }
  return Object.freeze(out);
}
