/**
 * Training checkpoints: the model in the Hugging Face layout plus everything needed
 * to continue training bit for bit, written together in one atomic directory swap.
 *
 * | file | content |
 * |---|---|
 * | `config.json`, `model.safetensors` | the model, Hugging Face layout (`checkpoint/hf.ts`); `loadCheckpoint(dir)` reads it. Fine-tuned: the task head too, in the names transformers' `OpenAIGPTDoubleHeadsModel` / `OpenAIGPTForSequenceClassification` load (`checkpoint/heads.ts`) |
 * | `vocab.json`, `merges.txt` | the BPE vocabulary, when known (copied from any naming `loadEncoder` reads) |
 * | `classifier.safetensors` | older fine-tuned checkpoints only (still read): `clf.weight` [n_embd, n_out], `clf.bias` [n_out] |
 * | `task.json` | fine-tuning only: `{ "task", "labels", "n_out", "regression" }` |
 * | `optimizer.safetensors` | Adam moments: `m.<param>` and `v.<param>` for every trained parameter |
 * | `trainer_state.json` | `step` (updates made = Adam's t), `total_steps` (t_total), `seed`, the hyper-parameters, and the data fingerprint |
 *
 * Because the whole directory is replaced with `writeDirAtomic`, a crash while saving
 * leaves the previous complete checkpoint (or the new one), never a model from one
 * step with moments from another.
 *
 * ## Random state
 * Every random draw of the training loops (batch sampling, shuffling, dropout) comes
 * from a stream forked by name from the seed and the update number (e.g.
 * `fork(rng(seed), 'dropout/17')`), never from a generator carried from step to step.
 * The pair (seed, step) is therefore the complete random state: it is saved, and a
 * resumed run draws exactly what the uninterrupted run would have drawn.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GPTConfig } from '../config.ts';
import { loadCheckpoint } from '../checkpoint/index.ts';
import { HF_WEIGHTS, hfFiles } from '../checkpoint/hf.ts';
import { type HeadTask, headFromHF, hfHeadConfig, hfHeadTensors } from '../checkpoint/heads.ts';
import { readJson, vocabFiles } from '../checkpoint/common.ts';
import { type FileContent, resolveDirAtomic, writeDirAtomic } from '../io/atomic.ts';
import { encodeSafetensorsChunks, readSafetensors } from '../io/safetensors.ts';
import type { Params } from '../params.ts';
import type { Tensor } from '../tensor.ts';
import { type ClassifierHead, CLF_BIAS, CLF_WEIGHT, validateClassifier } from './classifier.ts';
import type { AdamState } from './optimizer.ts';
import type { Label } from './taskdata.ts';
import { TASK_KINDS, type TaskKind } from './tasks.ts';

export const CLASSIFIER_FILE = 'classifier.safetensors';
export const TASK_FILE = 'task.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_STATE_FILE = 'trainer_state.json';

/** A fine-tuned classifier's task description (`task.json`). */
export interface TaskInfo {
  readonly task: TaskKind;
  /** Class labels, in output order (empty for multiple choice). */
  readonly labels: readonly Label[];
  readonly n_out: number;
  /** A regression head (one real-valued output) rather than classes. */
  readonly regression?: boolean;
}

/** The bookkeeping of a run (`trainer_state.json`). */
export interface TrainerState {
  readonly kind: 'pretrain' | 'finetune';
  /** Updates made so far (= Adam's t). */
  readonly step: number;
  /** Planned number of updates t_total. */
  readonly total_steps: number;
  readonly seed: number;
  /** Hyper-parameters that must not change on resume (learning rate, batch, …). */
  readonly hparams: Readonly<Record<string, number | string | boolean>>;
  /** A fingerprint of the training data, checked on resume. */
  readonly data: string;
}

/** Everything a training checkpoint holds. */
export interface TrainingSnapshot {
  readonly config: GPTConfig;
  readonly params: Params;
  readonly head?: ClassifierHead;
  readonly task?: TaskInfo;
  readonly opt: AdamState;
  readonly state: TrainerState;
}

/** The files of a training checkpoint (see the module comment); `vocabDir` adds the vocabulary. */
export function trainingFiles(snap: TrainingSnapshot, vocabDir?: string): Record<string, FileContent> {
  const files: Record<string, FileContent> = { ...modelFiles(snap.config, snap.params, snap.head, snap.task) };
  if (vocabDir !== undefined) Object.assign(files, vocabFiles(vocabDir, 'hf'));
  const moments: [string, Tensor][] = [];
  for (const name of Object.keys(snap.opt.m)) moments.push([`m.${name}`, snap.opt.m[name]], [`v.${name}`, snap.opt.v[name]]);
  files[OPTIMIZER_FILE] = encodeSafetensorsChunks(moments, { t: String(snap.opt.t) });
  files[TRAINER_STATE_FILE] = `${JSON.stringify(snap.state, null, 2)}\n`;
  return files;
}

/** How a task's head is named for transformers. */
function headTask(task: TaskInfo): HeadTask {
  return { multipleChoice: task.task === 'multiple-choice', labels: task.labels, regression: task.regression };
}

/**
 * The model files of a checkpoint (Hugging Face layout): the language model alone, or,
 * fine-tuned, with its head in transformers' names and `task.json`.
 */
export function modelFiles(config: GPTConfig, params: Params, head?: ClassifierHead, task?: TaskInfo): Record<string, FileContent> {
  if (head === undefined) return hfFiles(config, params);
  if (task === undefined) throw new Error('a checkpoint with a classifier needs its task description');
  const ours = { weight: head[CLF_WEIGHT], bias: head[CLF_BIAS] };
  return {
    ...hfFiles(config, params, { tensors: hfHeadTensors(headTask(task), ours), config: hfHeadConfig(headTask(task), task.n_out) }),
    [TASK_FILE]: `${JSON.stringify(task, null, 2)}\n`,
  };
}

/** Whether `dir` holds a fine-tuned checkpoint (`task.json`, and the head in `model.safetensors` or, older, `classifier.safetensors`). */
export function hasClassifier(dir: string): boolean {
  try {
    return existsSync(join(resolveDirAtomic(dir), TASK_FILE));
  } catch {
    return false;
  }
}

/** Writes a training checkpoint to `dir`, atomically. */
export function saveTrainingCheckpoint(dir: string, snap: TrainingSnapshot, vocabDir?: string): void {
  writeDirAtomic(dir, trainingFiles(snap, vocabDir));
}

/**
 * Reads the task and head of a fine-tuned checkpoint: `task.json`, and the head from
 * `model.safetensors` (transformers' names) or from an older `classifier.safetensors`.
 */
export function loadClassifier(dir: string, nEmbd: number): { head: ClassifierHead; task: TaskInfo } {
  const real = resolveDirAtomic(dir);
  const taskPath = join(real, TASK_FILE);
  const old = join(real, CLASSIFIER_FILE);
  if (!existsSync(taskPath)) throw new Error(`${dir}: no fine-tuned classifier (${TASK_FILE}); run gpt1 finetune first`);
  const json = readJson(taskPath) as Partial<TaskInfo> | null;
  if (json === null || typeof json !== 'object' || !TASK_KINDS.includes(json.task as TaskKind) || !Array.isArray(json.labels) || !Number.isInteger(json.n_out)) {
    throw new Error(`${taskPath}: expected {"task": one of ${TASK_KINDS.join('|')}, "labels": [...], "n_out": integer}`);
  }
  const task: TaskInfo = Object.freeze({ task: json.task as TaskKind, labels: Object.freeze([...json.labels]) as Label[], n_out: json.n_out as number, regression: json.regression === true });
  let head: ClassifierHead;
  let path: string;
  if (existsSync(old)) {
    path = old;
    const file = readSafetensors(old);
    head = Object.freeze({ [CLF_WEIGHT]: file.tensors[CLF_WEIGHT], [CLF_BIAS]: file.tensors[CLF_BIAS] });
  } else {
    path = join(real, HF_WEIGHTS);
    const file = readSafetensors(path);
    const h = headFromHF(headTask(task), (name) => file.tensors[name], path);
    head = Object.freeze({ [CLF_WEIGHT]: h.weight, [CLF_BIAS]: h.bias });
  }
  const nOut = validateClassifier(head, nEmbd);
  if (nOut !== task.n_out) throw new Error(`${path}: ${nOut} outputs, ${TASK_FILE} says ${task.n_out}`);
  return { head, task };
}

/** Whether `dir` holds a training checkpoint that can be resumed. */
export function hasTrainingState(dir: string): boolean {
  try {
    const real = resolveDirAtomic(dir);
    return existsSync(join(real, TRAINER_STATE_FILE)) && existsSync(join(real, OPTIMIZER_FILE));
  } catch {
    return false;
  }
}

/** Reads a whole training checkpoint. @throws a one-line error naming the file at fault. */
export function loadTrainingCheckpoint(dir: string): TrainingSnapshot {
  const real = resolveDirAtomic(dir);
  const { config, params } = loadCheckpoint(real);
  const statePath = join(real, TRAINER_STATE_FILE);
  const state = readJson(statePath) as TrainerState;
  if (state === null || typeof state !== 'object' || !Number.isInteger(state.step) || !Number.isInteger(state.total_steps) || !Number.isInteger(state.seed)) {
    throw new Error(`${statePath}: expected step, total_steps and seed as integers`);
  }
  const optPath = join(real, OPTIMIZER_FILE);
  if (!existsSync(optPath)) throw new Error(`${optPath}: missing`);
  const file = readSafetensors(optPath);
  const t = Number(file.metadata.t);
  if (t !== state.step) throw new Error(`${optPath}: Adam's t is ${file.metadata.t}, ${TRAINER_STATE_FILE} says step ${state.step}`);
  const m: Record<string, Tensor> = {};
  const v: Record<string, Tensor> = {};
  for (const [name, x] of Object.entries(file.tensors)) {
    if (name.startsWith('m.')) m[name.slice(2)] = x;
    else if (name.startsWith('v.')) v[name.slice(2)] = x;
    else throw new Error(`${optPath}: unexpected tensor ${name}`);
  }
  let head: ClassifierHead | undefined;
  let task: TaskInfo | undefined;
  if (hasClassifier(real)) ({ head, task } = loadClassifier(real, config.n_embd));
  const trained = { ...params, ...(head ?? {}) };
  for (const name of Object.keys(trained)) {
    if (m[name] === undefined || v[name] === undefined) throw new Error(`${optPath}: no moments for parameter ${name}`);
  }
  return Object.freeze({ config, params, head, task, opt: Object.freeze({ t, m: Object.freeze(m), v: Object.freeze(v) }), state: Object.freeze(state) });
}

/** A short fingerprint (FNV-1a, 32 bits, hex) of a sequence of numbers, to recognise the same data on resume. */
export function fingerprint(values: Iterable<number>): string {
  let h = 0x811c9dc5;
  for (const x of values) {
    h = Math.imul(h ^ (x & 0xffff), 0x01000193) >>> 0;
    h = Math.imul(h ^ (x >>> 16), 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
