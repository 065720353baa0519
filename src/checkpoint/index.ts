/**
 * GPT-1 checkpoints in both published layouts: recognise, load, save, convert.
 *
 * - `original`: openai/finetune-transformer-lm's `model/` directory
 *   (`params_shapes.json` + `params_0.npy` … `params_9.npy`), see `original.ts`.
 * - `hf`: Hugging Face `openai-community/openai-gpt` (`model.safetensors` +
 *   `config.json`), see `hf.ts`.
 *
 * Both hold the same numbers: converting either way and back is bit-identical in every
 * tensor. Every problem with a checkpoint is thrown as an `Error` whose message is one
 * line naming the file and what is wrong. See docs/checkpoints.md.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathOverlap } from '../io/files.ts';
import { type GPTConfig } from '../config.ts';
import { type Params } from '../params.ts';
import { resolveDirAtomic } from '../io/atomic.ts';
import { type Checkpoint, type CheckpointFormat, type LoadOptions, type SaveExtra, hasVocab } from './common.ts';
import { HF_CONFIG, HF_WEIGHTS, inspectHF, loadHF, saveHF } from './hf.ts';
import { SHAPES_FILE, inspectOriginal, loadOriginal, saveOriginal } from './original.ts';

export type { Checkpoint, CheckpointFormat, LoadOptions, SaveExtra } from './common.ts';
export { inspectOriginal, loadOriginal, saveOriginal } from './original.ts';
export { inspectHF, loadHF, saveHF } from './hf.ts';

/**
 * The layout of checkpoint directory `dir`, recognised by its files:
 * `params_shapes.json` → `original`, `model.safetensors` → `hf`.
 * @throws naming what was found instead: no directory, both layouts, only
 *   `pytorch_model.bin` (safetensors is required), a sharded safetensors index, or nothing known.
 */
export function detectFormat(dir: string): CheckpointFormat {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`${dir}: no such checkpoint directory`);
  }
  if (!isDir) throw new Error(`${dir}: not a directory (a checkpoint is a directory)`);
  const has = (f: string): boolean => existsSync(join(dir, f));
  const original = has(SHAPES_FILE);
  const hf = has(HF_WEIGHTS);
  if (original && hf) throw new Error(`${dir}: holds both an original (${SHAPES_FILE}) and a Hugging Face (${HF_WEIGHTS}) checkpoint; keep one`);
  if (original) return 'original';
  if (hf) return 'hf';
  if (has('model.safetensors.index.json')) throw new Error(`${dir}: sharded safetensors (model.safetensors.index.json) is not supported; GPT-1 fits in one model.safetensors`);
  for (const f of ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack']) {
    if (has(f)) throw new Error(`${dir}: only ${f} found; safetensors is required: download model.safetensors from openai-community/openai-gpt`);
  }
  if (has('params_0.npy')) throw new Error(`${join(dir, SHAPES_FILE)}: missing (the shards params_*.npy cannot be split without it)`);
  if (has(HF_CONFIG)) throw new Error(`${join(dir, HF_WEIGHTS)}: missing (found ${HF_CONFIG} only)`);
  throw new Error(`${dir}: not a GPT-1 checkpoint: expected params_shapes.json + params_0..9.npy (original) or ${HF_WEIGHTS} + ${HF_CONFIG} (Hugging Face)`);
}

/**
 * Loads a checkpoint of either layout. If `dir` is missing because a `writeDirAtomic`
 * swap was interrupted, the complete copy it left is read instead (nothing on disk is changed).
 * The parameters are validated against the config before returning.
 */
export function loadCheckpoint(dir: string, opts: LoadOptions = {}): Checkpoint {
  const real = resolveDirAtomic(dir);
  const format = detectFormat(real);
  const { config, params } = format === 'original' ? loadOriginal(real, opts) : loadHF(real, opts);
  return Object.freeze({ format, config, params });
}

/** What the headers of a checkpoint say, after every check that needs no weight. */
export interface CheckpointHeaders {
  /** The directory read (differs from the one given only after an interrupted atomic write). */
  readonly dir: string;
  readonly format: CheckpointFormat;
  readonly config: GPTConfig;
  /** Whether the checkpoint records n_head (the original release does not). */
  readonly nHeadRecorded: boolean;
}

/**
 * Every check {@link loadCheckpoint} makes except reading the numbers: the small files
 * and the headers of the weight files only, so it answers at once for any size
 * (`gpt1 info`). The same functions check both (`inspectOriginal`, `inspectHF`), so a
 * checkpoint accepted here loads, unless a number in it is NaN or ±Infinity.
 */
export function inspectCheckpointFiles(dir: string, opts: LoadOptions = {}): CheckpointHeaders {
  const real = resolveDirAtomic(dir);
  const format = detectFormat(real);
  const { config, nHeadRecorded } = format === 'original' ? inspectOriginal(real, opts) : inspectHF(real, opts);
  return Object.freeze({ dir: real, format, config, nHeadRecorded });
}

/** Saves a model in layout `format` (atomically). */
export function saveCheckpoint(dir: string, format: CheckpointFormat, config: GPTConfig, params: Params, extra: SaveExtra = {}): void {
  if (format === 'original') saveOriginal(dir, config, params, extra);
  else if (format === 'hf') saveHF(dir, config, params, extra);
  else throw new Error(`unknown checkpoint format ${String(format)} (original or hf)`);
}

/**
 * Converts the checkpoint in `src` to layout `to` in directory `out`, copying the
 * vocabulary files if `src` has them (renamed for the target layout).
 * @returns the loaded source checkpoint (its format and config).
 */
export function convertCheckpoint(src: string, to: CheckpointFormat, out: string, opts: LoadOptions = {}): Checkpoint {
  if (to !== 'original' && to !== 'hf') throw new Error(`unknown checkpoint format ${String(to)} (original or hf)`);
  const real = resolveDirAtomic(src);
  for (const input of new Set([src, real])) {
    const how = pathOverlap(out, input);
    if (how !== undefined) throw new Error(`${out} ${how} ${input}; the output directory must differ from the source`);
  }
  const ckpt = loadCheckpoint(src, opts);
  saveCheckpoint(out, to, ckpt.config, ckpt.params, hasVocab(real) ? { vocabDir: real } : {});
  return ckpt;
}
