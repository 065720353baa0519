/**
 * The main job: GPT-1's whole recipe, end to end, at a small scale, on real data.
 *
 * The paper's claim (§1): "a combination of unsupervised pre-training and supervised
 * fine-tuning" gives better task models than supervised training alone, and the
 * auxiliary LM objective during fine-tuning helps further (§3.2: "including language
 * modeling as an auxiliary objective to the fine-tuning helped learning by (a)
 * improving generalization of the supervised model, and (b) accelerating
 * convergence"). Table 5 tests both with ablations. This pipeline runs that
 * experiment in miniature:
 *
 * 1. **Data** — unlabelled text for pre-training and a small labelled task, from
 *    npm packages (SpamAssassin e-mails or WordNet), with disjoint splits and no
 *    test text in the pre-training corpus (`src/data/`).
 * 2. **Tokenizer** — a BPE vocabulary learned on the pre-training text with the
 *    original's algorithm and file format (`src/tokenizer/learn.ts`).
 * 3. **Pre-training** (§3.1) — a small GPT-1 trained with L₁.
 * 4. **Fine-tuning** (§3.2) — three arms on the same labelled examples, same seed,
 *    same budget, with the task's input transformation (§3.3):
 *    *w/o pre-training* (random init, λ = 0.5), *w/o aux LM* (pre-trained, λ = 0),
 *    *full* (pre-trained, λ = 0.5).
 * 5. **Evaluation** on the held-out test split: accuracy and LM loss.
 * 6. **Samples** from the pre-trained language model.
 *
 * Everything is seeded: the same command prints the same table.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GPTConfig, makeConfig } from '../config.ts';
import { type ClassificationExample, type DataStats, type MultipleChoiceExample, prepareDemoData } from '../data/demo-data.ts';
import { generateIds } from '../generate.ts';
import { type Params, countParams, initParams } from '../params.ts';
import { saveHF } from '../checkpoint/hf.ts';
import { vocabFiles } from '../checkpoint/common.ts';
import { writeDirAtomic } from '../io/atomic.ts';
import { writeJsonl } from '../data/jsonl.ts';
import { modelFiles } from '../train/state.ts';
import { fork, rng } from '../random.ts';
import { aboveChanceThreshold, binomialUpperTail } from '../report/chance.ts';
import { PALETTE, type Series, lineChart } from '../report/svg.ts';
import { snakeCaseKeys } from '../report/json.ts';
import { decode, encode, encodeBatch, loadEncoder } from '../tokenizer/encoder.ts';
import { learnBpe, writeVocab } from '../tokenizer/learn.ts';
import { addSpecialTokens } from '../train/classifier.ts';
import { evaluate, evaluateLm } from '../train/evaluate.ts';
import { finetune } from '../train/finetune.ts';
import type { StepInfo } from '../train/loop.ts';
import { pretrain } from '../train/pretrain.ts';
import { type ProgressStream, createProgress } from '../train/progress.ts';
import { type LabeledInput, type TextExample, prepareExamples } from '../train/task-files.ts';
import { type TaskKind, specialTokens } from '../train/transforms.ts';
import type { DemoPreset } from './presets.ts';

export type DemoTask = 'spam' | 'wordnet';

export interface DemoOptions {
  readonly task: DemoTask;
  readonly presetName: string;
  readonly preset: DemoPreset;
  readonly seed: number;
  /** Output folder (created). */
  readonly out: string;
  /** Where progress lines go (default stderr). */
  readonly progress?: ProgressStream;
  /** Where the report lines go (default console.log). */
  readonly log?: (line: string) => void;
}

/** One row of the Table-5-like result. */
export interface ArmResult {
  readonly name: string;
  readonly description: string;
  readonly pretrained: boolean;
  readonly lm_coef: number;
  /** Test accuracy. */
  readonly accuracy: number;
  /** Mean next-token cross-entropy (nats) of the fine-tuned model on the test inputs. */
  readonly lm_loss: number;
  /** Mean classification loss L₂ on the test split. */
  readonly clf_loss: number;
  /** Wall-clock seconds of fine-tuning and evaluation. */
  readonly seconds: number;
  /** Validation accuracy after each epoch. */
  readonly valid_accuracy: readonly number[];
}

export interface DemoResults {
  readonly task: DemoTask;
  readonly task_kind: TaskKind;
  readonly preset: string;
  readonly seed: number;
  readonly data: DataStats;
  readonly vocab: { readonly merges: number; readonly size: number; readonly pretrain_tokens: number };
  readonly model: { readonly n_layer: number; readonly n_embd: number; readonly n_head: number; readonly n_ctx: number; readonly n_vocab: number; readonly parameters: number };
  readonly pretrain: {
    readonly steps: number;
    readonly seconds: number;
    readonly tokens_per_second: number;
    readonly first_loss: number;
    readonly final_loss: number;
    /** LM loss of the model before and after pre-training on held-out text (the test split's texts). */
    readonly heldout_lm_loss_before: number;
    readonly heldout_lm_loss_after: number;
  };
  readonly arms: readonly ArmResult[];
  readonly samples: readonly { readonly prompt: string; readonly text: string }[];
  readonly seconds: number;
  readonly files: readonly string[];
}

/** The paper's task kind of each demo task. */
export const TASK_KIND: Readonly<Record<DemoTask, TaskKind>> = { spam: 'classification', wordnet: 'multiple-choice' };

/** Prompts for the samples, in the style of each pre-training corpus. */
const PROMPTS: Readonly<Record<DemoTask, readonly string[]>> = {
  spam: ['subject: re:', 'click here to', 'i think the', 'the new version', 'dear friend,'],
  wordnet: ['dog:', 'run:', 'happy:', 'bank:', 'light:'],
};

export function toTextExample(kind: TaskKind, e: ClassificationExample | MultipleChoiceExample): TextExample {
  if (kind === 'multiple-choice') {
    const m = e as MultipleChoiceExample;
    return { kind: 'multiple-choice', context: m.context, choices: m.choices, label: m.label };
  }
  const c = e as ClassificationExample;
  return { kind: 'classification', text: c.text, label: c.label };
}

/**
 * The entropy of the token frequencies f_v of `ids`, −Σ_v f_v ln f_v, in nats per token:
 * the L₁ of a language model that has learned the frequencies and nothing else, so the
 * level pre-training must get below to use any context.
 */
export function unigramEntropy(ids: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}

/** A moving average over `window` points, for readable training curves. */
export function smooth(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

/** Seconds since `t0` (a `performance.now()` reading). */
const since = (t0: number): number => (performance.now() - t0) / 1000;

/** Runs the whole experiment and writes its files into `o.out`. */
export async function runDemo(o: DemoOptions): Promise<DemoResults> {
  const log = o.log ?? ((line: string) => console.log(line));
  const p = o.preset;
  const t0 = performance.now();
  const kind = TASK_KIND[o.task];
  mkdirSync(o.out, { recursive: true });

  // 1. Data ------------------------------------------------------------------
  log(`\n[1/6] data: ${o.task} (${kind}), seed ${o.seed}`);
  const data = prepareDemoData({ task: o.task, seed: o.seed, nTrain: p.nTrain, nValid: p.nValid, nTest: p.nTest, pretrainChars: p.pretrainChars } as Parameters<typeof prepareDemoData>[0]);
  const s = data.stats;
  log(`      pre-training text: ${s.pretrain.documents.toLocaleString('en-US')} documents, ${s.pretrain.chars.toLocaleString('en-US')} characters (unlabelled)`);
  log(`      labelled: train ${s.sizes.train}, valid ${s.sizes.valid}, test ${s.sizes.test}; test baselines: ${Object.entries(s.baselines).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);

  // 2. Tokenizer -------------------------------------------------------------
  log(`\n[2/6] BPE: learning ${p.merges} merges on the pre-training text`);
  const t2 = performance.now();
  const vocabDir = join(o.out, 'vocab');
  writeVocab(vocabDir, learnBpe(data.pretrainText, p.merges));
  const enc = loadEncoder(vocabDir);
  const nVocab = enc.nVocab; // ordinary tokens; the three special tokens are added for fine-tuning
  const corpus = encodeBatch(enc, data.pretrainText).flat(); // the documents' ids, joined without separators
  log(`      vocabulary ${nVocab} tokens (written to ${vocabDir}); corpus ${corpus.length.toLocaleString('en-US')} tokens, unigram entropy ${unigramEntropy(corpus).toFixed(3)} nats/token; ${since(t2).toFixed(1)} s`);

  // 3. Pre-training ----------------------------------------------------------
  const config: GPTConfig = makeConfig({ n_vocab: nVocab, n_ctx: p.n_ctx, n_embd: p.n_embd, n_head: p.n_head, n_layer: p.n_layer });
  const root = rng(o.seed);
  const init = initParams(config, fork(root, 'init'));
  const heldout = data.test.map((e) => encode(enc, kind === 'multiple-choice' ? (e as MultipleChoiceExample).context : (e as ClassificationExample).text).slice(0, p.n_ctx)).filter((ids) => ids.length >= 2);
  const heldoutBefore = (await evaluateLm(init, config, heldout)).loss;
  log(`\n[3/6] pre-training a ${config.n_layer}-layer, ${config.n_embd}-wide, ${config.n_head}-head GPT-1 (${countParams(config).toLocaleString('en-US')} parameters) with L1: ${p.pretrainSteps} updates of ${p.pretrainBatch}×${p.pretrainCtx} tokens`);
  const t3 = performance.now();
  const bar = createProgress(o.progress ?? process.stderr, 10);
  let tokens = 0;
  const pre = await pretrain({
    params: init, config, corpusIds: corpus, steps: p.pretrainSteps, batch: p.pretrainBatch, ctx: p.pretrainCtx, lr: p.pretrainLr, seed: o.seed,
    onStep: (i: StepInfo) => {
      tokens += i.tokens;
      bar.update({ step: i.step, total: i.totalSteps, loss: i.loss, tokens, elapsedMs: performance.now() - t3, stepsThisRun: i.step });
    },
  });
  bar.done();
  const preSeconds = since(t3);
  const heldoutAfter = (await evaluateLm(pre.params, config, heldout)).loss;
  log(`      L1 ${pre.log[0].loss.toFixed(3)} → ${pre.log[pre.log.length - 1].loss.toFixed(3)} (training); held-out LM loss ${heldoutBefore.toFixed(3)} → ${heldoutAfter.toFixed(3)}; ${preSeconds.toFixed(0)} s, ${Math.round(tokens / preSeconds)} tokens/s`);
  const pretrainedDir = join(o.out, PRETRAINED_DIR);
  saveHF(pretrainedDir, config, pre.params, { vocabDir });
  log(`      saved the pre-trained language model to ${pretrainedDir}`);

  // 4. Samples from the language model -----------------------------------------
  log(`\n[4/6] samples from the pre-trained model (temperature 0.8, top-k 20)`);
  const samples: { prompt: string; text: string }[] = [];
  for (const [i, prompt] of PROMPTS[o.task].slice(0, p.samples).entries()) {
    const ids = encode(enc, prompt);
    // One sampling stream per prompt, so that a weak model's samples do not all share the same draws.
    const out = await generateIds(pre.params, config, ids, { maxTokens: Math.min(p.sampleTokens, config.n_ctx - ids.length), temperature: 0.8, topK: 20, seed: o.seed + i });
    const text = decode(enc, [...ids, ...out]);
    samples.push({ prompt, text });
    log(`      > ${text}`);
  }

  // 5. Fine-tuning: three arms -------------------------------------------------
  const withSpecial = addSpecialTokens(init, config, fork(root, 'special')).config;
  const sp = specialTokens(withSpecial);
  const labels = kind === 'multiple-choice' ? [] : [0, 1];
  const tokenize = (text: string) => encode(enc, text);
  const prep = (split: readonly (ClassificationExample | MultipleChoiceExample)[]): LabeledInput[] =>
    prepareExamples(split.map((e) => toTextExample(kind, e)), tokenize, sp, config.n_ctx, labels).data;
  const train = prep(data.train);
  const valid = prep(data.valid);
  const test = prep(data.test);
  const arms: { name: string; description: string; params: Params; lmCoef: number }[] = [
    { name: 'w/o pre-training', description: 'random initialisation, L3 with λ = 0.5', params: init, lmCoef: 0.5 },
    { name: 'w/o aux LM', description: 'pre-trained, L2 only (λ = 0)', params: pre.params, lmCoef: 0 },
    { name: 'full', description: 'pre-trained, L3 = L2 + 0.5·L1', params: pre.params, lmCoef: 0.5 },
  ];
  const results: ArmResult[] = [];
  const armCurves: ArmCurve[] = [];
  let best: { name: string; valid: number; files: ReturnType<typeof modelFiles> } | undefined;
  for (const [i, arm] of arms.entries()) {
    log(`\n[5/6] fine-tuning arm ${i + 1}/3: ${arm.name} (${arm.description}); ${p.epochs} epochs of ${train.length} examples, batch ${p.batch}`);
    const t5 = performance.now();
    const armBar = createProgress(o.progress ?? process.stderr, 10);
    let armTokens = 0;
    const ft = await finetune({
      params: arm.params, config, task: kind, train, valid, labels, epochs: p.epochs, batch: p.batch, lr: p.lr, lmCoef: arm.lmCoef, seed: o.seed,
      onStep: (info: StepInfo) => {
        armTokens += info.tokens;
        armBar.update({ step: info.step, total: info.totalSteps, loss: info.clfLoss ?? info.loss, tokens: armTokens, elapsedMs: performance.now() - t5, stepsThisRun: info.step, extra: { acc: (info.accuracy ?? 0).toFixed(2) } });
      },
      onEpoch: (epoch, m) => armBar.note(`      epoch ${epoch}: validation accuracy ${m.accuracy.toFixed(3)}`),
    });
    armBar.done();
    const m = await evaluate({ params: ft.params, config: ft.config, head: ft.head, task: kind, data: test });
    const seconds = since(t5);
    results.push({ name: arm.name, description: arm.description, pretrained: arm.params !== init, lm_coef: arm.lmCoef, accuracy: m.accuracy, lm_loss: m.lmLoss, clf_loss: m.clfLoss, seconds, valid_accuracy: ft.validation.map((v) => v.accuracy) });
    // The best arm by final validation accuracy (never by test accuracy); a tie goes to the later arm.
    const validAcc = ft.validation.length > 0 ? ft.validation[ft.validation.length - 1].accuracy : 0;
    if (best === undefined || validAcc >= best.valid) best = { name: arm.name, valid: validAcc, files: modelFiles(ft.config, ft.params, ft.head, ft.task) };
    armCurves.push({ name: arm.name, loss: ft.log.map((l) => l.clfLoss ?? l.loss), epoch: ft.log.map((l) => l.epoch ?? 1), validAccuracy: ft.validation.map((v) => v.accuracy) });
    log(`      test accuracy ${m.accuracy.toFixed(3)}, test LM loss ${m.lmLoss.toFixed(3)}, ${seconds.toFixed(0)} s`);
  }

  // 6. Report -----------------------------------------------------------------
  const model = { n_layer: config.n_layer, n_embd: config.n_embd, n_head: config.n_head, n_ctx: config.n_ctx, n_vocab: nVocab, parameters: countParams(config) };
  const partial = {
    task: o.task, task_kind: kind, preset: o.presetName, seed: o.seed, data: s,
    vocab: { merges: p.merges, size: nVocab, pretrain_tokens: corpus.length },
    model,
    pretrain: {
      steps: p.pretrainSteps, seconds: preSeconds, tokens_per_second: tokens / preSeconds,
      first_loss: pre.log[0].loss, final_loss: pre.log[pre.log.length - 1].loss,
      heldout_lm_loss_before: heldoutBefore, heldout_lm_loss_after: heldoutAfter,
    },
    arms: results, samples,
  };
  const finetunedDir = join(o.out, FINETUNED_DIR);
  writeDirAtomic(finetunedDir, { ...best!.files, ...vocabFiles(vocabDir, 'hf') });
  const testFile = join(o.out, 'data', 'test.jsonl');
  mkdirSync(join(o.out, 'data'), { recursive: true });
  writeJsonl(testFile, data.test);
  log(`\n      saved the best fine-tuned model (${best!.name}, validation accuracy ${best!.valid.toFixed(3)}) to ${finetunedDir}, and the test split to ${testFile}`);
  const files = ['results.json', 'results.md', 'finetune-curves.svg', 'pretrain-curve.svg', `${PRETRAINED_DIR}/`, `${FINETUNED_DIR}/`, 'data/test.jsonl'];
  writeFileSync(join(o.out, 'pretrain-curve.svg'), pretrainChart(o.task, pre.log.map((l) => l.loss), heldoutBefore, heldoutAfter));
  writeFileSync(join(o.out, 'finetune-curves.svg'), finetuneChart(o.task, armCurves));
  const results_: DemoResults = { ...partial, seconds: since(t0), files };
  writeFileSync(join(o.out, 'results.json'), `${JSON.stringify(results_, null, 2)}\n`);
  writeFileSync(join(o.out, 'results.md'), resultsMarkdown(results_));
  log(`\n[6/6] results (${o.task}, test split of ${s.sizes.test} examples)\n`);
  log(resultsTable(results_));
  log(`\n${chanceLine(results_)}`);
  log(`\nwritten to ${o.out}: ${files.join(', ')}, vocab/`);
  log(`total ${since(t0).toFixed(0)} s`);
  log(`\n${nextSteps(o.out, PROMPTS[o.task][0]).join('\n')}`);
  return results_;
}

/** The pre-training chart: the raw batch loss, faint, under its moving mean, and the held-out loss before and after. */
export function pretrainChart(task: string, losses: readonly number[], heldoutBefore: number, heldoutAfter: number): string {
  const raw = losses.map((l, k): [number, number] => [k + 1, l]);
  return lineChart([
    { name: 'L1, batch (raw)', points: raw, style: { colour: PALETTE[5], opacity: 0.35, width: 1 } },
    { name: 'L1, mean of 10', points: smooth(losses, 10).map((v, k) => [k + 1, v]), style: { colour: PALETTE[0], width: 2.5 } },
    { name: 'held-out L1', points: [[0, heldoutBefore], [losses.length, heldoutAfter]], style: { colour: PALETTE[1], dash: '6 4', markers: true } },
  ], { title: `Pre-training (${task}): language-model loss`, xLabel: 'update', yLabel: 'cross-entropy (nats/token)' });
}

/** One fine-tuning arm's curves: the classification loss and epoch of every update, and the validation accuracy after each epoch. */
export interface ArmCurve {
  readonly name: string;
  readonly loss: readonly number[];
  readonly epoch: readonly number[];
  readonly validAccuracy: readonly number[];
}

/**
 * The fine-tuning chart: each arm's L2 (mean of 10 updates, left axis) and its
 * validation accuracy after each epoch (dots, right axis, 0 to 1), with the epochs marked.
 */
export function finetuneChart(task: string, arms: readonly ArmCurve[]): string {
  // The update that ends each epoch, where the validation accuracy is measured (the arms share the schedule).
  const ends = (a: ArmCurve) => a.epoch.flatMap((e, k) => (k + 1 === a.epoch.length || a.epoch[k + 1] !== e ? [k + 1] : []));
  const series: Series[] = arms.flatMap((a, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const epochEnds = ends(a);
    return [
      { name: `${a.name}: L2`, points: smooth(a.loss, 10).map((v, k): [number, number] => [k + 1, v]), style: { colour } },
      { name: `${a.name}: valid. accuracy`, points: a.validAccuracy.map((v, k): [number, number] => [epochEnds[k] ?? k + 1, v]), style: { colour, axis: 'right' as const, dash: '6 4', markers: true } },
    ];
  });
  return lineChart(series, {
    title: `Fine-tuning (${task}): loss L2 (mean of 10 updates) and validation accuracy`, xLabel: 'update', yLabel: 'L2 (nats)',
    xMarks: arms.length ? ends(arms[0]).map((x, k) => ({ x, label: `epoch ${k + 1}` })) : [],
    right: { label: 'validation accuracy', min: 0, max: 1 },
  });
}

/** Where `npm start` saves the pre-trained language model and the best fine-tuned model, under its output folder. */
export const PRETRAINED_DIR = 'pretrained';
export const FINETUNED_DIR = 'finetuned';

/** What to try next, printed at the end of the main job: commands on the models it saved. */
export function nextSteps(out: string, prompt: string): string[] {
  const q = (s: string) => (/^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const pre = q(join(out, PRETRAINED_DIR));
  const fine = q(join(out, FINETUNED_DIR));
  return [
    'Next, try:',
    `  npx gpt1 generate --checkpoint ${pre} --prompt ${q(prompt)} --max-new-tokens 30 --top-p 0.9`,
    `  npx gpt1 evaluate --checkpoint ${fine} --data ${q(join(out, 'data', 'test.jsonl'))}`,
    `  npx gpt1 info --checkpoint ${fine}`,
    `  npx gpt1 dump --checkpoint ${pre} --text ${q(prompt)} --out ${q(join(out, 'dump'))} --attention-svg`,
    '  npx gpt1 --help',
  ];
}

/** The Table-5-like table as Markdown. */
export function resultsTable(r: Pick<DemoResults, 'arms'>): string {
  const rows = ['| arm | accuracy | held-out LM loss | time (s) |', '|---|---:|---:|---:|'];
  for (const a of r.arms) rows.push(`| ${a.name} | ${a.accuracy.toFixed(3)} | ${a.lm_loss.toFixed(3)} | ${a.seconds.toFixed(0)} |`);
  return rows.join('\n');
}

/** The level below which a result counts as clearly above chance: a one-sided p-value of 0.001. */
export const CHANCE_ALPHA = 0.001;

/**
 * Whether each arm is clearly above chance on the test split (see `src/report/chance.ts`):
 * the chance level (1/choices for multiple choice, the majority share for classification),
 * the fewest right answers that beat it at p < {@link CHANCE_ALPHA}, and each arm's p-value.
 */
export function chanceLine(r: Pick<DemoResults, 'arms' | 'data'>): string {
  const n = r.data.sizes.test;
  const chance = r.data.baselines.chance ?? r.data.baselines.majority;
  const k = aboveChanceThreshold(n, chance, CHANCE_ALPHA);
  const p = (a: ArmResult) => binomialUpperTail(n, Math.round(a.accuracy * n), chance);
  return `Clearly above chance (${chance.toFixed(3)}) means a one-sided exact binomial p < ${CHANCE_ALPHA} over the ${n} test items: `
    + `at least ${k} right, accuracy ≥ ${(k / n).toFixed(3)}. p per arm: ${r.arms.map((a) => `${a.name} ${p(a).toPrecision(2)}`).join(', ')}.`;
}

/** `results.md`: what was run and what it showed. */
export function resultsMarkdown(r: DemoResults): string {
  const s = r.data;
  return [
    `# gpt1-ts main job: ${r.task} (${r.task_kind}), preset ${r.preset}, seed ${r.seed}`,
    '',
    'GPT-1\'s recipe at a small scale (cf. Table 5 of the paper): the same labelled examples, seed and budget for each arm; accuracy and LM loss on the held-out test split.',
    '',
    resultsTable(r),
    '',
    chanceLine(r),
    '',
    `Test-split baselines: ${Object.entries(s.baselines).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}.`,
    '',
    '## Set-up',
    '',
    `- data: ${s.pretrain.documents} unlabelled documents (${s.pretrain.chars.toLocaleString('en-US')} characters) for pre-training; labelled train ${s.sizes.train}, valid ${s.sizes.valid}, test ${s.sizes.test}`,
    `- tokenizer: BPE with ${r.vocab.merges} merges learned on the pre-training text, ${r.vocab.size} tokens; corpus ${r.vocab.pretrain_tokens.toLocaleString('en-US')} tokens`,
    `- model: GPT-1 architecture, ${r.model.n_layer} layers, ${r.model.n_embd} wide, ${r.model.n_head} heads, context ${r.model.n_ctx}, ${r.model.parameters.toLocaleString('en-US')} parameters`,
    `- pre-training: ${r.pretrain.steps} updates, L1 ${r.pretrain.first_loss.toFixed(3)} → ${r.pretrain.final_loss.toFixed(3)}; held-out LM loss ${r.pretrain.heldout_lm_loss_before.toFixed(3)} → ${r.pretrain.heldout_lm_loss_after.toFixed(3)}; ${r.pretrain.seconds.toFixed(0)} s (${Math.round(r.pretrain.tokens_per_second)} tokens/s)`,
    ...r.arms.map((a) => `- ${a.name}: ${a.description}; validation accuracy by epoch ${a.valid_accuracy.map((v) => v.toFixed(3)).join(', ')}`),
    `- total time ${r.seconds.toFixed(0)} s`,
    '',
    '![pre-training curve](pretrain-curve.svg)',
    '',
    '![fine-tuning curves](finetune-curves.svg)',
    '',
    '## Samples from the pre-trained model',
    '',
    ...r.samples.map((x) => `- \`${x.text.replace(/`/g, "'").replace(/\n/g, ' ')}\``),
    '',
  ].join('\n');
}
