/**
 * `gpt1 finetune`: supervised fine-tuning of a pre-trained checkpoint on one task of
 * Figure 1 (paper §3.2–3.3) with the auxiliary LM objective (L₃ = L₂ + λ·L₁).
 *
 * ```text
 * gpt1 finetune --checkpoint runs/lm/checkpoint --task classification --train train.jsonl --valid valid.jsonl --out runs/spam
 * gpt1 finetune --checkpoint model/ --task multiple-choice --train cloze_test_val.csv --out runs/roc --lm-coef 0.5
 * ```
 *
 * Data: JSONL per task kind, or the ROCStories CSV (see `train/task-files.ts` and
 * docs/training.md). Writes `OUT/checkpoint/` (the fine-tuned model in the Hugging Face
 * layout, `classifier.safetensors`, `task.json`, vocabulary, optimizer state),
 * `OUT/metrics.jsonl` (one line per update, plus one `{"epoch", "valid": {...}}` line
 * per epoch when --valid is given).
 *
 * @module
 */
import { UsageError } from './args.ts';
import { type Command, BACKEND_FLAG, QUIET_FLAG, applyBackendFlag, defined, findVocab, formatMetrics, guardOut, nonNegative, num, optimizerFlags, positiveInt, requireVocab, runPaths, str } from './common.ts';
import type { GPTConfig } from '../config.ts';
import { loadCheckpoint } from '../checkpoint/index.ts';
import type { Params } from '../params.ts';
import { fork, rng } from '../random.ts';
import { encode } from '../tokenizer/index.ts';
import { addSpecialTokens } from '../train/classifier.ts';
import { FINETUNE_DEFAULTS, finetune } from '../train/finetune.ts';
import { createProgress, metricsLog } from '../train/progress.ts';
import { SCHEDULE_NAMES, type ScheduleName } from '../train/schedules.ts';
import { hasTrainingState, loadTrainingCheckpoint, saveTrainingCheckpoint, type TrainingSnapshot } from '../train/state.ts';
import { type Label, labelList, prepareExamples, readTaskFile } from '../train/task-files.ts';
import { TASK_KINDS, type TaskKind, specialTokens } from '../train/transforms.ts';

export const command: Command = {
  spec: {
    name: 'finetune',
    summary: 'fine-tune a pre-trained checkpoint on a classification, entailment, similarity or multiple-choice task (paper §3.2-3.3)',
    examples: [
      'gpt1 finetune --checkpoint runs/lm/checkpoint --task classification --train train.jsonl --valid valid.jsonl --out runs/clf',
      'gpt1 finetune --checkpoint model/ --task multiple-choice --train cloze_test_val.csv --out runs/roc --epochs 3 --batch 8',
      'gpt1 finetune --checkpoint runs/lm/checkpoint --task entailment --train nli.jsonl --out runs/nli --resume',
    ],
    flags: {
      checkpoint: { kind: 'string', help: 'the pre-trained model (original or Hugging Face layout); not needed with --resume' },
      task: { kind: 'string', choices: TASK_KINDS, required: true, help: 'task kind (input transformation of Figure 1)' },
      train: { kind: 'string', required: true, help: 'training examples: JSONL (see docs/training.md), or a ROCStories .csv for multiple-choice' },
      valid: { kind: 'string', help: 'validation examples, evaluated after every epoch' },
      out: { kind: 'string', required: true, help: 'run directory: checkpoint/, metrics.jsonl' },
      resume: { kind: 'boolean', help: 'continue the run in --out from its checkpoint (unspecified settings are taken from it)' },
      regression: { kind: 'boolean', help: 'real-valued labels (e.g. STS-B similarity scores): one output, squared error, Pearson/Spearman (not multiple-choice)' },
      'lm-coef': { kind: 'number', help: `λ, the weight of the auxiliary LM loss (default ${FINETUNE_DEFAULTS.lmCoef}; 0 for L2 alone)` },
      epochs: { kind: 'int', help: `epochs (default ${FINETUNE_DEFAULTS.epochs})` },
      batch: { kind: 'int', help: `examples per update (default ${FINETUNE_DEFAULTS.batch}, train.py's per-GPU batch; the paper: 32)` },
      lr: { kind: 'number', help: `maximal learning rate (default ${FINETUNE_DEFAULTS.lr})` },
      schedule: { kind: 'string', choices: SCHEDULE_NAMES, help: `learning-rate schedule (default ${FINETUNE_DEFAULTS.schedule})` },
      warmup: { kind: 'number', help: `warm-up as a fraction of the updates (default ${FINETUNE_DEFAULTS.warmup})` },
      l2: { kind: 'number', help: 'decoupled weight decay on matrices (default 0.01)' },
      'max-grad-norm': { kind: 'number', help: 'clip the global gradient norm (default 1; 0 disables)' },
      seed: { kind: 'int', help: `random seed (default ${FINETUNE_DEFAULTS.seed})` },
      'n-head': { kind: 'int', help: 'attention heads of an original-layout checkpoint (default 12)' },
      vocab: { kind: 'string', help: 'BPE vocabulary directory (default: the checkpoint\'s, else the bundled GPT-1 vocabulary)' },
      'save-every': { kind: 'int', default: 0, help: 'save a checkpoint every N updates (always at the end)' },
      'stop-after': { kind: 'int', help: 'stop after this many updates in total, as if interrupted (resume later with --resume)' },
      backend: BACKEND_FLAG,
      quiet: QUIET_FLAG,
    },
  },
  async run(flags) {
    applyBackendFlag(flags);
    const out = str(flags, 'out') as string;
    const paths = runPaths(out);
    const quiet = flags.quiet === true;
    const say = (s: string): void => void (quiet || process.stderr.write(`${s}\n`));
    const task = str(flags, 'task') as TaskKind;
    guardOut('finetune', out, [['--checkpoint', str(flags, 'checkpoint')], ['--train', str(flags, 'train')], ['--valid', str(flags, 'valid')], ['--vocab', str(flags, 'vocab')]]);
    const opt = optimizerFlags(flags, 'finetune');
    for (const f of ['epochs', 'batch', 'stop-after', 'n-head'] as const) positiveInt(flags, f, 'finetune');
    const saveEvery = num(flags, 'save-every');
    if (saveEvery !== undefined && !(Number.isInteger(saveEvery) && saveEvery >= 0)) throw new UsageError(`gpt1 finetune: --save-every must be a non-negative integer, got ${saveEvery}`);
    const lmCoefFlag = nonNegative(flags, 'lm-coef', 'finetune');

    let resume: TrainingSnapshot | undefined;
    let config: GPTConfig;
    let params: Params;
    let vocabDir: string;
    let labels: readonly Label[] | undefined;
    if (flags.resume === true) {
      if (!hasTrainingState(paths.checkpoint)) throw new UsageError(`gpt1 finetune: --resume: no checkpoint to resume in ${paths.checkpoint}`);
      resume = loadTrainingCheckpoint(paths.checkpoint);
      if (resume.state.kind !== 'finetune' || resume.task === undefined) throw new Error(`${paths.checkpoint} is not a fine-tuning checkpoint`);
      if (resume.task.task !== task) throw new UsageError(`gpt1 finetune: --resume: the run in ${out} is a ${resume.task.task} task, not ${task}`);
      ({ config, params } = resume);
      labels = resume.task.labels;
      vocabDir = paths.checkpoint;
    } else {
      if (hasTrainingState(paths.checkpoint)) throw new UsageError(`gpt1 finetune: ${out} already holds a run; pass --resume to continue it or choose another --out`);
      const from = str(flags, 'checkpoint');
      if (from === undefined) throw new UsageError('gpt1 finetune: --checkpoint is required (the pre-trained model)');
      const nHead = num(flags, 'n-head');
      ({ config, params } = loadCheckpoint(from, nHead === undefined ? {} : { n_head: nHead }));
      const v = findVocab(str(flags, 'vocab'), from, config);
      requireVocab(v, config, 'fine-tuning');
      vocabDir = (v as { dir: string }).dir;
    }
    const enc = requireVocab(findVocab(vocabDir, vocabDir, config), config, 'fine-tuning');
    const saved = resume?.state.hparams;
    const seed = opt.seed ?? resume?.state.seed ?? FINETUNE_DEFAULTS.seed;
    // the special tokens must exist before the inputs are built; finetune() adds the same rows (same stream)
    const withSpecial = addSpecialTokens(params, config, fork(rng(seed), 'special'));
    const sp = specialTokens(withSpecial.config);
    const tokenize = (t: string): number[] => encode(enc, t);

    const regression = resume?.task?.regression ?? flags.regression === true;
    if (flags.regression === true && !regression) throw new UsageError(`gpt1 finetune: --regression: the run in ${out} is a classification`);
    if (regression && task === 'multiple-choice') throw new UsageError('gpt1 finetune: --regression does not apply to multiple-choice');
    const trainText = readTaskFile(task, str(flags, 'train') as string);
    labels ??= regression ? [] : labelList(trainText, str(flags, 'train'));
    const train = prepareExamples(trainText, tokenize, sp, config.n_ctx, labels, { regression });
    const validPath = str(flags, 'valid');
    const valid = validPath === undefined ? undefined : prepareExamples(readTaskFile(task, validPath), tokenize, sp, config.n_ctx, labels, { regression });
    for (const [what, p] of [['training', train], ['validation', valid]] as const) {
      if (p && p.truncated > 0) say(`note: ${p.truncated} of ${p.data.length} ${what} examples were truncated to fit n_ctx = ${config.n_ctx} (each field keeps its first tokens)`);
    }

    const fromSaved = saved === undefined ? {} : {
      lr: saved.lr as number, schedule: saved.schedule as ScheduleName, warmup: saved.warmup as number, l2: saved.l2 as number,
      maxGradNorm: saved.max_grad_norm as number, b1: saved.b1 as number, b2: saved.b2 as number, e: saved.e as number, vectorL2: saved.vector_l2 as boolean,
      epochs: saved.epochs as number, batch: saved.batch as number, lmCoef: saved.lm_coef as number,
    };
    const settings = {
      epochs: FINETUNE_DEFAULTS.epochs, batch: FINETUNE_DEFAULTS.batch, lmCoef: FINETUNE_DEFAULTS.lmCoef, ...fromSaved,
      ...defined({ ...opt, seed: undefined, epochs: num(flags, 'epochs'), batch: num(flags, 'batch'), lmCoef: lmCoefFlag }),
    };
    const nOut = task === 'multiple-choice' ? 'one score per choice' : regression ? 'regression' : `${labels.length} classes (${labels.map((l) => JSON.stringify(l)).join(', ')})`;
    say(`fine-tuning ${config.n_layer}×${config.n_embd} on ${train.data.length} ${task} examples, ${nOut}: ${settings.epochs} epoch(s) of batch ${settings.batch}, λ = ${settings.lmCoef}${resume ? `, resuming at update ${resume.state.step}` : ''}`);

    const log = metricsLog(paths.metrics, resume !== undefined, resume?.state.step);
    const bar = createProgress(quiet ? { write: () => true } : process.stderr, 10);
    const t0 = Date.now();
    let tokens = 0;
    let done = 0;
    let lastStep = 0;
    const result = await finetune({
      params, config, task, train: train.data, valid: valid?.data, labels, regression, seed, resume,
      ...settings,
      stopAfter: num(flags, 'stop-after'),
      checkpointEvery: num(flags, 'save-every') ?? 0,
      onCheckpoint: (snap) => saveTrainingCheckpoint(paths.checkpoint, snap, vocabDir),
      onStep: (s) => {
        tokens += s.tokens;
        done++;
        lastStep = s.step;
        log.write({ step: s.step, epoch: s.epoch, loss: s.loss, clf_loss: s.clfLoss, lm_loss: s.lmLoss, accuracy: s.accuracy, lr: s.lr, grad_norm: s.gradNorm, tokens: s.tokens, elapsed_s: (Date.now() - t0) / 1000 });
        bar.update({ step: s.step, total: s.totalSteps, loss: s.loss, tokens, elapsedMs: Date.now() - t0, stepsThisRun: done, extra: { epoch: String(s.epoch) } });
      },
      onEpoch: (epoch, m) => {
        log.write({ step: lastStep, epoch, valid: { accuracy: m.accuracy, clf_loss: m.clfLoss, lm_loss: m.lmLoss, f1: m.f1, mcc: m.mcc, pearson: m.pearson, spearman: m.spearman, n: m.n } });
        bar.note(`epoch ${epoch}: validation ${formatMetrics(m)}`);
      },
    });
    bar.done();
    const lastValid = result.validation.at(-1);
    console.log(`fine-tuned to update ${result.opt.t}/${result.snapshot.state.total_steps}${lastValid ? `; validation ${formatMetrics(lastValid)}` : ''}; checkpoint ${paths.checkpoint}`);
    return 0;
  },
};
