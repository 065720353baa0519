/**
 * `gpt1 pretrain`: unsupervised pre-training (paper §3.1, §4.1) of a new model, or
 * of an existing checkpoint, on text, with checkpoints to resume from.
 *
 * ```text
 * gpt1 pretrain --data corpus.txt --out runs/tiny --config tiny --steps 2000
 * gpt1 pretrain --data data/ --out runs/tiny --resume           # continue after an interruption
 * ```
 *
 * Writes `OUT/checkpoint/` (Hugging Face layout + vocabulary + optimizer state, see
 * `train/state.ts`) every `--save-every` updates and at the end, `OUT/metrics.jsonl`
 * (one line per update) and, when the vocabulary is learned from the data,
 * `OUT/vocab/`. Progress goes to stderr; the final summary to stdout.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { UsageError } from './args.ts';
import { type Command, BACKEND_FLAG, QUIET_FLAG, applyBackendFlag, defined, findVocab, guardOut, nonNegative, num, optimizerFlags, positiveInt, requireVocab, runPaths, str } from './common.ts';
import { ARCHITECTURE_FLAGS, applyArchitectureFlags } from './architecture.ts';
import { type GPTConfig, PRESETS, makeConfig } from '../config.ts';
import { loadCheckpoint } from '../checkpoint/index.ts';
import { type Params, initParams } from '../params.ts';
import { fork, rng } from '../random.ts';
import { encode, learnBpe, loadEncoder, writeVocab } from '../tokenizer/index.ts';
import { readCorpus } from '../train/corpus.ts';
import { PRETRAIN_DEFAULTS, defaultPretrainWarmup, pretrain } from '../train/pretrain.ts';
import { PRETRAIN_LR, defaultPretrainLr, lossHasNotMoved } from '../train/defaults.ts';
import { createProgress, metricsLog } from '../train/progress.ts';
import { SCHEDULE_NAMES, type ScheduleName } from '../train/schedules.ts';
import { hasTrainingState, loadTrainingCheckpoint, saveTrainingCheckpoint, type TrainingSnapshot } from '../train/state.ts';

/** Largest `--batch` of pre-training: the windows of one update are held in memory at once. */
const MAX_BATCH = 65536;

export const command: Command = {
  spec: {
    name: 'pretrain',
    summary: 'pre-train a language model on text (paper §3.1): linear warm-up then cosine decay, Adam with decoupled L2, checkpoints to resume from',
    examples: [
      'gpt1 pretrain --data corpus.txt --out runs/lm --config tiny --steps 2000',
      'gpt1 pretrain --data data/ --out runs/lm --resume',
      'gpt1 pretrain --data more.txt --out runs/lm2 --from runs/lm/checkpoint --steps 500',
    ],
    flags: {
      data: { kind: 'string', required: true, help: 'text: a .txt file, a .jsonl file of {"text": ...} lines, or a directory (its pretrain.jsonl, else its *.txt files)' },
      out: { kind: 'string', required: true, help: 'run directory: checkpoint/, metrics.jsonl, vocab/' },
      config: { kind: 'string', choices: Object.keys(PRESETS), default: 'tiny', help: 'model size of a new model (n_vocab is set by the vocabulary)' },
      from: { kind: 'string', help: 'start from this checkpoint instead of a new model' },
      resume: { kind: 'boolean', help: 'continue the run in --out from its checkpoint (unspecified settings are taken from it)' },
      steps: { kind: 'int', help: 'number of updates (default 1000)' },
      batch: { kind: 'int', help: `sequences per update (paper: 64; default ${PRETRAIN_DEFAULTS.batch})` },
      ctx: { kind: 'int', help: 'tokens per sequence (paper: 512; default n_ctx)' },
      lr: { kind: 'number', help: `peak learning rate (default by model size: ${Object.entries(PRETRAIN_LR).map(([k, v]) => `${k} ${v}`).join(', ')}; the paper's is ${PRETRAIN_DEFAULTS.lr})` },
      schedule: { kind: 'string', choices: SCHEDULE_NAMES, help: `learning-rate schedule (default ${PRETRAIN_DEFAULTS.schedule})` },
      warmup: { kind: 'number', help: 'warm-up as a fraction of the updates (default: the paper\'s 2000 updates, or 10% of a shorter run)' },
      l2: { kind: 'number', help: 'decoupled weight decay on matrices (default 0.01)' },
      'max-grad-norm': { kind: 'number', help: 'clip the global gradient norm (default 1; 0 disables)' },
      dropout: { kind: 'boolean', default: true, help: 'dropout at the config\'s rates (--no-dropout to disable)' },
      seed: { kind: 'int', help: `random seed (default ${PRETRAIN_DEFAULTS.seed})` },
      vocab: { kind: 'string', help: 'BPE vocabulary directory (default: the --from checkpoint\'s, else learned from the data)' },
      merges: { kind: 'int', default: 1000, help: 'BPE merges to learn when there is no vocabulary' },
      'save-every': { kind: 'int', default: 100, help: 'save a checkpoint every N updates (always at the end; 0: only at the end)' },
      'stop-after': { kind: 'int', help: 'stop after this many updates in total, as if interrupted (resume later with --resume)' },
      backend: BACKEND_FLAG,
      quiet: QUIET_FLAG,
      ...ARCHITECTURE_FLAGS, // a new model only: a resumed or given model keeps its own
    },
  },
  async run(flags) {
    applyBackendFlag(flags);
    const out = str(flags, 'out') as string;
    const paths = runPaths(out);
    const quiet = flags.quiet === true;
    const say = (s: string): void => void (quiet || process.stderr.write(`${s}\n`));
    guardOut('pretrain', out, [['--data', str(flags, 'data')], ['--from', str(flags, 'from')], ['--vocab', str(flags, 'vocab')]]);
    const opt = optimizerFlags(flags, 'pretrain');
    const stepsFlag = positiveInt(flags, 'steps', 'pretrain');
    const batchFlag = positiveInt(flags, 'batch', 'pretrain');
    if (batchFlag !== undefined && batchFlag > MAX_BATCH) throw new UsageError(`gpt1 pretrain: --batch ${batchFlag} is more than the largest supported ${MAX_BATCH} sequences per update`);
    const ctxFlag = positiveInt(flags, 'ctx', 'pretrain');
    const saveEvery = nonNegative(flags, 'save-every', 'pretrain') ?? 100;
    const stopAfter = positiveInt(flags, 'stop-after', 'pretrain');
    const docs = readCorpus(str(flags, 'data') as string);

    // Model, vocabulary and (when resuming) the saved state.
    let resume: TrainingSnapshot | undefined;
    let config: GPTConfig;
    let params: Params;
    let vocabDir: string;
    if (flags.resume === true) {
      if (!hasTrainingState(paths.checkpoint)) throw new UsageError(`gpt1 pretrain: --resume: no checkpoint to resume in ${paths.checkpoint}`);
      if (str(flags, 'from') !== undefined) throw new UsageError('gpt1 pretrain: --resume continues the run in --out; drop --from');
      resume = loadTrainingCheckpoint(paths.checkpoint);
      if (resume.state.kind !== 'pretrain') throw new Error(`${paths.checkpoint} is a ${resume.state.kind} checkpoint, not a pre-training one`);
      ({ config, params } = resume);
      vocabDir = paths.checkpoint;
    } else {
      if (hasTrainingState(paths.checkpoint)) throw new UsageError(`gpt1 pretrain: ${out} already holds a run; pass --resume to continue it or choose another --out`);
      const from = str(flags, 'from');
      if (from !== undefined) {
        ({ config, params } = loadCheckpoint(from));
        const v = findVocab(str(flags, 'vocab'), from, config);
        requireVocab(v, config, 'pre-training');
        vocabDir = (v as { dir: string }).dir;
      } else {
        const given = str(flags, 'vocab');
        if (given !== undefined) vocabDir = given;
        else {
          const merges = num(flags, 'merges') as number;
          say(`learning a BPE vocabulary (${merges} merges) from ${docs.length} document(s)`);
          writeVocab(paths.vocab, learnBpe(docs, merges));
          vocabDir = paths.vocab;
        }
        const enc = loadEncoder(vocabDir);
        const preset = PRESETS[str(flags, 'config') as string];
        config = applyArchitectureFlags(flags, makeConfig({ ...preset, n_vocab: enc.nVocab, n_special: 0, n_ctx: Math.max(preset.n_ctx, ctxFlag ?? 0) }), 'pretrain');
        params = initParams(config, fork(rng(opt.seed ?? PRETRAIN_DEFAULTS.seed), 'init'));
      }
    }
    const enc = requireVocab(findVocab(vocabDir, vocabDir, config), config, 'pre-training');
    const corpusIds = docs.flatMap((d) => encode(enc, d));
    const saved = resume?.state.hparams;
    const steps = stepsFlag ?? resume?.state.total_steps ?? 1000;
    const batch = batchFlag ?? (saved?.batch as number | undefined) ?? PRETRAIN_DEFAULTS.batch;
    const ctx = ctxFlag ?? (saved?.ctx as number | undefined) ?? config.n_ctx;
    const seed = opt.seed ?? resume?.state.seed ?? PRETRAIN_DEFAULTS.seed;
    const fromSaved = saved === undefined ? {} : {
      lr: saved.lr as number, schedule: saved.schedule as ScheduleName, warmup: saved.warmup as number, l2: saved.l2 as number,
      maxGradNorm: saved.max_grad_norm as number, b1: saved.b1 as number, b2: saved.b2 as number, e: saved.e as number, vectorL2: saved.vector_l2 as boolean,
    };
    const sizeLr = defaultPretrainLr(config);
    const hp = { lr: sizeLr.lr, schedule: PRETRAIN_DEFAULTS.schedule, warmup: defaultPretrainWarmup(steps), ...fromSaved, ...defined({ ...opt, seed: undefined }) };
    const lrWhy = opt.lr !== undefined ? '--lr' : saved !== undefined ? 'resumed' : `default for the ${sizeLr.preset} size${sizeLr.preset === 'gpt1' ? ', the paper\'s' : ', measured for it (src/train/defaults.ts)'}`;
    const dropout = saved !== undefined && flags.dropout === true ? (saved.dropout as boolean) : flags.dropout === true;
    if (ctx > config.n_ctx) throw new UsageError(`gpt1 pretrain: --ctx ${ctx} exceeds the model's n_ctx = ${config.n_ctx}`);
    if (corpusIds.length < ctx) throw new Error(`${str(flags, 'data')}: ${corpusIds.length} tokens, fewer than one sequence of --ctx ${ctx}`);

    say(`pre-training ${config.n_layer}×${config.n_embd} (n_vocab ${config.n_vocab}, n_ctx ${config.n_ctx}) on ${corpusIds.length.toLocaleString('en-US')} tokens: ${steps} updates of ${batch}×${ctx} tokens, lr ${hp.lr} (${lrWhy}) ${hp.schedule} (warm-up ${(hp.warmup * 100).toFixed(2)}%)${resume ? `, resuming at update ${resume.state.step}` : ''}`);
    const log = metricsLog(paths.metrics, resume !== undefined, resume?.state.step);
    const bar = createProgress(quiet ? { write: () => true } : process.stderr, 10);
    const t0 = Date.now();
    let tokens = 0;
    let done = 0;
    const losses: number[] = [];
    const warmupEnd = Math.ceil(hp.warmup * steps);
    let judged = false;
    const result = await pretrain({
      params, config, corpusIds, steps, batch, ctx, seed, dropout, resume, stopAfter,
      ...hp,
      checkpointEvery: saveEvery,
      onCheckpoint: (snap) => saveTrainingCheckpoint(paths.checkpoint, snap, vocabDir),
      onStep: (s) => {
        tokens += s.tokens;
        done++;
        log.write({ step: s.step, loss: s.loss, lr: s.lr, grad_norm: s.gradNorm, tokens: s.tokens, elapsed_s: (Date.now() - t0) / 1000 });
        bar.update({ step: s.step, total: s.totalSteps, loss: s.loss, tokens, elapsedMs: Date.now() - t0, stepsThisRun: done });
        losses.push(s.loss);
        // Once, at least 10 updates after the warm-up and with 20 losses seen: a loss that
        // has not moved means a learning rate too small (or too large).
        if (!judged && s.step >= warmupEnd + 10 && losses.length >= 20) {
          judged = true;
          if (lossHasNotMoved(losses)) bar.note(`warning: the loss has not moved after the warm-up (${losses[0].toFixed(3)} → ${s.loss.toFixed(3)}); the learning rate ${hp.lr} may be too small (or too large): try --lr`);
        }
      },
    });
    bar.done();
    const last = result.log.at(-1);
    console.log(`pre-trained to update ${result.opt.t}/${steps}${last ? `, last batch loss ${last.loss.toFixed(4)}` : ''}; checkpoint ${paths.checkpoint}, metrics ${paths.metrics}`);
    if (!existsSync(paths.checkpoint)) throw new Error(`no checkpoint was written to ${paths.checkpoint}`);
    return 0;
  },
};
