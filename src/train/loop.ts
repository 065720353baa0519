/**
 * What the two training loops share: the log line of one update ({@link StepInfo}),
 * the optimizer settings ({@link OptimizerOptions}, `train.py`'s defaults), the
 * callbacks and stopping rule ({@link LoopHooks}), the two checks every loop runs
 * before its first update: the Adam hyper-parameters from the options
 * ({@link adamHParams}) and the resume check ({@link checkResume}), and the one it runs
 * after every update, before the update is logged or saved: that training has not
 * diverged ({@link assertTrainingFinite}).
 *
 * Used by `pretrain.ts` (§3.1, L₁) and `finetune.ts` (§3.2, L₃).
 *
 * @module
 */
import { firstNonFinite } from '../io/safetensors.ts';
import type { Params } from '../params.ts';
import { type AdamHParams, validateAdamHParams } from './optimizer.ts';
import type { ScheduleName } from './schedules.ts';
import type { TrainerState, TrainingSnapshot } from './state.ts';

/** One line of the training log. */
export interface StepInfo {
  /** Updates made, this one included. */
  readonly step: number;
  readonly totalSteps: number;
  /** Mean training loss of the batch (with dropout). */
  readonly loss: number;
  /** lrt of this update. */
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Tokens in this update's batch. */
  readonly tokens: number;
  /** Fine-tuning only. */
  readonly epoch?: number;
  readonly clfLoss?: number;
  readonly lmLoss?: number;
  /** Fine-tuning only: fraction of the batch classified right. */
  readonly accuracy?: number;
}

/** Optimizer settings shared by both loops; every field has the `train.py` default unless noted. */
export interface OptimizerOptions {
  readonly lr?: number;
  readonly schedule?: ScheduleName;
  /** Warm-up as a fraction of the updates. */
  readonly warmup?: number;
  readonly b1?: number;
  readonly b2?: number;
  readonly e?: number;
  readonly l2?: number;
  readonly vectorL2?: boolean;
  readonly maxGradNorm?: number;
}

/** Callbacks and stopping shared by both loops. */
export interface LoopHooks {
  /** Called after every update. */
  readonly onStep?: (info: StepInfo) => void | Promise<void>;
  /** Save a checkpoint every this many updates (and always after the last). 0 or absent: only after the last. */
  readonly checkpointEvery?: number;
  /** Receives the snapshot to save (see `saveTrainingCheckpoint`). */
  readonly onCheckpoint?: (snap: TrainingSnapshot) => void | Promise<void>;
  /** Stop after this many updates in total, as if interrupted (for tests and time limits); the schedule still plans for all of them. */
  readonly stopAfter?: number;
}

/** Adam hyper-parameters from loop options (defaults from `train.py`). */
export function adamHParams(o: OptimizerOptions, tTotal: number, defaults: { lr: number; schedule: ScheduleName; warmup: number }): AdamHParams {
  const hp: AdamHParams = {
    lr: o.lr ?? defaults.lr,
    schedule: o.schedule ?? defaults.schedule,
    warmup: o.warmup ?? defaults.warmup,
    tTotal,
    b1: o.b1 ?? 0.9,
    b2: o.b2 ?? 0.999,
    e: o.e ?? 1e-8,
    l2: o.l2 ?? 0.01,
    vectorL2: o.vectorL2 ?? false,
    maxGradNorm: o.maxGradNorm ?? 1,
  };
  validateAdamHParams(hp);
  return hp;
}

/** Throws unless a resumed run has the hyper-parameters and data it was started with. */
export function checkResume(resume: TrainingSnapshot, kind: TrainerState['kind'], hparams: TrainerState['hparams'], data: string, seed: number, total: number): void {
  const s = resume.state;
  if (s.kind !== kind) throw new Error(`cannot resume: the checkpoint is from ${s.kind}, not ${kind}`);
  if (s.seed !== seed) throw new Error(`cannot resume: the checkpoint was trained with seed ${s.seed}, not ${seed}`);
  if (s.total_steps !== total) throw new Error(`cannot resume: the checkpoint plans ${s.total_steps} updates, this run ${total}`);
  for (const [k, v] of Object.entries(hparams)) {
    if (s.hparams[k] !== v) throw new Error(`cannot resume: ${k} was ${String(s.hparams[k])}, now ${String(v)}`);
  }
  if (s.data !== data) throw new Error('cannot resume: the training data differ from the checkpoint\'s');
}

/**
 * Stops a run that diverged, before the update is logged or saved: the loss, the
 * global gradient norm (NaN or Infinity as soon as one gradient is) and every updated
 * parameter must be finite. A checkpoint is written only after this check, so the
 * last one on disk is always a good one.
 * @param update the 1-based number of the update just computed
 * @param lastSaved the update of the last checkpoint written by this run (0 for none)
 * @throws `training diverged at update U: …` naming what is not finite.
 */
export function assertTrainingFinite(update: number, loss: number, gradNorm: number, params: Params, lastSaved: number): void {
  let what: string | undefined;
  if (!Number.isFinite(loss)) what = `the loss is ${loss}`;
  else if (!Number.isFinite(gradNorm)) what = `the gradient norm is ${gradNorm}`;
  else {
    for (const [name, p] of Object.entries(params)) {
      const k = firstNonFinite(p.data);
      if (k >= 0) {
        what = `parameter ${name} became ${p.data[k]} at element ${k}`;
        break;
      }
    }
  }
  if (what === undefined) return;
  const kept = lastSaved > 0 ? `the last checkpoint (update ${lastSaved}) is kept` : 'no checkpoint was written by this run';
  throw new Error(`training diverged at update ${update}: ${what} (gradient norm ${gradNorm}); stopped without saving it, ${kept}; try a lower --lr or --max-grad-norm`);
}
