/**
 * The learning-rate schedules and Adam of the original `opt.py`, against values worked
 * out by hand, plus clipping, the weight-decay rank rule, purity and errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Params } from '../src/params.ts';
import { fromArray, tensor } from '../src/tensor.ts';
import { SCHEDULE_NAMES, scheduleByName, scheduleFactor, warmupConstant, warmupCosine, warmupLinear } from '../src/train/schedules.ts';
import { ADAM_DEFAULTS, type AdamHParams, adamStep, clipByGlobalNorm, effectiveLearningRate, globalNorm, initAdamState } from '../src/train/optimizer.ts';
import { assertOneLineError, assertPure } from './helpers.ts';

const close = (got: number, want: number, tol = 1e-12, what = ''): void => {
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);
};

describe('schedules (opt.py)', () => {
  test('warmup_linear: (s·x/w + (1−s))·(1−x)', () => {
    // warm-up part, x ≤ w: (x/w)·(1−x)
    close(warmupLinear(0, 0.002), 0); // first update: factor 0
    close(warmupLinear(0.001, 0.002), 0.5 * 0.999); // half-way through warm-up, times (1 − 0.001)
    close(warmupLinear(0.002, 0.002), 1 * 0.998); // x = w is still warm-up (x <= warmup): 1·(1 − 0.002)
    // after: 1·(1−x)
    close(warmupLinear(0.25, 0.002), 0.75);
    close(warmupLinear(0.5, 0.1), 0.5);
    close(warmupLinear(1, 0.002), 0); // the end
    // w = 0.2 (the paper's "warmup over 0.2% of training" is w = 0.002; this checks the formula)
    close(warmupLinear(0.1, 0.2), 0.5 * 0.9);
  });

  test('warmup_cosine: s·x/w + (1−s)·½(1 + cos πx)', () => {
    close(warmupCosine(0, 0.01), 0);
    close(warmupCosine(0.005, 0.01), 0.5);
    close(warmupCosine(0.01, 0.01), 1); // x = w: warm-up branch, x/w = 1
    close(warmupCosine(0.5, 0.01), 0.5); // ½(1 + cos(π/2)) = ½
    close(warmupCosine(1, 0.01), 0); // ½(1 + cos π) = 0
    close(warmupCosine(0.25, 0.01), 0.5 * (1 + Math.SQRT1_2)); // ½(1 + √2/2) ≈ 0.853553
    // right after the warm-up the cosine of x itself, not of the progress after warm-up
    close(warmupCosine(0.2 + 1e-12, 0.2), 0.5 * (1 + Math.cos(Math.PI * 0.2)));
  });

  test('warmup_constant: s·x/w + (1−s)', () => {
    close(warmupConstant(0, 0.1), 0);
    close(warmupConstant(0.05, 0.1), 0.5);
    close(warmupConstant(0.1, 0.1), 1);
    close(warmupConstant(0.7, 0.1), 1);
    close(warmupConstant(1, 0.1), 1);
  });

  test('the default warm-up is 0.002 and every schedule starts at 0 and peaks at 1', () => {
    close(warmupLinear(0.001), 0.5 * 0.999);
    for (const name of SCHEDULE_NAMES) {
      const f = scheduleByName(name);
      close(f(0, 0.002), 0, 0, name);
      fc.assert(fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 1e-4, max: 0.5, noNaN: true }), (x, w) => {
        const y = f(x, w);
        return y >= 0 && y <= 1 + 1e-12;
      }));
    }
  });

  test('scheduleFactor evaluates schedule(t/total) like opt.py', () => {
    close(scheduleFactor('warmup_linear', 0, 1000, 0.002), 0);
    close(scheduleFactor('warmup_linear', 1, 1000, 0.002), 0.5 * 0.999);
    close(scheduleFactor('warmup_linear', 500, 1000, 0.002), 0.5);
  });

  test('unknown names and bad totals are one-line errors', async () => {
    await assertOneLineError(() => scheduleByName('cosine'), ['cosine', 'warmup_cosine, warmup_constant, warmup_linear']);
    await assertOneLineError(() => scheduleFactor('warmup_linear', 0, 0, 0.1), ['total']);
  });
});

describe('Adam (opt.py)', () => {
  const hp = (over: Partial<AdamHParams> = {}): AdamHParams => ({ ...ADAM_DEFAULTS, lr: 0.1, schedule: 'warmup_linear', warmup: 0.002, tTotal: 10, ...over });

  // The worked example. Parameters: a matrix w = [[1, −2]] (rank 2, decayed) and a
  // vector b = [0.5] (rank 1, not decayed). Gradients g_w = [0.3, −0.4], g_b = [1.2].
  //   ‖G‖ = √(0.09 + 0.16 + 1.44) = √1.69 = 1.3 > max_grad_norm = 1, so every gradient
  //   is multiplied by 1/1.3: g_w = [0.230769…, −0.307692…], g_b = [0.923077…].
  // State after one earlier update: t = 1, m = [0.05, 0 | −0.1], v = [0.0004, 0 | 0.001].
  // This update: tt = 2, lr = 0.1, warmup_linear at x = t/t_total = 1/10 (past the
  // warm-up 0.002): factor 1 − 0.1 = 0.9.
  //   lrt = 0.1 · √(1 − 0.999²) / (1 − 0.9²) · 0.9 = 0.1 · 0.0447101778/0.19 · 0.9
  //       = 0.1 · 0.2353167253 · 0.9 = 0.0211785053
  // w[0]: m = 0.9·0.05 + 0.1·0.230769 = 0.0680769;  v = 0.999·0.0004 + 0.001·0.0532544 = 4.528544e-4
  //       m/(√v + e) = 0.0680769/0.0212804 = 3.1990454
  //       w ← 1 − 0.0211785·(3.1990454 + 0.01·1) = 0.9320372
  // w[1]: m = 0.1·(−0.307692) = −0.0307692;  v = 0.001·0.0946746 = 9.467456e-5
  //       m/(√v + e) = −3.1622744 (≈ −1/√0.1: the first-moment sign with unit scale)
  //       w ← −2 − 0.0211785·(−3.1622744 + 0.01·(−2)) = −1.9326042
  // b:    m = 0.9·(−0.1) + 0.1·0.923077 = 0.0023077;  v = 0.999·0.001 + 0.001·0.852071 = 1.851071e-3
  //       m/(√v + e) = 0.0536372; no decay (rank 1)
  //       b ← 0.5 − 0.0211785·0.0536372 = 0.4988640
  //       (with vector_l2: 0.5 − 0.0211785·(0.0536372 + 0.005) = 0.4987582)
  const params: Params = { w: fromArray([1, 2], [1, -2]), b: fromArray([1], [0.5]) };
  const grads: Params = { w: fromArray([1, 2], [0.3, -0.4]), b: fromArray([1], [1.2]) };
  const state = { t: 1, m: { w: fromArray([1, 2], [0.05, 0]), b: fromArray([1], [-0.1]) }, v: { w: fromArray([1, 2], [0.0004, 0]), b: fromArray([1], [0.001]) } };

  test('one step against the hand-worked example', async () => {
    const r = await assertPure('adamStep', [params, grads, state], () => adamStep(params, grads, state, hp()));
    close(r.gradNorm, 1.3, 1e-7, 'norm');
    close(r.lr, 0.0211785053, 1e-9, 'lrt');
    close(r.params.w.data[0], 0.9320372, 1e-6, 'w0');
    close(r.params.w.data[1], -1.9326042, 1e-6, 'w1');
    close(r.params.b.data[0], 0.4988640, 1e-6, 'b');
    close(r.state.m.w.data[0], 0.0680769, 1e-6, 'm');
    close(r.state.v.w.data[0], 4.528544e-4, 1e-6, 'v');
    close(r.state.m.b.data[0], 0.0023077, 1e-5, 'm_b');
    assert.equal(r.state.t, 2);
    assert.deepEqual(r.params.w.shape, [1, 2]);
  });

  test('vector_l2 decays rank-1 parameters too; l2 = 0 decays nothing', () => {
    close(adamStep(params, grads, state, hp({ vectorL2: true })).params.b.data[0], 0.4987582, 1e-6, 'b with vector_l2');
    const noDecay = adamStep(params, grads, state, hp({ l2: 0 }));
    close(noDecay.params.w.data[0], 1 - 0.0211785053 * 3.1990454, 1e-6, 'w without decay');
  });

  test('the decay is scaled by the full lrt (bias correction and schedule), as opt.py', () => {
    // zero gradient and zero moments: the only change is −lrt·l2·p
    const z: Params = { w: fromArray([2, 1], [3, -1]) };
    const g: Params = { w: fromArray([2, 1], [0, 0]) };
    const s = { t: 4, m: { w: fromArray([2, 1], [0, 0]) }, v: { w: fromArray([2, 1], [0, 0]) } };
    const h = hp({ l2: 0.01, tTotal: 10, schedule: 'warmup_constant' });
    const lrt = 0.1 * Math.sqrt(1 - 0.999 ** 5) / (1 - 0.9 ** 5) * 1;
    const r = adamStep(z, g, s, h);
    close(r.lr, lrt, 1e-12);
    close(r.params.w.data[0], 3 - lrt * 0.01 * 3, 1e-7);
    close(r.params.w.data[1], -1 + lrt * 0.01, 1e-7);
  });

  test('the first update has schedule factor 0: parameters unchanged, moments updated', () => {
    const p0: Params = { w: fromArray([1, 2], [1, 2]) };
    const g0: Params = { w: fromArray([1, 2], [0.5, -0.5]) };
    const r = adamStep(p0, g0, initAdamState(p0), hp({ tTotal: 100 }));
    assert.equal(r.lr, 0);
    assert.deepEqual([...r.params.w.data], [1, 2]);
    assert.deepEqual([...r.state.m.w.data], [Math.fround(0.05), Math.fround(-0.05)]);
    assert.equal(r.state.t, 1);
  });

  test('the bias-corrected step of a constant gradient is lr·sign(g) at every t (no decay, no schedule)', () => {
    fc.assert(fc.property(fc.double({ min: 0.01, max: 0.9, noNaN: true }), fc.integer({ min: 1, max: 30 }), (g, steps) => {
      let p: Params = { w: fromArray([1, 1], [0]) };
      let s = initAdamState(p);
      const h = hp({ lr: 0.01, l2: 0, maxGradNorm: 0, schedule: 'warmup_constant', warmup: 1e-9, tTotal: 1000, e: 0 });
      for (let i = 0; i < steps; i++) {
        const before = p.w.data[0];
        const r = adamStep(p, { w: fromArray([1, 1], [g]) }, s, h);
        const delta = before - r.params.w.data[0];
        if (i > 0 && Math.abs(delta - 0.01) > 1e-6) return false; // m̂/√v̂ = 1 for a constant gradient
        p = r.params;
        s = r.state;
      }
      return true;
    }), { numRuns: 30 });
  });

  test('effectiveLearningRate = lr·√(1−b2^(t+1))/(1−b1^(t+1))·schedule(t/t_total)', () => {
    close(effectiveLearningRate(0, hp()), 0);
    close(effectiveLearningRate(1, hp()), 0.1 * Math.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2) * 0.9);
  });

  test('clip_by_global_norm: unchanged below the limit, scaled to the limit above', () => {
    const g: Params = { a: fromArray([2], [3, 0]), b: fromArray([1, 1], [4]) };
    close(globalNorm(g), 5);
    assert.equal(clipByGlobalNorm(g, 5).grads, g); // exactly at the limit: the same object
    const c = clipByGlobalNorm(g, 1);
    close(c.norm, 5);
    close(globalNorm(c.grads), 1, 1e-7);
    close(c.grads.a.data[0], 0.6, 1e-7);
    close(c.grads.b.data[0], 0.8, 1e-7);
    assert.equal(clipByGlobalNorm(g, 0).grads, g); // ≤ 0 disables clipping
  });

  test('missing or misshapen gradients, bad hyper-parameters: one-line errors', async () => {
    await assertOneLineError(() => adamStep(params, { w: grads.w }, state, hp()), ['no gradient', 'b']);
    await assertOneLineError(() => adamStep(params, { ...grads, b: tensor([2], new Float32Array(2)) }, state, hp()), ['gradient of b', '[2]']);
    await assertOneLineError(() => adamStep(params, { ...grads, z: grads.b }, state, hp()), ['unknown parameter z']);
    await assertOneLineError(() => adamStep(params, grads, state, hp({ b1: 1 })), ['b1']);
    await assertOneLineError(() => adamStep(params, grads, state, hp({ tTotal: 0 })), ['tTotal']);
  });
});
