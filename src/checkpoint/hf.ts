/**
 * The Hugging Face layout (`openai-community/openai-gpt`, transformers'
 * `OpenAIGPTModel` / `OpenAIGPTLMHeadModel`).
 *
 * | file | content |
 * |---|---|
 * | `model.safetensors` | the parameters by name (`tokens_embed.weight`, `positions_embed.weight`, `h.{i}.…`), Conv1D weights `[nx, nf]` |
 * | `config.json` | `model_type: "openai-gpt"`, `vocab_size`, `n_positions`, `n_embd`, `n_layer`, `n_head`, `afn`, `layer_norm_epsilon`, `*_pdrop`, `initializer_range`, optional `n_special` |
 * | `vocab.json`, `merges.txt` | the BPE vocabulary (optional here) |
 *
 * Reading accepts names with or without the `transformer.` prefix (an
 * `OpenAIGPTLMHeadModel` state dict has it, an `OpenAIGPTModel` one does not), an
 * `lm_head.weight` (the output layer, tied to the token embedding: it must be
 * bit-identical to `tokens_embed.weight`; it is compared in chunks and never kept), and
 * `h.{i}.attn.bias` (transformers' causal-mask buffer `[1, 1, n_positions, n_positions]`
 * that older versions saved: it must be the lower-triangular mask of ones; it is not a
 * parameter and is dropped), and the tensors of a fine-tuned head under transformers'
 * names when `config.json`'s `architectures` names its class (`heads.ts`; they are
 * read with the task). Any other tensor is an error. Each parameter is read from
 * the file straight into its own Float32Array (one copy from disk, no file-sized buffer).
 * F16 and BF16 tensors are converted to float32 exactly.
 *
 * `vocab_size` and `n_special`: transformers sizes `tokens_embed` with `vocab_size`
 * rows, specials included (pytorch-pretrained-bert used `vocab_size + n_special` rows).
 * We write `vocab_size = n_vocab + n_special` and `n_special`, and read either
 * convention, telling them apart by the rows of `tokens_embed.weight`.
 *
 * `afn: "gelu"` is transformers' `gelu_new`, the tanh approximation of GPT-1; `"silu"`
 * is read as `swish`. `summary_first_dropout` maps to `clf_pdrop`. transformers fixes
 * the inner width to 4·n_embd; we read and write an `n_inner` field for other widths
 * (which transformers cannot load).
 *
 * The later decoders' switches (`config.ts`: `position_embedding`, `rope_theta`,
 * `normalization`, `norm_placement`, `n_experts`, `experts_top_k`,
 * `moe_aux_loss_coef`, and `afn: "swiglu"`) are written to `config.json` only when
 * they differ from GPT-1, under the same names, and read back; a RoPE model has no
 * `positions_embed.weight`, so its `n_positions` comes from the JSON alone. Such a
 * checkpoint is ours: transformers' `OpenAIGPTModel` cannot load it.
 *
 * @module
 */
import { ARCHITECTURE_FIELDS, type Architecture, type FFNKind, type GPTConfig, architectureOverrides, validateConfig } from '../config.ts';
import { type Params, paramShapes, validateParams } from '../params.ts';
import { type Tensor, showShape } from '../tensor.ts';
import {
  READABLE_DTYPES, type SafetensorsEntry, type SafetensorsHeader, assertFinite, encodeSafetensorsChunks,
  readSafetensorsElements, readSafetensorsHeader, readSafetensorsTensor,
} from '../io/safetensors.ts';
import { type FileContent, writeDirAtomic } from '../io/atomic.ts';
import { type CheckpointFiles, type LoadOptions, type SaveExtra, NUMBER_SWITCHES, STRING_SWITCHES, assertParamsFinite, chooseNHead, configFrom, dirFiles, readJson, vocabFiles } from './common.ts';
import { announcedHeadTensors } from './heads.ts';

export const HF_WEIGHTS = 'model.safetensors';
export const HF_CONFIG = 'config.json';
const PREFIX = 'transformer.';
/** Elements compared per read when checking the tied `lm_head.weight`. */
export const TIED_CHUNK = 1 << 20;

/** The number-valued fields of `config.json` that are read: transformers' own, then the numeric switches. */
const NUMBER_FIELDS: readonly string[] = [
  'vocab_size', 'n_positions', 'n_ctx', 'n_embd', 'n_layer', 'n_head', 'n_special', 'n_inner',
  'layer_norm_epsilon', 'resid_pdrop', 'embd_pdrop', 'attn_pdrop', 'initializer_range', 'summary_first_dropout', ...NUMBER_SWITCHES,
];

/**
 * The shapes `configFromHF` reads, by a lookup of tensor names: the token embedding,
 * the position embedding (absent with RoPE) and the first FFN input matrix (a dense
 * block's `c_fc`, or the first expert's).
 */
function hfShapes(shapeOf: (name: string) => readonly number[] | undefined, json: unknown, where: string): { tokens: readonly number[]; positions?: readonly number[]; cfc?: readonly number[] } {
  const need = (name: string): readonly number[] => {
    const s = shapeOf(name);
    if (s === undefined) throw new Error(`${where}: missing tensor ${name}`);
    return s;
  };
  const rope = (json as Record<string, unknown> | null)?.position_embedding === 'rope';
  return { tokens: need('tokens_embed.weight'), positions: rope ? shapeOf('positions_embed.weight') : need('positions_embed.weight'), cfc: shapeOf('h.0.mlp.c_fc.weight') ?? shapeOf('h.0.mlp.experts.0.c_fc.weight') };
}

/** The `config.json` of a model, as transformers' `OpenAIGPTConfig` writes it (plus `n_special`, and `n_inner` when it is not 4·n_embd). */
export function hfConfigJson(config: GPTConfig): Record<string, unknown> {
  return {
    architectures: ['OpenAIGPTLMHeadModel'],
    model_type: 'openai-gpt',
    vocab_size: config.n_vocab + config.n_special,
    n_special: config.n_special,
    n_positions: config.n_ctx,
    n_embd: config.n_embd,
    n_layer: config.n_layer,
    n_head: config.n_head,
    ...(config.n_inner !== 4 * config.n_embd ? { n_inner: config.n_inner } : {}),
    afn: config.afn,
    layer_norm_epsilon: config.layer_norm_epsilon,
    embd_pdrop: config.embd_pdrop,
    attn_pdrop: config.attn_pdrop,
    resid_pdrop: config.resid_pdrop,
    summary_first_dropout: config.clf_pdrop,
    initializer_range: config.initializer_range,
    ...architectureOverrides(config),
    ...(config.afn === 'swiglu' ? { n_inner: config.n_inner } : {}),
  };
}

/**
 * The config of a Hugging Face checkpoint from its `config.json` and the shapes of its
 * embeddings and first `c_fc` (the file's truth): every size the JSON gives must agree
 * with the tensors. @throws a one-line error starting with `where`.
 */
export function configFromHF(json: unknown, shapes: { tokens: readonly number[]; positions?: readonly number[]; cfc?: readonly number[] }, opts: LoadOptions, where: string): GPTConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${where}: expected a JSON object`);
  const j = json as Record<string, unknown>;
  if (j.model_type !== undefined && j.model_type !== 'openai-gpt') throw new Error(`${where}: model_type is ${JSON.stringify(j.model_type)}, expected "openai-gpt"`);
  for (const k of NUMBER_FIELDS) {
    if (j[k] !== undefined && typeof j[k] !== 'number') throw new Error(`${where}: ${k} must be a number, got ${JSON.stringify(j[k])}`);
  }
  for (const k of STRING_SWITCHES) {
    if (j[k] !== undefined && typeof j[k] !== 'string') throw new Error(`${where}: ${k} must be a string, got ${JSON.stringify(j[k])}`);
  }
  const num = (k: string): number | undefined => j[k] as number | undefined;
  const rope = j.position_embedding === 'rope';
  const { tokens, cfc } = shapes;
  if (rope && shapes.positions !== undefined) throw new Error(`${where}: position_embedding is "rope", but the weights have a positions_embed.weight`);
  if (rope && num('n_positions') === undefined && num('n_ctx') === undefined) throw new Error(`${where}: n_positions is missing (a RoPE model has no positions_embed.weight to tell it)`);
  if (!rope && shapes.positions === undefined) throw new Error(`${where}: missing tensor positions_embed.weight`);
  const positions = shapes.positions ?? [num('n_positions') ?? num('n_ctx') ?? 0, tokens[1]];
  if (tokens.length !== 2) throw new Error(`${where}: tokens_embed.weight has shape ${showShape(tokens)}, expected [vocab_size, n_embd]`);
  if (positions.length !== 2) throw new Error(`${where}: positions_embed.weight has shape ${showShape(positions)}, expected [n_positions, n_embd]`);
  const rows = tokens[0];
  const n_special = num('n_special') ?? 0;
  const vocab = num('vocab_size');
  let n_vocab: number;
  if (vocab === undefined || vocab === rows) n_vocab = rows - n_special;
  else if (vocab + n_special === rows) n_vocab = vocab;
  else throw new Error(`${where}: vocab_size ${vocab} (n_special ${n_special}) does not match tokens_embed.weight with ${rows} rows`);
  const n_ctx = num('n_positions') ?? num('n_ctx') ?? positions[0];
  if (n_ctx !== positions[0]) throw new Error(`${where}: n_positions ${n_ctx} does not match positions_embed.weight with ${positions[0]} rows`);
  const n_embd = num('n_embd') ?? tokens[1];
  if (n_embd !== tokens[1] || n_embd !== positions[1]) {
    throw new Error(`${where}: n_embd ${n_embd} does not match tokens_embed.weight ${showShape(tokens)} and positions_embed.weight ${showShape(positions)}`);
  }
  const fileInner = cfc && cfc.length === 2 ? cfc[1] : undefined;
  const n_inner = num('n_inner') ?? fileInner ?? 4 * n_embd;
  if (fileInner !== undefined && n_inner !== fileInner) throw new Error(`${where}: n_inner ${n_inner} does not match h.0.mlp.c_fc.weight ${showShape(cfc as number[])}`);
  const afnRaw = j.afn ?? 'gelu';
  const afn: FFNKind | undefined = afnRaw === 'silu' ? 'swish' : afnRaw === 'gelu' || afnRaw === 'relu' || afnRaw === 'swish' || afnRaw === 'swiglu' ? afnRaw : undefined;
  if (!afn) throw new Error(`${where}: afn ${JSON.stringify(afnRaw)} is not one of gelu, relu, swish, silu`); // (or swiglu, this project's switch: docs/evolution.md)
  const switches: Partial<Architecture> = {};
  for (const k of ARCHITECTURE_FIELDS) if (j[k] !== undefined) (switches as Record<string, unknown>)[k] = j[k];
  const fields: Partial<GPTConfig> = {
    ...switches,
    n_vocab, n_special, n_ctx, n_embd, n_inner, afn,
    n_head: chooseNHead(opts, num('n_head'), where),
    n_layer: num('n_layer'),
    layer_norm_epsilon: num('layer_norm_epsilon'),
    embd_pdrop: num('embd_pdrop'),
    attn_pdrop: num('attn_pdrop'),
    resid_pdrop: num('resid_pdrop'),
    clf_pdrop: num('summary_first_dropout'),
    initializer_range: num('initializer_range'),
  };
  for (const k of Object.keys(fields) as (keyof GPTConfig)[]) if (fields[k] === undefined) delete fields[k];
  if (fields.n_layer === undefined) throw new Error(`${where}: n_layer is missing`);
  return configFrom(fields, where);
}

/** The tensors of the file by name without the `transformer.` prefix. */
function stripPrefixes(header: SafetensorsHeader, file: string): Map<string, SafetensorsEntry> {
  const byName = new Map<string, SafetensorsEntry>();
  for (const e of header.entries) {
    const name = e.name.startsWith(PREFIX) ? e.name.slice(PREFIX.length) : e.name;
    const other = byName.get(name);
    if (other) throw new Error(`${file}: tensors ${other.name} and ${e.name} are the same parameter`);
    byName.set(name, e);
  }
  return byName;
}

/** `h.{i}.attn.bias` for a layer i of the model (written as transformers writes it: no leading zeros). */
function isMaskBuffer(name: string, nLayer: number): boolean {
  const m = /^h\.(0|[1-9]\d*)\.attn\.bias$/.exec(name);
  return m !== null && Number(m[1]) < nLayer;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** What `config.json` and the safetensors header of a Hugging Face checkpoint say, checked. */
export interface HFPlan {
  readonly config: GPTConfig;
  /** The `model.safetensors` path. */
  readonly path: string;
  readonly header: SafetensorsHeader;
  /** The tensors by name without the `transformer.` prefix. */
  readonly byName: ReadonlyMap<string, SafetensorsEntry>;
  /** Whether `config.json` records n_head. */
  readonly nHeadRecorded: boolean;
}

/**
 * The checks of `config.json` (its contents `json`) and the safetensors header of
 * `model.safetensors`: the config agrees with the tensors, and every tensor is
 * accounted for, with its shape and a readable dtype, before any data is read.
 * @throws a one-line error naming the file (as `files` names it).
 */
export function planHF(json: unknown, header: SafetensorsHeader, opts: LoadOptions, files: CheckpointFiles): HFPlan {
  const path = files.path(HF_WEIGHTS);
  const byName = stripPrefixes(header, path);
  const config = configFromHF(json, hfShapes((name) => byName.get(name)?.shape, json, path), opts, files.path(HF_CONFIG));
  const expected = new Map(paramShapes(config));
  const tokensShape = expected.get('tokens_embed.weight') as number[];
  const mask = [1, 1, config.n_ctx, config.n_ctx];
  const heads = announcedHeadTensors(json);
  for (const [name, e] of byName) {
    if (heads.includes(name)) continue; // the fine-tuned head that config.json's architectures names: read with the task (`train/state.ts`)
    const want = expected.get(name) ?? (name === 'lm_head.weight' ? tokensShape : isMaskBuffer(name, config.n_layer) ? mask : undefined);
    if (!want) throw new Error(`${path}: unexpected tensor ${e.name} (not a parameter of a ${config.n_layer}-layer GPT-1)`);
    if (!sameShape(e.shape, want)) throw new Error(`${path}: tensor ${e.name} has shape ${showShape(e.shape)}, expected ${showShape(want)}`);
    if (!READABLE_DTYPES.includes(e.dtype)) throw new Error(`${path}: tensor ${e.name} has dtype ${e.dtype}; only ${READABLE_DTYPES.join(', ')} are read`);
  }
  for (const name of expected.keys()) if (!byName.has(name)) throw new Error(`${path}: missing tensor ${name}`);
  return { config, path, header, byName, nHeadRecorded: (json as Record<string, unknown>).n_head !== undefined };
}

/**
 * Every check of {@link loadHF} that needs no number of the weights: `config.json`,
 * the safetensors header, the names, shapes and dtypes of all tensors
 * ({@link planHF}). `gpt1 info` and the loader both go through it, so a checkpoint
 * `info` accepts loads; the page's loader (`web/src/files.ts`) calls `planHF` too.
 * @throws a one-line error naming the file (see {@link loadHF}).
 */
export function inspectHF(dir: string, opts: LoadOptions = {}): HFPlan {
  const files = dirFiles(dir);
  const json = readJson(files.path(HF_CONFIG));
  if (!files.has(HF_WEIGHTS)) throw new Error(`${files.path(HF_WEIGHTS)}: missing`);
  return planHF(json, readSafetensorsHeader(files.path(HF_WEIGHTS)), opts, files);
}

/**
 * Checks elements `[start, start + chunk.length)` of the tied `lm_head.weight`
 * against the token embedding: GPT-1's output layer is W_e itself, bit for bit.
 */
export function checkTiedChunk(plan: HFPlan, lm: SafetensorsEntry, tokens: Float32Array, start: number, chunk: Float32Array): void {
  for (let k = 0; k < chunk.length; k++) {
    if (!Object.is(chunk[k], tokens[start + k])) {
      throw new Error(`${plan.path}: ${lm.name} differs from tokens_embed.weight at element ${start + k}; GPT-1 ties the output layer to the token embedding`);
    }
  }
}

/** Checks that the data `m` of mask buffer `e` (`h.{i}.attn.bias`) is the lower-triangular causal mask of ones. */
export function checkCausalMask(plan: HFPlan, e: SafetensorsEntry, m: Float32Array): void {
  const n = plan.config.n_ctx;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (m[r * n + c] !== (c <= r ? 1 : 0)) throw new Error(`${plan.path}: ${e.name} is not the causal mask (element [${r}, ${c}] is ${m[r * n + c]})`);
    }
  }
}

/** The tensors of `plan` besides the parameters that are checked and dropped: the tied `lm_head.weight` and the mask buffers. */
export function droppedTensors(plan: HFPlan): { lm?: SafetensorsEntry; masks: SafetensorsEntry[] } {
  return { lm: plan.byName.get('lm_head.weight'), masks: [...plan.byName].filter(([name]) => name.endsWith('.attn.bias')).map(([, e]) => e) };
}

/**
 * Loads a Hugging Face checkpoint from `dir` (`config.json` + `model.safetensors`).
 *
 * Checked, each as a one-line error naming the file: the safetensors header (see
 * `io/safetensors.ts`); `config.json` agrees with the tensors; every parameter is
 * present with its shape, and there is no other tensor except a tied `lm_head.weight`
 * equal to `tokens_embed.weight` and causal-mask buffers; dtypes are F32, F16 or BF16
 * (all of this in {@link inspectHF}); every number is finite.
 */
export function loadHF(dir: string, opts: LoadOptions = {}): { config: GPTConfig; params: Params } {
  const plan = inspectHF(dir, opts);
  const { config, path, header, byName } = plan;
  const params: Record<string, Tensor> = {};
  for (const [name] of paramShapes(config)) params[name] = readSafetensorsTensor(path, header, (byName.get(name) as SafetensorsEntry).name);
  Object.freeze(params);

  const { lm, masks } = droppedTensors(plan);
  if (lm) {
    const tokens = params['tokens_embed.weight'].data;
    for (let start = 0; start < tokens.length; start += TIED_CHUNK) {
      checkTiedChunk(plan, lm, tokens, start, readSafetensorsElements(path, header, lm.name, start, Math.min(tokens.length, start + TIED_CHUNK), { allowNonFinite: true }));
    }
  }
  for (const e of masks) checkCausalMask(plan, e, readSafetensorsTensor(path, header, e.name, { allowNonFinite: true }).data);
  validateParams(params, config);
  return { config, params };
}

/** A fine-tuned head to save with the model: its tensors and `config.json` fields under transformers' names (see `heads.ts`). */
export interface HFHead {
  readonly tensors: readonly (readonly [string, Tensor])[];
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * The files of the Hugging Face layout for a model; the safetensors data are views of
 * the parameters. With a `head`, the model is saved as transformers saves its
 * task models: the language model under `transformer.`, then the head's tensors,
 * and the head's fields (`architectures`, labels) in `config.json`.
 * @throws on an invalid config, parameters that do not match it, or a NaN or ±Infinity
 *   in them or in the head (the loaders would reject the file); `what` names the model in the message.
 */
export function hfFiles(config: GPTConfig, params: Params, head?: HFHead, what = 'the model to write'): Record<string, FileContent> {
  validateConfig(config);
  validateParams(params, config);
  assertParamsFinite(params, config, what);
  for (const [name, t] of head?.tensors ?? []) assertFinite(t.data, name, what);
  const prefix = head === undefined ? '' : PREFIX;
  const list = [...paramShapes(config).map(([name]) => [`${prefix}${name}`, params[name]] as const), ...(head?.tensors ?? [])];
  return {
    [HF_CONFIG]: `${JSON.stringify({ ...hfConfigJson(config), ...(head?.config ?? {}) }, null, 2)}\n`,
    [HF_WEIGHTS]: encodeSafetensorsChunks(list, { format: 'pt' }),
  };
}

/**
 * Saves a model in the Hugging Face layout to `dir`, atomically (see
 * `writeDirAtomic`): `model.safetensors` (F32, no `lm_head.weight`: transformers
 * re-ties it), `config.json`, and `vocab.json` + `merges.txt` if `extra.vocabDir` is given.
 * @throws on parameters that do not match `config` or are not finite.
 */
export function saveHF(dir: string, config: GPTConfig, params: Params, extra: SaveExtra = {}): void {
  const files = { ...hfFiles(config, params, undefined, `saveHF ${dir}`), ...(extra.vocabDir ? vocabFiles(extra.vocabDir, 'hf') : {}) };
  writeDirAtomic(dir, files);
}

