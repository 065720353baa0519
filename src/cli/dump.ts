/**
 * `gpt1 dump`: everything a porter compares against, for one token sequence, as
 * `.npy` and JSON files in one directory (format: docs/cli.md, "The dump format").
 *
 * | file | content |
 * |---|---|
 * | `logits.npy` | float32 [T, n_vocab + n_special]: h_n·W_eᵀ over every row of `tokens_embed.weight` |
 * | `hidden_states.npy` | float32 [n_layer + 1, T, n_embd]: h₀ (embeddings) then each block's output |
 * | `attentions.npy` | float32 [n_layer, n_head, T, T]: the attention probabilities (row = query) |
 * | `ids.json` | the T token ids, a JSON array |
 * | `loss.json` | `{"lm_loss": …}`: mean next-token cross-entropy over the T − 1 predictions (null when T = 1); with experts also `moe_aux_loss`, the mean over layers of the load-balancing loss (`moe.ts`) |
 * | `dump.json` | what produced it: checkpoint, layout, config, backend, tokens, shapes |
 * | `grads/<name>.npy` | with `--grads`: dlm_loss/d<name> for every parameter, float32, the parameter's shape (with experts: of the training objective lm_loss + moe_aux_loss_coef·moe_aux_loss) |
 * | `attention_layer<L>_head<H>.svg` | with `--attention-svg`: a heat map of that head with token labels |
 * | `intermediates/<name>.npy` | with `--intermediates`: every block's intermediate values, stacked over the layers (`intermediates.ts`) |
 *
 * Evaluation mode (no dropout). The directory is written atomically.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParsedFlags, UsageError } from './args.ts';
import { type GPTConfig, nTokenRows } from '../config.ts';
import { backend } from '../kernels/backend.ts';
import { type ForwardOutput, forward, lmLossAndGrads } from '../model/gpt.ts';
import { validateIds } from '../model/embedding.ts';
import { type BlockIntermediates, INTERMEDIATE_NAMES, intermediates } from '../model/intermediates.ts';
import { lmLoss } from '../model/objectives.ts';
import { type Params, paramShapes } from '../params.ts';
import { type Tensor, tensor } from '../tensor.ts';
import { encodeNpyChunks } from '../io/npy.ts';
import { assertFinite } from '../io/safetensors.ts';
import { type FileContent, writeTreeAtomic } from '../io/atomic.ts';
import { heatmap } from '../report/svg.ts';
import {
  type Command, MODEL_FLAGS, type VocabLookup, applyBackendFlag, encodeText, findVocab, guardOut, loadModel, num, parseIds, progress, requireVocab, str, tokenLabels,
} from './common.ts';

/** The marker file of a dump directory (an existing dump may be replaced without --force). */
export const DUMP_MARKER = 'dump.json';

/** Stacks equally shaped tensors along a new first axis. */
export function stack(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new Error('stack: nothing to stack');
  const shape = parts[0].shape;
  const n = parts[0].data.length;
  const out = new Float32Array(parts.length * n);
  parts.forEach((t, i) => {
    if (t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) throw new Error('stack: shapes differ');
    out.set(t.data, i * n);
  });
  return tensor([parts.length, ...shape], out);
}

/** Everything `gpt1 dump` computes for one sequence. */
export interface DumpResult {
  readonly ids: readonly number[];
  readonly fwd: ForwardOutput;
  /** Mean next-token cross-entropy, or null for a single token. */
  readonly lmLoss: number | null;
  readonly grads?: Params;
  /** With `--intermediates`: every block's intermediate values, in layer order. */
  readonly intermediates?: readonly BlockIntermediates[];
}

/** The files of a dump directory (relative names → contents). */
export function dumpFiles(config: GPTConfig, r: DumpResult, meta: Record<string, unknown>, svg?: { layer: number; head: number; labels: readonly string[] }): Record<string, FileContent> {
  const T = r.ids.length;
  const logits = r.fwd.logits;
  const hidden = stack(r.fwd.hiddenStates);
  const attentions = stack(r.fwd.attentions);
  const files: Record<string, FileContent> = {
    'logits.npy': encodeNpyChunks(logits),
    'hidden_states.npy': encodeNpyChunks(hidden),
    'attentions.npy': encodeNpyChunks(attentions),
    'ids.json': `${JSON.stringify(r.ids)}\n`,
    'loss.json': `${JSON.stringify({ lm_loss: r.lmLoss, ...(r.fwd.moeAuxLoss === undefined ? {} : { moe_aux_loss: r.fwd.moeAuxLoss }) })}\n`,
  };
  const shapes: Record<string, readonly number[]> = {
    'logits.npy': logits.shape,
    'hidden_states.npy': hidden.shape,
    'attentions.npy': attentions.shape,
  };
  if (r.grads) {
    for (const [name, shape] of paramShapes(config)) {
      files[`grads/${name}.npy`] = encodeNpyChunks(r.grads[name]);
      shapes[`grads/${name}.npy`] = shape;
    }
  }
  if (r.intermediates) {
    for (const name of INTERMEDIATE_NAMES) {
      const stacked = stack(r.intermediates.map((b) => b[name])); // [n_layer, …]
      files[`intermediates/${name}.npy`] = encodeNpyChunks(stacked);
      shapes[`intermediates/${name}.npy`] = stacked.shape;
    }
  }
  if (svg) {
    const { layer, head, labels } = svg;
    const probs = r.fwd.attentions[layer].data.subarray(head * T * T, (head + 1) * T * T);
    files[`attention_layer${layer}_head${head}.svg`] = heatmap(probs, T, T, {
      title: `attention probabilities, layer ${layer}, head ${head} (row: query, column: key)`,
      rowLabels: labels,
      colLabels: labels,
    });
  }
  files[DUMP_MARKER] = `${JSON.stringify({ ...meta, lm_loss: r.lmLoss, shapes }, null, 2)}\n`;
  // A dump with NaN or ±Infinity would be read back as garbage: refuse to write it.
  const tensors: [string, Tensor][] = [['logits.npy', logits], ['hidden_states.npy', hidden], ['attentions.npy', attentions]];
  if (r.grads) for (const [name] of paramShapes(config)) tensors.push([`grads/${name}.npy`, r.grads[name]]);
  for (const b of r.intermediates ?? []) for (const name of INTERMEDIATE_NAMES) tensors.push([`intermediates/${name}.npy`, b[name]]);
  for (const [name, t] of tensors) assertFinite(t.data, name, 'the dump');
  if (r.lmLoss !== null && !Number.isFinite(r.lmLoss)) throw new Error(`the dump: lm_loss is ${r.lmLoss}`);
  return files;
}

/** The repository root (where package.json is). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** sha256 (hex) of every regular file directly in `dir`, by name. */
export function fileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    const path = join(dir, f);
    if (statSync(path).isFile()) out[f] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

/** What produced a dump, beyond the model: package version, git commit (null outside a git checkout). */
export function provenance(): { package_version: string | null; git_commit: string | null } {
  let version: string | null = null;
  try {
    version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    // not in a package: leave null
  }
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    // no git, or not a checkout
  }
  return { package_version: version, git_commit: commit };
}

async function run(flags: ParsedFlags): Promise<number> {
  applyBackendFlag(flags);
  const out = str(flags, 'out') as string;
  const idsFlag = str(flags, 'ids');
  const text = str(flags, 'text');
  if ((idsFlag === undefined) === (text === undefined)) throw new UsageError('gpt1 dump: give exactly one of --ids or --text (see gpt1 dump --help)');
  const idsGiven = idsFlag === undefined ? undefined : parseIds('dump', idsFlag);
  const layer = num(flags, 'layer') as number;
  const head = num(flags, 'head') as number;
  const ckptPath = str(flags, 'checkpoint') as string;
  guardOut('dump', out, [['--checkpoint', ckptPath], ['--vocab', str(flags, 'vocab')]], { force: Boolean(flags.force), marker: DUMP_MARKER });
  const p = progress(Boolean(flags.quiet));

  const model = await loadModel('dump', flags, p);
  const { config, params } = model;
  if (flags['attention-svg'] && !(layer >= 0 && layer < config.n_layer)) throw new UsageError(`gpt1 dump: --layer ${layer} is not in [0, ${config.n_layer})`);
  if (flags['attention-svg'] && !(head >= 0 && head < config.n_head)) throw new UsageError(`gpt1 dump: --head ${head} is not in [0, ${config.n_head})`);
  let vocab: VocabLookup;
  try {
    vocab = findVocab(str(flags, 'vocab'), model.dir, config);
  } catch (e) {
    if (text !== undefined || str(flags, 'vocab') !== undefined) throw e;
    vocab = { found: false, reason: (e as Error).message };
  }
  const ids = idsGiven ?? encodeText(requireVocab(vocab, config, '--text'), text as string, Boolean(flags['allow-unk']));
  validateIds(config, ids);
  const enc = vocab.found && vocab.enc.nVocab === config.n_vocab ? vocab.enc : undefined;
  const T = ids.length;

  const fwd = await p.task(`forward pass over ${T} tokens (${config.n_layer} layers)`, () => forward(params, config, ids));
  const loss = T >= 2 ? lmLoss(fwd.logits, ids) : null;
  let grads: Params | undefined;
  if (flags.grads) {
    if (T < 2) throw new Error('--grads needs at least 2 tokens: the lm_loss of one token has no prediction to score');
    grads = await p.task(`backward pass (gradient of lm_loss for ${paramShapes(config).length} parameters)`, async () => (await lmLossAndGrads(params, config, ids)).grads);
  }
  const trace = flags.intermediates ? await intermediates(config, fwd) : undefined;

  const be = await backend();
  const meta = {
    command: 'gpt1 dump',
    checkpoint: model.path,
    format: model.format,
    config,
    backend: be.name,
    backend_reason: be.reason,
    adapter: (be as { adapter?: unknown }).adapter ?? null,
    gpt1_threads: process.env.GPT1_THREADS ?? null,
    checkpoint_sha256: fileHashes(model.dir),
    ...provenance(),
    ids,
    tokens: enc ? tokenLabels(enc, ids) : null,
    logits_columns: `all ${nTokenRows(config)} rows of tokens_embed.weight (n_vocab ${config.n_vocab} + n_special ${config.n_special})`,
  };
  const files = dumpFiles(config, { ids, fwd, lmLoss: loss, grads, intermediates: trace }, meta, flags['attention-svg'] ? { layer, head, labels: tokenLabels(enc, ids) } : undefined);
  await p.task(`writing ${out} (${Object.keys(files).length} files)`, () => writeTreeAtomic(out, files)); // parents are created
  console.log(`wrote ${out}: ${T} tokens, logits [${fwd.logits.shape.join(', ')}], lm_loss ${loss === null ? 'null (one token)' : loss}${grads ? `, gradients of ${paramShapes(config).length} parameters in grads/` : ''}`);
  return 0;
}

export const command: Command = {
  spec: {
    name: 'dump',
    summary: 'write logits, hidden states, attentions, loss (and gradients) of one sequence as .npy/JSON for comparison with other implementations',
    examples: [
      'gpt1 dump --checkpoint model/ --text "the president is" --out dump/',
      'gpt1 dump --checkpoint model/ --ids 481,4735,544 --out dump/ --grads --attention-svg --layer 11 --head 0',
    ],
    flags: {
      ...MODEL_FLAGS,
      ids: { kind: 'string', help: 'token ids, e.g. 481,4735,544' },
      text: { kind: 'string', help: 'text to encode with the vocabulary (instead of --ids)' },
      out: { kind: 'string', required: true, help: 'output directory (written atomically; parents are created)' },
      grads: { kind: 'boolean', help: 'also write grads/<parameter>.npy: the gradient of lm_loss for every parameter' },
      intermediates: { kind: 'boolean', help: 'also write intermediates/<name>.npy: q, k, v, scores, merged heads, z1, n, FFN values, z2, h of every block (docs/cli.md)' },
      'attention-svg': { kind: 'boolean', help: 'also write an SVG heat map of one attention head (--layer, --head)' },
      layer: { kind: 'int', default: 0, help: 'layer of the attention picture' },
      head: { kind: 'int', default: 0, help: 'head of the attention picture' },
      'allow-unk': { kind: 'boolean', help: 'map text pieces missing from the vocabulary to id 0 (as the original) instead of failing' },
      force: { kind: 'boolean', help: 'replace --out even if it is a non-empty directory that is not a previous dump' },
    },
  },
  run,
};
