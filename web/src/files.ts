/**
 * Loading a checkpoint from files the reader picked (or dropped) in the page, in
 * either published layout, with the checks and one-line errors of the CLI: the
 * page reads the files itself, asynchronously, and hands what it read to the same
 * check functions of `src/checkpoint/` that `loadOriginal` and `loadHF` call, so
 * each error names the file exactly as the CLI does (without the directory):
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
import { type CheckpointFiles, type CheckpointFormat, parseJson } from '../../src/checkpoint/common.ts';
import { HF_CONFIG, HF_WEIGHTS, TIED_CHUNK, checkCausalMask, checkTiedChunk, droppedTensors, planHF } from '../../src/checkpoint/hf.ts';
import { EXTRAS_FILE, N_SHARDS, SHAPES_FILE, originalConfig, paramsOfFlat, planShards, shardName } from '../../src/checkpoint/original.ts';
import { type NpyHeader, decodeNpyData, npyHeaderEnd, parseNpyHeader } from '../../src/io/npy.ts';
import { type SafetensorsEntry, assertFinite, parseSafetensorsHeader, safetensorsHeaderEnd, toFloat32 } from '../../src/io/safetensors.ts';
import { type Params, paramShapes, validateParams } from '../../src/params.ts';
import { type Tensor, numel, tensor } from '../../src/tensor.ts';
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

/** The files by name (the last of equal names wins: a folder picked twice). */
function byName(files: readonly FileLike[]): Map<string, FileLike> {
  return new Map(files.map((f) => [f.name, f]));
}

/** The reader's files as the checks of `src/checkpoint/` see them: each named by its bare name. */
function pickedFiles(files: ReadonlyMap<string, FileLike>): CheckpointFiles {
  return { path: (name) => name, has: (name) => files.has(name) };
}

/** File `name`, which the checks have found to be there. */
const get = (files: ReadonlyMap<string, FileLike>, name: string): FileLike => files.get(name) as FileLike;

/** JSON of file `name` (the CLI's `readJson`). @throws `name: missing` / `name: not JSON: …`. */
async function json(files: ReadonlyMap<string, FileLike>, name: string): Promise<unknown> {
  const f = files.get(name);
  if (f === undefined) throw new Error(`${name}: missing`);
  return parseJson(await text(f), f.name);
}

/**
 * The layout of a set of files, by their names, as `detectFormat` decides for a
 * directory. @throws naming what was found instead.
 */
export function detectFormatOfFiles(names: ReadonlySet<string>): CheckpointFormat {
  const original = names.has(SHAPES_FILE);
  const hf = names.has(HF_WEIGHTS);
  if (original && hf) throw new Error(`the files hold both an original (${SHAPES_FILE}) and a Hugging Face (${HF_WEIGHTS}) checkpoint; pick one`);
  if (original) return 'original';
  if (hf) return 'hf';
  for (const f of ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack']) {
    if (names.has(f)) throw new Error(`only ${f} given; safetensors is required: download model.safetensors from openai-community/openai-gpt`);
  }
  if ([...names].some((n) => /^params_\d+\.npy$/.test(n))) throw new Error(`${SHAPES_FILE}: missing (the shards params_*.npy cannot be split without it)`);
  if (names.has(HF_CONFIG)) throw new Error(`${HF_WEIGHTS}: missing (found ${HF_CONFIG} only)`);
  const given = [...names].join(', ') || 'no files';
  throw new Error(`not a GPT-1 checkpoint (${given}): expected ${SHAPES_FILE} + params_0..9.npy (original) or ${HF_WEIGHTS} + ${HF_CONFIG} (Hugging Face)`);
}

/** The `.npy` header of a shard: two small reads. */
async function npyHeader(f: FileLike): Promise<NpyHeader> {
  const first = await bytes(f, 0, Math.min(12, f.size));
  const end = npyHeaderEnd(first, f.name, f.size);
  return parseNpyHeader(await bytes(f, 0, end), f.name, f.size);
}

/**
 * The original layout: `loadOriginal`'s reads, done with `Blob.slice`, and its checks
 * (`originalConfig`, `planShards`, `paramsOfFlat` of `src/checkpoint/original.ts`).
 */
async function loadOriginalFiles(files: Map<string, FileLike>, beforeAllocate: () => void): Promise<{ config: GPTConfig; params: Params }> {
  const picked = pickedFiles(files);
  const shapesJson = await json(files, SHAPES_FILE);
  const extrasJson = files.has(EXTRAS_FILE) ? await json(files, EXTRAS_FILE) : undefined;
  const { config, nHeadRecorded } = originalConfig(shapesJson, extrasJson, {}, picked);
  const headers: (NpyHeader | undefined)[] = [];
  for (let k = 0; k < N_SHARDS; k++) headers.push(files.has(shardName(k)) ? await npyHeader(get(files, shardName(k))) : undefined);
  const plan = planShards(config, nHeadRecorded, headers, picked);

  beforeAllocate();
  const flat = new Float32Array(plan.total);
  const flatBytes = new Uint8Array(flat.buffer);
  for (const [k, s] of plan.shards.entries()) {
    const file = get(files, shardName(k));
    const { dataOffset, dataBytes, descr } = s.header;
    if (descr === '<f4') {
      for (let at = 0; at < dataBytes; at += CHUNK) {
        const chunk = await bytes(file, dataOffset + at, dataOffset + Math.min(dataBytes, at + CHUNK));
        flatBytes.set(chunk, s.offset * 4 + at);
      }
    } else {
      flat.set(decodeNpyData(await bytes(file, dataOffset, dataOffset + dataBytes), s.header, file.name), s.offset);
    }
  }
  return { config, params: paramsOfFlat(plan, flat) };
}

/**
 * The Hugging Face layout: `loadHF`'s reads, done with `Blob.slice`, and its checks
 * (`planHF`, `checkTiedChunk`, `checkCausalMask` of `src/checkpoint/hf.ts`).
 */
async function loadHFFiles(files: Map<string, FileLike>, beforeAllocate: () => void): Promise<{ config: GPTConfig; params: Params }> {
  const cfg = await json(files, HF_CONFIG);
  const file = get(files, HF_WEIGHTS);
  const first = await bytes(file, 0, Math.min(8, file.size));
  const header = parseSafetensorsHeader(await bytes(file, 0, safetensorsHeaderEnd(first, file.name, file.size)), file.name, file.size);
  const plan = planHF(cfg, header, {}, pickedFiles(files));
  /** Elements [start, end) of a tensor as float32 (one read; F32 is viewed, not copied). */
  const read = async (e: SafetensorsEntry, start = 0, end = numel(e.shape)): Promise<Float32Array> => {
    const item = e.dtype === 'F32' ? 4 : 2;
    return toFloat32(await bytes(file, header.dataStart + e.begin + start * item, header.dataStart + e.begin + end * item), e.dtype, `${file.name}: tensor ${e.name}`);
  };

  beforeAllocate();
  const params: Record<string, Tensor> = {};
  for (const [name, shape] of paramShapes(plan.config)) {
    const e = plan.byName.get(name) as SafetensorsEntry;
    const data = await read(e);
    assertFinite(data, e.name, file.name);
    params[name] = tensor(shape, data);
  }
  const { lm, masks } = droppedTensors(plan);
  if (lm !== undefined) {
    const tokens = params['tokens_embed.weight'].data;
    for (let start = 0; start < tokens.length; start += TIED_CHUNK) checkTiedChunk(plan, lm, tokens, start, await read(lm, start, Math.min(tokens.length, start + TIED_CHUNK)));
  }
  for (const e of masks) checkCausalMask(plan, e, await read(e));
  return { config: plan.config, params: Object.freeze(params) };
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
  return textEncoderFromData(await json(named, encFile.name), await text(mergesFile), encFile.name, mergesFile.name);
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
