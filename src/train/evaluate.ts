/**
 * Evaluation: the fine-tuned classifier's metrics on labelled examples, and the
 * language-model loss of a model on token sequences.
 *
 * Metrics (paper §4, Tables 2–4, which report accuracy for most tasks, F1 for MRPC and
 * QQP, and Matthews correlation for CoLA):
 *
 * | metric | definition |
 * |---|---|
 * | accuracy | fraction of examples whose highest score is the label (`accuracy_score` in `train.py`) |
 * | f1 | binary tasks: F1 of the class with index 1 (2·P·R/(P+R)); more classes: macro-averaged F1 |
 * | mcc | Matthews correlation coefficient; for K > 2 classes Gorodkin's R_K (scikit-learn's `matthews_corrcoef`) |
 * | clfLoss | mean −log P(label) |
 * | lmLoss | mean LM loss (nats per token) of the examples' sequences, the auxiliary L₁ |
 *
 * For multiple choice the classes are the choices (one score each) and only accuracy,
 * clfLoss and lmLoss are reported.
 *
 * For a regression (similarity scores, STS-B in the paper's Table 3, which reports
 * Pearson correlation): `pearson` (r = cov(p, y)/(σ_p·σ_y)), `spearman` (Pearson
 * correlation of the ranks, ties sharing their mean rank), `mse` (= clfLoss, the mean
 * squared error); `accuracy` is NaN.
 *
 * Evaluation runs without dropout and is deterministic.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { forward } from '../model/gpt.ts';
import { lmLoss } from '../model/objectives.ts';
import type { Params } from '../params.ts';
import type { ClassifierHead } from './classifier.ts';
import { exampleForward } from './objectives.ts';
import type { LabeledInput } from './task-files.ts';
import type { TaskKind } from './transforms.ts';

/** The metrics of {@link evaluate}. */
export interface Metrics {
  readonly n: number;
  readonly accuracy: number;
  readonly clfLoss: number;
  readonly lmLoss: number;
  /** Classification-type tasks only. */
  readonly f1?: number;
  readonly mcc?: number;
  /** Regression only: correlations of predictions and targets, and the mean squared error. */
  readonly pearson?: number;
  readonly spearman?: number;
  readonly mse?: number;
  /** confusion[label][prediction], classification-type tasks only. */
  readonly confusion?: readonly (readonly number[])[];
  /** The predicted class or choice (or value, for a regression) of each example, in order. */
  readonly predictions: readonly number[];
}

/** confusion[y][p] counts of labels y predicted as p. */
export function confusionMatrix(labels: readonly number[], predictions: readonly number[], k: number): number[][] {
  const c = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  labels.forEach((y, i) => c[y][predictions[i]]++);
  return c;
}

/** F1 of class `cls`: 2·TP / (2·TP + FP + FN); 0 when the class is never predicted nor present. */
export function f1ForClass(confusion: readonly (readonly number[])[], cls: number): number {
  const tp = confusion[cls][cls];
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < confusion.length; i++) {
    if (i === cls) continue;
    fp += confusion[i][cls];
    fn += confusion[cls][i];
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Binary: F1 of class 1; otherwise the mean F1 over classes. */
export function f1Score(confusion: readonly (readonly number[])[]): number {
  const k = confusion.length;
  if (k === 2) return f1ForClass(confusion, 1);
  let s = 0;
  for (let c = 0; c < k; c++) s += f1ForClass(confusion, c);
  return s / k;
}

/**
 * Matthews correlation from a confusion matrix (R_K; for two classes
 * (TP·TN − FP·FN)/√((TP+FP)(TP+FN)(TN+FP)(TN+FN))). 0 when undefined (a constant prediction or label).
 */
export function matthews(confusion: readonly (readonly number[])[]): number {
  const k = confusion.length;
  let s = 0;
  let c = 0;
  const t = new Array<number>(k).fill(0); // times class k truly occurred
  const p = new Array<number>(k).fill(0); // times class k was predicted
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      s += confusion[i][j];
      t[i] += confusion[i][j];
      p[j] += confusion[i][j];
    }
    c += confusion[i][i];
  }
  const pt = p.reduce((a, x, i) => a + x * t[i], 0);
  const denom = Math.sqrt((s * s - p.reduce((a, x) => a + x * x, 0)) * (s * s - t.reduce((a, x) => a + x * x, 0)));
  return denom === 0 ? 0 : (c * s - pt) / denom;
}

/** Pearson's r of two equally long series; 0 when either is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n !== y.length) throw new Error(`pearson: ${n} and ${y.length} values`);
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n of the values, ties sharing their mean rank (as `scipy.stats.rankdata`). */
export function ranks(x: readonly number[]): number[] {
  const order = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's ρ: Pearson's r of the ranks. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(ranks(x), ranks(y));
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  readonly params: Params;
  readonly config: GPTConfig;
  readonly head: ClassifierHead;
  readonly task: TaskKind;
  readonly data: readonly LabeledInput[];
  /** Compute the LM loss too (default true). */
  readonly lm?: boolean;
  /** The head is a regression (see `FinetuneOptions.regression`). */
  readonly regression?: boolean;
  /** Called after each example with the number done. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The fine-tuned model's metrics on `data` (no dropout). */
export async function evaluate(o: EvaluateOptions): Promise<Metrics> {
  const n = o.data.length;
  if (n === 0) throw new Error('evaluate: no examples');
  let clf = 0;
  let lm = 0;
  let correct = 0;
  const predictions: number[] = [];
  const labels: number[] = [];
  let nOut = 0;
  for (let i = 0; i < n; i++) {
    const { input, label } = o.data[i];
    const r = await exampleForward(o.params, o.config, o.head, input, label, { lmCoef: 0, lmLoss: o.lm ?? true, regression: o.regression });
    nOut = r.scores.length;
    clf += r.clfLoss;
    lm += r.lmLoss;
    if (r.prediction === label) correct++;
    predictions.push(r.prediction);
    labels.push(label);
    o.onProgress?.(i + 1, n);
  }
  const base = { n, accuracy: correct / n, clfLoss: clf / n, lmLoss: o.lm ?? true ? lm / n : NaN, predictions };
  if (o.regression) return { ...base, accuracy: NaN, pearson: pearson(predictions, labels), spearman: spearman(predictions, labels), mse: clf / n };
  if (o.task === 'multiple-choice') return base;
  const confusion = confusionMatrix(labels, predictions, nOut);
  return { ...base, f1: f1Score(confusion), mcc: matthews(confusion), confusion };
}

/**
 * Mean LM loss (nats per predicted token, each sequence weighted by its number of
 * predictions) and perplexity of `sequences`, without dropout.
 */
export async function evaluateLm(params: Params, config: GPTConfig, sequences: readonly (readonly number[])[]): Promise<{ loss: number; perplexity: number; tokens: number }> {
  let total = 0;
  let count = 0;
  for (const ids of sequences) {
    const fwd = await forward(params, config, ids);
    const predictions = ids.length - 1;
    total += lmLoss(fwd.logits, ids) * predictions;
    count += predictions;
  }
  if (count === 0) throw new Error('evaluateLm: no predictions (every sequence needs at least 2 tokens)');
  return { loss: total / count, perplexity: Math.exp(total / count), tokens: count };
}
