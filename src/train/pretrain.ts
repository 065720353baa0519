/**
 * Unsupervised pre-training (paper §3.1 and §4.1): maximise the language-model
 * likelihood L₁ on contiguous windows of a token corpus.
 *
 * > "We use the BooksCorpus dataset [...]. We trained for 100 epochs on minibatches of
 * > 64 randomly sampled, contiguous sequences of 512 tokens. [...] the learning rate
 * > was increased linearly from zero over the first 2000 updates and annealed to 0
 * > using a cosine schedule. [...] We used residual, embedding, and attention dropouts
 * > with a rate of 0.1 for regularization. We also employed a modified version of L2
 * > regularization [...] with w = 0.01 on all non bias or gain weights."
 *
 * One update u (u = updates already made, 0-based):
 *
 *     windows ← `batch` start offsets drawn uniformly from [0, N − ctx] with fork(rng(seed), 'batch/u')
 *     loss, g ← mean over the windows of the LM loss and its gradient (dropout from fork(rng(seed), 'dropout/u'))
 *     θ, opt  ← adamStep(θ, g, opt)      with schedule warmup_cosine by default
 *
 * Every random draw depends only on (seed, u), so a run resumed from a checkpoint at
 * update u reaches bit-identical parameters to one that never stopped.
 *
 * The original repository released only the fine-tuning code; the pre-training loop
 * here follows the paper's description with the same optimizer (`opt.py`).
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { batchLmLossAndGrads } from '../model/gpt.ts';
import type { Params } from '../params.ts';
import { fork, randint, rng } from '../random.ts';
import { type LoopHooks, type OptimizerOptions, type StepInfo, adamHParams, assertTrainingFinite, checkResume } from './loop.ts';
import { type AdamState, adamStep, initAdamState } from './optimizer.ts';
import type { ScheduleName } from './schedules.ts';
import { type TrainingSnapshot, fingerprint } from './state.ts';

export interface PretrainOptions extends OptimizerOptions, LoopHooks {
  readonly params: Params;
  readonly config: GPTConfig;
  /** The corpus as token ids. */
  readonly corpusIds: ArrayLike<number>;
  /** Planned number of updates (t_total). */
  readonly steps: number;
  /** Sequences per update (paper: 64). Default 8. */
  readonly batch?: number;
  /** Tokens per sequence (paper: 512). Default n_ctx. */
  readonly ctx?: number;
  readonly seed?: number;
  /** Apply the config's dropout rates (default true). */
  readonly dropout?: boolean;
  /** Continue from a checkpoint of the same run. */
  readonly resume?: TrainingSnapshot;
}

export interface TrainResult {
  readonly params: Params;
  readonly opt: AdamState;
  /** One entry per update made by this call. */
  readonly log: readonly StepInfo[];
  /** The final state, as saved in a checkpoint. */
  readonly snapshot: TrainingSnapshot;
}

/** Pre-training defaults: the paper's learning rate and schedule shape. */
export const PRETRAIN_DEFAULTS = Object.freeze({ lr: 2.5e-4, schedule: 'warmup_cosine' as ScheduleName, batch: 8, seed: 42 });

/** The paper's 2000 warm-up updates as a fraction of `steps`, or 10% for runs shorter than 20,000 updates. */
export function defaultPretrainWarmup(steps: number): number {
  return Math.min(2000, Math.max(1, Math.ceil(steps / 10))) / steps;
}

/** The `batch` windows of update u: contiguous slices of `ctx` tokens at offsets drawn from fork(rng(seed), 'batch/u'). */
export function sampleWindows(corpusIds: ArrayLike<number>, ctx: number, batch: number, seed: number, u: number): number[][] {
  const starts = corpusIds.length - ctx + 1;
  if (starts < 1) throw new Error(`the corpus has ${corpusIds.length} tokens, fewer than one window of ${ctx}`);
  let g = fork(rng(seed), `batch/${u}`);
  const out: number[][] = [];
  for (let b = 0; b < batch; b++) {
    let start: number;
    [start, g] = randint(g, starts);
    out.push(Array.from({ length: ctx }, (_, i) => corpusIds[start + i]));
  }
  return out;
}

/**
 * Pre-trains `params` on `corpusIds` for `steps` updates (or until `stopAfter`).
 * @returns the trained parameters, optimizer state, per-update log and final snapshot
 */
export async function pretrain(o: PretrainOptions): Promise<TrainResult> {
  const { config, corpusIds, steps } = o;
  const batch = o.batch ?? PRETRAIN_DEFAULTS.batch;
  const ctx = o.ctx ?? config.n_ctx;
  const seed = o.seed ?? PRETRAIN_DEFAULTS.seed;
  const useDropout = o.dropout ?? true;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  if (!Number.isInteger(ctx) || ctx < 2 || ctx > config.n_ctx) throw new Error(`ctx must be an integer in [2, n_ctx = ${config.n_ctx}], got ${ctx}`);
  if (corpusIds.length < ctx) throw new Error(`the corpus has ${corpusIds.length} tokens, fewer than one window of ${ctx}`);
  const V = config.n_vocab + config.n_special;
  for (let i = 0; i < corpusIds.length; i++) {
    const id = corpusIds[i];
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`corpus token ${i} is ${id}, outside the vocabulary [0, ${V})`);
  }
  const hp = adamHParams(o, steps, { ...PRETRAIN_DEFAULTS, warmup: defaultPretrainWarmup(steps) });
  const hparams = { lr: hp.lr, schedule: hp.schedule, warmup: hp.warmup, b1: hp.b1, b2: hp.b2, e: hp.e, l2: hp.l2, vector_l2: hp.vectorL2, max_grad_norm: hp.maxGradNorm, batch, ctx, dropout: useDropout };
  const data = fingerprint(Array.from(corpusIds));

  let params = o.params;
  let opt = initAdamState(params);
  let cfg = config;
  if (o.resume) {
    checkResume(o.resume, 'pretrain', hparams, data, seed, steps);
    params = o.resume.params;
    opt = o.resume.opt;
    cfg = o.resume.config;
  }
  const snapshot = (): TrainingSnapshot => Object.freeze({
    config: cfg, params, opt,
    state: Object.freeze({ kind: 'pretrain' as const, step: opt.t, total_steps: steps, seed, hparams, data }),
  });

  const stop = Math.min(steps, o.stopAfter ?? steps);
  const log: StepInfo[] = [];
  const every = o.checkpointEvery ?? 0;
  let lastSaved = o.resume ? opt.t : 0;
  for (let u = opt.t; u < stop; u++) {
    const windows = sampleWindows(corpusIds, ctx, batch, seed, u);
    const dropout = useDropout ? { rng: fork(rng(seed), `dropout/${u}`) } : undefined;
    const { loss, grads } = await batchLmLossAndGrads(params, cfg, windows.map((ids) => ({ ids })), dropout);
    const r = adamStep(params, grads, opt, hp);
    assertTrainingFinite(u + 1, loss, r.gradNorm, r.params, lastSaved);
    params = r.params;
    opt = r.state;
    const info: StepInfo = { step: opt.t, totalSteps: steps, loss, lr: r.lr, gradNorm: r.gradNorm, tokens: batch * ctx };
    log.push(info);
    await o.onStep?.(info);
    if (o.onCheckpoint && ((every > 0 && opt.t % every === 0) || opt.t === stop)) {
      await o.onCheckpoint(snapshot());
      lastSaved = opt.t;
    }
  }
  return { params, opt, log, snapshot: snapshot() };
}
