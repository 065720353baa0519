/**
 * Loading a checkpoint from files the reader picked (or dropped) in the page, in
 * either published layout, with the checks and one-line errors of the CLI
 * (`src/checkpoint/`), each naming the file:
 *
 * - original: `params_shapes.json`, `params_0.npy` … `params_9.npy`, optional
 *   `gpt1-ts.json`, and the BPE files `encoder_bpe_40000.json` + `vocab_40000.bpe`;
 * - Hugging Face: `model.safetensors`, `config.json`, `vocab.json` + `merges.txt`.
 *
 * Nothing is uploaded: the files are read with `Blob.slice().arrayBuffer()`, a
 * header first, then the numbers. The 10 shards are read in 16 MiB chunks straight
 * into the one Float32Array every parameter is a view of (as `loadOriginal` does);
 * each safetensors tensor is read into its own buffer (as `loadHF` does). So the
 * 466 MB of GPT-1 are held once, plus one chunk or one tensor in flight.
 *
 * @module
 */
import { type GPTConfig } from '../../src/config.ts';
import { type CheckpointFormat } from '../../src/checkpoint/common.ts';
import { HF_CONFIG, HF_WEIGHTS, configFromHF } from '../../src/checkpoint/hf.ts';
import { N_SHARDS, configFromOriginalShapes, originalLayout, shardName } from '../../src/checkpoint/original.ts';
import { type NpyHeader, decodeNpyData, float16ToNumber, npyHeaderEnd, parseNpyHeader } from '../../src/io/npy.ts';
import { READABLE_DTYPES, type SafetensorsEntry, type SafetensorsHeader, assertFinite, firstNonFinite, parseSafetensorsHeader, safetensorsHeaderEnd } from '../../src/io/safetensors.ts';
import { type Params, paramShapes, validateParams } from '../../src/params.ts';
import { type Tensor, numel, showShape, tensor } from '../../src/tensor.ts';
import { type GptTextEncoder, VOCAB_FILE_NAMES, textEncoderFromData } from '../../src/tokenizer/text-encoder.ts';

/** What the page needs of a file: `File` and `Blob` both are. */
export interface FileLike {
  readonly name: string;
  readonly size: number;
  slice(start?: number, end?: number): Blob;
}

/** A model loaded in the page. */
export interface LoadedModel {
  readonly format: CheckpointFormat;
  readonly config: GPTConfig;
  readonly params: Params;
  /** The vocabulary in the files, if they had one. */
  readonly enc?: GptTextEncoder;
  /** What was loaded, for the page: the file names. */
  readonly source: string;
}

/** Bytes read per `arrayBuffer()` call when streaming a shard. */
const CHUNK = 16 << 20;

async function bytes(f: FileLike, start: number, end: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await f.slice(start, end).arrayBuffer());
  } catch (e) {
    throw new Error(`${f.name}: cannot read: ${(e as Error).message}`);
  }
}

async function text(f: FileLike): Promise<string> {
  return new TextDecoder('utf-8').decode(await bytes(f, 0, f.size));
}

/** JSON of a file, with the CLI's `readJson` message on a syntax error. */
async function json(f: FileLike): Promise<unknown> {
  const t = await text(f);
  try {
    return JSON.parse(t);
  } catch (e) {
    throw new Error(`${f.name}: not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The files by name (the last of equal names wins: a folder picked twice). */
function byName(files: readonly FileLike[]): Map<string, FileLike> {
  return new Map(files.map((f) => [f.name, f]));
}

/**
 * The layout of a set of files, by their names, as `detectFormat` decides for a
 * directory. @throws naming what was found instead.
 */
export function detectFormatOfFiles(names: ReadonlySet<string>): CheckpointFormat {
  const original = names.has('params_shapes.json');
  const hf = names.has(HF_WEIGHTS);
  if (original && hf) throw new Error(`the files hold both an original (params_shapes.json) and a Hugging Face (${HF_WEIGHTS}) checkpoint; pick one`);
  if (original) return 'original';
  if (hf) return 'hf';
  for (const f of ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack']) {
    if (names.has(f)) throw new Error(`only ${f} given; safetensors is required: download model.safetensors from openai-community/openai-gpt`);
  }
  if ([...names].some((n) => /^params_\d+\.npy$/.test(n))) throw new Error('params_shapes.json: missing (the shards params_*.npy cannot be split without it)');
  if (names.has(HF_CONFIG)) throw new Error(`${HF_WEIGHTS}: missing (found ${HF_CONFIG} only)`);
  const given = [...names].join(', ') || 'no files';
  throw new Error(`not a GPT-1 checkpoint (${given}): expected params_shapes.json + params_0..9.npy (original) or ${HF_WEIGHTS} + ${HF_CONFIG} (Hugging Face)`);
}

/** The `.npy` header of a shard: two small reads. */
async function npyHeader(f: FileLike): Promise<NpyHeader> {
  const first = await bytes(f, 0, Math.min(12, f.size));
  const end = npyHeaderEnd(first, f.name, f.size);
  return parseNpyHeader(await bytes(f, 0, end), f.name, f.size);
}

/** The original layout (see `src/checkpoint/original.ts`, `loadOriginal`). */
async function loadOriginalFiles(files: Map<string, FileLike>, beforeAllocate: () => void): Promise<{ config: GPTConfig; params: Params }> {
  const shapesFile = files.get('params_shapes.json') as FileLike;
  const shapes = await json(shapesFile);
  if (!Array.isArray(shapes)) throw new Error(`${shapesFile.name}: expected a list of shapes`);
  shapes.forEach((s, i) => {
    if (!Array.isArray(s) || !s.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${shapesFile.name}: shape ${i} is not a list of non-negative integers: ${JSON.stringify(s).slice(0, 80)}`);
    }
  });
  const extrasFile = files.get('gpt1-ts.json');
  const extras = extrasFile === undefined ? {} : await json(extrasFile);
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) throw new Error(`gpt1-ts.json: expected a JSON object`);
  const config = configFromOriginalShapes(shapes as number[][], extras as Partial<GPTConfig>, {}, shapesFile.name);
  const layout = originalLayout(config);
  const total = layout.reduce((s, a) => s + a.size, 0);

  // Every shard header before the big allocation.
  const shards: { file: FileLike; header: NpyHeader; offset: number }[] = [];
  let offset = 0;
  for (let k = 0; k < N_SHARDS; k++) {
    const file = files.get(shardName(k));
    if (file === undefined) throw new Error(`${shardName(k)}: missing shard ${k} of ${N_SHARDS}`);
    const header = await npyHeader(file);
    if (header.shape.length !== 1) throw new Error(`${file.name}: shard has shape ${showShape(header.shape)}, expected a one-dimensional array`);
    if (!/^[<>=]f[248]$/.test(header.descr)) throw new Error(`${file.name}: shard has dtype '${header.descr}', expected a float type (<f4; f2 and f8 are converted)`);
    shards.push({ file, header, offset });
    offset += header.shape[0];
  }
  if (files.has(shardName(N_SHARDS))) throw new Error(`${shardName(N_SHARDS)}: unexpected shard: the layout has exactly ${N_SHARDS} (params_0.npy … params_${N_SHARDS - 1}.npy)`);
  if (offset !== total) throw new Error(`params_*.npy: the shards hold ${offset} numbers in all, params_shapes.json needs ${total}`);

  beforeAllocate();
  const flat = new Float32Array(total);
  const flatBytes = new Uint8Array(flat.buffer);
  for (const s of shards) {
    const { dataOffset, dataBytes, descr } = s.header;
    if (descr === '<f4') {
      for (let at = 0; at < dataBytes; at += CHUNK) {
        const chunk = await bytes(s.file, dataOffset + at, dataOffset + Math.min(dataBytes, at + CHUNK));
        flatBytes.set(chunk, s.offset * 4 + at);
      }
    } else {
      flat.set(decodeNpyData(await bytes(s.file, dataOffset, dataOffset + dataBytes), s.header, s.file.name), s.offset);
    }
  }
  const i = firstNonFinite(flat);
  if (i >= 0) {
    const a = layout.find((p) => i < p.offset + p.size) as (typeof layout)[number];
    const s = [...shards].reverse().find((p) => i >= p.offset) as (typeof shards)[number];
    throw new Error(`${s.file.name}: ${a.name} contains ${flat[i]} at element ${i - a.offset} (flat index ${i})`);
  }
  const params: Record<string, Tensor> = {};
  for (const a of layout) params[a.name] = tensor(a.shape, flat.subarray(a.offset, a.offset + a.size));
  return { config, params: Object.freeze(params) };
}

/** Little-endian F32 / F16 / BF16 bytes as float32 (F32 bytes in a fresh buffer are viewed, not copied). */
function float32Of(b: Uint8Array, dtype: string): Float32Array {
  if (dtype === 'F32') return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(b.length / 2);
  const bits = new Uint32Array(out.buffer);
  for (let k = 0; k < out.length; k++) {
    if (dtype === 'F16') out[k] = float16ToNumber(v.getUint16(2 * k, true));
    else bits[k] = v.getUint16(2 * k, true) << 16; // bfloat16: the top half of a float32
  }
  return out;
}

/** The Hugging Face layout (see `src/checkpoint/hf.ts`, `loadHF`). */
async function loadHFFiles(files: Map<string, FileLike>, beforeAllocate: () => void): Promise<{ config: GPTConfig; params: Params }> {
  const configFile = files.get(HF_CONFIG);
  if (configFile === undefined) throw new Error(`${HF_CONFIG}: missing`);
  const cfg = await json(configFile);
  const file = files.get(HF_WEIGHTS) as FileLike;
  const first = await bytes(file, 0, Math.min(8, file.size));
  const header: SafetensorsHeader = parseSafetensorsHeader(await bytes(file, 0, safetensorsHeaderEnd(first, file.name, file.size)), file.name, file.size);
  const entries = new Map<string, SafetensorsEntry>();
  for (const e of header.entries) {
    const name = e.name.startsWith('transformer.') ? e.name.slice('transformer.'.length) : e.name;
    if (entries.has(name)) throw new Error(`${file.name}: tensors ${entries.get(name)?.name} and ${e.name} are the same parameter`);
    entries.set(name, e);
  }
  const need = (name: string): SafetensorsEntry => {
    const e = entries.get(name);
    if (e === undefined) throw new Error(`${file.name}: missing tensor ${name}`);
    return e;
  };
  const config = configFromHF(cfg, { tokens: need('tokens_embed.weight').shape, positions: need('positions_embed.weight').shape, cfc: entries.get('h.0.mlp.c_fc.weight')?.shape }, {}, configFile.name);
  const expected = new Map(paramShapes(config));
  const tokensShape = expected.get('tokens_embed.weight') as number[];
  const mask = [1, 1, config.n_ctx, config.n_ctx];
  for (const [name, e] of entries) {
    const m = /^h\.(0|[1-9]\d*)\.attn\.bias$/.exec(name);
    const want = expected.get(name) ?? (name === 'lm_head.weight' ? tokensShape : m !== null && Number(m[1]) < config.n_layer ? mask : undefined);
    if (want === undefined) throw new Error(`${file.name}: unexpected tensor ${e.name} (not a parameter of a ${config.n_layer}-layer GPT-1)`);
    if (showShape(e.shape) !== showShape(want)) throw new Error(`${file.name}: tensor ${e.name} has shape ${showShape(e.shape)}, expected ${showShape(want)}`);
    if (!READABLE_DTYPES.includes(e.dtype)) throw new Error(`${file.name}: tensor ${e.name} has dtype ${e.dtype}; only ${READABLE_DTYPES.join(', ')} are read`);
  }
  const read = async (e: SafetensorsEntry, start = 0, end = numel(e.shape)): Promise<Float32Array> => {
    const item = e.dtype === 'F32' ? 4 : 2;
    return float32Of(await bytes(file, header.dataStart + e.begin + start * item, header.dataStart + e.begin + end * item), e.dtype);
  };
  beforeAllocate();
  const params: Record<string, Tensor> = {};
  for (const [name, shape] of expected) {
    const data = await read(need(name));
    assertFinite(data, need(name).name, file.name);
    params[name] = tensor(shape, data);
  }
  // Tied head: lm_head.weight, if present, must be W_e itself (compared in chunks, never kept).
  const lm = entries.get('lm_head.weight');
  if (lm !== undefined) {
    const tokens = params['tokens_embed.weight'].data;
    for (let start = 0; start < tokens.length; start += 1 << 20) {
      const chunk = await read(lm, start, Math.min(tokens.length, start + (1 << 20)));
      const k = chunk.findIndex((x, j) => !Object.is(x, tokens[start + j]));
      if (k >= 0) throw new Error(`${file.name}: ${lm.name} differs from tokens_embed.weight at element ${start + k}; GPT-1 ties the output layer to the token embedding`);
    }
  }
  for (const [name, e] of entries) {
    if (!name.endsWith('.attn.bias')) continue;
    const n = config.n_ctx;
    const m = await read(e);
    const k = m.findIndex((x, j) => x !== (j % n <= Math.floor(j / n) ? 1 : 0));
    if (k >= 0) throw new Error(`${file.name}: ${e.name} is not the causal mask (element [${Math.floor(k / n)}, ${k % n}] is ${m[k]})`);
  }
  return { config, params: Object.freeze(params) };
}

/**
 * The vocabulary among the files, in any naming the tokenizer reads
 * (`VOCAB_FILE_NAMES`), or undefined when there is none.
 */
export async function vocabOfFiles(files: readonly FileLike[]): Promise<GptTextEncoder | undefined> {
  const named = byName(files);
  const pair = VOCAB_FILE_NAMES.find(([e, m]) => named.has(e) && named.has(m));
  if (pair === undefined) return undefined;
  const [encFile, mergesFile] = pair.map((n) => named.get(n) as FileLike);
  return textEncoderFromData(await json(encFile), await text(mergesFile), encFile.name, mergesFile.name);
}

/**
 * Loads a checkpoint from the reader's files (either layout; vocabulary optional).
 * @param beforeAllocate - called once every header has been checked, before the
 *   weights are read (the page drops its previous model there)
 * @throws a one-line error naming the file and the problem
 */
export async function loadFiles(files: readonly FileLike[], beforeAllocate: () => void = () => undefined): Promise<LoadedModel> {
  const named = byName(files);
  const format = detectFormatOfFiles(new Set(named.keys()));
  const enc = await vocabOfFiles(files);
  const { config, params } = await (format === 'original' ? loadOriginalFiles(named, beforeAllocate) : loadHFFiles(named, beforeAllocate));
  validateParams(params, config);
  if (enc !== undefined && enc.nVocab !== config.n_vocab) {
    throw new Error(`the vocabulary (${enc.source}) has ${enc.nVocab} tokens but the model's n_vocab is ${config.n_vocab}`);
  }
  return { format, config, params, enc, source: [...named.keys()].sort().join(', ') };
}
