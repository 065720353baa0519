/**
 * The original release's layout (openai/finetune-transformer-lm, directory `model/`).
 *
 * | file | content |
 * |---|---|
 * | `params_shapes.json` | the shapes of the 146 arrays, in order, e.g. `[[512, 768], [40478, 768], [1, 768, 2304], …]` |
 * | `params_0.npy` … `params_9.npy` | one flat float32 vector of all the numbers (116,534,784 for GPT-1), cut into 10 one-dimensional shards |
 * | `encoder_bpe_40000.json`, `vocab_40000.bpe` | the BPE vocabulary (optional here) |
 * | `gpt1-ts.json` | optional, ours: what the shapes cannot say (n_special, n_head, afn, epsilon, dropouts) |
 *
 * The original `train.py` loads it as
 *
 * ```python
 * shapes = json.load(open('model/params_shapes.json'))
 * offsets = np.cumsum([np.prod(shape) for shape in shapes])
 * init_params = [np.load('model/params_{}.npy'.format(n)) for n in range(10)]
 * init_params = np.split(np.concatenate(init_params, 0), offsets)[:-1]
 * init_params = [param.reshape(shape) for param, shape in zip(init_params, shapes)]
 * ```
 *
 * and so do we: the shards are read, in order, straight into one preallocated
 * Float32Array (no per-shard buffer for `<f4` shards), which is split at the
 * cumulative products of the shapes; every parameter tensor is a `subarray` **view**
 * of that one array (no copy: the loaded model costs exactly 4 bytes per number).
 * The array order is `paramShapes(config)`; Conv1D weights carry a leading 1
 * (`[1, nx, nf]`) that the Hugging Face names drop. We return
 * `positions_embed.weight` with all `n_ctx` rows of the file and
 * `tokens_embed.weight` with all token rows; `train.py` instead cuts the positions to
 * its `n_ctx` and stacks `[tokens; specials; positions]` into one matrix `we`.
 *
 * Writing splits the flat vector as `np.array_split(flat, 10)` does: the first
 * `N mod 10` shards get `⌊N/10⌋ + 1` numbers, the others `⌊N/10⌋`. Each shard is a
 * version 1.0 `<f4` `.npy` exactly as `numpy.save` writes it, and `params_shapes.json`
 * is byte-identical to the release's for the GPT-1 sizes.
 *
 * The later decoders' switches (`config.ts`) are recorded in `gpt1-ts.json` only when
 * they differ from GPT-1 (with `n_ctx` for RoPE, whose checkpoint has no position
 * array to tell it); the array list is then `paramShapes` of that variant, and
 * n_layer and n_inner are read off the shapes the same way.
 *
 * @module
 */
import { closeSync } from 'node:fs';
import { ARCHITECTURE_FIELDS, type GPTConfig, architectureOverrides, usesRope, validateConfig } from '../config.ts';
import { type Params, blockParamShapes, paramShapes, validateParams } from '../params.ts';
import { type Tensor, numel, showShape, tensor } from '../tensor.ts';
import { HOST_LITTLE_ENDIAN, type NpyHeader, encodeNpyHeader, float32LEBytes, readExactly, readNpy, readNpyHeader } from '../io/npy.ts';
import { type FileContent, writeDirAtomic } from '../io/atomic.ts';
import { openRegularFile } from '../io/files.ts';
import { firstNonFinite } from '../io/safetensors.ts';
import { type CheckpointFiles, type LoadOptions, type SaveExtra, STRING_SWITCHES, assertParamsFinite, chooseNHead, configFrom, dirFiles, preview, readJson, vocabFiles } from './common.ts';

/** Number of shards of the release, hard-coded in `train.py` (`range(10)`). */
export const N_SHARDS = 10;
/** The shapes of the arrays, in order. */
export const SHAPES_FILE = 'params_shapes.json';
/** Our optional side file in the original layout. */
export const EXTRAS_FILE = 'gpt1-ts.json';
/** Fields of {@link EXTRAS_FILE}: the config fields the shapes do not determine. */
const EXTRA_FIELDS = ['n_special', 'n_head', 'afn', 'layer_norm_epsilon', 'embd_pdrop', 'attn_pdrop', 'resid_pdrop', 'clf_pdrop', 'initializer_range', ...ARCHITECTURE_FIELDS, 'n_ctx'] as const;
/** The string-valued fields of {@link EXTRAS_FILE} (the others are numbers). */
const STRING_FIELDS: readonly string[] = ['afn', ...STRING_SWITCHES];

const isConv1DWeight = (name: string): boolean => /\.(c_attn|c_proj|c_fc)\.weight$/.test(name);

/** One array of the original layout: its name, shape in the file, and place in the flat vector. */
export interface OriginalArray {
  readonly name: string;
  /** Shape in `params_shapes.json` (Conv1D weights `[1, nx, nf]`). */
  readonly fileShape: readonly number[];
  /** Shape of the parameter tensor (`paramShapes`: Conv1D weights `[nx, nf]`). */
  readonly shape: readonly number[];
  /** First element in the flat vector. */
  readonly offset: number;
  readonly size: number;
}

/** The arrays of the original layout for `config`, in file order, with their offsets. */
export function originalLayout(config: GPTConfig): OriginalArray[] {
  let offset = 0;
  return paramShapes(config).map(([name, shape]) => {
    const size = numel(shape);
    const a = { name, fileShape: isConv1DWeight(name) ? [1, ...shape] : shape, shape, offset, size };
    offset += size;
    return a;
  });
}

/** The contents of `params_shapes.json` for `config`, formatted as Python's `json.dump` writes it. */
export function encodeParamsShapes(config: GPTConfig): string {
  return `[${originalLayout(config).map((a) => `[${a.fileShape.join(', ')}]`).join(', ')}]`;
}

/** Sizes of `np.array_split` of `n` numbers into `k` parts: the first `n mod k` parts get one more. */
export function arraySplitSizes(n: number, k: number): number[] {
  const each = Math.floor(n / k);
  const extra = n % k;
  return Array.from({ length: k }, (_, i) => (i < extra ? each + 1 : each));
}

/** Parses `params_shapes.json` content: a list of lists of non-negative integers. */
function parseShapes(json: unknown, where: string): number[][] {
  if (!Array.isArray(json)) throw new Error(`${where}: expected a list of shapes`);
  json.forEach((s, i) => {
    if (!Array.isArray(s) || !s.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${where}: shape ${i} is not a list of non-negative integers: ${preview(s)}`);
    }
  });
  return json as number[][];
}

/**
 * The config of an original-layout checkpoint with these `shapes`: n_layer from the
 * count, n_ctx and n_embd from the positions, the token rows (n_vocab + n_special) from
 * the tokens, n_inner from the first `c_fc`; the rest from `extras` (the contents of
 * `gpt1-ts.json`, if any) or GPT-1's values. Every shape is then checked against the
 * layout of that config.
 * @throws a one-line error starting with `where`.
 */
export function configFromOriginalShapes(shapes: readonly (readonly number[])[], extras: Partial<GPTConfig>, opts: LoadOptions, where: string): GPTConfig {
  if (Object.keys(extras).some((k) => (ARCHITECTURE_FIELDS as string[]).includes(k)) || extras.afn === 'swiglu') return configFromVariantShapes(shapes, extras, opts, where);
  const n = shapes.length;
  if (n < 14 || (n - 2) % 12 !== 0) throw new Error(`${where}: ${n} shapes is not 2 + 12·n_layer (GPT-1 has 146)`);
  const [pos, tok, , , , , , , cfc] = shapes;
  if (pos.length !== 2) throw new Error(`${where}: shape 0 (positions_embed) is ${showShape(pos)}, expected [n_ctx, n_embd]`);
  if (tok.length !== 2) throw new Error(`${where}: shape 1 (tokens_embed) is ${showShape(tok)}, expected [n_vocab, n_embd]`);
  if (cfc.length !== 3) throw new Error(`${where}: shape 8 (h.0.mlp.c_fc.weight) is ${showShape(cfc)}, expected [1, n_embd, n_inner]`);
  const n_special = extras.n_special ?? 0;
  if (!(Number.isInteger(n_special) && n_special >= 0 && n_special < tok[0])) {
    throw new Error(`${where}: n_special ${n_special} does not fit the ${tok[0]} token rows`);
  }
  const config = configFrom(
    {
      ...extras,
      n_head: chooseNHead(opts, extras.n_head, where),
      n_vocab: tok[0] - n_special,
      n_special,
      n_ctx: pos[0],
      n_embd: pos[1],
      n_layer: (n - 2) / 12,
      n_inner: cfc[2],
    },
    where,
  );
  checkLayout(config, shapes, where);
  return config;
}

/** Every shape of the file against the layout of `config`. */
function checkLayout(config: GPTConfig, shapes: readonly (readonly number[])[], where: string): void {
  const layout = originalLayout(config);
  if (layout.length !== shapes.length) throw new Error(`${where}: ${shapes.length} shapes, but the model of gpt1-ts.json has ${layout.length}`);
  layout.forEach((a, i) => {
    const s = shapes[i];
    if (s.length !== a.fileShape.length || s.some((d, j) => d !== a.fileShape[j])) {
      throw new Error(`${where}: shape ${i} (${a.name}) is ${showShape(s)}, expected ${showShape(a.fileShape)} from the other shapes`);
    }
  });
}

/**
 * {@link configFromOriginalShapes} for a variant named by `extras` (RoPE, RMSNorm,
 * Pre-LN, SwiGLU, experts): the array list of a one-layer model of that variant says
 * where the token embedding and the first FFN input matrix are and how many arrays a
 * block has; n_embd, n_inner and n_layer follow from the shapes.
 */
function configFromVariantShapes(shapes: readonly (readonly number[])[], extras: Partial<GPTConfig>, opts: LoadOptions, where: string): GPTConfig {
  const rope = extras.position_embedding === 'rope';
  const tok = shapes[rope ? 0 : 1];
  if (tok === undefined || tok.length !== 2) throw new Error(`${where}: the token embedding shape is ${tok === undefined ? 'missing' : showShape(tok)}, expected [n_vocab, n_embd]`);
  const n_ctx = rope ? extras.n_ctx : shapes[0][0];
  if (n_ctx === undefined) throw new Error(`${where}: a RoPE model needs n_ctx in ${EXTRAS_FILE}`);
  const n_special = extras.n_special ?? 0;
  const base = { ...extras, n_head: chooseNHead(opts, extras.n_head, where), n_vocab: tok[0] - n_special, n_special, n_ctx, n_embd: tok[1] };
  const probe = configFrom({ ...base, n_layer: 1, n_inner: 2 }, where);
  const names = paramShapes(probe).map(([name]) => name);
  const fc = shapes[names.findIndex((name) => name.endsWith('.c_fc.weight'))];
  const perBlock = blockParamShapes(probe, 0).length;
  const n_layer = (shapes.length - (names.length - perBlock)) / perBlock;
  if (!Number.isInteger(n_layer) || n_layer < 1 || fc === undefined || fc.length !== 3) {
    throw new Error(`${where}: ${shapes.length} shapes do not make whole blocks of ${perBlock} arrays for the model of ${EXTRAS_FILE}`);
  }
  const config = configFrom({ ...base, n_layer, n_inner: fc[2] }, where);
  checkLayout(config, shapes, where);
  return config;
}

/** The contents of `gpt1-ts.json`, checked: an object of known fields, each of its type. */
function checkExtras(json: unknown, path: string): Partial<GPTConfig> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${path}: expected a JSON object`);
  for (const [key, value] of Object.entries(json)) {
    if (!(EXTRA_FIELDS as readonly string[]).includes(key)) throw new Error(`${path}: unknown field ${key} (known: ${EXTRA_FIELDS.join(', ')})`);
    const kind = STRING_FIELDS.includes(key) ? 'string' : 'number';
    if (typeof value !== kind) throw new Error(`${path}: ${key} must be a ${kind}, got ${preview(value)}`);
  }
  return json as Partial<GPTConfig>;
}

/** The name of shard `k`. */
export const shardName = (k: number): string => `params_${k}.npy`;

/** One shard as its header describes it, and where its numbers go in the flat vector. */
export interface OriginalShard {
  readonly path: string;
  readonly header: NpyHeader;
  readonly offset: number;
  readonly size: number;
}

/** What the small files and the shard headers of an original-layout checkpoint say, checked. */
export interface OriginalPlan {
  readonly config: GPTConfig;
  readonly layout: readonly OriginalArray[];
  readonly shards: readonly OriginalShard[];
  /** Numbers in the flat vector. */
  readonly total: number;
  /** Whether `gpt1-ts.json` records n_head (the release does not). */
  readonly nHeadRecorded: boolean;
}

/**
 * The checks of the two small files: `shapesJson` (the contents of
 * `params_shapes.json`) and `extrasJson` (of `gpt1-ts.json`; undefined when there is
 * none) give the config ({@link configFromOriginalShapes}).
 * @throws a one-line error naming the file (as `files` names it).
 */
export function originalConfig(shapesJson: unknown, extrasJson: unknown, opts: LoadOptions, files: CheckpointFiles): { config: GPTConfig; nHeadRecorded: boolean } {
  const shapesPath = files.path(SHAPES_FILE);
  const shapes = parseShapes(shapesJson, shapesPath);
  const extras = extrasJson === undefined ? {} : checkExtras(extrasJson, files.path(EXTRAS_FILE));
  return { config: configFromOriginalShapes(shapes, extras, opts, shapesPath), nHeadRecorded: extras.n_head !== undefined };
}

/**
 * The checks of the shard headers (`headers[k]` of `params_k.npy`, undefined when it
 * is missing) against `config`: all 10 are there (and no 11th), each a one-dimensional
 * array of a float type, and together they hold exactly the numbers of the layout.
 * @throws a one-line error naming the file (as `files` names it).
 */
export function planShards(config: GPTConfig, nHeadRecorded: boolean, headers: readonly (NpyHeader | undefined)[], files: CheckpointFiles): OriginalPlan {
  const layout = originalLayout(config);
  const total = layout.reduce((s, a) => s + a.size, 0);
  const shards: OriginalShard[] = [];
  let offset = 0;
  for (let k = 0; k < N_SHARDS; k++) {
    const path = files.path(shardName(k));
    const header = headers[k];
    if (header === undefined) throw new Error(`${path}: missing shard ${k} of ${N_SHARDS}`);
    if (header.shape.length !== 1) throw new Error(`${path}: shard has shape ${showShape(header.shape)}, expected a one-dimensional array`);
    if (!/^[<>=]f[248]$/.test(header.descr)) throw new Error(`${path}: shard has dtype '${header.descr}', expected a float type (<f4; f2 and f8 are converted)`);
    shards.push({ path, header, offset, size: header.shape[0] });
    offset += header.shape[0];
  }
  if (files.has(shardName(N_SHARDS))) {
    throw new Error(`${files.path(shardName(N_SHARDS))}: unexpected shard: the layout has exactly ${N_SHARDS} (params_0.npy … params_${N_SHARDS - 1}.npy)`);
  }
  if (offset !== total) throw new Error(`${files.path('params_*.npy')}: the shards hold ${offset} numbers in all, ${files.path(SHAPES_FILE)} needs ${total}`);
  return { config, layout, shards, total, nHeadRecorded };
}

/**
 * Every check of {@link loadOriginal} that needs no number of the weights: it reads
 * `params_shapes.json`, `gpt1-ts.json` and the ten shard headers only
 * ({@link originalConfig}, then {@link planShards}: every header before the big
 * allocation). `gpt1 info` and the loader both go through it, so a checkpoint `info`
 * accepts loads; the page's loader (`web/src/files.ts`) makes the same two calls.
 * @throws a one-line error naming the file (see {@link loadOriginal}).
 */
export function inspectOriginal(dir: string, opts: LoadOptions = {}): OriginalPlan {
  const files = dirFiles(dir);
  const shapesJson = readJson(files.path(SHAPES_FILE));
  const extrasJson = files.has(EXTRAS_FILE) ? readJson(files.path(EXTRAS_FILE)) : undefined;
  const { config, nHeadRecorded } = originalConfig(shapesJson, extrasJson, opts, files);
  const headers = Array.from({ length: N_SHARDS }, (_, k) => (files.has(shardName(k)) ? readNpyHeader(files.path(shardName(k))) : undefined));
  return planShards(config, nHeadRecorded, headers, files);
}

/**
 * The parameters of a checkpoint from its flat vector (all the shards' numbers, in
 * order): every number finite (the error names the parameter and the shard holding
 * it), then each parameter a `subarray` view of `flat`, cut at the layout's offsets.
 */
export function paramsOfFlat(plan: OriginalPlan, flat: Float32Array): Params {
  const i = firstNonFinite(flat);
  if (i >= 0) {
    const a = plan.layout.find((p) => i < p.offset + p.size) as OriginalArray;
    const s = plan.shards.find((p) => i < p.offset + p.size) as OriginalShard;
    throw new Error(`${s.path}: ${a.name} contains ${flat[i]} at element ${i - a.offset} (flat index ${i})`);
  }
  const params: Record<string, Tensor> = {};
  for (const a of plan.layout) params[a.name] = tensor(a.shape, flat.subarray(a.offset, a.offset + a.size));
  return Object.freeze(params);
}

/**
 * Loads an original-layout checkpoint from `dir`.
 *
 * Checked, each as a one-line error naming the file: `params_shapes.json` is a list of
 * 2 + 12·n_layer shapes consistent with one another; `gpt1-ts.json` (if present) has
 * only known fields; all 10 shards exist (and no 11th), are valid one-dimensional
 * `.npy` arrays of a float type (`f4`; `f2`/`f8` are converted), and together hold
 * exactly the numbers the shapes need (all of this in {@link inspectOriginal});
 * every number is finite.
 */
export function loadOriginal(dir: string, opts: LoadOptions = {}): { config: GPTConfig; params: Params } {
  const plan = inspectOriginal(dir, opts);
  const flat = new Float32Array(plan.total);
  for (const s of plan.shards) {
    if (s.header.descr === '<f4' && HOST_LITTLE_ENDIAN) {
      const fd = openRegularFile(s.path);
      try {
        readExactly(fd, new Uint8Array(flat.buffer, s.offset * 4, s.size * 4), s.header.dataOffset, s.path);
      } finally {
        closeSync(fd);
      }
    } else {
      flat.set(readNpy(s.path).tensor.data, s.offset); // converted from f2/f8 or swapped bytes
    }
  }
  const params = paramsOfFlat(plan, flat);
  validateParams(params, plan.config);
  return { config: plan.config, params };
}

/** The contents of `gpt1-ts.json` for `config`. */
export function encodeExtras(config: GPTConfig): string {
  const out: Record<string, unknown> = {};
  for (const k of EXTRA_FIELDS) if (!(ARCHITECTURE_FIELDS as string[]).includes(k) && k !== 'n_ctx') out[k] = config[k];
  Object.assign(out, architectureOverrides(config), usesRope(config) ? { n_ctx: config.n_ctx } : {}); // only a variant's switches: GPT-1's file is unchanged
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * The files of the original layout for a model, as chunks that are views of the
 * parameters (nothing is copied on little-endian hosts).
 * @throws on an invalid config, parameters that do not match it, or a NaN or ±Infinity
 *   in them (the loaders would reject the file); `what` names the model in the message.
 */
export function originalFiles(config: GPTConfig, params: Params, what = 'the model to write'): Record<string, FileContent> {
  validateConfig(config);
  validateParams(params, config);
  assertParamsFinite(params, config, what);
  const layout = originalLayout(config);
  const total = layout.reduce((s, a) => s + a.size, 0);
  const files: Record<string, FileContent> = { [SHAPES_FILE]: encodeParamsShapes(config) };
  let start = 0;
  arraySplitSizes(total, N_SHARDS).forEach((size, k) => {
    const end = start + size;
    const chunks: Uint8Array[] = [encodeNpyHeader([size])];
    for (const a of layout) {
      const lo = Math.max(start, a.offset);
      const hi = Math.min(end, a.offset + a.size);
      if (lo < hi) chunks.push(float32LEBytes(params[a.name].data.subarray(lo - a.offset, hi - a.offset)));
    }
    files[shardName(k)] = chunks;
    start = end;
  });
  files[EXTRAS_FILE] = encodeExtras(config);
  return files;
}

/**
 * Saves a model in the original layout to `dir`, atomically (see `writeDirAtomic`):
 * `params_shapes.json`, `params_0.npy` … `params_9.npy` (split like `np.array_split`),
 * `gpt1-ts.json`, and the vocabulary if `extra.vocabDir` is given.
 * With `n_special > 0` the special-token rows are the last rows of `tokens_embed`,
 * and `gpt1-ts.json` records how many there are.
 * @throws on parameters that do not match `config` or are not finite.
 */
export function saveOriginal(dir: string, config: GPTConfig, params: Params, extra: SaveExtra = {}): void {
  const files = { ...originalFiles(config, params, `saveOriginal ${dir}`), ...(extra.vocabDir ? vocabFiles(extra.vocabDir, 'original') : {}) };
  writeDirAtomic(dir, files);
}
