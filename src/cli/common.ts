/**
 * What the `gpt1` commands share: the {@link Command} shape every command module
 * exports, the shared flags and their checks (`--backend`, `--seed`, the optimizer
 * flags of the training runs), progress lines on stderr, loading a checkpoint with
 * its vocabulary, token-id and text input, incremental decoding for streaming,
 * metrics lines, and crash-safe writing of an output directory tree.
 *
 * A command module imports from here, `args.ts` and `architecture.ts`, never from
 * `main.ts` (which loads the commands) nor from another command, so that the CLI's
 * imports form no cycle (`spec/cli-polish.spec.ts` checks it).
 *
 * Everything a command prints for the user to read while it works goes to stderr;
 * stdout carries only the command's result (text, JSON, check lines), so that
 * `gpt1 generate ... > out.txt` captures just the text.
 *
 * @module
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathOverlap } from '../io/files.ts';
import { type CommandSpec, type FlagSpec, type ParsedFlags, UsageError } from './args.ts';
import { type GPTConfig } from '../config.ts';
import { type Checkpoint, type CheckpointFormat, detectFormat, loadCheckpoint } from '../checkpoint/index.ts';
import { hasVocab } from '../checkpoint/common.ts';
import { resolveDirAtomic } from '../io/atomic.ts';
import { BACKENDS } from '../kernels/backend.ts';
import { MAX_SEED, isSeed } from '../random.ts';
import { DEFAULT_VOCAB_DIR, type GptTextEncoder, bpePieces, decode, loadEncoder } from '../tokenizer/encoder.ts';
import type { Metrics } from '../train/evaluate.ts';
import type { ScheduleName } from '../train/schedules.ts';

/** One `gpt1` command: its flags and what it does with them. Resolves to the exit status. */
export interface Command {
  readonly spec: CommandSpec;
  run(flags: ParsedFlags): Promise<number>;
}

// ---------------------------------------------------------------------------------
// Flags shared by several commands
// ---------------------------------------------------------------------------------

/** `--checkpoint DIR`, required. */
export const CHECKPOINT_FLAG: FlagSpec = { kind: 'string', required: true, help: 'checkpoint directory (original params_*.npy or Hugging Face model.safetensors)' };
/** `--n-head N`: the original layout does not record the number of heads. */
export const N_HEAD_FLAG: FlagSpec = { kind: 'int', help: 'attention heads, for an original-layout checkpoint that does not record them (default: recorded value, else 12)' };
/** `--vocab DIR`: where the BPE vocabulary is, if not next to the weights. */
export const VOCAB_FLAG: FlagSpec = { kind: 'string', help: 'vocabulary directory (default: the checkpoint directory, else the bundled GPT-1 vocabulary when n_vocab is 40478)' };
/** `--backend NAME`: sets GPT1_BACKEND before the first kernel runs. */
export const BACKEND_FLAG: FlagSpec = { kind: 'string', choices: BACKENDS, help: 'gpu.js backend for the matrix products (default: GPT1_BACKEND, else the fastest that starts)' };
/** `--quiet`: no progress lines on stderr. */
export const QUIET_FLAG: FlagSpec = { kind: 'boolean', help: 'no progress lines on stderr' };

/** The flags of a command that loads a model. */
export const MODEL_FLAGS: Readonly<Record<string, FlagSpec>> = Object.freeze({
  checkpoint: CHECKPOINT_FLAG,
  'n-head': N_HEAD_FLAG,
  vocab: VOCAB_FLAG,
  backend: BACKEND_FLAG,
  quiet: QUIET_FLAG,
});

/**
 * Applies `--backend`: sets `GPT1_BACKEND` so that the process-wide `backend()`
 * choice, made at the first kernel, uses it. Must run before any model function.
 */
export function applyBackendFlag(flags: ParsedFlags): void {
  const name = flags.backend;
  if (typeof name === 'string' && name !== '') process.env.GPT1_BACKEND = name;
}

/** A string flag's value (undefined when absent). */
export const str = (flags: ParsedFlags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
/** A number flag's value (undefined when absent). */
export const num = (flags: ParsedFlags, name: string): number | undefined => (typeof flags[name] === 'number' ? (flags[name] as number) : undefined);

/** A number flag that must be a positive integer (a UsageError, exit 2, otherwise), or undefined when not given. */
export function positiveInt(flags: ParsedFlags, name: string, cmd: string): number | undefined {
  const v = num(flags, name);
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new UsageError(`gpt1 ${cmd}: --${name} must be a positive integer, got ${v}`);
  return v;
}

/** A number flag that must be ≥ 0 (a UsageError, exit 2, otherwise), or undefined when not given. */
export function nonNegative(flags: ParsedFlags, name: string, cmd: string): number | undefined {
  const v = num(flags, name);
  if (v !== undefined && !(v >= 0)) throw new UsageError(`gpt1 ${cmd}: --${name} must be ≥ 0, got ${v}`);
  return v;
}

// ---------------------------------------------------------------------------------
// Training runs (`pretrain`, `finetune`)
// ---------------------------------------------------------------------------------

/** Where a run keeps its files. */
export const runPaths = (out: string): { checkpoint: string; metrics: string; vocab: string } => ({
  checkpoint: join(out, 'checkpoint'),
  metrics: join(out, 'metrics.jsonl'),
  vocab: join(out, 'vocab'),
});

/** The optimizer flags shared by `pretrain` and `finetune`, parsed (undefined = not given). */
export function optimizerFlags(flags: ParsedFlags, cmd: string): {
  lr?: number; schedule?: ScheduleName; warmup?: number; l2?: number; maxGradNorm?: number; seed?: number;
} {
  const warmup = num(flags, 'warmup');
  if (warmup !== undefined && !(warmup > 0 && warmup <= 1)) throw new UsageError(`gpt1 ${cmd}: --warmup is a fraction of the updates in (0, 1], got ${warmup}`);
  return {
    lr: nonNegative(flags, 'lr', cmd),
    schedule: str(flags, 'schedule') as ScheduleName | undefined,
    warmup,
    l2: nonNegative(flags, 'l2', cmd),
    maxGradNorm: nonNegative(flags, 'max-grad-norm', cmd),
    seed: seedFlag(flags, cmd),
  };
}

/** Keeps only the defined fields (so that `{...defaults, ...given}` keeps defaults). */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * One line: `accuracy 0.8750 (n 40) | F1 0.8571 | MCC 0.7500 | clf loss 0.3512 | LM loss 2.1034`,
 * or for a regression `Pearson 0.8123 | Spearman 0.8010 (n 40) | MSE 0.5210 | LM loss 2.1034`.
 */
export function formatMetrics(m: Metrics): string {
  if (m.pearson !== undefined) {
    const lm = Number.isFinite(m.lmLoss) ? ` | LM loss ${m.lmLoss.toFixed(4)}` : '';
    return `Pearson ${m.pearson.toFixed(4)} | Spearman ${(m.spearman ?? NaN).toFixed(4)} (n ${m.n}) | MSE ${(m.mse ?? NaN).toFixed(4)}${lm}`;
  }
  const parts = [`accuracy ${m.accuracy.toFixed(4)} (n ${m.n})`];
  if (m.f1 !== undefined) parts.push(`F1 ${m.f1.toFixed(4)}`);
  if (m.mcc !== undefined) parts.push(`MCC ${m.mcc.toFixed(4)}`);
  parts.push(`clf loss ${m.clfLoss.toFixed(4)}`);
  if (Number.isFinite(m.lmLoss)) parts.push(`LM loss ${m.lmLoss.toFixed(4)}`);
  return parts.join(' | ');
}

// ---------------------------------------------------------------------------------
// Progress on stderr
// ---------------------------------------------------------------------------------

/** Progress lines on stderr (nothing when quiet). */
export interface Progress {
  /** Prints `label… ` now and `done (1.2 s)` when `fn` settles (`failed` if it throws). */
  task<T>(label: string, fn: () => T | Promise<T>): Promise<T>;
  /** One line of information. */
  note(line: string): void;
}

/** Seconds since `t0` (ms), formatted `1.2 s`. */
export function seconds(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** Progress reporting to `write` (default: stderr); silent when `quiet`. */
export function progress(quiet: boolean, write: (s: string) => void = (s) => void process.stderr.write(s)): Progress {
  return {
    async task<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
      if (quiet) return await fn();
      write(`${label}… `);
      const t0 = Date.now();
      try {
        const out = await fn();
        write(`done (${seconds(t0)})\n`);
        return out;
      } catch (e) {
        write('failed\n');
        throw e;
      }
    },
    note(line: string): void {
      if (!quiet) write(`${line}\n`);
    },
  };
}

/** `1234567` → `1,234,567`. */
export const commas = (n: number): string => n.toLocaleString('en-US');

/** Bytes as `466.1 MB`, `1.20 GB` or `31.4 kB` (decimal units). */
export function megabytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

// ---------------------------------------------------------------------------------
// Loading a checkpoint and its vocabulary
// ---------------------------------------------------------------------------------

/** Total size of the regular files directly in `dir`. */
export function dirBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir)) {
    try {
      const s = statSync(join(dir, f));
      if (s.isFile()) total += s.size;
    } catch {
      // vanished or unreadable: the loader reports it
    }
  }
  return total;
}

/** A checkpoint directory that exists (or left complete by an interrupted atomic write) and its layout. @throws one line. */
export function locateCheckpoint(dir: string): { dir: string; format: CheckpointFormat } {
  const real = resolveDirAtomic(dir);
  return { dir: real, format: detectFormat(real) };
}

/** A loaded model and where it came from. */
export interface LoadedModel extends Checkpoint {
  /** The directory given on the command line. */
  readonly path: string;
  /** The directory actually read (differs only after an interrupted atomic write). */
  readonly dir: string;
}

/** `--seed`, checked: an integer in [0, 2³²) (a UsageError, exit 2, otherwise), or undefined when not given. */
export function seedFlag(flags: ParsedFlags, cmd: string): number | undefined {
  const seed = num(flags, 'seed');
  if (seed !== undefined && !isSeed(seed)) throw new UsageError(`gpt1 ${cmd}: --seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
  return seed;
}

/** `--n-head`, checked (≥ 1; a UsageError, exit 2, otherwise), or undefined when not given. */
export function nHeadFlag(cmd: string, flags: ParsedFlags): number | undefined {
  return positiveInt(flags, 'n-head', cmd);
}

/** Loads `--checkpoint` (with `--n-head`), with a progress line. */
export async function loadModel(cmd: string, flags: ParsedFlags, p: Progress): Promise<LoadedModel> {
  const path = str(flags, 'checkpoint') as string;
  const nHead = nHeadFlag(cmd, flags);
  const { dir, format } = locateCheckpoint(path);
  const ckpt = await p.task(`loading ${path} (${format}, ${megabytes(dirBytes(dir))})`, () => loadCheckpoint(path, nHead === undefined ? {} : { n_head: nHead }));
  return { ...ckpt, path, dir };
}

/** Where a vocabulary was found. */
export type VocabSource = 'flag' | 'checkpoint' | 'bundled';

/** The vocabulary of a model, or why there is none. */
export type VocabLookup =
  | { readonly found: true; readonly enc: GptTextEncoder; readonly source: VocabSource; readonly dir: string }
  | { readonly found: false; readonly reason: string };

/** The number of ordinary tokens of the released GPT-1 vocabulary. */
export const RELEASE_N_VOCAB = 40478;

/** Human description of a vocabulary source. */
export function describeVocab(v: VocabLookup): string {
  if (!v.found) return `not found: ${v.reason}`;
  return `${commas(v.enc.nVocab)} tokens, ${vocabLocation(v)}`;
}

/** Where a found vocabulary is: `--vocab DIR`, `in the checkpoint directory`, `bundled GPT-1 vocabulary (DIR)`. */
export function vocabLocation(v: VocabLookup & { found: true }): string {
  return v.source === 'flag' ? `--vocab ${v.dir}` : v.source === 'checkpoint' ? 'in the checkpoint directory' : `bundled GPT-1 vocabulary (${v.dir})`;
}

/**
 * Finds the vocabulary of a checkpoint: `--vocab DIR` if given (errors if unreadable),
 * else the vocabulary files in the checkpoint directory (either naming), else the
 * bundled GPT-1 vocabulary (`vocab/`) when `config.n_vocab` is 40478 (or
 * `bundledAlways`), else none.
 */
export function findVocab(vocabFlag: string | undefined, ckptDir: string, config: GPTConfig | undefined, bundledAlways = false): VocabLookup {
  if (vocabFlag !== undefined) return { found: true, enc: loadEncoder(resolveDirAtomic(vocabFlag)), source: 'flag', dir: vocabFlag };
  if (hasVocab(ckptDir)) return { found: true, enc: loadEncoder(ckptDir), source: 'checkpoint', dir: ckptDir };
  if (bundledAlways || config?.n_vocab === RELEASE_N_VOCAB) {
    if (existsSync(DEFAULT_VOCAB_DIR)) return { found: true, enc: loadEncoder(DEFAULT_VOCAB_DIR), source: 'bundled', dir: DEFAULT_VOCAB_DIR };
    return { found: false, reason: `no vocabulary files in ${ckptDir} and the bundled vocabulary ${DEFAULT_VOCAB_DIR} is missing` };
  }
  return { found: false, reason: `no vocabulary files in ${ckptDir}, and n_vocab ${config?.n_vocab} is not the bundled GPT-1 vocabulary's ${RELEASE_N_VOCAB} (give --vocab DIR)` };
}

/** The vocabulary for encoding or decoding with `config`. @throws one line if none is found or it does not fit the model. */
export function requireVocab(v: VocabLookup, config: GPTConfig, why: string): GptTextEncoder {
  if (!v.found) throw new Error(`${why} needs a vocabulary: ${v.reason}`);
  if (v.enc.nVocab !== config.n_vocab) {
    throw new Error(`the vocabulary (${v.dir}) has ${v.enc.nVocab} tokens but the model's n_vocab is ${config.n_vocab}`);
  }
  return v.enc;
}

// ---------------------------------------------------------------------------------
// Input: ids and text
// ---------------------------------------------------------------------------------

/**
 * Parses `--ids`: integers separated by commas and/or spaces, optionally in brackets
 * (`1,2,3`, `"1 2 3"`, `[1, 2, 3]`). @throws a UsageError (exit 2) on anything else.
 */
export function parseIds(cmd: string, raw: string, flag = '--ids'): number[] {
  const body = raw.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
  if (body === '') throw new UsageError(`gpt1 ${cmd}: ${flag} is empty: give token ids such as 1,2,3`);
  return body.split(/[\s,]+/).map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`gpt1 ${cmd}: ${flag}: '${s}' is not a token id (a non-negative integer)`);
    const v = Number(s);
    if (!Number.isSafeInteger(v)) throw new UsageError(`gpt1 ${cmd}: ${flag}: '${s}' is too large`);
    return v;
  });
}

/**
 * `encode(enc, text)`, but refusing text with BPE pieces the vocabulary does not
 * have (the original maps them to id 0, silently) unless `allowUnk`.
 * @throws a one-line error naming the first unknown pieces, or for text with no tokens.
 */
export function encodeText(enc: GptTextEncoder, text: string, allowUnk = false): number[] {
  const pieces = bpePieces(enc, text);
  const ids = pieces.map((piece) => enc.encoder.get(piece) ?? 0);
  const unknown = pieces.filter((piece) => !enc.encoder.has(piece));
  if (unknown.length > 0 && !allowUnk) {
    const shown = unknown.slice(0, 5).map((s) => JSON.stringify(s)).join(', ');
    throw new Error(`the text has ${unknown.length} BPE piece(s) not in the vocabulary (${shown}${unknown.length > 5 ? ', …' : ''}); pass --allow-unk to map them to id 0 as the original does`);
  }
  if (ids.length === 0) throw new Error('the text has no tokens');
  return ids;
}

/** Display labels of token ids: the BPE pieces without `</w>` (ids themselves without a vocabulary). */
export function tokenLabels(enc: GptTextEncoder | undefined, ids: readonly number[]): string[] {
  return ids.map((id) => {
    const piece = enc?.decoder[id];
    return piece === undefined ? String(id) : piece.replace(/<\/w>$/, '').replace(/\n/g, '\\n');
  });
}

/**
 * Incremental decoding for streaming: feed ids one at a time and print only what is
 * new. `decode` strips the ends and glues punctuation (`" ."` → `"."`,
 * `" ' "` → `"'"`), so the last word of the text so far may still change; it is held
 * back until a later token makes it final, and {@link StreamDecoder.flush} prints the rest.
 * What is printed is exactly `decode(all ids)` except in the rare case where the
 * clean-up changes text that was already printed, which is then kept as printed.
 */
export interface StreamDecoder {
  /** Adds ids; returns the text that became final. */
  push(...ids: number[]): string;
  /** The rest of the text (call once at the end). */
  flush(): string;
}

/** A {@link StreamDecoder} over `enc`. */
export function streamDecoder(enc: GptTextEncoder): StreamDecoder {
  const ids: number[] = [];
  let printed = '';
  const emit = (text: string): string => {
    if (!text.startsWith(printed)) return '';
    const delta = text.slice(printed.length);
    printed = text;
    return delta;
  };
  return {
    push(...more: number[]): string {
      ids.push(...more);
      const full = decode(enc, ids);
      const m = /\s\S*$/.exec(full); // the last whitespace and the word after it are not final
      return emit(m === null ? '' : full.slice(0, m.index));
    },
    flush(): string {
      return emit(decode(enc, ids));
    },
  };
}

// ---------------------------------------------------------------------------------
// Output directories
// ---------------------------------------------------------------------------------

/** True when `dir` does not exist or is an empty directory. */
function isFreshDir(dir: string): boolean {
  if (!existsSync(dir)) return true;
  return statSync(dir).isDirectory() && readdirSync(dir).length === 0;
}

/**
 * Refuses an `--out` the command must not write, with a UsageError (exit 2) naming it:
 *
 * - one that is, contains or lies inside one of the command's inputs (`[flag, path]`
 *   pairs; undefined paths are skipped; an input directory left by an interrupted
 *   atomic write counts with its complete copy, which the command reads instead):
 *   writing it would replace or delete the input, even with `--force`. Paths are
 *   compared after resolving symbolic links (see `pathOverlap` in `io/files.ts`);
 * - one that cannot be a directory: it, or a parent of it, exists and is not a
 *   directory (`--out FILE`, `--out FILE/sub`);
 * - with `replace` (a command that swaps in the whole directory, so that anything
 *   else in it would be deleted): an existing non-empty directory, unless
 *   `replace.force` (`--force`) or it holds `replace.marker` (a previous output of
 *   the same command). Without `replace` (training runs, which resume in their
 *   directory) an existing directory is fine.
 */
export function guardOut(cmd: string, out: string, inputs: readonly (readonly [string, string | undefined])[], replace?: { readonly force: boolean; readonly marker?: string }): void {
  for (const [flag, given] of inputs) {
    if (given === undefined) continue;
    for (const path of new Set([given, resolveDirAtomic(given)])) {
      const how = pathOverlap(out, path);
      if (how !== undefined) throw new UsageError(`gpt1 ${cmd}: --out ${out} ${how} the ${flag} ${path}; it must differ from every input`);
    }
  }
  for (let cur = resolve(out); ; cur = dirname(cur)) {
    let st;
    try {
      st = statSync(cur);
    } catch {
      if (dirname(cur) === cur) break;
      continue;
    }
    if (st.isDirectory()) break;
    throw new UsageError(cur === resolve(out) ? `gpt1 ${cmd}: --out ${out} exists and is not a directory` : `gpt1 ${cmd}: --out ${out}: ${cur} is not a directory`);
  }
  if (replace === undefined || replace.force || isFreshDir(out)) return;
  if (replace.marker !== undefined && existsSync(join(out, replace.marker))) return;
  throw new UsageError(`gpt1 ${cmd}: --out ${out} exists and is not empty; its contents would be replaced: pass --force to do so`);
}
