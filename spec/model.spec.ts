/**
 * Property tests of the GPT-1 forward pass (`src/model/*`): against the independent
 * float64 oracle of `spec/reference.ts`, and the structural invariants that hold
 * whatever the weights (causality, the key/value cache, softmax and LayerNorm
 * identities, the tied head, head independence, purity, errors, GELU, init).
 *
 * The model functions run on the process backend (`backend()`: GPT1_BACKEND, else
 * the fastest that starts); `GPT1_BACKEND=cpu node --import tsx --test spec/model.spec.ts`
 * runs the same file on another backend.
 *
 * Relative error, wherever a tolerance says "relative", is the normwise ∞-norm one
 * of `relErr`: maxᵢ|gotᵢ − refᵢ| / maxᵢ|refᵢ|.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { GPT1, type GPTConfig, PRESETS, dHead, makeConfig, nTokenRows } from '../src/config.ts';
import { backend } from '../src/kernels/backend.ts';
import { type KeyValue, attentionForward, mergeHeads, scaleAndMask, splitHeads } from '../src/model/attention.ts';
import { blockForward } from '../src/model/block.ts';
import { conv1dForward } from '../src/model/conv1d.ts';
import { embeddingForward, validateIds } from '../src/model/embedding.ts';
import { ACTIVATIONS, ffnForward, gelu, relu, swish } from '../src/model/ffn.ts';
import { type ForwardOutput, forward } from '../src/model/gpt.ts';
import { headForward } from '../src/model/head.ts';
import { layerNormForward } from '../src/model/layernorm.ts';
import { lmLoss } from '../src/model/objectives.ts';
import { logSoftmax, softmax } from '../src/model/softmax.ts';
import { type Params, countParams, initParams, paramShapes, validateParams } from '../src/params.ts';
import { rng, shuffle } from '../src/random.ts';
import { type Tensor, equal, fromArray, sliceRows, tensor } from '../src/tensor.ts';
import {
  U32,
  U64,
  assertOneLineError,
  assertPure,
  destroyAfterTests,
  gamma,
  permuteHeads,
  productBoundViolation,
  randomData,
  randomIds,
  randomParams,
  randomTensor,
  relErr,
  seedArb,
  smallConfigArb,
} from './helpers.ts';
import { refForward, refGelu, refGeluErf, refLayerNormRow, refLmLoss, refLogSoftmaxRow, refProduct, refSoftmaxRow } from './reference.ts';

const be = await backend();
destroyAfterTests(be.gpu);

/** Tolerance of the float32 model against the float64 oracle (issue 2): 1e-4, normwise relative. */
const MODEL_TOL = 1e-4;

/** Rows [start, end) of a [R, C] float32 tensor as plain numbers. */
function rows(t: Tensor, start: number, end: number): Float32Array {
  const C = t.shape[t.shape.length - 1];
  return t.data.subarray(start * C, end * C);
}

/** True when the two arrays hold equal numbers (===: +0 and −0 count as equal; NaN never does). */
function sameNumbers(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i])) return false;
  return true;
}

/** Attention probabilities of one layer, query rows [start, end) of every head: [H][end−start][S]. */
function attnRows(probs: Tensor, start: number, end: number): number[] {
  const [H, T, S] = probs.shape;
  const out: number[] = [];
  for (let h = 0; h < H; h++) for (let i = start; i < end; i++) for (let j = 0; j < S; j++) out.push(probs.data[(h * T + i) * S + j]);
  return out;
}

/** Draws T ∈ [lo, n_ctx] from a raw integer (keeps fast-check shrinking meaningful). */
function lengthFrom(raw: number, config: GPTConfig, lo = 1): number {
  return lo + (raw % (config.n_ctx - lo + 1));
}

// ---------------------------------------------------------------------------------
// The whole forward against the float64 oracle
// ---------------------------------------------------------------------------------

describe('forward against the float64 reference', () => {
  let worst = 0;
  after(() => console.log(`# forward vs float64 oracle on backend ${be.name}: worst normwise relative error ${worst.toExponential(2)} (tolerance ${MODEL_TOL})`));

  /**
   * Compares one forward with the oracle: logits and every hidden state h₀…h_n to
   * MODEL_TOL (normwise relative), attention probabilities to 1e-5 absolute.
   *
   * Why 1e-4 is right for float32: the products have K ≤ n_inner = 4·n_embd ≤ 128 terms
   * here, so each has error ≤ γ_K·Σ|ab| ≤ 8·10⁻⁶·Σ|ab|; LayerNorm maps relative errors of its
   * input to relative errors of its output of the same order (it divides by the
   * row's own scale); softmax maps absolute score errors δ to probability errors ≤ 2δ.
   * With ≤ 3 layers the accumulated error is a small multiple of 10⁻⁶ (the
   * observed worst case is printed), so 1e-4 leaves two orders of margin while any
   * real bug (a missing bias, a wrong mask, a transposed weight) moves outputs by
   * O(‖W‖·‖x‖), i.e. ~10⁻¹ relative with these random weights. Attention
   * probabilities lie in [0, 1] and are a softmax of scores with absolute error
   * ~10⁻⁶, so 1e-5 absolute is the same margin.
   */
  function compare(out: ForwardOutput, ref: ReturnType<typeof refForward>, what: string): void {
    const e = relErr(out.logits.data, ref.logits.data);
    worst = Math.max(worst, e);
    assert.ok(e <= MODEL_TOL, `${what}: logits relative error ${e}`);
    assert.equal(out.hiddenStates.length, ref.hiddenStates.length, `${what}: number of hidden states`);
    out.hiddenStates.forEach((h, l) => {
      const eh = relErr(h.data, ref.hiddenStates[l].data);
      worst = Math.max(worst, eh);
      assert.ok(eh <= MODEL_TOL, `${what}: hiddenStates[${l}] relative error ${eh}`);
    });
    out.attentions.forEach((p, l) => {
      const flat = ref.attentions[l].flat(2);
      for (let i = 0; i < flat.length; i++) {
        assert.ok(Math.abs(p.data[i] - flat[i]) <= 1e-5, `${what}: attention[${l}] cell ${i}: ${p.data[i]} vs ${flat[i]}`);
      }
    });
  }

  test('random small configurations (1–3 layers, gelu/relu/swish) with non-trivial random weights', async () => {
    await fc.assert(
      fc.asyncProperty(smallConfigArb(), seedArb, fc.nat(), async (config, seed, tRaw) => {
        const params = randomParams(config, seed);
        const ids = randomIds(seed + 1, lengthFrom(tRaw, config), nTokenRows(config));
        const out = await forward(params, config, ids);
        assert.deepEqual([...out.logits.shape], [ids.length, nTokenRows(config)]);
        compare(out, refForward(params, config, ids), `${config.n_layer}L d=${config.n_embd} H=${config.n_head} ${config.afn} T=${ids.length}`);
      }),
      { numRuns: 30 },
    );
  });

  for (const afn of ['gelu', 'relu', 'swish'] as const) {
    test(`PRESETS.tiny with afn = ${afn}, full context, paper initialisation and random weights`, async () => {
      const config = makeConfig({ ...PRESETS.tiny, afn });
      const ids = randomIds(afn.length, config.n_ctx, nTokenRows(config));
      for (const params of [initParams(config, rng(3)), randomParams(config, 4)]) {
        compare(await forward(params, config, ids), refForward(params, config, ids), `tiny ${afn}`);
      }
    });
  }

  /*
   * GPT-1's own widths (n_embd 768, 12 heads of 64, n_inner 3072) in one layer with a
   * small vocabulary: the FFN's c_proj has K = 3072 > gpu.js's silent 1000-iteration
   * loop cap, inside the real model. Weights at the paper's scale (std 0.02) with
   * random biases and gains; products of up to 3072 terms have γ_K ≈ 1.8·10⁻⁴
   * relative to Σ|ab| in the worst case, but the rounding errors of a float32 sum of
   * random-sign terms grow like √K·u in practice, so 1e-4 still holds with margin.
   */
  test('GPT-1 widths (768, 12 heads, 3072) in one layer', async () => {
    const config = makeConfig({ n_vocab: 50, n_ctx: 4, n_layer: 1 });
    const params = randomParams(config, 5, 0.02, 0.02, 0.1);
    const ids = randomIds(6, 4, nTokenRows(config));
    compare(await forward(params, config, ids), refForward(params, config, ids), 'GPT-1 widths');
  });

  test('the activation is really used: gelu, relu and swish models give different logits', async () => {
    const ids = randomIds(1, 8, 64);
    const logits = await Promise.all(
      (['gelu', 'relu', 'swish'] as const).map(async (afn) => {
        const config = makeConfig({ ...PRESETS.tiny, afn });
        return (await forward(randomParams(config, 9), config, ids)).logits.data;
      }),
    );
    assert.ok(relErr(logits[0], logits[1]) > 1e-3 && relErr(logits[0], logits[2]) > 1e-3 && relErr(logits[1], logits[2]) > 1e-3);
  });

});

// ---------------------------------------------------------------------------------
// Causality
// ---------------------------------------------------------------------------------

describe('causality', () => {
  /*
   * Invariant: changing tokens t+1 … T−1 never changes anything at positions ≤ t:
   * hidden states, logits and attention rows, bit for bit.
   *
   * Why bit-identical and not just close: T is unchanged, so every kernel has the
   * same shape (the same compiled kernel), and each output cell of a kernel is its
   * own sequential loop over k that reads one row of the left operand. Embedding,
   * LayerNorm, FFN and the head are row-wise. In attention, the scores of a row
   * i ≤ t at columns j > i differ, but the mask maps them to s·0 − 1e9 = −1e9
   * whatever the (finite) s, the row maximum is unchanged, exp(−1e9 − m) is exactly
   * 0, and P·V then adds exact ±0 terms to a nonzero sum. (±0 can only flip the sign
   * of an exactly-zero sum; the comparison uses ===, which treats +0 and −0 as equal.)
   * To show the test can fail, the changed position's embedding must differ.
   */
  test('changing later tokens leaves every position ≤ t bit-identical', async () => {
    await fc.assert(
      fc.asyncProperty(smallConfigArb({ minCtx: 2 }), seedArb, fc.nat(), fc.nat(), async (config, seed, tRaw, cutRaw) => {
        const V = nTokenRows(config);
        const params = randomParams(config, seed);
        const T = lengthFrom(tRaw, config, 2);
        const t = cutRaw % (T - 1); // last unchanged position, 0 … T−2
        const ids = randomIds(seed + 1, T, V);
        const shifts = randomIds(seed + 2, T, V - 1);
        const changed = ids.map((id, j) => (j <= t ? id : (id + 1 + shifts[j]) % V)); // every later token really differs
        const a = await forward(params, config, ids);
        const b = await forward(params, config, changed);
        assert.ok(!sameNumbers(rows(a.hiddenStates[0], t + 1, t + 2), rows(b.hiddenStates[0], t + 1, t + 2)), 'the change must reach position t+1');
        for (let l = 0; l <= config.n_layer; l++) {
          assert.ok(sameNumbers(rows(a.hiddenStates[l], 0, t + 1), rows(b.hiddenStates[l], 0, t + 1)), `hiddenStates[${l}] rows ≤ ${t} changed`);
        }
        for (let l = 0; l < config.n_layer; l++) {
          assert.ok(sameNumbers(attnRows(a.attentions[l], 0, t + 1), attnRows(b.attentions[l], 0, t + 1)), `attention ${l} rows ≤ ${t} changed`);
        }
        assert.ok(sameNumbers(rows(a.logits, 0, t + 1), rows(b.logits, 0, t + 1)), `logits rows ≤ ${t} changed`);
      }),
      { numRuns: 25 },
    );
  });

  /*
   * Invariant: attention weights above the causal diagonal are exactly 0 (not small):
   * query i (absolute position T₀ + i, after T₀ cached ones) gives weight 0 to every
   * key j > T₀ + i. The original mask adds −1e9 after scaling; exp(−1e9 − m)
   * underflows to exactly 0 in float32 and float64 alike. Also: the first position
   * attends only to itself, so its row is exactly [1, 0, …, 0] (exp(0)/exp(0)).
   */
  test('masked attention weights are exactly 0, with and without a key/value cache', async () => {
    await fc.assert(
      fc.asyncProperty(smallConfigArb({ minCtx: 2 }), seedArb, fc.nat(), async (config, seed, tRaw) => {
        const params = randomParams(config, seed);
        const T = lengthFrom(tRaw, config, 2);
        const ids = randomIds(seed + 1, T, nTokenRows(config));
        const T0 = 1 + (seed % (T - 1)); // cached positions
        const full = await forward(params, config, ids);
        const first = await forward(params, config, ids.slice(0, T0));
        const rest = await forward(params, config, ids.slice(T0), { past: first.present });
        for (const [out, offset] of [[full, 0], [rest, T0]] as const) {
          for (const probs of out.attentions) {
            const [H, Tq, S] = probs.shape;
            assert.equal(S, offset + Tq);
            for (let h = 0; h < H; h++) {
              for (let i = 0; i < Tq; i++) {
                for (let j = offset + i + 1; j < S; j++) assert.equal(probs.data[(h * Tq + i) * S + j], 0, `weight (${h}, ${i}, ${j}) above the diagonal`);
              }
            }
          }
        }
        for (const probs of full.attentions) {
          const [H, , S] = probs.shape;
          for (let h = 0; h < H; h++) assert.equal(probs.data[h * T * S], 1, 'position 0 attends to itself with weight exactly 1');
        }
      }),
      { numRuns: 15 },
    );
  });
});

// ---------------------------------------------------------------------------------
// Key/value cache
// ---------------------------------------------------------------------------------

describe('key/value cache', () => {
  /*
   * Invariant: forward(ids[0..T)) restricted to positions T₀ … T−1 equals
   * forward(ids[T₀..T), past = forward(ids[0..T₀)).present): the cache holds exactly
   * the keys and values that the full pass computes for the first T₀ positions, and
   * position offsets continue at T₀. Mathematically identical; the float operations
   * are the same sequences (each kernel cell is an independent loop of the same
   * length: d for projections, S = T for P·V), so the tolerance 1e-6 (normwise)
   * only allows for a backend that blocks its sums by output shape.
   */
  test('forward on ids[0..T) equals forward on ids[0..T₀) then ids[T₀..T) with past', async () => {
    await fc.assert(
      fc.asyncProperty(smallConfigArb({ minCtx: 2 }), seedArb, fc.nat(), fc.nat(), async (config, seed, tRaw, pRaw) => {
        const params = randomParams(config, seed);
        const T = lengthFrom(tRaw, config, 2);
        const T0 = 1 + (pRaw % (T - 1));
        const ids = randomIds(seed + 1, T, nTokenRows(config));
        const full = await forward(params, config, ids);
        const first = await forward(params, config, ids.slice(0, T0));
        const rest = await forward(params, config, ids.slice(T0), { past: first.present });
        assert.equal(rest.positionOffset, T0);
        assert.ok(relErr(rest.logits.data, rows(full.logits, T0, T)) <= 1e-6, 'logits of the last T−T₀ positions');
        for (let l = 0; l <= config.n_layer; l++) assert.ok(relErr(rest.hiddenStates[l].data, rows(full.hiddenStates[l], T0, T)) <= 1e-6, `hiddenStates[${l}]`);
        for (let l = 0; l < config.n_layer; l++) {
          assert.ok(relErr(rest.attentions[l].data, attnRows(full.attentions[l], T0, T)) <= 1e-6, `attention ${l}`);
          assert.ok(relErr(rest.present[l].k.data, full.present[l].k.data) <= 1e-6, `present keys ${l}`);
          assert.ok(relErr(rest.present[l].v.data, full.present[l].v.data) <= 1e-6, `present values ${l}`);
        }
      }),
      { numRuns: 20 },
    );
  });

  test('token-by-token generation with the cache reproduces the full forward and the float64 oracle', async () => {
    const config = PRESETS.tiny;
    const params = randomParams(config, 11);
    const ids = randomIds(12, config.n_ctx, nTokenRows(config));
    const full = await forward(params, config, ids);
    const ref = refForward(params, config, ids);
    let past: readonly KeyValue[] | undefined;
    for (let t = 0; t < ids.length; t++) {
      const step = await forward(params, config, [ids[t]], past === undefined ? {} : { past });
      assert.ok(relErr(step.logits.data, rows(full.logits, t, t + 1)) <= 1e-6, `step ${t} vs full forward`);
      assert.ok(relErr(step.logits.data, ref.logits.data.subarray(t * step.logits.shape[1], (t + 1) * step.logits.shape[1])) <= MODEL_TOL, `step ${t} vs oracle`);
      past = step.present;
    }
  });
});

// ---------------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------------

/** Rows of values on the grid k·2⁻⁸ with |x| ≤ 8: any shift by a grid constant |c| ≤ 2¹² is exact in float32 (≤ 21 significant bits). */
const gridRowsArb = fc
  .record({ R: fc.integer({ min: 1, max: 4 }), C: fc.integer({ min: 1, max: 50 }), seed: seedArb })
  .map(({ R, C, seed }) => fromArray([R, C], Array.from(randomData(seed, R * C, 'normal'), (v) => Math.round(Math.max(-8, Math.min(8, 3 * v)) * 256) / 256)));

describe('softmax and log-softmax', () => {
  /*
   * Invariants, for rows of C values:
   * 1. every row of softmax sums to 1: each pⱼ = fl(eⱼ/s) carries a relative error
   *    ≤ (C + 4)·u (exp ≤ 2u, the sum of positives ≤ γ_{C−1}, the division and the
   *    float32 store u each), so |Σpⱼ − 1| ≤ 2(C + 4)·u with a factor-2 margin;
   * 2. softmax and log-softmax match the float64 oracle: |Δpⱼ| ≤ 2(C+4)u·pⱼ and
   *    |Δlⱼ| ≤ 2(C+4)u + 2u·|lⱼ| (absolute in log space = relative in p, plus the
   *    rounding of lⱼ itself);
   * 3. adding a constant c to a row changes nothing: softmax(x + c) = softmax(x)
   *    in exact arithmetic; with grid inputs x + c is exact in float32 so the only
   *    differences are the roundings of the two evaluations, ≤ 2(C+4)u·pⱼ each. A
   *    softmax that does not subtract the row maximum overflows for c = 4000
   *    (exp(4000) = ∞) and fails with NaN;
   * 4. log-softmax = log(softmax) to 2(C+4)u + 2u·|lⱼ| (|x| ≤ 8 keeps every
   *    pⱼ ≥ e⁻¹⁶/50, a normal float32, so log pⱼ is finite).
   */
  test('rows sum to 1, match the oracle, ignore a per-row constant, and log-softmax = log(softmax)', async () => {
    await fc.assert(
      fc.asyncProperty(gridRowsArb, fc.array(fc.integer({ min: -4000 * 256, max: 4000 * 256 }), { minLength: 4, maxLength: 4 }), async (x, shiftsRaw) => {
        const [R, C] = x.shape;
        const tol = 2 * (C + 4) * U32;
        const p = await assertPure('softmax', [x], () => softmax(x));
        const l = await assertPure('logSoftmax', [x], () => logSoftmax(x));
        assert.deepEqual([...p.shape], [R, C]);
        const shifted = fromArray([R, C], Array.from(x.data, (v, i) => v + shiftsRaw[Math.floor(i / C)] / 256));
        const ps = softmax(shifted);
        const ls = logSoftmax(shifted);
        for (let r = 0; r < R; r++) {
          const row = x.data.subarray(r * C, (r + 1) * C);
          const refP = refSoftmaxRow(row);
          const refL = refLogSoftmaxRow(row);
          let sum = 0;
          for (let j = 0; j < C; j++) {
            const k = r * C + j;
            sum += p.data[k];
            assert.ok(Math.abs(p.data[k] - refP[j]) <= tol * refP[j], `softmax[${r},${j}] = ${p.data[k]} vs ${refP[j]}`);
            assert.ok(Math.abs(l.data[k] - refL[j]) <= tol + 2 * U32 * Math.abs(refL[j]), `logSoftmax[${r},${j}] = ${l.data[k]} vs ${refL[j]}`);
            assert.ok(Math.abs(ps.data[k] - p.data[k]) <= 2 * tol * refP[j], `softmax not shift-invariant at [${r},${j}]: ${ps.data[k]} vs ${p.data[k]}`);
            assert.ok(Math.abs(ls.data[k] - l.data[k]) <= 2 * (tol + 2 * U32 * Math.abs(refL[j])), `logSoftmax not shift-invariant at [${r},${j}]`);
            assert.ok(Math.abs(l.data[k] - Math.log(p.data[k])) <= 2 * (tol + 2 * U32 * Math.abs(refL[j])), `logSoftmax ≠ log(softmax) at [${r},${j}]`);
          }
          assert.ok(Math.abs(sum - 1) <= tol, `row ${r} sums to ${sum}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('softmax over a higher-rank tensor works on the last axis; a one-element row is exactly 1', async () => {
    const x = randomTensor([2, 3, 5], 1);
    const p = softmax(x);
    for (let r = 0; r < 6; r++) {
      const ref = refSoftmaxRow(x.data.subarray(r * 5, r * 5 + 5));
      for (let j = 0; j < 5; j++) assert.ok(Math.abs(p.data[r * 5 + j] - ref[j]) <= 2 * 9 * U32 * ref[j]);
    }
    assert.deepEqual(Array.from(softmax(fromArray([3, 1], [-5, 0, 1e30])).data), [1, 1, 1]);
    assert.deepEqual(Array.from(logSoftmax(fromArray([3, 1], [-5, 0, 1e30])).data), [0, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------
// LayerNorm
// ---------------------------------------------------------------------------------

/**
 * A-priori per-element error of a float32 LayerNorm x̂ (relative to the scale of x̂):
 * the mean is off by ≤ γ_d·mean|x|, which shifts every x̂ᵢ by γ_d·mean|x|·r
 * (r = 1/√(σ²+ε)); the variance, rsqrt, subtraction, product and store add a relative
 * ≤ (d + 5)·u to x̂ᵢ. So |Δx̂ᵢ| ≤ γ_{d+5}·(|x̂ᵢ| + mean|x|·r) — times 4 for margin.
 * This is large only for ill-conditioned rows (|mean| ≫ σ), which is inherent.
 */
function lnBound(x: ArrayLike<number>, eps: number): (xhat: number) => number {
  const d = x.length;
  let mean = 0;
  let meanAbs = 0;
  for (let i = 0; i < d; i++) {
    mean += x[i] / d;
    meanAbs += Math.abs(x[i]) / d;
  }
  let v = 0;
  for (let i = 0; i < d; i++) v += (x[i] - mean) ** 2 / d;
  const r = 1 / Math.sqrt(v + eps);
  const g = gamma(d + 5);
  return (xhat) => 4 * g * (Math.abs(xhat) + meanAbs * r) + 1e-30;
}

/** Rows of d values k·2⁻¹⁰ with |x| ≤ 8 plus an offset, so that shifts by grid constants are exact. */
const lnCaseArb = fc.record({
  T: fc.integer({ min: 1, max: 3 }),
  d: fc.integer({ min: 2, max: 64 }),
  seed: seedArb,
  scaleExp: fc.integer({ min: -6, max: 3 }),
  offset: fc.integer({ min: -4096, max: 4096 }), // ·2⁻¹⁰: |offset| ≤ 4
  shift: fc.integer({ min: -16384, max: 16384 }), // ·2⁻¹⁰: |c| ≤ 16, and x + c stays exact
  sExp: fc.integer({ min: -4, max: 4 }),
  eps: fc.constantFrom(1e-5, 1e-3, 0.1),
});

describe('LayerNorm', () => {
  /*
   * Invariants of x̂ = (x − μ)/√(σ² + ε) for a non-constant row (σ² > 0):
   * 1. mean(x̂) = 0 exactly in real arithmetic (Σ(xᵢ − μ) = 0); in float32 ≤ the mean of
   *    the per-element bounds above;
   * 2. var(x̂) = σ²/(σ² + ε) (not 1: ε sits inside the square root); with per-element
   *    errors bᵢ, mean(x̂²) moves by ≤ (2/d)Σ|x̂ᵢ|bᵢ + (1/d)Σbᵢ² and mean(x̂)² by ≤ (mean bᵢ)²;
   * 3. x̂ and y = g·x̂ + b match the float64 oracle to the bound;
   * 4. shift: x̂(x + c) = x̂(x) exactly in real arithmetic (μ moves by c, σ does not);
   *    with grid values x + c is exact in float32, so only the two evaluations'
   *    roundings differ;
   * 5. scale: x̂(s·x; ε) = s(x − μ)/√(s²σ² + ε) = (x − μ)/√(σ² + ε/s²) = x̂(x; ε/s²) exactly
   *    in real arithmetic; for s a power of two s·x and ε/s² are exact, so only
   *    rounding differs. (Without ε LayerNorm would be exactly scale-invariant; with ε
   *    it is invariant up to ε/(2σ²)·|1 − 1/s²|, which is what the identity pins down.)
   */
  test('x̂ has mean 0 and variance σ²/(σ²+ε), matches the oracle, and is invariant to shift and (with ε/s²) scale', async () => {
    await fc.assert(
      fc.asyncProperty(lnCaseArb, async ({ T, d, seed, scaleExp, offset, shift, sExp, eps }) => {
        const scale = 2 ** scaleExp;
        const raw = randomData(seed, T * d, 'normal');
        const x = fromArray([T, d], Array.from(raw, (v) => Math.round(Math.max(-8, Math.min(8, v * scale)) * 1024) / 1024 + offset / 1024));
        const g = randomTensor([d], seed + 1, 'normal');
        const b = randomTensor([d], seed + 2, 'normal');
        const ln = await assertPure('layerNormForward', [x, g, b], () => layerNormForward(x, g, b, eps));
        const lnShift = layerNormForward(fromArray([T, d], Array.from(x.data, (v) => v + shift / 1024)), g, b, eps);
        const s = 2 ** sExp;
        const lnScaled = layerNormForward(fromArray([T, d], Array.from(x.data, (v) => v * s)), g, b, eps);
        const lnEpsScaled = layerNormForward(x, g, b, eps / (s * s));
        assert.deepEqual([...ln.xhat.shape], [T, d]);
        for (let t = 0; t < T; t++) {
          const row = x.data.subarray(t * d, (t + 1) * d);
          const ref = refLayerNormRow(row, g.data, b.data, eps);
          let mu = 0;
          for (const v of row) mu += v / d;
          let sigma2 = 0;
          for (const v of row) sigma2 += (v - mu) ** 2 / d;
          if (sigma2 === 0) continue; // constant rows are checked separately
          const bound = lnBound(row, eps);
          const shiftedRow = lnShift.xhat.data.subarray(t * d, (t + 1) * d);
          const boundShifted = lnBound(Array.from(row, (v) => v + shift / 1024), eps);
          let mean = 0;
          let second = 0;
          let meanBound = 0;
          let varBound = 0;
          for (let i = 0; i < d; i++) {
            const k = t * d + i;
            const xh = ln.xhat.data[k];
            mean += xh / d;
            second += (xh * xh) / d;
            meanBound += bound(ref.xhat[i]) / d;
            varBound += (2 * Math.abs(ref.xhat[i]) * bound(ref.xhat[i]) + bound(ref.xhat[i]) ** 2) / d;
            assert.ok(Math.abs(xh - ref.xhat[i]) <= bound(ref.xhat[i]), `x̂[${t},${i}] = ${xh} vs ${ref.xhat[i]}`);
            const yBound = Math.abs(g.data[i]) * bound(ref.xhat[i]) + 2 * U32 * (Math.abs(g.data[i] * ref.xhat[i]) + Math.abs(ref.y[i]));
            assert.ok(Math.abs(ln.y.data[k] - ref.y[i]) <= yBound, `y[${t},${i}] = ${ln.y.data[k]} vs ${ref.y[i]}`);
            assert.ok(Math.abs(shiftedRow[i] - xh) <= bound(ref.xhat[i]) + boundShifted(ref.xhat[i]), `x̂ not shift-invariant at [${t},${i}]`);
            const refScaled = refLayerNormRow(row, g.data, b.data, eps / (s * s)).xhat[i];
            const sb = lnBound(Array.from(row, (v) => v * s), eps)(refScaled) + lnBound(row, eps / (s * s))(refScaled);
            assert.ok(Math.abs(lnScaled.xhat.data[k] - lnEpsScaled.xhat.data[k]) <= sb, `x̂(s·x; ε) ≠ x̂(x; ε/s²) at [${t},${i}]`);
          }
          // mean(x̂) = 0 and var(x̂) = mean(x̂²) − mean(x̂)² = σ²/(σ²+ε)
          assert.ok(Math.abs(mean) <= meanBound, `mean(x̂) = ${mean} > ${meanBound}`);
          const expectedVar = sigma2 / (sigma2 + eps);
          const variance = second - mean * mean;
          assert.ok(Math.abs(variance - expectedVar) <= varBound + meanBound ** 2 + 4 * U64, `var(x̂) = ${variance}, expected σ²/(σ²+ε) = ${expectedVar} (bound ${varBound})`);
        }
      }),
      { numRuns: 200 },
    );
  });

  /*
   * A constant row has σ² = 0: ε keeps the division finite and x̂ = 0 (up to the
   * rounding of the mean, |Δμ| ≤ γ_d|c|, divided by √ε), so y = b.
   */
  test('a constant row normalises to x̂ ≈ 0 and y ≈ b, never NaN', () => {
    for (const c of [0, 1, -3.75, 1e4]) {
      const d = 7;
      const b = fromArray([d], [0.5, -1, 2, 0, 3, -2, 1]);
      const ln = layerNormForward(fromArray([1, d], new Array(d).fill(c)), fromArray([d], new Array(d).fill(2)), b, 1e-5);
      for (let i = 0; i < d; i++) {
        assert.ok(Number.isFinite(ln.xhat.data[i]) && Math.abs(ln.xhat.data[i]) <= (gamma(d) * Math.abs(c)) / Math.sqrt(1e-5), `x̂ = ${ln.xhat.data[i]} for constant ${c}`);
        assert.ok(Math.abs(ln.y.data[i] - b.data[i]) <= 2 * Math.abs(ln.xhat.data[i]) + 2 * U32 * Math.abs(b.data[i]));
      }
      // c = 0: the mean and variance are exactly 0, so rstd is exactly fl32(1/√ε).
      if (c === 0) assert.equal(ln.rstd[0], Math.fround(1 / Math.sqrt(1e-5)));
    }
  });
});

// ---------------------------------------------------------------------------------
// The tied head
// ---------------------------------------------------------------------------------

describe('tied output head', () => {
  /*
   * Invariant (paper eq. 2, P(u) = softmax(h_n·W_eᵀ)): logits[t, v] = Σ_c h_n[t, c]·W_e[v, c]
   * with W_e = tokens_embed.weight itself (there is no separate output matrix).
   * Checked against a float64 product of hiddenStates[n_layer] and the parameter,
   * with the dot-product bound γ_d·Σ|h||W_e|.
   *
   * Tying: add δ to row v of W_e. Then (a) h₀ changes exactly at the positions holding
   * token v and nowhere else (bit for bit: the other rows read the same numbers);
   * (b) if v is not in the input, every hidden state is bit-identical and the logits
   * change only in column v (cell (t, n) reads only h[t] and W_e[n]), and column v
   * changes at every position; (c) in every case the new logits are h'·W_e'ᵀ.
   */
  test('logits = h_n·W_eᵀ, and perturbing row v of W_e moves the embedding of v and logit column v', async () => {
    await fc.assert(
      fc.asyncProperty(smallConfigArb(), seedArb, fc.nat(), fc.nat(), async (config, seed, tRaw, vRaw) => {
        const V = nTokenRows(config);
        const d = config.n_embd;
        const params = randomParams(config, seed);
        const ids = randomIds(seed + 1, lengthFrom(tRaw, config), V);
        const v = vRaw % V;
        const out = await forward(params, config, ids);
        const hn = out.hiddenStates[config.n_layer];
        assert.equal(productBoundViolation(out.logits, refProduct('matmulNT', hn, params['tokens_embed.weight'])), undefined);

        const We = params['tokens_embed.weight'];
        const delta = randomData(seed + 3, d, 'normal', 0.5);
        const We2 = tensor(We.shape, We.data.map((w, i) => (Math.floor(i / d) === v ? w + delta[i % d] : w)));
        const params2: Params = { ...params, 'tokens_embed.weight': We2 };
        const out2 = await forward(params2, config, ids);
        ids.forEach((id, t) => {
          const same = sameNumbers(rows(out.hiddenStates[0], t, t + 1), rows(out2.hiddenStates[0], t, t + 1));
          assert.equal(same, id !== v, `h₀ row ${t} (token ${id}, perturbed row ${v})`);
        });
        const [T] = out.logits.shape;
        if (!ids.includes(v)) {
          for (let l = 0; l <= config.n_layer; l++) assert.ok(equal(out.hiddenStates[l], out2.hiddenStates[l]), `hiddenStates[${l}] changed`);
          for (let t = 0; t < T; t++) {
            for (let n = 0; n < V; n++) {
              const a = out.logits.data[t * V + n];
              const b = out2.logits.data[t * V + n];
              if (n === v) assert.notEqual(a, b, `logit (${t}, ${v}) did not move`);
              else assert.equal(a, b, `logit (${t}, ${n}) moved although only row ${v} changed`);
            }
          }
        }
        assert.equal(productBoundViolation(out2.logits, refProduct('matmulNT', out2.hiddenStates[config.n_layer], We2)), undefined);
      }),
      { numRuns: 25 },
    );
  });

  test('the parameters hold no separate output matrix', () => {
    const params = initParams(PRESETS.tiny, rng(1));
    validateParams(params, PRESETS.tiny);
    assert.deepEqual(Object.keys(params).filter((k) => !k.startsWith('h.')), ['positions_embed.weight', 'tokens_embed.weight']);
  });
});

// ---------------------------------------------------------------------------------
// Heads are independent
// ---------------------------------------------------------------------------------

describe('attention heads are independent', () => {
  /*
   * Invariant: y = Σ_h aₕ·W_proj[rows of h] + b with aₕ depending only on head h's
   * columns of W_attn, b_attn. Relabelling heads by a permutation π (moving Q, K, V
   * column blocks and c_proj row blocks together) therefore leaves y unchanged.
   * - The attention probabilities of new head h are those of old head π(h), bit for
   *   bit: every qkv cell is the same dot product (same row of x, same column of W,
   *   same order), only stored elsewhere.
   * - attn.y differs only by the order of c_proj's d-term sums: both are within
   *   γ_{d+1}·Σ|a||W| of the exact value, so they differ by ≤ 2γ_{d+1}·Σ|a||W|.
   * - The block output (after LN₁, FFN, LN₂) and, with every layer permuted, the
   *   logits: to 1e-5 normwise relative (the 10⁻⁷-level reordering error, amplified
   *   by the well-conditioned LayerNorm/FFN of these random weights).
   */
  test('permuting heads consistently in c_attn and c_proj leaves block output and logits unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(smallConfigArb({ minHead: 2 }), seedArb, fc.nat(), async (config, seed, tRaw) => {
        const H = config.n_head;
        const d = config.n_embd;
        const params = randomParams(config, seed);
        const ids = randomIds(seed + 1, lengthFrom(tRaw, config), nTokenRows(config));
        let pi = shuffle(rng(seed + 2), [...Array(H).keys()])[0];
        if (pi.every((v, i) => v === i)) pi = pi.map((_, i) => (i + 1) % H); // a real relabelling
        const x = embeddingForward(params, config, ids);
        const a = await blockForward(params, config, 0, x);
        const b = await blockForward(permuteHeads(params, config, 0, pi), config, 0, x);
        const [, T, S] = a.attn.probs.shape;
        for (let h = 0; h < H; h++) {
          assert.ok(sameNumbers(b.attn.probs.data.subarray(h * T * S, (h + 1) * T * S), a.attn.probs.data.subarray(pi[h] * T * S, (pi[h] + 1) * T * S)), `head ${h} ≠ old head ${pi[h]}`);
        }
        const ref = refProduct('matmulBias', a.attn.a, params['h.0.attn.c_proj.weight'], params['h.0.attn.c_proj.bias']);
        for (let i = 0; i < ref.value.length; i++) {
          assert.ok(Math.abs(b.attn.y.data[i] - a.attn.y.data[i]) <= 2 * gamma(d + 1) * ref.absSum[i] + 1e-30, `attn.y[${i}]: ${b.attn.y.data[i]} vs ${a.attn.y.data[i]}`);
        }
        assert.ok(relErr(b.h.data, a.h.data) <= 1e-5, `block output moved by ${relErr(b.h.data, a.h.data)}`);

        let permuted = params;
        for (let l = 0; l < config.n_layer; l++) permuted = permuteHeads(permuted, config, l, pi);
        const full = await forward(params, config, ids);
        const fullPermuted = await forward(permuted, config, ids);
        assert.ok(relErr(fullPermuted.logits.data, full.logits.data) <= 1e-5, 'logits moved');
      }),
      { numRuns: 20 },
    );
  });
});

// ---------------------------------------------------------------------------------
// Purity
// ---------------------------------------------------------------------------------

describe('purity', () => {
  /*
   * Invariant: no function writes into its arguments (tensors are immutable by
   * convention, see src/tensor.ts). Every argument is deep-copied before the call
   * (each parameter buffer, each input buffer, the ids, the cache) and compared bit
   * for bit after it. A second identical call must also give identical bits: a
   * function that kept hidden state between calls would differ.
   */
  test('no module and not the whole forward modifies its arguments, and calls are repeatable', async () => {
    const config = makeConfig({ ...PRESETS.tiny, n_layer: 2, attn_pdrop: 0.1 });
    const params = randomParams(config, 21);
    const ids = randomIds(22, 6, nTokenRows(config));
    const x = randomTensor([6, config.n_embd], 23);
    const g = randomTensor([config.n_embd], 24);
    const b = randomTensor([config.n_embd], 25);
    const first = await assertPure('forward (prefix)', [params, ids.slice(0, 3)], () => forward(params, config, ids.slice(0, 3)));
    const past = first.present;
    const pastLayer: KeyValue = past[0];

    await assertPure('validateIds', [ids], () => validateIds(config, ids));
    await assertPure('embeddingForward', [params, ids], () => embeddingForward(params, config, ids, 2));
    await assertPure('layerNormForward', [x, g, b], () => layerNormForward(x, g, b, 1e-5));
    await assertPure('conv1dForward', [x, params['h.0.mlp.c_fc.weight'], params['h.0.mlp.c_fc.bias']], () => conv1dForward(x, params['h.0.mlp.c_fc.weight'], params['h.0.mlp.c_fc.bias']));
    await assertPure('softmax', [x], () => softmax(x));
    await assertPure('logSoftmax', [x], () => logSoftmax(x));
    const qkv = randomTensor([6, 3 * config.n_embd], 26);
    await assertPure('splitHeads', [qkv], () => splitHeads(qkv, config.n_embd, config.n_head, dHead(config)));
    const heads = randomTensor([config.n_head, 6, dHead(config)], 27);
    await assertPure('mergeHeads', [heads], () => mergeHeads(heads));
    const scores = randomTensor([config.n_head, 3, 6], 28);
    await assertPure('scaleAndMask', [scores], () => scaleAndMask(scores, dHead(config)));
    await assertPure('attentionForward', [params, x], () => attentionForward(params, config, 1, x));
    await assertPure('attentionForward with past', [params, x, pastLayer], () => attentionForward(params, config, 0, sliceRows(x, 0, 3), pastLayer));
    await assertPure('ffnForward', [params, x], () => ffnForward(params, config, 1, x));
    await assertPure('blockForward', [params, x], () => blockForward(params, config, 0, x));
    await assertPure('blockForward with past', [params, x, pastLayer], () => blockForward(params, config, 0, sliceRows(x, 0, 3), pastLayer));
    await assertPure('headForward', [params, x], () => headForward(params, x));
    const out = await assertPure('forward', [params, ids], () => forward(params, config, ids));
    await assertPure('forward with past', [params, ids, past], () => forward(params, config, ids.slice(3), { past }));
    await assertPure('forward with dropout', [params, ids], () => forward(params, config, ids, { dropout: { rng: rng(5) } }));
    await assertPure('lmLoss', [out.logits, ids], () => lmLoss(out.logits, ids, [1, 1, 0, 1, 1, 1]));
    await assertPure('initParams', [config], () => initParams(config, rng(1)));

    const again = await forward(params, config, ids);
    assert.ok(equal(again.logits, out.logits), 'a second forward gave different logits');
    out.hiddenStates.forEach((h, l) => assert.ok(equal(again.hiddenStates[l], h), `hiddenStates[${l}] not repeatable`));
    const d1 = await forward(params, config, ids, { dropout: { rng: rng(5) } });
    const d2 = await forward(params, config, ids, { dropout: { rng: rng(5) } });
    assert.ok(equal(d1.logits, d2.logits), 'the same dropout rng must give the same result');
    assert.ok(!equal(d1.logits, out.logits), 'dropout (p = 0.1) must change a training forward');
  });

  test('lmLoss is the mean next-token cross-entropy (float64 oracle)', async () => {
    const config = PRESETS.tiny;
    const params = randomParams(config, 31);
    const ids = randomIds(32, 10, nTokenRows(config));
    const out = await forward(params, config, ids);
    const loss = lmLoss(out.logits, ids);
    const ref = refLmLoss(out.logits, ids);
    // logSoftmax entries are within ~(V+6)u of the oracle each; their mean too.
    assert.ok(Math.abs(loss - ref) <= 2 * (nTokenRows(config) + 6) * U32 * (1 + Math.abs(ref)), `${loss} vs ${ref}`);
  });
});

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

describe('errors', () => {
  /* Invariant: invalid input fails fast with one line that names the problem and the numbers involved. */
  const config = PRESETS.tiny; // n_vocab 64, n_ctx 16
  const params = initParams(config, rng(1));

  test('a sequence longer than n_ctx', async () => {
    await assertOneLineError(() => forward(params, config, new Array(17).fill(1)), ['sequence too long', '17 tokens', 'n_ctx = 16']);
    const first = await forward(params, config, new Array(10).fill(1));
    await assertOneLineError(() => forward(params, config, new Array(7).fill(1), { past: first.present }), ['sequence too long', '10 cached', '7 tokens', 'n_ctx = 16']);
  });

  test('an id outside the vocabulary (too large, negative, fractional, NaN)', async () => {
    await assertOneLineError(() => forward(params, config, [1, 2, 64]), ['token id 64', 'position 2', 'outside the vocabulary', '[0, 64)']);
    await assertOneLineError(() => forward(params, config, [-1]), ['token id -1', 'position 0', '[0, 64)']);
    await assertOneLineError(() => forward(params, config, [3, 1.5]), ['token id 1.5', 'position 1']);
    await assertOneLineError(() => forward(params, config, [Number.NaN]), ['token id NaN']);
    const special = makeConfig({ ...config, n_special: 3 });
    await forward(initParams(special, rng(1)), special, [66]); // 64 + 3 rows: 66 is the last special token
    await assertOneLineError(() => forward(initParams(special, rng(1)), special, [67]), ['token id 67', '[0, 67)']);
  });

  test('an empty sequence', async () => {
    await assertOneLineError(() => forward(params, config, []), ['empty']);
  });

  test('n_embd not divisible by n_head, and other invalid configurations', async () => {
    await assertOneLineError(() => makeConfig({ n_embd: 10, n_head: 3 }), ['n_embd (10)', 'not divisible', 'n_head (3)']);
    await assertOneLineError(() => makeConfig({ n_layer: 0 }), ['n_layer', 'positive integer']);
    await assertOneLineError(() => makeConfig({ afn: 'tanh' as GPTConfig['afn'] }), ['afn', 'tanh']);
  });

  test('a key/value cache for another number of layers', async () => {
    const first = await forward(params, config, [1, 2]);
    await assertOneLineError(() => forward(params, config, [3], { past: first.present.slice(0, 1) }), ['cache has 1 layers', 'model has 2']);
  });
});

// ---------------------------------------------------------------------------------
// GELU
// ---------------------------------------------------------------------------------

describe('GELU', () => {
  /*
   * GPT-1 uses the tanh approximation (train.py `gelu`):
   *     gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
   * Hand values: gelu(0) = 0; at x = 1, √(2/π)·1.044715 = 0.7978845608·1.044715 =
   * 0.8335624, tanh(0.8335624) = 0.6823840, so gelu(1) = 0.5·1.6823840 = 0.8411920
   * (0.8411919906 to 10 digits) and gelu(−1) = gelu(1) − 1 = −0.1588080094 (see
   * the symmetry below). The exact GELU x·Φ(x) gives 0.8413447461 at 1: the two
   * differ by 1.5e-4, so a test at 1e-9 tells them apart.
   */
  test('hand-computed values, and the tanh form, not the erf form', () => {
    assert.equal(gelu(0), 0);
    assert.ok(Math.abs(gelu(1) - 0.8411919906) < 1e-9, `gelu(1) = ${gelu(1)}`);
    assert.ok(Math.abs(gelu(-1) - -0.1588080094) < 1e-9, `gelu(-1) = ${gelu(-1)}`);
    assert.ok(Math.abs(gelu(1) - 0.8413447461) > 1e-4, 'gelu(1) must not be the erf GELU');
    assert.ok(Math.abs(refGeluErf(1) - 0.8413447461) < 1e-9, 'the erf oracle itself');
    assert.ok(Math.abs(gelu(3) - 2.9963626) < 1e-6 && Math.abs(gelu(-3) - -0.0036374) < 1e-6);
    assert.equal(relu(-1), 0);
    assert.equal(relu(2.5), 2.5);
    assert.ok(Math.abs(swish(1) - 0.7310585786) < 1e-9, `swish(1) = σ(1) = ${swish(1)}`);
    assert.equal(ACTIVATIONS.gelu, gelu);
  });

  /*
   * Properties: gelu matches the formula everywhere (to float64 rounding, a few ulps
   * of |x|), satisfies gelu(−x) = gelu(x) − x (because tanh is odd:
   * 0.5(−x)(1 − tanh z) = 0.5x(1 + tanh z) − x), and is within 5e-4 of the erf GELU
   * (the approximation's maximum error, 4.73e-4 near |x| ≈ 2.7).
   */
  test('formula, symmetry gelu(−x) = gelu(x) − x, and closeness to x·Φ(x)', () => {
    fc.assert(
      fc.property(fc.double({ min: -3, max: 3, noNaN: true }), (x) => {
        const tol = 8 * U64 * (1 + Math.abs(x));
        assert.ok(Math.abs(gelu(x) - refGelu(x)) <= tol);
        assert.ok(Math.abs(gelu(-x) - (gelu(x) - x)) <= tol);
        assert.ok(Math.abs(gelu(x) - refGeluErf(x)) <= 5e-4);
      }),
      { numRuns: 500 },
    );
  });

  test('the model uses GELU by default, and the FFN applies it element-wise', async () => {
    assert.equal(PRESETS.gpt1.afn, 'gelu');
    assert.equal(GPT1.afn, 'gelu');
    const config = makeConfig({ n_vocab: 10, n_ctx: 4, n_embd: 8, n_head: 2, n_layer: 1 });
    assert.equal(config.afn, 'gelu', 'makeConfig keeps GELU unless told otherwise');
    const params = randomParams(config, 41, 0.5);
    const out = await ffnForward(params, config, 0, randomTensor([4, 8], 42));
    let negatives = 0;
    out.u.data.forEach((u, i) => {
      assert.ok(Math.abs(out.g.data[i] - refGelu(u)) <= 2 * U32 * Math.abs(refGelu(u)) + 1e-30, `g = ${out.g.data[i]}, gelu(${u}) = ${refGelu(u)}`);
      if (u < -0.1) negatives++;
    });
    assert.ok(negatives > 0, 'some pre-activations are negative, where GELU ≠ ReLU');
  });
});

// ---------------------------------------------------------------------------------
// Initialisation and parameter count
// ---------------------------------------------------------------------------------

describe('random initialisation', () => {
  test('the same seed gives identical parameters, another seed different ones', () => {
    const config = PRESETS.tiny;
    const a = initParams(config, rng(7));
    const b = initParams(config, rng(7));
    const c = initParams(config, rng(8));
    for (const [name] of paramShapes(config)) {
      assert.ok(equal(a[name], b[name]), `${name} differs for the same seed`);
      if (!/bias$|ln_\d\.weight$/.test(name)) assert.ok(!equal(a[name], c[name]), `${name} identical for different seeds`);
    }
  });

  /*
   * Weights and embeddings ~ N(0, 0.02²) (paper §4.1), biases 0, LayerNorm gains 1.
   * Statistical bounds for n iid N(0, σ²) draws: the sample mean has sd σ/√n and the
   * sample standard deviation s has sd ≈ σ/√(2n); the fraction within ±σ has sd
   * √(p(1−p)/n) around p = 0.6827. Each check allows 6 sd, which a correct sampler
   * exceeds with probability ~2·10⁻⁹ (and the seed is fixed, so the test is
   * deterministic), while 0.01 or 0.04, or a uniform distribution of std 0.02
   * (fraction within ±σ = 0.577), fall far outside for n ≥ 4096.
   */
  test('weights have std ≈ 0.02 and mean ≈ 0 (6-sigma bounds), biases 0, LayerNorm gains 1', () => {
    const config = makeConfig({ n_vocab: 500, n_ctx: 64, n_embd: 64, n_head: 4, n_layer: 2 });
    const params = initParams(config, rng(2018));
    validateParams(params, config);
    const sigma = config.initializer_range;
    assert.equal(sigma, 0.02);
    for (const [name] of paramShapes(config)) {
      const data = params[name].data;
      const n = data.length;
      if (/ln_\d\.weight$/.test(name)) {
        assert.ok(data.every((v) => v === 1), `${name} must be all ones`);
      } else if (name.endsWith('.bias')) {
        assert.ok(data.every((v) => v === 0), `${name} must be all zeros`);
      } else {
        let mean = 0;
        for (const v of data) mean += v / n;
        let s2 = 0;
        let within = 0;
        for (const v of data) {
          s2 += (v - mean) ** 2 / (n - 1);
          if (Math.abs(v) <= sigma) within++;
        }
        const s = Math.sqrt(s2);
        assert.ok(Math.abs(mean) <= (6 * sigma) / Math.sqrt(n), `${name}: mean ${mean}`);
        assert.ok(Math.abs(s - sigma) <= (6 * sigma) / Math.sqrt(2 * n), `${name}: std ${s}, n = ${n}`);
        const p = 0.6826894921;
        assert.ok(Math.abs(within / n - p) <= 6 * Math.sqrt((p * (1 - p)) / n), `${name}: ${within / n} of the values within ±σ`);
      }
    }
  });

  /*
   * countParams: per block c_attn d·3d + 3d, c_proj d² + d, ln_1 2d, c_fc d·n_inner +
   * n_inner, mlp c_proj n_inner·d + d, ln_2 2d; plus W_p n_ctx·d and W_e (V+special)·d.
   * GPT-1: 512·768 + 40478·768 + 12·(12·768² + 13·768) = 393216 + 31087104 + 85054464
   * = 116,534,784.
   */
  test('countParams(GPT1) = 116,534,784 and the formula holds for random configurations', () => {
    assert.equal(countParams(GPT1), 116534784);
    fc.assert(
      fc.property(smallConfigArb(), fc.integer({ min: 1, max: 50 }), (c, inner) => {
        const config = makeConfig({ ...c, n_inner: inner });
        const d = config.n_embd;
        const expected = config.n_ctx * d + nTokenRows(config) * d + config.n_layer * (4 * d * d + 2 * d * inner + inner + 9 * d);
        assert.equal(countParams(config), expected);
        const params = initParams(config, rng(1));
        assert.equal(Object.values(params).reduce((n, t) => n + t.data.length, 0), expected);
      }),
      { numRuns: 50 },
    );
  });
});
