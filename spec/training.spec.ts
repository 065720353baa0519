/**
 * The training recipe end to end on tiny models: pre-training lowers the LM loss,
 * fine-tuning learns a synthetic task of each of the four kinds of Figure 1, a resumed
 * run is bit-identical to an uninterrupted one, the L₃ gradients match finite
 * differences, and the metrics, checkpoints and progress output behave.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig } from '../src/config.ts';
import { type Params, initParams } from '../src/params.ts';
import { type Rng, randint, rng } from '../src/random.ts';
import { equal, tensor } from '../src/tensor.ts';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { type TaskKind, type TokenExample, specialTokens, transformExample } from '../src/train/transforms.ts';
import type { LabeledInput } from '../src/train/task-files.ts';
import { type ClassifierHead, addSpecialTokens, initClassifier } from '../src/train/classifier.ts';
import { batchLossAndGrads, exampleForward, exampleLossAndGrads } from '../src/train/objectives.ts';
import type { StepInfo } from '../src/train/loop.ts';
import { pretrain, sampleWindows } from '../src/train/pretrain.ts';
import { epochBatches, finetune, finetuneTotalSteps } from '../src/train/finetune.ts';
import { confusionMatrix, evaluate, evaluateLm, f1Score, matthews, pearson, ranks, spearman } from '../src/train/evaluate.ts';
import { hasTrainingState, loadClassifier, loadTrainingCheckpoint, saveTrainingCheckpoint } from '../src/train/state.ts';
import { createProgress, formatDuration, metricsLog, progressLine } from '../src/train/progress.ts';
import { assertOneLineError, assertPure } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'gpt1-train-'));
after(() => rmSync(root, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------
// Synthetic tasks on a 12-token vocabulary (ids 2..11 are "words"; 12, 13, 14 the
// special tokens). Each rule is learnable from token identities:
// - classification: all 4 tokens from {2..6} (label 0) or from {7..11} (label 1);
// - entailment: 3-token hypothesis from group y ∈ {2..4, 5..7, 8..10}, random premise;
// - similarity: 1 when either text is drawn from {7..11} (symmetric in the two texts);
// - multiple choice: 3 choices, the right one starts with token 1.
// ---------------------------------------------------------------------------------
const base = makeConfig({ n_vocab: 12, n_ctx: 16, n_embd: 16, n_head: 2, n_layer: 1 });
const withSpecial = addSpecialTokens(initParams(base, rng(1)), base, rng(2));
const sp = specialTokens(withSpecial.config);

function draws(g: Rng, n: number, lo: number, hi: number): [number[], Rng] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let x: number;
    [x, g] = randint(g, hi - lo);
    out.push(lo + x);
  }
  return [out, g];
}

function synthetic(kind: TaskKind, seed: number, n: number): LabeledInput[] {
  let g = rng(seed);
  const out: LabeledInput[] = [];
  for (let i = 0; i < n; i++) {
    let y: number, a: number[], b: number[], w: number;
    let ex: TokenExample;
    switch (kind) {
      case 'classification':
        [y, g] = randint(g, 2);
        [a, g] = draws(g, 4, y ? 7 : 2, y ? 12 : 7);
        ex = { kind, text: a };
        break;
      case 'entailment':
        [y, g] = randint(g, 3);
        [a, g] = draws(g, 2, 2, 11);
        [b, g] = draws(g, 3, 2 + 3 * y, 5 + 3 * y);
        ex = { kind, premise: a, hypothesis: b };
        break;
      case 'similarity':
        [y, g] = randint(g, 2);
        [w, g] = randint(g, 2);
        [a, g] = draws(g, 2, y && w ? 7 : 2, y && w ? 12 : 7);
        [b, g] = draws(g, 2, y && !w ? 7 : 2, y && !w ? 12 : 7);
        ex = { kind, text1: a, text2: b };
        break;
      case 'multiple-choice': {
        [a, g] = draws(g, 2, 2, 12);
        const choices: number[][] = [];
        for (let k = 0; k < 3; k++) {
          let c: number[];
          [c, g] = draws(g, 2, 2, 12);
          choices.push(c);
        }
        [y, g] = randint(g, 3);
        choices[y][0] = 1;
        ex = { kind, context: a, choices };
        break;
      }
    }
    out.push({ input: transformExample(ex, sp, 16), label: y });
  }
  return out;
}

const nOutOf = (kind: TaskKind): number => (kind === 'multiple-choice' ? 1 : kind === 'entailment' ? 3 : 2);

describe('pre-training', () => {
  test('a tiny model pre-trained for 200 updates on a small text reaches a clearly lower LM loss', async () => {
    const path = join(root, 'corpus.txt');
    writeFileSync(path, 'the cat sat on the mat. the dog sat on the log. a cat and a dog sat on a mat. '.repeat(12));
    const text = readFileSync(path, 'utf8');
    const chars = [...new Set(text)].sort();
    const ids = [...text].map((c) => chars.indexOf(c));
    const config = makeConfig({ n_vocab: chars.length, n_ctx: 16, n_embd: 16, n_head: 2, n_layer: 1 });
    const params = initParams(config, rng(1));
    const held = sampleWindows(ids, 16, 8, 999, 0);
    const before = await evaluateLm(params, config, held);
    const steps: StepInfo[] = [];
    const r = await assertPure('pretrain', [params], () => pretrain({ params, config, corpusIds: ids, steps: 200, batch: 4, lr: 1e-2, seed: 3, onStep: (s) => void steps.push(s) }));
    const afterLoss = await evaluateLm(r.params, config, held);
    assert.ok(before.loss > 2.5, `initial loss ${before.loss} (≈ ln ${chars.length})`);
    assert.ok(afterLoss.loss < 0.5 * before.loss, `LM loss ${before.loss.toFixed(3)} → ${afterLoss.loss.toFixed(3)}`);
    assert.equal(steps.length, 200);
    assert.deepEqual(r.log, steps);
    assert.equal(steps[0].lr, 0); // opt.py: the first update has schedule factor 0
    assert.equal(steps[0].tokens, 64);
    assert.equal(r.opt.t, 200);
    assert.ok(steps[199].lr < steps[100].lr, 'cosine decay');
  });

  test('bad arguments are one-line errors', async () => {
    const params = initParams(base, rng(1));
    await assertOneLineError(() => pretrain({ params, config: base, corpusIds: [1, 2, 3], steps: 1, ctx: 8 }), ['3 tokens', 'window of 8']);
    await assertOneLineError(() => pretrain({ params, config: base, corpusIds: new Array(40).fill(12), steps: 1 }), ['corpus token 0', 'vocabulary [0, 12)']);
    await assertOneLineError(() => pretrain({ params, config: base, corpusIds: new Array(40).fill(1), steps: 1, ctx: 17 }), ['ctx', 'n_ctx = 16']);
    await assertOneLineError(() => pretrain({ params, config: base, corpusIds: new Array(40).fill(1), steps: 0 }), ['steps']);
  });
});

describe('fine-tuning learns a synthetic task of each kind (λ = 0.5)', () => {
  for (const kind of ['classification', 'entailment', 'similarity', 'multiple-choice'] as const) {
    test(kind, async () => {
      const train = synthetic(kind, 10, 64);
      const valid = synthetic(kind, 20, 60);
      const { params, config } = withSpecial;
      const fresh = initClassifier(config.n_embd, nOutOf(kind), rng(3));
      const chance = kind === 'similarity' || kind === 'classification' ? 0.5 : 1 / 3;
      const epochs: number[] = [];
      const r = await finetune({
        params, config, task: kind, train, valid, epochs: 12, batch: 8, lr: 1e-2, warmup: 0.05, lmCoef: 0.5, seed: 1,
        onEpoch: (e) => void epochs.push(e),
      });
      const m = await evaluate({ params: r.params, config: r.config, head: r.head, task: kind, data: valid });
      assert.ok(m.accuracy >= chance + 0.35, `${kind}: accuracy ${m.accuracy} (chance ${chance.toFixed(2)})`);
      assert.deepEqual(epochs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      assert.equal(r.validation.length, 12);
      assert.equal(r.validation[11].accuracy, m.accuracy);
      assert.equal(r.log.length, finetuneTotalSteps(64, 8, 12));
      assert.ok(Number.isFinite(m.lmLoss) && Number.isFinite(m.clfLoss));
      assert.equal(r.task.n_out, nOutOf(kind));
      if (kind !== 'multiple-choice') assert.ok(m.f1 !== undefined && m.mcc !== undefined && m.mcc > 0.5, `mcc ${m.mcc}`);
      // the fresh classifier of the same seed would be near chance
      const untrained = await evaluate({ params, config, head: fresh, task: kind, data: valid, lm: false });
      assert.ok(untrained.accuracy < m.accuracy);
    });
  }
});

describe('similarity regression (STS-B style)', () => {
  test('learns a real-valued score: Pearson correlation well above 0', async () => {
    // target = number of the two texts drawn from {7..11}: 0, 1 or 2 (symmetric in the texts)
    const make = (seed: number, n: number): LabeledInput[] => {
      let g = rng(seed);
      const out: LabeledInput[] = [];
      for (let i = 0; i < n; i++) {
        let h1: number, h2: number, a: number[], b: number[];
        [h1, g] = randint(g, 2);
        [h2, g] = randint(g, 2);
        [a, g] = draws(g, 2, h1 ? 7 : 2, h1 ? 12 : 7);
        [b, g] = draws(g, 2, h2 ? 7 : 2, h2 ? 12 : 7);
        out.push({ input: transformExample({ kind: 'similarity', text1: a, text2: b }, sp, 16), label: h1 + h2 });
      }
      return out;
    };
    const valid = make(21, 40);
    const r = await finetune({ ...withSpecial, task: 'similarity', regression: true, train: make(11, 64), valid, epochs: 8, batch: 8, lr: 1e-2, warmup: 0.05, seed: 1 });
    assert.equal(r.task.n_out, 1);
    assert.equal(r.task.regression, true);
    assert.equal(r.log[0].accuracy, undefined);
    const m = await evaluate({ params: r.params, config: r.config, head: r.head, task: 'similarity', data: valid, regression: true });
    assert.ok(Number.isNaN(m.accuracy));
    assert.ok((m.pearson as number) > 0.8, `Pearson ${m.pearson}`);
    assert.ok((m.spearman as number) > 0.7, `Spearman ${m.spearman}`);
    assert.equal(m.mse, m.clfLoss);
    assert.ok(m.predictions.some((p) => !Number.isInteger(p)), 'predictions are real values');
    await assertOneLineError(() => finetune({ ...withSpecial, task: 'multiple-choice', regression: true, train: synthetic('multiple-choice', 1, 8), batch: 8 }), ['multiple-choice', 'regression']);
  });
});

describe('resume', () => {
  const same = (a: Params, b: Params, what: string): void => {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), what);
    for (const k of Object.keys(a)) assert.ok(equal(a[k], b[k]), `${what}: ${k} differs`);
  };

  test('fine-tuning: stopped after 3 updates, saved, loaded and resumed = uninterrupted, bit for bit', async () => {
    const train = synthetic('multiple-choice', 5, 24);
    const opts = { params: withSpecial.params, config: withSpecial.config, task: 'multiple-choice' as const, train, epochs: 2, batch: 8, lr: 1e-2, warmup: 0.1, seed: 9 };
    const full = await finetune(opts);
    assert.equal(full.opt.t, 6);
    const dir = join(root, 'ft-ckpt');
    const saved: number[] = [];
    const first = await finetune({ ...opts, stopAfter: 3, checkpointEvery: 2, onCheckpoint: (s) => { saved.push(s.state.step); saveTrainingCheckpoint(dir, s); } });
    assert.deepEqual(saved, [2, 3]); // every 2 updates and at the (interrupted) end
    assert.equal(first.opt.t, 3);
    assert.ok(hasTrainingState(dir));
    const snap = loadTrainingCheckpoint(dir);
    assert.equal(snap.state.step, 3);
    const resumed = await finetune({ ...opts, resume: snap });
    assert.equal(resumed.log.length, 3);
    same(resumed.params, full.params, 'params');
    same(resumed.head as Params, full.head as Params, 'classifier');
    same(resumed.opt.m, full.opt.m, 'first moments');
    same(resumed.opt.v, full.opt.v, 'second moments');
    assert.deepEqual(resumed.log, full.log.slice(3));
    // the checkpoint is a Hugging Face checkpoint plus the classifier
    const ck = loadCheckpoint(dir);
    assert.equal(ck.format, 'hf');
    assert.equal(ck.config.n_special, 3);
    assert.equal(loadClassifier(dir, 16).task.task, 'multiple-choice');
    // a changed hyper-parameter or data set refuses to resume
    await assertOneLineError(() => finetune({ ...opts, lr: 2e-2, resume: snap }), ['cannot resume', 'lr']);
    await assertOneLineError(() => finetune({ ...opts, train: synthetic('multiple-choice', 6, 24), resume: snap }), ['cannot resume', 'data']);
    await assertOneLineError(() => finetune({ ...opts, seed: 10, resume: snap }), ['cannot resume', 'seed']);
  });

  test('pre-training: stopped, saved, loaded and resumed = uninterrupted, bit for bit', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => (i * 7) % 12);
    const opts = { params: initParams(base, rng(4)), config: base, corpusIds: ids, steps: 6, batch: 2, ctx: 8, lr: 1e-2, seed: 5 };
    const full = await pretrain(opts);
    const dir = join(root, 'pt-ckpt');
    await pretrain({ ...opts, stopAfter: 4, onCheckpoint: (s) => saveTrainingCheckpoint(dir, s) });
    const snap = loadTrainingCheckpoint(dir);
    assert.equal(snap.state.step, 4);
    assert.equal(snap.head, undefined);
    const resumed = await pretrain({ ...opts, resume: snap });
    same(resumed.params, full.params, 'params');
    same(resumed.opt.v, full.opt.v, 'second moments');
    await assertOneLineError(() => pretrain({ ...opts, batch: 3, resume: snap }), ['cannot resume', 'batch']);
    await assertOneLineError(() => finetune({ params: snap.params, config: snap.config, task: 'classification', train: synthetic('classification', 1, 8), batch: 8, resume: snap }), ['cannot resume', 'pretrain']);
  });
});

describe('objectives', () => {
  // L₃ = clf + λ·lm against central differences in float32 (the model runs in float32,
  // so only a loose relative tolerance on gradients that are not tiny is meaningful).
  const d = 8;
  const small = makeConfig({ n_vocab: 10, n_ctx: 12, n_embd: d, n_head: 2, n_layer: 1 });
  const { params, config } = addSpecialTokens(initParams(small, rng(1)), small, rng(2));
  const s3 = specialTokens(config);
  const cases: [TokenExample, number, number][] = [
    [{ kind: 'classification', text: [1, 2, 3] }, 3, 2],
    [{ kind: 'entailment', premise: [4], hypothesis: [5, 6] }, 3, 0],
    [{ kind: 'similarity', text1: [1, 2], text2: [3, 4, 5] }, 2, 1],
    [{ kind: 'multiple-choice', context: [1, 2], choices: [[3], [4, 5], [6]] }, 1, 2],
  ];
  for (const [ex, nOut, y] of cases) {
    test(`${ex.kind}: gradients match finite differences`, async () => {
      const head = initClassifier(d, nOut, rng(3));
      const input = transformExample(ex, s3, 12);
      const opts = { lmCoef: 0.5 };
      const r = await assertPure('exampleLossAndGrads', [params, head], () => exampleLossAndGrads(params, config, head, { input, label: y }, opts));
      const loss = async (p: Params, h: ClassifierHead): Promise<number> => (await exampleForward(p, config, h, input, y, opts)).loss;
      const bump = (rec: Params, name: string, i: number, delta: number): Params => {
        const data = Float32Array.from(rec[name].data);
        data[i] += delta;
        return { ...rec, [name]: tensor(rec[name].shape, data) };
      };
      const checks: ['head' | 'model', string, number][] = [
        ['head', 'clf.weight', 3], ['head', 'clf.bias', 0],
        ['model', 'h.0.mlp.c_fc.weight', 5], ['model', 'h.0.attn.c_attn.weight', 17], ['model', 'h.0.ln_2.weight', 2], ['model', 'positions_embed.weight', 9],
      ];
      for (const [which, name, i] of checks) {
        const eps = 1e-2;
        const [lp, lm] = which === 'head'
          ? [await loss(params, bump(head, name, i, eps)), await loss(params, bump(head, name, i, -eps))]
          : [await loss(bump(params, name, i, eps), head), await loss(bump(params, name, i, -eps), head)];
        const numeric = (lp - lm) / (2 * eps);
        const analytic = (which === 'head' ? r.headGrads : r.grads)[name].data[i];
        assert.ok(Math.abs(numeric - analytic) <= 2e-3 + 0.02 * Math.abs(numeric), `${ex.kind} ${name}[${i}]: numeric ${numeric}, analytic ${analytic}`);
      }
      assert.ok(Math.abs(r.loss - (r.clfLoss + 0.5 * r.lmLoss)) < 1e-9);
    });
  }

  test('regression: squared error and its gradients match finite differences', async () => {
    const head = initClassifier(d, 1, rng(5));
    const input = transformExample({ kind: 'similarity', text1: [1, 2], text2: [3] }, s3, 12);
    const opts = { lmCoef: 0.5, regression: true };
    const y = 2.5;
    const r = await exampleLossAndGrads(params, config, head, { input, label: y }, opts);
    assert.ok(Math.abs(r.clfLoss - (r.scores[0] - y) ** 2) < 1e-9);
    assert.equal(r.prediction, r.scores[0]);
    for (const [name, i] of [['clf.weight', 2], ['clf.bias', 0]] as const) {
      const eps = 1e-2;
      const at = async (delta: number): Promise<number> => {
        const data = Float32Array.from(head[name].data);
        data[i] += delta;
        return (await exampleForward(params, config, { ...head, [name]: tensor(head[name].shape, data) }, input, y, opts)).loss;
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      assert.ok(Math.abs(numeric - r.headGrads[name].data[i]) <= 2e-3 + 0.02 * Math.abs(numeric), `${name}: ${numeric} vs ${r.headGrads[name].data[i]}`);
    }
    const p = 'h.0.mlp.c_fc.weight';
    const eps = 1e-2;
    const bump = (delta: number): Params => {
      const data = Float32Array.from(params[p].data);
      data[7] += delta;
      return { ...params, [p]: tensor(params[p].shape, data) };
    };
    const numeric = ((await exampleForward(bump(eps), config, head, input, y, opts)).loss - (await exampleForward(bump(-eps), config, head, input, y, opts)).loss) / (2 * eps);
    assert.ok(Math.abs(numeric - r.grads[p].data[7]) <= 2e-3 + 0.02 * Math.abs(numeric), `${p}: ${numeric} vs ${r.grads[p].data[7]}`);
  });

  test('a batch is the mean of its examples; λ = 0 skips the LM', async () => {
    const head = initClassifier(d, 2, rng(3));
    const batch = [
      { input: transformExample({ kind: 'classification', text: [1, 2] }, s3, 12), label: 0 },
      { input: transformExample({ kind: 'classification', text: [3, 4, 5] }, s3, 12), label: 1 },
    ];
    const b = await batchLossAndGrads(params, config, head, batch, { lmCoef: 0.5 });
    const e0 = await exampleLossAndGrads(params, config, head, batch[0], { lmCoef: 0.5 });
    const e1 = await exampleLossAndGrads(params, config, head, batch[1], { lmCoef: 0.5 });
    assert.ok(Math.abs(b.loss - (e0.loss + e1.loss) / 2) < 1e-9);
    const g = b.grads['h.0.mlp.c_proj.weight'].data;
    for (let i = 0; i < g.length; i += 7) {
      const want = (e0.grads['h.0.mlp.c_proj.weight'].data[i] + e1.grads['h.0.mlp.c_proj.weight'].data[i]) / 2;
      assert.ok(Math.abs(g[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)));
    }
    const noLm = await exampleForward(params, config, head, batch[0].input, 0, { lmCoef: 0 });
    assert.ok(Number.isNaN(noLm.lmLoss));
    assert.equal(noLm.loss, noLm.clfLoss);
  });
});

describe('fine-tuning details', () => {
  test('epochs: a fresh shuffle each, last incomplete batch dropped (train.py iter_data truncate=True)', () => {
    const e0 = epochBatches(21, 4, 7, 0);
    assert.equal(e0.length, 5);
    assert.ok(e0.every((b) => b.length === 4));
    assert.equal(new Set(e0.flat()).size, 20);
    assert.notDeepEqual(e0, epochBatches(21, 4, 7, 1));
    assert.deepEqual(e0, epochBatches(21, 4, 7, 0));
    assert.equal(finetuneTotalSteps(21, 4, 3), 15);
  });

  test('special tokens are added when missing; errors are one line', async () => {
    const params = initParams(base, rng(1));
    const train = synthetic('classification', 3, 8);
    const r = await assertPure('finetune', [params, train], () => finetune({ params, config: base, task: 'classification', train, epochs: 1, batch: 8, seed: 2 }));
    assert.equal(r.config.n_special, 3);
    assert.deepEqual(r.params['tokens_embed.weight'].shape, [15, 16]);
    await assertOneLineError(() => finetune({ params, config: base, task: 'classification', train, batch: 16 }), ['8 training examples', 'batch of 16']);
    await assertOneLineError(() => finetune({ params, config: base, task: 'entailment', train, batch: 8 }), ['classification input', 'entailment']);
    await assertOneLineError(() => finetune({ params, config: base, task: 'classification', train, batch: 8, lmCoef: -1 }), ['λ']);
  });
});

describe('metrics', () => {
  test('F1 and Matthews correlation from a confusion matrix, against hand values', () => {
    // labels 1,1,1,0,0,0,0,1 predicted 1,1,0,0,0,1,0,1: TP 3, FN 1, FP 1, TN 3
    const c = confusionMatrix([1, 1, 1, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 1, 0, 1], 2);
    assert.deepEqual(c, [[3, 1], [1, 3]]);
    assert.equal(f1Score(c), 0.75); // 2·3/(2·3 + 1 + 1)
    assert.equal(matthews(c), 0.5); // (3·3 − 1·1)/√(4·4·4·4) = 8/16
    assert.equal(matthews([[5, 0], [5, 0]]), 0); // constant prediction: 0 by convention
    assert.equal(matthews([[2, 0, 0], [0, 2, 0], [0, 0, 2]]), 1);
    // 3 classes: macro F1 = mean of per-class F1: class 0: 2·1/(2+0+1) = 2/3, class 1: 2·2/(4+1+0) = 4/5, class 2: 1
    assert.ok(Math.abs(f1Score([[1, 1, 0], [0, 2, 0], [0, 0, 1]]) - (2 / 3 + 4 / 5 + 1) / 3) < 1e-12);
  });

  test('Pearson and Spearman against hand values', () => {
    // x = 1,2,3,4; y = 2,4,5,9: means 2.5 and 5; deviations (−1.5,−0.5,0.5,1.5), (−3,−1,0,4)
    // cov·n = 4.5 + 0.5 + 0 + 6 = 11; Σdx² = 5; Σdy² = 26; r = 11/√130 = 0.964764…
    assert.ok(Math.abs(pearson([1, 2, 3, 4], [2, 4, 5, 9]) - 11 / Math.sqrt(130)) < 1e-12);
    assert.equal(spearman([1, 2, 3, 4], [2, 4, 5, 9]), 1); // monotone
    assert.deepEqual(ranks([10, 20, 10, 5]), [2.5, 4, 2.5, 1]); // ties share the mean rank
    // ranks of x: 1,2,3,4; of y = (3,1,2,2) → (4,1,2.5,2.5): r of (1,2,3,4) and (4,1,2.5,2.5)
    // dx = (−1.5,−0.5,0.5,1.5), dy = (1.5,−1.5,0,0): Σdxdy = −2.25 + 0.75 = −1.5; Σdx² = 5, Σdy² = 4.5
    assert.ok(Math.abs(spearman([1, 2, 3, 4], [3, 1, 2, 2]) - -1.5 / Math.sqrt(22.5)) < 1e-12);
    assert.equal(pearson([1, 1, 1], [1, 2, 3]), 0);
  });
});

describe('progress and logs', () => {
  test('durations and the progress line', () => {
    assert.equal(formatDuration(45), '45s');
    assert.equal(formatDuration(185), '3m05s');
    assert.equal(formatDuration(3720), '1h02m');
    assert.equal(formatDuration(NaN), '--');
    const line = progressLine({ step: 50, total: 200, loss: 3.21412, tokens: 12345, elapsedMs: 10000, stepsThisRun: 50 });
    assert.equal(line, 'step 50/200 [#####...............]  25% loss 3.2141 | 1,235 tok/s | 10s elapsed | ETA 30s');
  });

  test('plain lines when not a terminal, redraw in place on a terminal', () => {
    const plain: string[] = [];
    const p = createProgress({ write: (s: string) => plain.push(s), isTTY: false }, 2);
    for (let s = 1; s <= 5; s++) p.update({ step: s, total: 5, loss: 1, tokens: s, elapsedMs: s * 100, stepsThisRun: s });
    p.done();
    assert.deepEqual(plain.map((l) => l.split(' ')[1]), ['1/5', '2/5', '4/5', '5/5']);
    assert.ok(plain.every((l) => l.endsWith('\n') && !l.includes('\r')));
    const tty: string[] = [];
    const q = createProgress({ write: (s: string) => tty.push(s), isTTY: true });
    q.update({ step: 1, total: 2, loss: 1, tokens: 1, elapsedMs: 1, stepsThisRun: 1 });
    q.note('hello');
    q.update({ step: 2, total: 2, loss: 1, tokens: 2, elapsedMs: 2, stepsThisRun: 2 });
    q.done();
    assert.ok(tty[0].startsWith('\rstep 1/2'));
    assert.ok(tty.includes('hello\n'));
    assert.equal(tty.at(-1), '\n');
  });

  test('metrics JSONL: a fresh run truncates, a resumed run appends', () => {
    const path = join(root, 'logs', 'metrics.jsonl');
    metricsLog(path, false).write({ step: 1, loss: 2 });
    metricsLog(path, true).write({ step: 2, loss: 1 });
    assert.deepEqual(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l)), [{ step: 1, loss: 2 }, { step: 2, loss: 1 }]);
    metricsLog(path, false);
    assert.equal(readFileSync(path, 'utf8'), '');
    // resuming from the checkpoint of update 2 drops what an interrupted run logged after it
    writeFileSync(path, '{"step":1}\n{"step":2}\n{"step":2,"epoch":1,"valid":{}}\n{"step":3}\n{"step":4,"lo');
    metricsLog(path, true, 2).write({ step: 3, again: true });
    assert.deepEqual(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l)), [{ step: 1 }, { step: 2 }, { step: 2, epoch: 1, valid: {} }, { step: 3, again: true }]);
  });
});

describe('commands', () => {
  /** Runs `gpt1 argv…` in this process, capturing stdout (console.log) and stderr. */
  async function gpt1(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const { main } = await import('../src/cli/main.ts');
    let out = '';
    let err = '';
    const log = console.log;
    const error = console.error;
    const write = process.stderr.write;
    console.log = (...a: unknown[]) => void (out += `${a.join(' ')}\n`);
    console.error = (...a: unknown[]) => void (err += `${a.join(' ')}\n`);
    process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
    try {
      return { code: await main(argv), out, err };
    } finally {
      console.log = log;
      console.error = error;
      process.stderr.write = write;
    }
  }
  const dir = join(root, 'cli');
  const corpus = join(root, 'cli-corpus.txt');
  const trainFile = join(root, 'cli-train.jsonl');
  const common = ['--data', corpus, '--steps', '6', '--batch', '2', '--ctx', '8', '--lr', '0.01', '--merges', '30', '--save-every', '2'];

  test('pretrain: interrupted with --stop-after then --resume gives the same checkpoint as one run', async () => {
    writeFileSync(corpus, 'the cat sat on the mat. the dog sat on the log. '.repeat(10));
    const one = await gpt1('pretrain', ...common, '--out', join(dir, 'one'));
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /pre-trained to update 6\/6/);
    assert.match(one.err, /learning a BPE vocabulary/);
    const a = await gpt1('pretrain', ...common, '--out', join(dir, 'two'), '--stop-after', '3');
    assert.equal(a.code, 0, a.err);
    assert.match(a.out, /update 3\/6/);
    const b = await gpt1('pretrain', '--data', corpus, '--out', join(dir, 'two'), '--resume', '--quiet');
    assert.equal(b.code, 0, b.err);
    assert.equal(b.err, '');
    const bytes = (run: string, f: string): Buffer => readFileSync(join(dir, run, 'checkpoint', f));
    for (const f of ['model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'vocab.json', 'merges.txt']) {
      assert.ok(bytes('one', f).equals(bytes('two', f)), `${f} differs`);
    }
    const steps = readFileSync(join(dir, 'two', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
    // the LM evaluation of the checkpoint
    const ev = await gpt1('evaluate', '--checkpoint', join(dir, 'one'), '--data', corpus, '--json');
    assert.equal(ev.code, 0, ev.err);
    const r = JSON.parse(ev.out);
    assert.equal(r.task, 'lm');
    assert.ok(r.loss > 0 && Math.abs(r.perplexity - Math.exp(r.loss)) < 1e-9);
  });

  test('finetune then evaluate a classification task from JSONL', async () => {
    writeFileSync(trainFile, ['{"text":"the cat sat","label":"cat"}', '{"text":"the dog sat","label":"dog"}'].join('\n').repeat(1).concat('\n').repeat(4));
    const ft = await gpt1('finetune', '--checkpoint', join(dir, 'one', 'checkpoint'), '--task', 'classification', '--train', trainFile, '--valid', trainFile,
      '--out', join(dir, 'ft'), '--epochs', '2', '--batch', '4', '--quiet');
    assert.equal(ft.code, 0, ft.err);
    assert.match(ft.out, /fine-tuned to update 4\/4; validation accuracy/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'ft', 'checkpoint', 'task.json'), 'utf8')), { task: 'classification', labels: ['cat', 'dog'], n_out: 2, regression: false });
    const lines = readFileSync(join(dir, 'ft', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.valid !== undefined).length, 2);
    const ev = await gpt1('evaluate', '--checkpoint', join(dir, 'ft'), '--data', trainFile, '--json', '--quiet');
    assert.equal(ev.code, 0, ev.err);
    const m = JSON.parse(ev.out);
    assert.equal(m.task, 'classification');
    assert.equal(m.n, 8);
    assert.deepEqual(m.labels, ['cat', 'dog']);
    assert.ok(m.accuracy >= 0 && m.accuracy <= 1 && m.f1 !== undefined && m.mcc !== undefined);
    // similarity regression: real-valued labels, Pearson and Spearman
    const sts = join(root, 'cli-sts.jsonl');
    writeFileSync(sts, ['{"text1":"the cat","text2":"the dog","label":0.5}', '{"text1":"the cat","text2":"the cat","label":4.5}'].join('\n').concat('\n').repeat(2));
    const reg = await gpt1('finetune', '--checkpoint', join(dir, 'one', 'checkpoint'), '--task', 'similarity', '--regression', '--train', sts, '--out', join(dir, 'sts'), '--epochs', '1', '--batch', '4', '--quiet');
    assert.equal(reg.code, 0, reg.err);
    const ev2 = JSON.parse((await gpt1('evaluate', '--checkpoint', join(dir, 'sts'), '--data', sts, '--json', '--quiet')).out);
    assert.equal(ev2.regression, true);
    assert.equal(ev2.accuracy, null);
    assert.ok(typeof ev2.pearson === 'number' && typeof ev2.spearman === 'number' && typeof ev2.mse === 'number');
  });

  test('--help, and one-line errors with exit status 2 (usage) or 1 (input)', async () => {
    for (const cmd of ['pretrain', 'finetune', 'evaluate']) {
      const h = await gpt1(cmd, '--help');
      assert.equal(h.code, 0);
      assert.match(h.out, new RegExp(`^gpt1 ${cmd}: `));
    }
    const oneLine = (r: { err: string }): void => assert.equal(r.err.trim().split('\n').length, 1, r.err);
    let r = await gpt1('pretrain', '--out', join(dir, 'x'));
    assert.equal(r.code, 2);
    assert.match(r.err, /--data is required/);
    r = await gpt1('finetune', '--checkpoint', join(dir, 'one'), '--task', 'regression', '--train', trainFile, '--out', join(dir, 'y'));
    assert.equal(r.code, 2);
    assert.match(r.err, /--task must be one of classification, entailment, similarity, multiple-choice/);
    r = await gpt1('pretrain', '--data', join(root, 'nope.txt'), '--out', join(dir, 'z'));
    assert.equal(r.code, 1);
    oneLine(r);
    assert.match(r.err, /nope\.txt: no such file/);
    r = await gpt1('pretrain', ...common, '--out', join(dir, 'one'));
    assert.equal(r.code, 2);
    assert.match(r.err, /already holds a run; pass --resume/);
    r = await gpt1('finetune', '--checkpoint', join(dir, 'one', 'checkpoint'), '--task', 'multiple-choice', '--train', trainFile, '--out', join(dir, 'w'), '--quiet');
    assert.equal(r.code, 1);
    oneLine(r);
    assert.match(r.err, /cli-train\.jsonl:1: missing "context"/);
    r = await gpt1('evaluate', '--checkpoint', join(dir, 'one'), '--task', 'classification', '--data', trainFile);
    assert.equal(r.code, 1);
    assert.match(r.err, /no fine-tuned classifier/);
    r = await gpt1('evaluate', '--checkpoint', join(dir, 'ft'), '--task', 'entailment', '--data', trainFile);
    assert.equal(r.code, 2);
    assert.match(r.err, /fine-tuned for classification, not entailment/);
    r = await gpt1('finetune', '--task', 'classification', '--train', trainFile, '--out', join(dir, 'v'));
    assert.equal(r.code, 2);
    assert.match(r.err, /--checkpoint is required/);
  });
});
