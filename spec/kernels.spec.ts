/**
 * Property tests of the gpu.js matrix products (`src/kernels/matmul.ts`) against a
 * float64 reference, on every gpu.js backend that starts on this machine.
 *
 * A backend that cannot start is reported as a skipped test carrying the reason
 * (never a silent pass). A software GPU (SwiftShader, llvmpipe) is slow: this file
 * runs it only when `GPT1_BACKEND` names it, as `spec/gpu-backends.spec.ts` does,
 * in a child process; with `GPT1_BACKEND` set, that backend and `cpu` run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Backend, type BackendName, backendFor, probeBackend } from '../src/kernels/backend.ts';
import { bmm, bmmNT, bmmTN, matmul, matmulNT, matmulTN } from '../src/kernels/matmul.ts';
import { type Tensor, equal, tensor, zeros } from '../src/tensor.ts';
import { DISTS, type Dist, assertOneLineError, assertPure, destroyAfterTests, dimArb, productBoundViolation, randomTensor, seedArb } from './helpers.ts';
import { type ProductKind, refProduct } from './reference.ts';

// ---------------------------------------------------------------------------------
// Backends: start every one that can start, remember why the others cannot.
// ---------------------------------------------------------------------------------

const started = new Map<BackendName, Backend>();
const skipped = new Map<BackendName, string>();
/** Software GPUs: not skipped, run by spec/gpu-backends.spec.ts in a child process. */
const elsewhere = new Map<BackendName, string>();
const forced = process.env.GPT1_BACKEND as BackendName | undefined;
/** The backends of this run: Node's, or the forced one (and cpu, which must always start). */
const BACKENDS: readonly BackendName[] = forced ? [...new Set([forced, 'cpu' as const])] : ['webgpu', 'headlessgl', 'webasm', 'cpu'];
for (const name of BACKENDS) {
  const probe = await probeBackend(name);
  if (!probe.ok) {
    skipped.set(name, probe.reason);
    continue;
  }
  if (probe.adapter?.software && name !== forced) {
    elsewhere.set(name, `a software GPU (${probe.adapter.name}): spec/gpu-backends.spec.ts runs this file with GPT1_BACKEND=${name}`);
    continue;
  }
  try {
    const be = await backendFor(name);
    started.set(name, be);
    destroyAfterTests(be.gpu);
  } catch (e) {
    skipped.set(name, `backendFor threw: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------
// The seven products, described once
// ---------------------------------------------------------------------------------

interface Product {
  readonly kind: ProductKind;
  readonly batched: boolean;
  /** Operand shapes for C = [B,] M × N with inner dimension K. */
  shapes(B: number, M: number, K: number, N: number): [number[], number[]];
  run(a: Tensor, b: Tensor, bias: Tensor | undefined, be: Backend): Promise<Tensor>;
}

const PRODUCTS: readonly Product[] = [
  { kind: 'matmul', batched: false, shapes: (_B, M, K, N) => [[M, K], [K, N]], run: (a, b, _bias, be) => matmul(a, b, undefined, be) },
  { kind: 'matmulBias', batched: false, shapes: (_B, M, K, N) => [[M, K], [K, N]], run: (a, b, bias, be) => matmul(a, b, bias, be) },
  { kind: 'matmulNT', batched: false, shapes: (_B, M, K, N) => [[M, K], [N, K]], run: (a, b, _bias, be) => matmulNT(a, b, be) },
  { kind: 'matmulTN', batched: false, shapes: (_B, M, K, N) => [[K, M], [K, N]], run: (a, b, _bias, be) => matmulTN(a, b, be) },
  { kind: 'bmm', batched: true, shapes: (B, M, K, N) => [[B, M, K], [B, K, N]], run: (a, b, _bias, be) => bmm(a, b, be) },
  { kind: 'bmmNT', batched: true, shapes: (B, M, K, N) => [[B, M, K], [B, N, K]], run: (a, b, _bias, be) => bmmNT(a, b, be) },
  { kind: 'bmmTN', batched: true, shapes: (B, M, K, N) => [[B, K, M], [B, K, N]], run: (a, b, _bias, be) => bmmTN(a, b, be) },
];

/** Operands of one case, deterministic in (seed, dist). */
function operands(p: Product, B: number, M: number, K: number, N: number, seed: number, dist: Dist): { a: Tensor; b: Tensor; bias: Tensor | undefined } {
  const [as, bs] = p.shapes(B, M, K, N);
  return {
    a: randomTensor(as, seed, dist),
    b: randomTensor(bs, seed + 1, dist),
    bias: p.kind === 'matmulBias' ? randomTensor([N], seed + 2, dist) : undefined,
  };
}

/**
 * Runs one product and checks it against the reference:
 * - shape [B,] M × N;
 * - every cell within the dot-product bound (see `productBoundViolation`);
 * - for integer inputs, bit-exact: every product and partial sum of integers with
 *   |value| ≤ 9 and K ≤ 3072 is an integer of magnitude ≤ 81·3072 + 9 < 2²⁴, hence
 *   exactly representable in float32, so ANY summation order gives the exact sum;
 * - the operands are not modified (purity).
 */
async function checkCase(p: Product, be: Backend, B: number, M: number, K: number, N: number, seed: number, dist: Dist): Promise<Tensor> {
  const { a, b, bias } = operands(p, B, M, K, N, seed, dist);
  const got = await assertPure(`${p.kind} on ${be.name}`, [a, b, bias], () => p.run(a, b, bias, be));
  const ref = refProduct(p.kind, a, b, bias);
  assert.deepEqual([...got.shape], ref.shape, `${p.kind}: output shape`);
  const violation = productBoundViolation(got, ref);
  assert.equal(violation, undefined, `${p.kind} on ${be.name}, B=${B} M=${M} K=${K} N=${N} ${dist}: ${violation}`);
  if (dist === 'int') {
    for (let i = 0; i < ref.value.length; i++) {
      if (got.data[i] !== ref.value[i]) assert.fail(`${p.kind} on ${be.name}: integer case not exact at cell ${i}: ${got.data[i]} vs ${ref.value[i]}`);
    }
  }
  return got;
}

// ---------------------------------------------------------------------------------
// Per backend
// ---------------------------------------------------------------------------------

for (const name of BACKENDS.filter((n) => !elsewhere.has(n))) {
  describe(`kernels on backend ${name}`, () => {
    const be = started.get(name);
    if (be === undefined) {
      // Reported, not passed: the runner lists these as skipped with the reason.
      test(`all products on ${name}`, (t) => {
        t.skip(`backend ${name} cannot start: ${skipped.get(name)}`);
      });
      return;
    }

    for (const p of PRODUCTS) {
      /*
       * Invariant: C = A·B (in the product's layout) to within the a-priori float32
       * error bound of a K-term dot product, for random shapes (any dimension may be
       * 1; K sometimes above 1000, where gpu.js would silently cap a loop whose bound
       * it cannot see) and three value distributions.
       *
       * Derivation of the bound (Higham §3.1): each product xᵢyᵢ is rounded once and
       * each of the K−1 additions once, |δ| ≤ u = 2⁻²⁴ each; whatever the order (a
       * GPU may tree-sum, wasm SIMD sums lanes), the result is Σ xᵢyᵢ(1+θᵢ) with
       * |θᵢ| ≤ γ_K = K·u/(1−K·u). So |err| ≤ γ_K Σ|xᵢyᵢ|, which is the right scale:
       * relative to |Σ xᵢyᵢ| it is unbounded under cancellation. A missing, repeated
       * or misindexed term moves a cell by a whole |xᵢyᵢ| ≫ γ_K Σ|xⱼyⱼ| and fails.
       */
      test(`${p.kind} equals the float64 reference on random shapes and values`, async () => {
        const kArb = fc.oneof({ arbitrary: dimArb(64), weight: 6 }, { arbitrary: fc.integer({ min: 1001, max: 1100 }), weight: 1 });
        await fc.assert(
          fc.asyncProperty(
            p.batched ? fc.integer({ min: 1, max: 5 }) : fc.constant(1),
            dimArb(40),
            kArb,
            dimArb(40),
            seedArb,
            fc.constantFrom(...DISTS),
            async (B, M, K, N, seed, dist) => {
              await checkCase(p, be, B, M, K, N, seed, dist);
            },
          ),
          { numRuns: name === 'cpu' ? 30 : 40 },
        );
      });

      /*
       * Fixed large case: K = 3072 (the FFN's inner width, > gpu.js's 1000-iteration
       * default loop cap) and ≥ 4096 output cells, which is where the webasm backend
       * splits a kernel across its worker pool (and N = 65 leaves a scalar tail after
       * its 4-wide SIMD quads). If the loop stopped at 1000 the cells would miss
       * 2072 terms: orders of magnitude outside the bound, and not exact for integers.
       * Also: the same call twice gives bit-identical results (kernels are
       * deterministic; the worker split must not change any cell).
       */
      test(`${p.kind} with K = 3072 and a threaded-size output`, async () => {
        const [B, M, N] = p.batched ? [2, 33, 65] : [1, 67, 65];
        for (const dist of ['normal', 'int'] as const) {
          const first = await checkCase(p, be, B, M, 3072, N, 7, dist);
          const { a, b, bias } = operands(p, B, M, 3072, N, 7, dist);
          assert.ok(equal(first, await p.run(a, b, bias, be)), `${p.kind}: a second identical call gave different bits`);
        }
      });
    }

    /*
     * Invariant: kernel calls in flight at the same time do not interfere. The model
     * awaits one product at a time, but callers may run several forwards at once
     * (Promise.all), and the same compiled kernel (same product and shape) then has
     * several launches pending; on webasm they share the kernel's wasm memory and
     * worker pool. Each concurrent result must equal, bit for bit, the result of the
     * same call made alone.
     */
    test('concurrent launches of one compiled kernel give the results of sequential ones', async () => {
      const b = randomTensor([64, 80], 99);
      const as = [0, 1, 2, 3, 4].map((s) => randomTensor([80, 64], s)); // 6400 cells: the threaded path on webasm
      const alone: Tensor[] = [];
      for (const a of as) alone.push(await matmul(a, b, undefined, be));
      const together = await Promise.all(as.map((a) => matmul(a, b, undefined, be)));
      together.forEach((c, i) => assert.ok(equal(c, alone[i]), `concurrent call ${i} differs from the same call alone`));
    });

    /*
     * Degenerate sizes. K = 0: every cell is an empty sum, exactly 0 (plus the bias,
     * broadcast over rows). M = 0, N = 0 or B = 0: an empty result of the right shape.
     * No reference needed: the values are exact by definition.
     */
    test('empty dimensions: K = 0 gives zeros (or the bias), a 0 in M, N or B gives an empty result', async () => {
      for (const p of PRODUCTS) {
        const [as, bs] = p.shapes(2, 3, 0, 4);
        const c = await p.run(zeros(as), zeros(bs), p.kind === 'matmulBias' ? tensor([4], Float32Array.of(1, -2, 3, 0.5)) : undefined, be);
        assert.deepEqual([...c.shape], p.batched ? [2, 3, 4] : [3, 4], `${p.kind} K=0 shape`);
        const expected = p.kind === 'matmulBias' ? [1, -2, 3, 0.5, 1, -2, 3, 0.5, 1, -2, 3, 0.5] : new Array(c.data.length).fill(0);
        assert.deepEqual(Array.from(c.data), expected, `${p.kind} K=0 values`);
        for (const [B, M, N] of [[2, 0, 4], [2, 3, 0], ...(p.batched ? [[0, 3, 4]] : [])]) {
          const [xs, ys] = p.shapes(B, M, 5, N);
          const e = await p.run(randomTensor(xs, 1), randomTensor(ys, 2), p.kind === 'matmulBias' ? randomTensor([N], 3) : undefined, be);
          assert.deepEqual([...e.shape], p.batched ? [B, M, N] : [M, N], `${p.kind} empty shape`);
          assert.equal(e.data.length, 0);
        }
      }
    });
  });
}

// ---------------------------------------------------------------------------------
// Shape errors (checked before any kernel runs, so on the first started backend)
// ---------------------------------------------------------------------------------

describe('kernel shape errors', () => {
  const be = started.get('webasm') ?? started.get('cpu');
  /*
   * Invariant: a product whose operands do not fit throws one line naming the
   * product and both shapes, instead of reading past a buffer or returning garbage.
   */
  test('mismatched inner dimensions name the product and both shapes', async () => {
    assert.ok(be !== undefined, 'the cpu backend always starts');
    const cases: [string, () => Promise<Tensor>, string[]][] = [
      ['matmul', () => matmul(zeros([2, 3]), zeros([4, 5]), undefined, be), ['matmul', 'inner dimensions disagree', '[2, 3]', '[4, 5]']],
      ['matmulNT', () => matmulNT(zeros([2, 3]), zeros([5, 4]), be), ['matmulNT', 'inner dimensions disagree', '[2, 3]', '[5, 4]']],
      ['matmulTN', () => matmulTN(zeros([3, 2]), zeros([4, 5]), be), ['matmulTN', 'inner dimensions disagree', '[3, 2]', '[4, 5]']],
      ['bmm K', () => bmm(zeros([2, 2, 3]), zeros([2, 4, 5]), be), ['bmm', 'inner dimensions disagree', '[2, 2, 3]', '[2, 4, 5]']],
      ['bmm B', () => bmm(zeros([2, 2, 3]), zeros([3, 3, 5]), be), ['bmm', 'disagree', '[2, 2, 3]', '[3, 3, 5]']],
      ['bmmNT', () => bmmNT(zeros([2, 2, 3]), zeros([2, 5, 4]), be), ['bmmNT', 'disagree', '[2, 2, 3]', '[2, 5, 4]']],
      ['bmmTN', () => bmmTN(zeros([2, 3, 2]), zeros([2, 4, 5]), be), ['bmmTN', 'disagree', '[2, 3, 2]', '[2, 4, 5]']],
    ];
    for (const [, run, parts] of cases) await assertOneLineError(run, parts);
  });

  test('wrong ranks and a misshapen bias are rejected with the offending shape', async () => {
    await assertOneLineError(() => matmul(zeros([2, 3, 1]), zeros([3, 5]), undefined, be), ['matmul', 'rank 2', '[2, 3, 1]']);
    await assertOneLineError(() => matmulNT(zeros([2, 3]), zeros([3]), be), ['matmulNT', 'rank 2', '[3]']);
    await assertOneLineError(() => bmm(zeros([2, 3]), zeros([2, 3, 5]), be), ['bmm', 'rank 3', '[2, 3]']);
    await assertOneLineError(() => bmmTN(zeros([1, 2, 3]), zeros([2, 5]), be), ['bmmTN', 'rank 3', '[2, 5]']);
    await assertOneLineError(() => matmul(zeros([2, 3]), zeros([3, 5]), zeros([4]), be), ['matmul', 'bias', '[4]', '[5]']);
    await assertOneLineError(() => matmul(zeros([2, 3]), zeros([3, 5]), zeros([1, 5]), be), ['matmul', 'bias', '[1, 5]']);
  });
});

/*
 * The skip reasons are part of the report: print them once so a run's log says
 * which backends were exercised.
 */
test('backend availability', () => {
  assert.ok(started.has('cpu'), 'the cpu backend must always start');
  for (const [name, why] of skipped) console.log(`# backend ${name} skipped: ${why}`);
  for (const [name, why] of elsewhere) console.log(`# backend ${name} runs elsewhere: ${why}`);
  console.log(`# backends exercised: ${[...started.keys()].join(', ')}`);
});
