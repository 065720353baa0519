/**
 * `gpt1 info [--checkpoint DIR]`: which gpu.js backend runs the products, and why the
 * others do not (a software GPU is never the default); with a checkpoint, first what
 * it is without loading its weights: layout, config, parameter count, memory needed,
 * and whether a vocabulary goes with it.
 *
 * Only the headers are read (`params_shapes.json`, `gpt1-ts.json` and the ten shard
 * headers; or `config.json` and the safetensors header), so it answers at once even
 * for the 466 MB release; `gpt1 verify` loads and checks every number.
 *
 * @module
 */
import type { ParsedFlags } from './args.ts';
import { type GPTConfig, GPT1, architectureOverrides, nTokenRows } from '../config.ts';
import { type Probe, backend, describeBackend, surveyBackends } from '../kernels/backend.ts';
import { countParams, paramShapes } from '../params.ts';
import { type CheckpointHeaders, inspectCheckpointFiles } from '../checkpoint/index.ts';
import { N_SHARDS } from '../checkpoint/original.ts';
import { HF_CONFIG, HF_WEIGHTS } from '../checkpoint/hf.ts';
import { type Command, CHECKPOINT_FLAG, N_HEAD_FLAG, VOCAB_FLAG, type VocabLookup, commas, describeVocab, dirBytes, findVocab, megabytes, nHeadFlag, str } from './common.ts';

/** What the headers of a checkpoint say, and what `info` adds. */
export interface CheckpointInfo extends CheckpointHeaders {
  /** Whether n_head was given by --n-head. */
  readonly nHeadGiven: boolean;
  /** Bytes of the files in the directory. */
  readonly bytes: number;
}

/**
 * Reads the config of a checkpoint from its headers and checks everything the loader
 * checks except the numbers themselves (`inspectCheckpointFiles`: the same functions
 * as `loadCheckpoint`, so what `info` accepts, every loading command accepts).
 * @throws a one-line error naming the file.
 */
export function inspectCheckpoint(path: string, nHead?: number): CheckpointInfo {
  const headers = inspectCheckpointFiles(path, nHead === undefined ? {} : { n_head: nHead });
  return { ...headers, nHeadGiven: nHead !== undefined, bytes: dirBytes(headers.dir) };
}

/** Rough memory needs of a model, in bytes. */
export interface MemoryEstimate {
  /** The parameters as float32: 4 bytes each. */
  readonly weights: number;
  /** What one evaluation forward pass over `tokens` positions keeps (see {@link memoryEstimate}). */
  readonly forward: number;
  /** Extra for a backward pass (`dump --grads`, training): one gradient per parameter plus about as much again as the forward keeps. */
  readonly backward: number;
  readonly tokens: number;
}

/**
 * Rough memory of a model in float32. A forward pass (`forward` in
 * `src/model/gpt.ts`) keeps every block's intermediates for the backward pass; per
 * layer that is about 11 [T, n_embd] tensors (residual stream, LayerNorm outputs and
 * normalised inputs, q/k/v, attention output, projections), 2 [T, n_inner] (the FFN
 * pre- and post-activation) and the [n_head, T, T] attention probabilities; plus the
 * [T, n_vocab + n_special] logits and h₀. The backward pass allocates a gradient per
 * parameter and transient tensors of about the forward's size.
 */
export function memoryEstimate(config: GPTConfig, tokens = config.n_ctx): MemoryEstimate {
  const T = tokens;
  const { n_embd: d, n_inner, n_head, n_layer } = config;
  const perLayer = 11 * T * d + 2 * T * n_inner + n_head * T * T;
  const forwardFloats = n_layer * perLayer + T * d + T * nTokenRows(config);
  const weights = 4 * countParams(config);
  return { weights, forward: 4 * forwardFloats, backward: weights + 4 * forwardFloats, tokens: T };
}

/** What `gpt1 info` says about the backends: the one in use and why, then every candidate. */
export async function backendLines(): Promise<{ lines: string[]; json: unknown }> {
  const be = await backend();
  const survey = await surveyBackends();
  const what = (name: string, p: Probe): string => {
    if (!p.ok) return `cannot start: ${p.reason}`;
    if (p.adapter === undefined) return name === 'webasm' ? 'starts (CPU: WebAssembly SIMD, worker threads)' : 'starts (CPU: JavaScript)';
    return p.adapter.software ? `starts on a software GPU: ${p.adapter.name} (slower than webasm: never chosen by default)` : `starts on ${p.adapter.name}`;
  };
  const lines = [`backend     ${describeBackend(be)}: ${be.reason.startsWith('fastest') ? 'the fastest that starts on real hardware' : be.reason}`, ...survey.map(({ name, probe }) => `  ${name.padEnd(10)}  ${what(name, probe)}`)];
  const json = { name: be.name, adapter: be.adapter ?? null, reason: be.reason, candidates: survey.map(({ name, probe }) => ({ name, ...probe })) };
  return { lines, json };
}

/** The lines `gpt1 info` prints. */
export function infoLines(info: CheckpointInfo, vocab: VocabLookup): string[] {
  const c = info.config;
  const m = memoryEstimate(c);
  const release = countParams(GPT1);
  const count = countParams(c);
  const layout = info.format === 'original' ? `original (params_shapes.json + ${N_SHARDS} shards params_*.npy)` : `hf (${HF_WEIGHTS} + ${HF_CONFIG})`;
  const nHead = `${c.n_head}${info.nHeadRecorded ? '' : info.nHeadGiven ? ' (from --n-head)' : ' (not recorded in the checkpoint: assumed; --n-head to change)'}`;
  const lines = [
    `checkpoint  ${info.dir}`,
    `format      ${layout}, ${megabytes(info.bytes)} on disk`,
    `config      n_layer ${c.n_layer}, n_embd ${c.n_embd}, n_head ${nHead}, n_inner ${c.n_inner}, n_ctx ${c.n_ctx}, n_vocab ${c.n_vocab}, n_special ${c.n_special}, afn ${c.afn}, layer_norm_epsilon ${c.layer_norm_epsilon}${Object.entries(architectureOverrides(c)).map(([k, v]) => `, ${k} ${v}`).join('')}`,
    `parameters  ${commas(count)} in ${paramShapes(c).length} tensors${count === release ? ' (the GPT-1 release has the same count)' : ` (the GPT-1 release has ${commas(release)})`}`,
    `memory      weights ${megabytes(m.weights)} (float32); a forward pass over ${m.tokens} tokens ≈ ${megabytes(m.forward)} more; a backward pass (--grads) ≈ ${megabytes(m.backward)} more`,
    `vocabulary  ${describeVocab(vocab)}${vocab.found && vocab.enc.nVocab !== c.n_vocab ? ` (does NOT fit: the model has n_vocab ${c.n_vocab})` : ''}`,
  ];
  return lines;
}

async function run(flags: ParsedFlags): Promise<number> {
  if (str(flags, 'checkpoint') === undefined) {
    const backends = await backendLines();
    console.log(flags.json ? JSON.stringify({ backend: backends.json }, null, 2) : backends.lines.join('\n'));
    return 0;
  }
  const nHead = nHeadFlag('info', flags);
  // the checkpoint first: a bad one is one line, before any backend is started (Dawn may print on stderr)
  const info = inspectCheckpoint(str(flags, 'checkpoint') as string, nHead);
  const backends = await backendLines();
  let vocab: VocabLookup;
  try {
    vocab = findVocab(str(flags, 'vocab'), info.dir, info.config);
  } catch (e) {
    if (str(flags, 'vocab') !== undefined) throw e;
    vocab = { found: false, reason: (e as Error).message.split('\n')[0] };
  }
  if (flags.json) {
    const m = memoryEstimate(info.config);
    console.log(JSON.stringify({
      checkpoint: info.dir,
      format: info.format,
      bytes: info.bytes,
      config: info.config,
      n_head_recorded: info.nHeadRecorded,
      parameters: countParams(info.config),
      tensors: paramShapes(info.config).length,
      memory_bytes: { weights: m.weights, forward: m.forward, backward: m.backward, tokens: m.tokens },
      vocabulary: vocab.found ? { found: true, source: vocab.source, dir: vocab.dir, n_vocab: vocab.enc.nVocab, fits: vocab.enc.nVocab === info.config.n_vocab } : { found: false, reason: vocab.reason },
      backend: backends.json,
    }, null, 2));
  } else {
    for (const line of [...infoLines(info, vocab), ...backends.lines]) console.log(line);
  }
  return 0;
}

export const command: Command = {
  spec: {
    name: 'info',
    summary: 'the gpu.js backend in use and why; with --checkpoint, layout, config, parameter count, memory and vocabulary of a checkpoint (reads headers only)',
    examples: ['gpt1 info', 'gpt1 info --checkpoint model/', 'gpt1 info --checkpoint gpt1-hf/ --json'],
    flags: {
      checkpoint: { ...CHECKPOINT_FLAG, required: false },
      'n-head': N_HEAD_FLAG,
      vocab: VOCAB_FLAG,
      json: { kind: 'boolean', help: 'print one JSON object instead of lines' },
    },
  },
  run,
};
