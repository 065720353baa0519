/**
 * `npm run evolution`: what each change since GPT-1 buys, measured on the main job's
 * data (docs/evolution.md walks through the changes themselves).
 *
 * On the same real data as `npm start` (`src/demo/`: the same task, pre-training
 * text, BPE vocabulary, token budget and seed), it pre-trains and fine-tunes
 *
 * - GPT-1 (the paper's block: learned positions, Post-LN LayerNorm, GELU, dense FFN);
 * - GPT-1 with each single change: RoPE; RMSNorm; Pre-LN; SwiGLU (n_inner matched);
 * - `modern` (all four, parameter count matched) and `moe` (4 experts, top-2, active
 *   parameters matched), from `architectures.ts`;
 *
 * and reports the held-out LM loss, the downstream accuracy of the `npm start` task
 * (fine-tuned with L₃ = L₂ + 0.5·L₁, the paper's recipe), wall time and parameters.
 * Two studies follow:
 *
 * - **scaling**: GPT-1 at several sizes on the same tokens; L(N) = a·N^(−α) + c fitted
 *   to the held-out losses (`fit.ts`), N the non-embedding parameters (Kaplan et al.);
 * - **length**: the models trained at n_ctx evaluated on 2·n_ctx tokens where they can
 *   be: a RoPE model has no position table and runs at any length; a learned-position
 *   model has exactly n_ctx rows of W_p and cannot.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ArchitectureName, matchParams, withArchitecture } from '../architectures.ts';
import { type GPTConfig, makeConfig, usesRope } from '../config.ts';
import { type ClassificationExample, type MultipleChoiceExample, prepareDemoData } from '../data/demo-data.ts';
import { type DemoTask, TASK_KIND, smooth, toTextExample } from '../demo/pipeline.ts';
import { countActiveParams, countParams, initParams } from '../params.ts';
import { fork, rng } from '../random.ts';
import { lineChart } from '../report/svg.ts';
import { encode, loadEncoder } from '../tokenizer/encoder.ts';
import { learnBpe, writeVocab } from '../tokenizer/learn.ts';
import { addSpecialTokens } from '../train/classifier.ts';
import { evaluate, evaluateLm } from '../train/evaluate.ts';
import { finetune } from '../train/finetune.ts';
import type { StepInfo } from '../train/loop.ts';
import { pretrain } from '../train/pretrain.ts';
import { type ProgressStream, createProgress } from '../train/progress.ts';
import { type LabeledInput, prepareExamples } from '../train/task-files.ts';
import { specialTokens } from '../train/transforms.ts';
import { type PowerLawFit, fitPowerLaw, powerLaw } from './fit.ts';
import type { EvolutionPreset } from './presets.ts';

/** One architecture of the comparison. */
interface Arm {
  readonly name: string;
  readonly change: string;
  readonly config: (base: GPTConfig) => GPTConfig;
}

/** GPT-1, each single change, then `modern` and `moe`. */
const ARMS: readonly Arm[] = [
  { name: 'GPT-1', change: 'the paper: learned positions, Post-LN LayerNorm, GELU, dense FFN', config: (b) => b },
  { name: '+ RoPE', change: 'rotary positions on q, k (no W_p)', config: (b) => makeConfig({ ...b, position_embedding: 'rope' }) },
  { name: '+ RMSNorm', change: 'RMSNorm for LayerNorm (no biases)', config: (b) => makeConfig({ ...b, normalization: 'rmsnorm' }) },
  { name: '+ Pre-LN', change: 'norm before each sublayer, final ln_f', config: (b) => makeConfig({ ...b, norm_placement: 'pre' }) },
  { name: '+ SwiGLU', change: 'gated FFN, n_inner matched to the parameter count', config: (b) => matchParams(b, { afn: 'swiglu' }) },
  { name: 'modern', change: 'all four (LLaMA-like), parameter count matched', config: (b) => withArchitecture(b, 'modern' as ArchitectureName) },
  { name: 'moe', change: 'modern + 4 experts, top-2, active parameters matched', config: (b) => withArchitecture(b, 'moe' as ArchitectureName) },
];

export interface ArmResult {
  readonly name: string;
  readonly change: string;
  readonly n_inner: number;
  readonly parameters: number;
  /** Parameters one token uses (all of them, except for the experts not chosen). */
  readonly active_parameters: number;
  /** Held-out LM loss (nats/token) at n_ctx after pre-training. */
  readonly heldout_lm_loss: number;
  /** Test accuracy after fine-tuning. */
  readonly accuracy: number;
  readonly pretrain_seconds: number;
  readonly finetune_seconds: number;
  readonly final_train_loss: number;
  /** Length study: held-out loss of the first n_ctx tokens and of all 2·n_ctx tokens (null: the model cannot run that long). */
  readonly length: { readonly at_ctx: number; readonly at_2ctx: number | null; readonly beyond_ctx: number | null };
}

export interface ScalingPoint {
  readonly n_layer: number;
  readonly n_embd: number;
  readonly n_head: number;
  /** Non-embedding parameters N. */
  readonly non_embedding_parameters: number;
  readonly parameters: number;
  readonly heldout_lm_loss: number;
  readonly seconds: number;
}

export interface EvolutionResults {
  readonly task: DemoTask;
  readonly preset: string;
  readonly seed: number;
  readonly data: { readonly pretrain_tokens: number; readonly vocab: number; readonly train: number; readonly test: number; readonly heldout_sequences: number; readonly length_sequences: number };
  readonly base: { readonly n_layer: number; readonly n_embd: number; readonly n_head: number; readonly n_ctx: number };
  readonly budget: { readonly steps: number; readonly batch: number; readonly ctx: number; readonly tokens: number; readonly lr: number; readonly epochs: number };
  readonly arms: readonly ArmResult[];
  readonly scaling: { readonly points: readonly ScalingPoint[]; readonly fit: PowerLawFit };
  readonly seconds: number;
  readonly cpu_seconds: number;
  readonly files: readonly string[];
}

export interface EvolutionOptions {
  readonly task: DemoTask;
  readonly presetName: string;
  readonly preset: EvolutionPreset;
  readonly seed: number;
  readonly out: string;
  readonly progress?: ProgressStream;
  readonly log?: (line: string) => void;
}

const since = (t0: number): number => (performance.now() - t0) / 1000;

/** Parameters outside the token and position embeddings (Kaplan et al.'s N). */
export function nonEmbeddingParams(config: GPTConfig): number {
  return countParams(config) - (config.n_vocab + config.n_special) * config.n_embd - (usesRope(config) ? 0 : config.n_ctx * config.n_embd);
}

/** Runs the experiment and writes results.json, results.md and the SVGs into `o.out`. */
export async function runEvolution(o: EvolutionOptions): Promise<EvolutionResults> {
  const log = o.log ?? ((line: string) => console.log(line));
  const p = o.preset;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const kind = TASK_KIND[o.task];
  mkdirSync(o.out, { recursive: true });

  // Data and tokenizer: the main job's pipeline (src/demo, src/data), same seed.
  log(`[data] ${o.task}: the main job's data and BPE (${p.merges} merges), seed ${o.seed}`);
  const data = prepareDemoData({ task: o.task, seed: o.seed, nTrain: p.nTrain, nValid: p.nValid, nTest: p.nTest, pretrainChars: p.pretrainChars } as Parameters<typeof prepareDemoData>[0]);
  const vocabDir = join(o.out, 'vocab');
  writeVocab(vocabDir, learnBpe(data.pretrainText, p.merges));
  const enc = loadEncoder(vocabDir);
  const corpus: number[] = [];
  for (const doc of data.pretrainText) for (const id of encode(enc, doc)) corpus.push(id);
  const testTexts = data.test.map((e) => encode(enc, kind === 'multiple-choice' ? (e as MultipleChoiceExample).context : (e as ClassificationExample).text));
  const heldout = testTexts.map((ids) => ids.slice(0, p.n_ctx)).filter((ids) => ids.length >= 2).slice(0, p.nHeldout);
  const long = testTexts.filter((ids) => ids.length >= 2 * p.n_ctx).map((ids) => ids.slice(0, 2 * p.n_ctx)).slice(0, p.nHeldout);
  log(`       corpus ${corpus.length.toLocaleString('en-US')} tokens, vocabulary ${enc.nVocab}; held-out: ${heldout.length} sequences of ≤ ${p.n_ctx} tokens, ${long.length} of ${2 * p.n_ctx}`);

  const base = makeConfig({ n_vocab: enc.nVocab, n_ctx: p.n_ctx, n_embd: p.n_embd, n_head: p.n_head, n_layer: p.n_layer });
  const root = rng(o.seed);
  const labels = kind === 'multiple-choice' ? [] : [0, 1];
  const sp = specialTokens(addSpecialTokens(initParams(base, fork(root, 'init')), base, fork(root, 'special')).config);
  const prep = (split: readonly (ClassificationExample | MultipleChoiceExample)[]): LabeledInput[] =>
    prepareExamples(split.map((e) => toTextExample(kind, e)), (t: string) => encode(enc, t), sp, p.n_ctx, labels).data;
  const [train, valid, test] = [prep(data.train), prep(data.valid), prep(data.test)];
  const runs = ARMS.length + p.scaling.length;
  let run = 0;

  /** Pre-trains `config` from the seed's initialisation on the shared corpus; returns the params, the loss log and the seconds. */
  const pretrainOne = async (config: GPTConfig, label: string) => {
    run++;
    log(`[${run}/${runs}] pre-training ${label}: ${config.n_layer}×${config.n_embd}, ${countParams(config).toLocaleString('en-US')} parameters, ${p.pretrainSteps} updates of ${p.pretrainBatch}×${p.n_ctx} tokens`);
    const t = performance.now();
    const bar = createProgress(o.progress ?? process.stderr, 25);
    let tokens = 0;
    const r = await pretrain({
      params: initParams(config, fork(root, 'init')), config, corpusIds: corpus, steps: p.pretrainSteps, batch: p.pretrainBatch, ctx: p.n_ctx, lr: p.pretrainLr, seed: o.seed,
      onStep: (i: StepInfo) => {
        tokens += i.tokens;
        bar.update({ step: i.step, total: i.totalSteps, loss: i.loss, tokens, elapsedMs: performance.now() - t, stepsThisRun: i.step });
      },
    });
    bar.done();
    return { params: r.params, losses: r.log.map((l) => l.loss), seconds: since(t) };
  };

  const arms: ArmResult[] = [];
  const curves: { name: string; points: [number, number][] }[] = [];
  let gpt1Point: ScalingPoint | undefined;
  for (const arm of ARMS) {
    const config = arm.config(base);
    const pre = await pretrainOne(config, arm.name);
    const atCtx = (await evaluateLm(pre.params, config, heldout)).loss;
    const lenCtx = long.length > 0 ? (await evaluateLm(pre.params, config, long.map((ids) => ids.slice(0, p.n_ctx)))).loss : NaN;
    let at2 = null as number | null;
    let beyond = null as number | null;
    if (usesRope(config) && long.length > 0) {
      at2 = (await evaluateLm(pre.params, makeConfig({ ...config, n_ctx: 2 * p.n_ctx }), long)).loss; // RoPE: no table of positions, any length runs
      beyond = (at2 * (2 * p.n_ctx - 1) - lenCtx * (p.n_ctx - 1)) / p.n_ctx; // mean loss of the predictions past n_ctx
    }
    const t = performance.now();
    const bar = createProgress(o.progress ?? process.stderr, 25);
    const ft = await finetune({
      params: pre.params, config, task: kind, train, valid, labels, epochs: p.epochs, batch: p.batch, lr: p.lr, lmCoef: 0.5, seed: o.seed,
      onStep: (info: StepInfo) => bar.update({ step: info.step, total: info.totalSteps, loss: info.clfLoss ?? info.loss, tokens: 0, elapsedMs: performance.now() - t, stepsThisRun: info.step }),
    });
    bar.done();
    const m = await evaluate({ params: ft.params, config: ft.config, head: ft.head, task: kind, data: test });
    const r: ArmResult = {
      name: arm.name, change: arm.change, n_inner: config.n_inner, parameters: countParams(config), active_parameters: countActiveParams(config),
      heldout_lm_loss: atCtx, accuracy: m.accuracy, pretrain_seconds: pre.seconds, finetune_seconds: since(t), final_train_loss: pre.losses[pre.losses.length - 1],
      length: { at_ctx: lenCtx, at_2ctx: at2, beyond_ctx: beyond },
    };
    arms.push(r);
    curves.push({ name: arm.name, points: smooth(pre.losses, 10).map((v, k) => [k + 1, v]) });
    log(`       held-out LM loss ${atCtx.toFixed(3)}, test accuracy ${m.accuracy.toFixed(3)}${at2 === null ? '' : `, loss on ${2 * p.n_ctx} tokens ${at2.toFixed(3)}`}; ${r.pretrain_seconds.toFixed(0)} + ${r.finetune_seconds.toFixed(0)} s`);
    if (arm.name === 'GPT-1') gpt1Point = { n_layer: config.n_layer, n_embd: config.n_embd, n_head: config.n_head, non_embedding_parameters: nonEmbeddingParams(config), parameters: countParams(config), heldout_lm_loss: atCtx, seconds: pre.seconds };
  }

  // Scaling: GPT-1 at the other sizes, same tokens; the base size is the GPT-1 arm.
  const points: ScalingPoint[] = [gpt1Point as ScalingPoint];
  for (const s of p.scaling) {
    const config = makeConfig({ ...base, ...s });
    const pre = await pretrainOne(config, `scaling ${s.n_layer}×${s.n_embd}`);
    const loss = (await evaluateLm(pre.params, config, heldout)).loss;
    points.push({ ...s, non_embedding_parameters: nonEmbeddingParams(config), parameters: countParams(config), heldout_lm_loss: loss, seconds: pre.seconds });
    log(`       held-out LM loss ${loss.toFixed(3)}; ${pre.seconds.toFixed(0)} s`);
  }
  points.sort((a, b) => a.non_embedding_parameters - b.non_embedding_parameters);
  const fit = fitPowerLaw(points.map((q) => [q.non_embedding_parameters, q.heldout_lm_loss]));

  const files = ['results.json', 'results.md', 'lm-curves.svg', 'scaling.svg'];
  writeFileSync(join(o.out, 'lm-curves.svg'), lineChart(curves, { title: `Pre-training (${o.task}): LM loss, mean of 10 updates`, xLabel: 'update', yLabel: 'L1 (nats/token)' }));
  const lo = Math.log10(points[0].non_embedding_parameters);
  const hi = Math.log10(points[points.length - 1].non_embedding_parameters);
  const fitted: [number, number][] = Array.from({ length: 41 }, (_, i) => {
    const x = lo - 0.1 + ((hi - lo + 0.2) * i) / 40;
    return [x, Math.log10(powerLaw(fit, 10 ** x))];
  });
  writeFileSync(join(o.out, 'scaling.svg'), lineChart(
    [{ name: 'GPT-1 runs', points: points.map((q) => [Math.log10(q.non_embedding_parameters), Math.log10(q.heldout_lm_loss)]) }, { name: `fit: α = ${fit.alpha.toFixed(2)}`, points: fitted }],
    { title: `Scaling (${o.task}): held-out loss vs non-embedding parameters, log axes`, xLabel: 'log10 N', yLabel: 'log10 held-out LM loss' },
  ));
  const cpu = process.cpuUsage(cpu0);
  const results: EvolutionResults = {
    task: o.task, preset: o.presetName, seed: o.seed,
    data: { pretrain_tokens: corpus.length, vocab: enc.nVocab, train: train.length, test: test.length, heldout_sequences: heldout.length, length_sequences: long.length },
    base: { n_layer: base.n_layer, n_embd: base.n_embd, n_head: base.n_head, n_ctx: base.n_ctx },
    budget: { steps: p.pretrainSteps, batch: p.pretrainBatch, ctx: p.n_ctx, tokens: p.pretrainSteps * p.pretrainBatch * p.n_ctx, lr: p.pretrainLr, epochs: p.epochs },
    arms, scaling: { points, fit }, seconds: since(t0), cpu_seconds: (cpu.user + cpu.system) / 1e6, files,
  };
  writeFileSync(join(o.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(o.out, 'results.md'), evolutionMarkdown(results));
  log(`\n${armsTable(results)}\n\nwritten to ${o.out}: ${files.join(', ')}; ${results.seconds.toFixed(0)} s wall, ${results.cpu_seconds.toFixed(0)} s CPU`);
  return results;
}

const f3 = (v: number | null): string => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(3));

/** The comparison table as Markdown. */
export function armsTable(r: Pick<EvolutionResults, 'arms' | 'base'>): string {
  const n = r.base.n_ctx;
  const rows = [
    `| architecture | parameters (active) | n_inner | held-out LM loss | test accuracy | loss on ${2 * n} tokens | loss past ${n} | time (s) |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const a of r.arms) {
    const params = a.active_parameters === a.parameters ? a.parameters.toLocaleString('en-US') : `${a.parameters.toLocaleString('en-US')} (${a.active_parameters.toLocaleString('en-US')})`;
    const long = a.length.at_2ctx === null ? `cannot (W_p has ${n} rows)` : f3(a.length.at_2ctx);
    rows.push(`| ${a.name} | ${params} | ${a.n_inner} | ${f3(a.heldout_lm_loss)} | ${f3(a.accuracy)} | ${long} | ${f3(a.length.beyond_ctx)} | ${(a.pretrain_seconds + a.finetune_seconds).toFixed(0)} |`);
  }
  return rows.join('\n');
}

/** results.md: the table, the studies, the pictures and what they can and cannot show. */
export function evolutionMarkdown(r: EvolutionResults): string {
  const { fit } = r.scaling;
  const n = r.base.n_ctx;
  return [
    `# From GPT-1 to today's decoders: ${r.task}, preset ${r.preset}, seed ${r.seed}`,
    '',
    `Every architecture is pre-trained from the same seed on the same ${r.budget.tokens.toLocaleString('en-US')} tokens (${r.budget.steps} updates of ${r.budget.batch}×${r.budget.ctx}, peak lr ${r.budget.lr}) of the main job's corpus (${r.data.pretrain_tokens.toLocaleString('en-US')} tokens, BPE vocabulary ${r.data.vocab}), then fine-tuned with L3 = L2 + 0.5·L1 for ${r.budget.epochs} epoch(s) on ${r.data.train} labelled examples. Held-out LM loss: ${r.data.heldout_sequences} test-split texts cut to ${n} tokens. Base size: ${r.base.n_layer} layers × ${r.base.n_embd}, ${r.base.n_head} heads.`,
    '',
    armsTable(r),
    '',
    `Length study: "loss on ${2 * n} tokens" is the held-out loss of ${r.data.length_sequences} texts of ${2 * n} tokens, evaluated at a context of ${2 * n} by models trained at ${n}; "loss past ${n}" is the mean over the predictions past position ${n} only. RoPE has no position table, so the models with it run at any length (whether they generalise is what the number says); a learned-position model has exactly ${n} rows of W_p and cannot be evaluated there at all.`,
    '',
    '![LM curves](lm-curves.svg)',
    '',
    '## Scaling',
    '',
    '| layers × width | non-embedding N | parameters | held-out LM loss | time (s) |',
    '|---|---:|---:|---:|---:|',
    ...r.scaling.points.map((q) => `| ${q.n_layer} × ${q.n_embd} | ${q.non_embedding_parameters.toLocaleString('en-US')} | ${q.parameters.toLocaleString('en-US')} | ${f3(q.heldout_lm_loss)} | ${q.seconds.toFixed(0)} |`),
    '',
    `Fit L(N) = a·N^(−α) + c: a = ${fit.a.toPrecision(3)}, α = ${fit.alpha.toFixed(3)}, c = ${fit.c.toFixed(3)} (squared error ${fit.sse.toExponential(2)}). Three parameters from ${r.scaling.points.length} points of one seed describe these points; they are not a law (Kaplan et al. fit over 7 orders of magnitude).${fit.alpha <= 0 ? ' Here α ≤ 0: the held-out loss does not fall with N at this token budget (the larger models are no better trained for the tokens they saw), so the fit shows no scaling at all.' : ''}`,
    '',
    '![scaling](scaling.svg)',
    '',
    '## What this scale can and cannot show',
    '',
    `- One seed, ${r.budget.tokens.toLocaleString('en-US')} training tokens, models of ${r.arms[0].parameters.toLocaleString('en-US')} parameters: differences of a few hundredths of a nat, or a few points of accuracy on ${r.data.test} test examples, are within the noise of a different seed.`,
    '- The changes were adopted for what they do at scale: Pre-LN for stable training of deep stacks without warm-up, RoPE for length and relative positions, MoE for capacity at a fixed compute per token. A 2-layer model trained for minutes exercises none of these regimes.',
    '- What it does show: every variant trains with the same optimiser and budget, their gradients are the checked ones, and the counts, losses and times are measured, not quoted.',
    '',
    `Total ${r.seconds.toFixed(0)} s wall-clock, ${r.cpu_seconds.toFixed(0)} s CPU.`,
    '',
  ].join('\n');
}
