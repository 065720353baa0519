/**
 * What the two checkpoint layouts share: the result type, JSON and vocabulary files,
 * and the checks every loaded or saved model goes through.
 *
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { type FileError, readRegularFile, readRegularText } from '../io/files.ts';
import { join } from 'node:path';
import { ARCHITECTURE_FIELDS, GPT1_ARCHITECTURE, type GPTConfig, makeConfig } from '../config.ts';
import { type Params, paramShapes } from '../params.ts';
import { assertFinite } from '../io/safetensors.ts';
import { VOCAB_FILE_NAMES, findVocabNames } from '../tokenizer/text-encoder.ts';

/** The two layouts: the original release (`params_*.npy`) and Hugging Face (`model.safetensors`). */
export type CheckpointFormat = 'original' | 'hf';

/**
 * The later decoders' switches (`config.ts`) that take a string (`position_embedding`,
 * `normalization`, `norm_placement`; `makeConfig` checks their values); the others
 * take a number. The config files check each field's type by these lists.
 */
export const STRING_SWITCHES: readonly string[] = ARCHITECTURE_FIELDS.filter((k) => typeof GPT1_ARCHITECTURE[k] === 'string');
/** The switches that take a number (`rope_theta`, `n_experts`, …). */
export const NUMBER_SWITCHES: readonly string[] = ARCHITECTURE_FIELDS.filter((k) => typeof GPT1_ARCHITECTURE[k] === 'number');

/** Options of `loadCheckpoint`-like functions. */
export interface LoadOptions {
  /**
   * Attention heads. The original release does not record it (it is 12); a checkpoint
   * that records it (`config.json`, `gpt1-ts.json`) must agree with this value.
   */
  readonly n_head?: number;
}

/** A loaded model. `params` passed `validateParams(params, config)`. */
export interface Checkpoint {
  readonly format: CheckpointFormat;
  readonly config: GPTConfig;
  readonly params: Params;
}

/** Optional extras of the writers. */
export interface SaveExtra {
  /**
   * A directory with the BPE vocabulary to copy next to the weights: either the
   * original names (`encoder_bpe_40000.json`, `vocab_40000.bpe`) or the Hugging Face
   * ones (`vocab.json`, `merges.txt`); the writer renames them for its layout.
   */
  readonly vocabDir?: string;
}

/**
 * Reads and parses a JSON file (a regular file only: see `io/files.ts`).
 * @throws `path: missing` / `path: not a regular file: …` / `path: not JSON: …`.
 */
export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readRegularText(path);
  } catch (e) {
    if ((e as FileError).code === 'ENOENT') throw new Error(`${path}: missing`);
    throw e;
  }
  return parseJson(text, path);
}

/** Parses the JSON `text` of file `path` (the part of {@link readJson} the page shares). @throws `path: not JSON: …`. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) throw new Error(`${path}: not usable JSON: nested too deeply`);
    throw new Error(`${path}: not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * The files of a checkpoint as the checks see them: the name each error shows for a
 * file, and whether it is there. The loaders check a directory on disk
 * ({@link dirFiles}); the page checks the files its reader picked
 * (`web/src/files.ts`) with the same functions, so both say the same.
 */
export interface CheckpointFiles {
  /** How errors name file `name` of the checkpoint (a path on disk, the bare name in the page). */
  path(name: string): string;
  /** Whether file `name` is there. */
  has(name: string): boolean;
}

/** The files of checkpoint directory `dir`. */
export function dirFiles(dir: string): CheckpointFiles {
  return { path: (name) => join(dir, name), has: (name) => existsSync(join(dir, name)) };
}

/**
 * A short, one-line rendering of a JSON value for an error message: at most `max`
 * characters, and safe on any value (a list nested 100,000 deep, which
 * `JSON.stringify` cannot print, is shown as `[[[[…`).
 */
export function preview(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'number') text = String(value); // Infinity and NaN, which JSON would print as null
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Array.isArray(value) ? '[[[[…' : String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `makeConfig(fields)` with its errors prefixed by `where`, the file the fields came from. */
export function configFrom(fields: Partial<GPTConfig>, where: string): GPTConfig {
  try {
    return makeConfig(fields);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

/**
 * The number of heads: `opts.n_head`, else what the checkpoint records, else 12 (the
 * release). @throws when both are given and disagree.
 */
export function chooseNHead(opts: LoadOptions, recorded: number | undefined, where: string): number {
  if (opts.n_head !== undefined && recorded !== undefined && opts.n_head !== recorded) {
    throw new Error(`${where}: records n_head ${recorded}, but n_head ${opts.n_head} was asked for`);
  }
  return opts.n_head ?? recorded ?? 12;
}

/**
 * Refuses to save weights with NaN or ±Infinity: the loaders would reject the file.
 * @throws `what: tensor NAME contains NaN at element K`.
 */
export function assertParamsFinite(params: Params, config: GPTConfig, what: string): void {
  for (const [name] of paramShapes(config)) assertFinite(params[name].data, name, what);
}

/** Vocabulary file names of each layout: [encoder (token → id JSON), BPE merges]. */
export const VOCAB_NAMES: Readonly<Record<CheckpointFormat, readonly [string, string]>> = Object.freeze({
  original: ['encoder_bpe_40000.json', 'vocab_40000.bpe'] as const,
  hf: ['vocab.json', 'merges.txt'] as const,
});

/** The first naming of the tokenizer's `VOCAB_FILE_NAMES` whose two files are both in `dir`. */
function vocabPair(dir: string): readonly [string, string] | undefined {
  const fixed = VOCAB_FILE_NAMES.find(([e, m]) => existsSync(join(dir, e)) && existsSync(join(dir, m)));
  if (fixed !== undefined || !existsSync(dir)) return fixed;
  return findVocabNames(new Set(readdirSync(dir)));
}

/** True when `dir` holds a complete vocabulary (encoder and merges) in any naming the tokenizer reads. */
export function hasVocab(dir: string): boolean {
  return vocabPair(dir) !== undefined;
}

/**
 * The vocabulary files of `vocabDir` (either naming), renamed for layout `to`, as
 * bytes copied unchanged. @throws when the directory lacks the encoder or the merges.
 */
export function vocabFiles(vocabDir: string, to: CheckpointFormat): Record<string, Uint8Array> {
  const pair = vocabPair(vocabDir);
  if (pair === undefined) {
    throw new Error(`${vocabDir}: no vocabulary files (${VOCAB_FILE_NAMES.map(([e, m]) => `${e} + ${m}`).join(', ')})`);
  }
  return { [VOCAB_NAMES[to][0]]: readRegularFile(join(vocabDir, pair[0])), [VOCAB_NAMES[to][1]]: readRegularFile(join(vocabDir, pair[1])) };
}
