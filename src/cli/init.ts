/**
 * `gpt1 init`: writes a random checkpoint, in either layout, without a corpus.
 *
 * The sizes come from a preset (`--preset tiny|small|gpt1`, table in docs/cli.md)
 * and the size flags, which override it. The weights are the paper's
 * initialisation (`initParams`: N(0, 0.02²), biases 0, gains 1) unless the spread
 * flags ask for a checkpoint *meant to expose bugs* (`initParamsWith`): `--std` for
 * the Conv1D weights (large: far-from-uniform attention, large GELU inputs),
 * `--embd-std` for the embeddings (small: the first LayerNorm's input rows have a
 * variance near ε), `--bias-std` and `--ln-gain-spread` (biases and gains that are
 * not 0 and 1). The vocabulary is none, the bundled GPT-1 BPE (`--vocab gpt1`, which
 * sets n_vocab = 40478; the loaders find it, nothing is copied), a vocabulary
 * directory (`--vocab DIR`, copied) or one learned here from a text file
 * (`--learn-vocab FILE --merges N`, written next to the weights); the last two set
 * n_vocab to the vocabulary's size. The directory is written atomically.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type ParsedFlags, UsageError } from './args.ts';
import { type GPTConfig, PRESETS, makeConfig } from '../config.ts';
import { type CheckpointFormat, saveCheckpoint } from '../checkpoint/index.ts';
import { countParams, initParamsWith } from '../params.ts';
import { rng } from '../random.ts';
import { DEFAULT_VOCAB_DIR, loadEncoder } from '../tokenizer/encoder.ts';
import { learnBpe, writeVocab } from '../tokenizer/learn.ts';
import { type Command, QUIET_FLAG, RELEASE_N_VOCAB, commas, guardOut, num, progress, seedFlag, str } from './common.ts';
import { ARCHITECTURE_FLAGS, applyArchitectureFlags } from './architecture.ts';

/** The size flags and the config field each sets. */
const SIZE_FLAGS = {
  'n-layer': 'n_layer',
  'n-embd': 'n_embd',
  'n-head': 'n_head',
  'n-ctx': 'n_ctx',
  'n-vocab': 'n_vocab',
  'n-special': 'n_special',
  'n-inner': 'n_inner',
} as const satisfies Record<string, keyof GPTConfig>;

/** Where the vocabulary comes from: its directory (undefined: none to copy) and its size. */
interface VocabChoice {
  readonly dir?: string;
  readonly nVocab?: number;
  readonly what: string;
}

/** Learns a BPE vocabulary from the lines of `file` into a fresh scratch directory. */
function learnVocab(file: string, merges: number): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${file}: no text to learn a vocabulary from`);
  const scratch = mkdtempSync(join(tmpdir(), 'gpt1-init-vocab-'));
  writeVocab(scratch, learnBpe(lines, merges));
  return scratch;
}

/** The vocabulary flags: none, `--vocab gpt1`, `--vocab DIR`, or `--learn-vocab FILE --merges N`. */
function chooseVocab(flags: ParsedFlags, scratch: { dir?: string }): VocabChoice {
  const vocab = str(flags, 'vocab');
  const learn = str(flags, 'learn-vocab');
  const merges = num(flags, 'merges');
  if (vocab !== undefined && learn !== undefined) throw new UsageError('gpt1 init: give at most one of --vocab and --learn-vocab');
  if ((learn === undefined) !== (merges === undefined)) throw new UsageError('gpt1 init: --learn-vocab FILE and --merges N go together');
  if (merges !== undefined && merges < 0) throw new UsageError(`gpt1 init: --merges must be ≥ 0, got ${merges}`);
  if (vocab === 'gpt1') return { nVocab: RELEASE_N_VOCAB, what: `the bundled GPT-1 vocabulary (${DEFAULT_VOCAB_DIR}; not copied: the loaders find it for n_vocab ${RELEASE_N_VOCAB})` };
  if (vocab !== undefined) return { dir: vocab, nVocab: loadEncoder(vocab).nVocab, what: `the vocabulary of ${vocab} (copied)` };
  if (learn !== undefined) {
    scratch.dir = learnVocab(learn, merges as number);
    return { dir: scratch.dir, nVocab: loadEncoder(scratch.dir).nVocab, what: `a vocabulary learned from ${learn} (${merges} merges at most; written next to the weights)` };
  }
  return { what: 'no vocabulary' };
}

/** The config from `--preset` and the size flags; a vocabulary's size must agree with `--n-vocab`. */
export function initConfig(flags: ParsedFlags, vocab: VocabChoice): GPTConfig {
  const presetName = str(flags, 'preset') as string;
  const preset = PRESETS[presetName];
  const fields: Record<string, number> = {};
  for (const [flag, field] of Object.entries(SIZE_FLAGS)) {
    const v = num(flags, flag);
    if (v !== undefined) fields[field] = v;
  }
  if (vocab.nVocab !== undefined) {
    if (fields.n_vocab !== undefined && fields.n_vocab !== vocab.nVocab) throw new UsageError(`gpt1 init: --n-vocab ${fields.n_vocab} disagrees with ${vocab.what}, which has ${vocab.nVocab} tokens`);
    fields.n_vocab = vocab.nVocab;
  }
  const std = num(flags, 'std');
  const nEmbd = fields.n_embd ?? preset.n_embd;
  try {
    return makeConfig({
      ...preset,
      n_inner: fields.n_embd === undefined ? preset.n_inner : 4 * nEmbd,
      ...fields,
      ...(std === undefined ? {} : { initializer_range: std }),
    });
  } catch (e) {
    throw new UsageError(`gpt1 init: ${(e as Error).message}`);
  }
}

async function run(flags: ParsedFlags): Promise<number> {
  const out = str(flags, 'out') as string;
  const layout = str(flags, 'layout') as CheckpointFormat;
  const seed = seedFlag(flags, 'init') as number;
  for (const f of ['std', 'embd-std', 'bias-std', 'ln-gain-spread']) {
    const v = num(flags, f);
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new UsageError(`gpt1 init: --${f} must be a finite number ≥ 0, got ${v}`);
  }
  const vocabFlag = str(flags, 'vocab');
  guardOut('init', out, [['--vocab', vocabFlag === 'gpt1' ? undefined : vocabFlag], ['--learn-vocab', str(flags, 'learn-vocab')]], { force: Boolean(flags.force) });
  const p = progress(Boolean(flags.quiet));
  const scratch: { dir?: string } = {};
  try {
    const vocab = chooseVocab(flags, scratch);
    const config = applyArchitectureFlags(flags, initConfig(flags, vocab), 'init'); // --arch and the switches (docs/evolution.md)
    const params = initParamsWith(config, rng(seed), {
      std: num(flags, 'std'),
      embdStd: num(flags, 'embd-std'),
      biasStd: num(flags, 'bias-std'),
      lnGainSpread: num(flags, 'ln-gain-spread'),
    });
    mkdirSync(dirname(resolve(out)), { recursive: true });
    await p.task(`writing ${out} (${layout})`, () => saveCheckpoint(out, layout, config, params, vocab.dir === undefined ? {} : { vocabDir: vocab.dir }));
    const c = config;
    console.log(`wrote ${out} (${layout}): ${c.n_layer} layers × ${c.n_embd}, ${c.n_head} heads, n_inner ${c.n_inner}, n_ctx ${c.n_ctx}, n_vocab ${c.n_vocab} + n_special ${c.n_special}; ${commas(countParams(c))} parameters, seed ${seed}; ${vocab.what}`);
  } finally {
    if (scratch.dir !== undefined) rmSync(scratch.dir, { recursive: true, force: true });
  }
  return 0;
}

export const command: Command = {
  spec: {
    name: 'init',
    summary: 'write a random checkpoint (either layout) without a corpus: a preset or size flags, a seed, optional spreads that expose bugs',
    examples: [
      'gpt1 init --preset tiny --vocab gpt1 --out tiny/',
      'gpt1 init --n-layer 2 --n-embd 16 --n-head 4 --n-ctx 8 --n-special 3 --learn-vocab corpus.txt --merges 40 --std 0.4 --embd-std 0.005 --bias-std 0.1 --ln-gain-spread 0.5 --layout hf --out exposing/',
    ],
    flags: {
      out: { kind: 'string', required: true, help: 'output directory (written atomically; parents are created)' },
      layout: { kind: 'string', choices: ['original', 'hf'], default: 'original', help: 'checkpoint layout: original (params_*.npy) or hf (model.safetensors)' },
      preset: { kind: 'string', choices: Object.keys(PRESETS), default: 'tiny', help: 'sizes to start from (docs/cli.md lists them); the size flags override' },
      'n-layer': { kind: 'int', help: 'transformer blocks' },
      'n-embd': { kind: 'int', help: 'width of the residual stream (n_inner becomes 4·n_embd unless --n-inner)' },
      'n-head': { kind: 'int', help: 'attention heads (must divide n_embd)' },
      'n-ctx': { kind: 'int', help: 'positions' },
      'n-vocab': { kind: 'int', help: 'ordinary tokens (set by a vocabulary when one is given)' },
      'n-special': { kind: 'int', help: 'special tokens after the vocabulary (3 for fine-tuning)' },
      'n-inner': { kind: 'int', help: 'inner width of the feed-forward network' },
      seed: { kind: 'int', default: 0, help: 'seed of the random weights (each parameter draws from its own named stream)' },
      std: { kind: 'number', help: 'std of the Conv1D weights (default: the preset\'s initializer_range, 0.02); recorded as initializer_range' },
      'embd-std': { kind: 'number', help: 'std of the token and position embeddings (default: --std)' },
      'bias-std': { kind: 'number', help: 'std of every bias, Conv1D and LayerNorm (default 0)' },
      'ln-gain-spread': { kind: 'number', help: 'LayerNorm gains exp(s·N(0,1)) (default 0: gains 1)' },
      vocab: { kind: 'string', help: 'gpt1 (the bundled GPT-1 BPE, n_vocab 40478) or a vocabulary directory to copy' },
      'learn-vocab': { kind: 'string', help: 'learn a BPE vocabulary from this text file (one text per line), with --merges' },
      merges: { kind: 'int', help: 'merges to learn for --learn-vocab' },
      force: { kind: 'boolean', help: 'replace --out even if it exists and is not empty' },
      quiet: QUIET_FLAG,
      ...ARCHITECTURE_FLAGS,
    },
  },
  run,
};
