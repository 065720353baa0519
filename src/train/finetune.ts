/**
 * Supervised fine-tuning (paper §3.2–3.3, §4.1), as the original `train.py`.
 *
 * > "Unless specified, we reuse the hyperparameter settings from unsupervised
 * > pre-training. We add dropout to the classifier with a rate of 0.1. For most tasks,
 * > we use a learning rate of 6.25e-5 and a batchsize of 32. Our model finetunes quickly
 * > and 3 epochs of training was sufficient for most cases. We use a linear learning
 * > rate decay schedule with warmup over 0.2% of training. λ was set to 0.5."
 *
 * The loop (`train.py` `__main__`):
 *
 * - the three special tokens are added to the embedding (N(0, 0.02²) rows) and the
 *   classifier W_y is initialised (N(0, 0.02²), bias 0);
 * - each epoch visits the training set in a fresh random order
 *   (`shuffle(trX, trM, trYt, random_state=np.random)`) in batches of `batch` examples,
 *   dropping the last incomplete batch (`iter_data(..., truncate=True)`), so
 *   t_total = ⌊n_train / batch⌋ · epochs (`n_updates_total`);
 * - each update minimises mean(clf_loss) + λ·mean(lm_loss) (see `objectives.ts`) with
 *   Adam over the model *and* the classifier, clipping their joint gradient norm;
 * - after each epoch the validation set (if any) is evaluated (`log()`).
 *
 * Random streams: the order of epoch e comes from fork(rng(seed), 'epoch/e'), the
 * dropout of update u from fork(rng(seed), 'dropout/u'), the special-token rows from
 * fork(rng(seed), 'special') and the classifier from fork(rng(seed), 'classifier'),
 * so (seed, updates made) is the whole random state and a resumed run is bit-identical
 * to an uninterrupted one.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import type { Params } from '../params.ts';
import { fork, rng, shuffle } from '../random.ts';
import { type ClassifierHead, CLF_BIAS, CLF_WEIGHT, addSpecialTokens, initClassifier, validateClassifier } from './classifier.ts';
import { type Metrics, evaluate } from './evaluate.ts';
import { batchLossAndGrads } from './objectives.ts';
import { type AdamState, adamStep, initAdamState } from './optimizer.ts';
import { type LoopHooks, type OptimizerOptions, type StepInfo, adamHParams, assertTrainingFinite, checkResume } from './loop.ts';
import { DEFAULT_WARMUP, type ScheduleName } from './schedules.ts';
import { type TaskInfo, type TrainingSnapshot, fingerprint } from './state.ts';
import type { Label, LabeledInput } from './task-files.ts';
import type { TaskKind } from './transforms.ts';

/** `train.py`'s fine-tuning defaults (`--n_iter 3 --n_batch 8 --lr 6.25e-5 --lm_coef 0.5 --lr_warmup 0.002 --seed 42`). */
export const FINETUNE_DEFAULTS = Object.freeze({
  epochs: 3,
  batch: 8,
  lr: 6.25e-5,
  lmCoef: 0.5,
  warmup: DEFAULT_WARMUP,
  schedule: 'warmup_linear' as ScheduleName,
  seed: 42,
});

export interface FinetuneOptions extends OptimizerOptions, LoopHooks {
  /** The pre-trained model (with or without the special tokens; they are added if missing). */
  readonly params: Params;
  readonly config: GPTConfig;
  readonly task: TaskKind;
  /** Transformed, labelled training examples (see `prepareExamples`). */
  readonly train: readonly LabeledInput[];
  /** Evaluated after every epoch when given. */
  readonly valid?: readonly LabeledInput[];
  /** Class labels in output order (saved in `task.json`); their number is the classifier's width. Ignored for multiple choice. */
  readonly labels?: readonly Label[];
  readonly epochs?: number;
  readonly batch?: number;
  /** λ of L₃ = L₂ + λ·L₁ (0 allowed). */
  readonly lmCoef?: number;
  readonly seed?: number;
  /**
   * Regression instead of classification (similarity scores, as STS-B): one output,
   * squared-error loss, real-valued labels; validated with Pearson and Spearman correlation.
   */
  readonly regression?: boolean;
  /** A classifier to start from instead of a fresh one. */
  readonly head?: ClassifierHead;
  /** Continue from a checkpoint of the same run. */
  readonly resume?: TrainingSnapshot;
  /** Called after each epoch's validation. */
  readonly onEpoch?: (epoch: number, metrics: Metrics) => void | Promise<void>;
}

export interface FinetuneResult {
  readonly params: Params;
  readonly config: GPTConfig;
  readonly head: ClassifierHead;
  readonly task: TaskInfo;
  readonly opt: AdamState;
  readonly log: readonly StepInfo[];
  /** Validation metrics after each epoch completed by this call. */
  readonly validation: readonly Metrics[];
  readonly snapshot: TrainingSnapshot;
}

/** ⌊n / batch⌋ · epochs: `n_updates_total` of `train.py`. */
export function finetuneTotalSteps(nTrain: number, batch: number, epochs: number): number {
  return Math.floor(nTrain / batch) * epochs;
}

/** The example indices of every batch of epoch `e` (the last incomplete batch dropped). */
export function epochBatches(nTrain: number, batch: number, seed: number, epoch: number): number[][] {
  const [order] = shuffle(fork(rng(seed), `epoch/${epoch}`), Array.from({ length: nTrain }, (_, i) => i));
  const out: number[][] = [];
  for (let b = 0; b + batch <= nTrain; b += batch) out.push(order.slice(b, b + batch));
  return out;
}

/** Fine-tunes a pre-trained model on a task (see the module comment). */
export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const epochs = o.epochs ?? FINETUNE_DEFAULTS.epochs;
  const batch = o.batch ?? FINETUNE_DEFAULTS.batch;
  const lmCoef = o.lmCoef ?? FINETUNE_DEFAULTS.lmCoef;
  const seed = o.seed ?? FINETUNE_DEFAULTS.seed;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  if (!(lmCoef >= 0 && Number.isFinite(lmCoef))) throw new Error(`the LM coefficient λ must be ≥ 0, got ${lmCoef}`);
  const nTrain = o.train.length;
  if (nTrain < batch) throw new Error(`${nTrain} training examples are fewer than one batch of ${batch}`);
  for (const ex of o.train) {
    if (ex.input.kind !== o.task) throw new Error(`a training example is a ${ex.input.kind} input, the task is ${o.task}`);
  }
  const perEpoch = Math.floor(nTrain / batch);
  const total = perEpoch * epochs;
  const hp = adamHParams(o, total, { lr: FINETUNE_DEFAULTS.lr, schedule: FINETUNE_DEFAULTS.schedule, warmup: FINETUNE_DEFAULTS.warmup });

  const regression = o.regression === true;
  if (regression && o.task === 'multiple-choice') throw new Error('a multiple-choice task cannot be a regression');
  const labels: readonly Label[] = o.task === 'multiple-choice' || regression ? [] : (o.labels ?? []);
  const nOut = o.task === 'multiple-choice' || regression ? 1 : labels.length > 0 ? labels.length : Math.max(...o.train.map((e) => e.label)) + 1;
  if (o.task !== 'multiple-choice' && !regression && nOut < 2) throw new Error(`a ${o.task} task needs at least 2 classes, got ${nOut}`);
  for (const ex of o.train) {
    if (regression) {
      if (!Number.isFinite(ex.label)) throw new Error(`a regression target is ${ex.label}, not a finite number`);
      continue;
    }
    const k = o.task === 'multiple-choice' ? ex.input.sequences.length : nOut;
    if (!Number.isInteger(ex.label) || ex.label < 0 || ex.label >= k) throw new Error(`a training label is ${ex.label}, outside [0, ${k})`);
  }
  const task: TaskInfo = Object.freeze({ task: o.task, labels, n_out: nOut, regression });

  const hparams = {
    task: o.task, lr: hp.lr, schedule: hp.schedule, warmup: hp.warmup, b1: hp.b1, b2: hp.b2, e: hp.e, l2: hp.l2,
    vector_l2: hp.vectorL2, max_grad_norm: hp.maxGradNorm, batch, epochs, lm_coef: lmCoef, n_out: nOut, regression,
  };
  const data = fingerprint(o.train.flatMap((ex) => [ex.label, ...ex.input.sequences.flatMap((s) => [s.ids.length, ...s.ids])]));

  const root = rng(seed);
  let { params, config } = addSpecialTokens(o.params, o.config, fork(root, 'special'));
  let head = o.head ?? initClassifier(config.n_embd, nOut, fork(root, 'classifier'));
  if (validateClassifier(head, config.n_embd) !== nOut) throw new Error(`the given classifier has ${head[CLF_WEIGHT].shape[1]} outputs, the task needs ${nOut}`);
  let opt = initAdamState({ ...params, ...head });
  if (o.resume) {
    checkResume(o.resume, 'finetune', hparams, data, seed, total);
    if (o.resume.head === undefined) throw new Error('cannot resume: the checkpoint has no classifier');
    ({ params, config, head, opt } = { params: o.resume.params, config: o.resume.config, head: o.resume.head, opt: o.resume.opt });
  }
  const snapshot = (): TrainingSnapshot => Object.freeze({
    config, params, head, task, opt,
    state: Object.freeze({ kind: 'finetune' as const, step: opt.t, total_steps: total, seed, hparams, data }),
  });

  const stop = Math.min(total, o.stopAfter ?? total);
  const every = o.checkpointEvery ?? 0;
  let lastSaved = o.resume ? opt.t : 0;
  const log: StepInfo[] = [];
  const validation: Metrics[] = [];
  let batches: number[][] = [];
  let batchesEpoch = -1;
  for (let u = opt.t; u < stop; u++) {
    const epoch = Math.floor(u / perEpoch);
    if (epoch !== batchesEpoch) {
      batches = epochBatches(nTrain, batch, seed, epoch);
      batchesEpoch = epoch;
    }
    const examples = batches[u % perEpoch].map((i) => o.train[i]);
    const r = await batchLossAndGrads(params, config, head, examples, { lmCoef, regression, dropout: { rng: fork(root, `dropout/${u}`) } });
    const step = adamStep({ ...params, ...head }, { ...r.grads, ...r.headGrads }, opt, hp);
    assertTrainingFinite(u + 1, r.loss, step.gradNorm, step.params, lastSaved);
    const { [CLF_WEIGHT]: w, [CLF_BIAS]: b, ...model } = step.params;
    params = Object.freeze(model);
    head = Object.freeze({ [CLF_WEIGHT]: w, [CLF_BIAS]: b });
    opt = step.state;
    const tokens = examples.reduce((n, ex) => n + ex.input.sequences.reduce((m, s) => m + s.ids.length, 0), 0);
    const info: StepInfo = {
      step: opt.t, totalSteps: total, loss: r.loss, lr: step.lr, gradNorm: step.gradNorm, tokens,
      epoch: epoch + 1, clfLoss: r.clfLoss, lmLoss: r.lmLoss, ...(regression ? {} : { accuracy: r.correct / examples.length }),
    };
    log.push(info);
    await o.onStep?.(info);
    if (opt.t % perEpoch === 0 && o.valid !== undefined && o.valid.length > 0) {
      const m = await evaluate({ params, config, head, task: o.task, data: o.valid, regression });
      validation.push(m);
      await o.onEpoch?.(opt.t / perEpoch, m);
    }
    if (o.onCheckpoint && ((every > 0 && opt.t % every === 0) || opt.t === stop)) {
      await o.onCheckpoint(snapshot());
      lastSaved = opt.t;
    }
  }
  return { params, config, head, task, opt, log, validation, snapshot: snapshot() };
}
