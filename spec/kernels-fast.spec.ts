/**
 * The fast kernel layer (`src/kernels/gemm.ts`, `sources.ts`) against the simple
 * reference kernels (`spec/reference-kernels.ts`, the project's first kernels) and a
 * float64 oracle (`spec/reference.ts`), on the CPU backends that start here
 * (webasm, cpu). The GPU backends' code path — the GPU kernel (`kernelCols4`) with
 * texture-sized tiles — and the simple strided kernel are exercised here too, by
 * forcing them, with tiny tiles, onto webasm and cpu; on a (software) GPU itself
 * they run in `spec/gpu-backends.spec.ts` and `spec/browser-kernels.spec.ts`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Backend, type BackendName, backendFor, unavailableReason } from '../src/kernels/backend.ts';
import { GL_LIMITS, type KernelOverrides, type Product, cutsK } from '../src/kernels/gemm.ts';
import { bmm, bmmNT, bmmTN, matmul, matmulNT, matmulTN } from '../src/kernels/matmul.ts';
import { referenceBmm, referenceBmmNT, referenceBmmTN, referenceMatmul, referenceMatmulNT, referenceMatmulTN } from './reference-kernels.ts';
import { type Tensor, equal, tensor } from '../src/tensor.ts';
import { DISTS, type Dist, assertPure, destroyAfterTests, dimArb, productBoundViolation, randomData, randomTensor, seedArb } from './helpers.ts';
import { type ProductKind, refProduct } from './reference.ts';

/** A backend, possibly with forced tiles or kernel (see `KernelOverrides` in gemm.ts). */
type ForcedBackend = Backend & KernelOverrides;

/** The same backend (same `GPU` instance) with forced tiles or kernel: a copy, which compiles its own kernels. */
function withKernelOptions(be: Backend, options: KernelOverrides): ForcedBackend {
  return { ...be, ...options };
}

const started = new Map<BackendName, Backend>();
const skipped = new Map<BackendName, string>();
for (const name of ['webasm', 'cpu'] as const) {
  const why = await unavailableReason(name);
  if (why !== undefined) {
    skipped.set(name, why);
    continue;
  }
  const be = await backendFor(name);
  started.set(name, be);
  destroyAfterTests(be.gpu);
}

// ---------------------------------------------------------------------------------
// The products: the fast entry point, its reference kernel, and the strided
// description gemm sees (to know whether the K axis gets cut)
// ---------------------------------------------------------------------------------

interface Case {
  readonly kind: ProductKind;
  readonly batched: boolean;
  shapes(B: number, M: number, K: number, N: number): [number[], number[]];
  fast(a: Tensor, b: Tensor, bias: Tensor | undefined, be: Backend): Promise<Tensor>;
  reference(a: Tensor, b: Tensor, bias: Tensor | undefined, be: Backend): Promise<Tensor>;
}

const CASES: readonly Case[] = [
  { kind: 'matmul', batched: false, shapes: (_B, M, K, N) => [[M, K], [K, N]], fast: (a, b, _c, be) => matmul(a, b, undefined, be), reference: (a, b, _c, be) => referenceMatmul(a, b, undefined, be) },
  { kind: 'matmulBias', batched: false, shapes: (_B, M, K, N) => [[M, K], [K, N]], fast: (a, b, c, be) => matmul(a, b, c, be), reference: (a, b, c, be) => referenceMatmul(a, b, c, be) },
  { kind: 'matmulNT', batched: false, shapes: (_B, M, K, N) => [[M, K], [N, K]], fast: (a, b, _c, be) => matmulNT(a, b, be), reference: (a, b, _c, be) => referenceMatmulNT(a, b, be) },
  { kind: 'matmulTN', batched: false, shapes: (_B, M, K, N) => [[K, M], [K, N]], fast: (a, b, _c, be) => matmulTN(a, b, be), reference: (a, b, _c, be) => referenceMatmulTN(a, b, be) },
  { kind: 'bmm', batched: true, shapes: (B, M, K, N) => [[B, M, K], [B, K, N]], fast: (a, b, _c, be) => bmm(a, b, be), reference: (a, b, _c, be) => referenceBmm(a, b, be) },
  { kind: 'bmmNT', batched: true, shapes: (B, M, K, N) => [[B, M, K], [B, N, K]], fast: (a, b, _c, be) => bmmNT(a, b, be), reference: (a, b, _c, be) => referenceBmmNT(a, b, be) },
  { kind: 'bmmTN', batched: true, shapes: (B, M, K, N) => [[B, K, M], [B, K, N]], fast: (a, b, _c, be) => bmmTN(a, b, be), reference: (a, b, _c, be) => referenceBmmTN(a, b, be) },
];

/** What gemm is given for this case (only the sizes matter to `cutsK`). */
function asProduct(B: number, M: number, K: number, N: number): Product {
  const none = { data: new Float32Array(0), offset: 0, sz: 0, si: 0, sj: 0 };
  return { batch: B, M, K, N, a: none, b: none };
}

/**
 * One case: the fast product must
 * - lie within the a-priori float32 bound of the float64 value (see
 *   `productBoundViolation` in helpers.ts: |err| ≤ (γ_K + γ_K⁶⁴)·Σ|a_k b_k|);
 * - equal the reference kernel bit for bit whenever gemm does not cut K: both then
 *   sum the same K products in the same increasing-k order with the same
 *   operations (4 rows per thread or 1 changes which thread computes a cell, not
 *   how), so any difference is a bug, not rounding. One exception: a bias on the
 *   cpu backend, which evaluates a kernel in float64 and rounds once at its
 *   output; the reference adds the bias inside its kernel (one rounding of
 *   sum + bias), gemm after it (sum rounded, then sum + bias rounded). On webasm
 *   every operation is float32 and the two agree;
 * - for integer-valued inputs, be exact even when K is cut (every partial sum is
 *   an integer below 2²⁴, so any order gives the exact sum);
 * - leave its operands untouched.
 */
async function checkCase(c: Case, be: ForcedBackend, refBe: Backend, B: number, M: number, K: number, N: number, seed: number, dist: Dist): Promise<Tensor> {
  const [as, bs] = c.shapes(B, M, K, N);
  const a = randomTensor(as, seed, dist);
  const b = randomTensor(bs, seed + 1, dist);
  const bias = c.kind === 'matmulBias' ? randomTensor([N], seed + 2, dist) : undefined;
  const label = `${c.kind} on ${be.name}${be.tiling ? ` tiles ≤ ${be.tiling.maxDim}/${be.tiling.maxElements}` : ''}${be.kernels === 'simple' ? ' (simple kernel)' : ''} B=${B} M=${M} K=${K} N=${N} ${dist}`;
  const got = await assertPure(label, [a, b, bias], () => c.fast(a, b, bias, be));
  const violation = productBoundViolation(got, refProduct(c.kind, a, b, bias));
  assert.equal(violation, undefined, `${label}: ${violation}`);
  const cut = cutsK(be, asProduct(c.batched ? B : 1, M, K, N));
  const biasOnCpu = bias !== undefined && be.name === 'cpu';
  if ((!cut && !biasOnCpu) || dist === 'int') {
    const ref = await c.reference(a, b, bias, refBe);
    for (let i = 0; i < ref.data.length; i++) {
      // `!==`, not Object.is: a zero-padded bucket may turn a −0 sum into +0
      if (got.data[i] !== ref.data[i]) assert.fail(`${label}: cell ${i} is ${got.data[i]}, the reference kernel gives ${ref.data[i]} (K ${cut ? 'cut' : 'not cut'})`);
    }
  }
  return got;
}

/** Shapes: any dimension may be 1 or ragged (not a multiple of 4); K sometimes above 1000. */
const shapeArb = (batched: boolean, maxMN: number) =>
  fc.tuple(
    batched ? fc.integer({ min: 1, max: 4 }) : fc.constant(1),
    dimArb(maxMN),
    fc.oneof({ arbitrary: dimArb(70), weight: 5 }, { arbitrary: fc.integer({ min: 1001, max: 1100 }), weight: 1 }),
    dimArb(maxMN),
  );

for (const name of ['webasm', 'cpu'] as const) {
  describe(`fast kernels on ${name}`, () => {
    const be = started.get(name);
    if (be === undefined) {
      test(`fast kernels on ${name}`, (t) => t.skip(`backend ${name} cannot start: ${skipped.get(name)}`));
      return;
    }
    const variants: [string, ForcedBackend][] = [
      ['the default (fast) kernels', be],
      ['tiny tiles (the GL tiling, forced: ≤ 8 per dimension, ≤ 64 numbers per operand)', withKernelOptions(be, { tiling: { maxDim: 8, maxElements: 64 } })],
      ['the simple strided kernel (forced) with small tiles', withKernelOptions(be, { kernels: 'simple', tiling: { maxDim: 16, maxElements: 256 } })],
      ['the GPU kernel, 4 columns per thread (forced) with small tiles', withKernelOptions(be, { kernels: 'cols4', tiling: { maxDim: 16, maxElements: 256 } })],
      ['the GPU kernel, 4 columns per thread (forced) with the GL tiles', withKernelOptions(be, { kernels: 'cols4', tiling: GL_LIMITS })],
    ];
    for (const [what, variant] of variants) {
      for (const c of CASES) {
        /*
         * Invariant (property): fast == reference kernel (bit for bit unless K is
         * cut) == float64 oracle (within the bound), for random shapes including
         * ragged ones and K > 1000, three value distributions.
         */
        test(`${c.kind} with ${what} equals the reference kernels`, async () => {
          await fc.assert(
            fc.asyncProperty(shapeArb(c.batched, 40), seedArb, fc.constantFrom(...DISTS), async ([B, M, K, N], seed, dist) => {
              await checkCase(c, variant, be, B, M, K, N, seed, dist);
            }),
            { numRuns: name === 'cpu' || variant !== be ? 12 : 25 },
          );
        });
      }
    }

    /*
     * Fixed cases at the model's sizes: 4096+ output cells (threaded on webasm), K =
     * 3072 > gpu.js's 1000-iteration default loop cap, ragged M and N, and M < 4
     * (the matrix-vector kernel, with the weight resident in its kernel).
     */
    test('model-sized and matrix-vector shapes', async () => {
      for (const [B, M, K, N] of [[1, 67, 3072, 65], [1, 64, 768, 96], [1, 1, 768, 2304], [1, 3, 3072, 768], [1, 2, 768, 77]]) {
        for (const c of CASES.filter((x) => !x.batched)) await checkCase(c, be, be, B, M, K, N, 11, 'normal');
      }
      for (const [B, M, K, N] of [[12, 1, 64, 67], [12, 1, 67, 64], [12, 9, 64, 9]]) {
        for (const c of CASES.filter((x) => x.batched)) await checkCase(c, be, be, B, M, K, N, 12, 'normal');
      }
    });

    /*
     * Invariant: a weight kept resident in a matrix-vector kernel is keyed by the
     * weight, not by its shape: two different weights of the same shape (including
     * two views of one buffer) give their own products, and a second call gives
     * the same bits.
     */
    test('resident matrix-vector weights are per weight, not per shape', async () => {
      const K = 256;
      const N = 300; // 76,800 numbers: resident on webasm
      const buffer = randomData(5, 2 * K * N);
      const w1 = tensor([K, N], buffer.subarray(0, K * N));
      const w2 = tensor([K, N], buffer.subarray(K * N));
      const w3 = randomTensor([K, N], 6);
      const x = randomTensor([1, K], 7);
      for (const w of [w1, w2, w3, w1]) {
        const got = await matmul(x, w, undefined, be);
        assert.equal(productBoundViolation(got, refProduct('matmul', x, w)), undefined);
        assert.ok(equal(got, await matmul(x, w, undefined, be)), 'a second identical call gave different bits');
      }
    });

    /*
     * The tied head at full size: h·W_eᵀ with W_e [40478, 768] (31 M numbers). The
     * original kernels computed indices in float32, which is exact only below 2²⁴,
     * so columns n ≥ 21846 read the wrong weights; gemm's tiles keep every index
     * below 2²⁴. Checked on all columns past 21000 against float64.
     */
    test('the [T, 40478] tied head: every index below 2^24, with default and GL tiles', async (t) => {
      if (name === 'cpu') return t.skip('62 M multiply-adds on one JavaScript thread: too slow for the suite; the tiling is the same code on every backend and runs here on webasm');
      const V = 40478;
      const d = 768;
      const We = randomTensor([V, d], 21);
      const h = randomTensor([2, d], 22);
      for (const variant of [be, withKernelOptions(be, { tiling: GL_LIMITS }), withKernelOptions(be, { kernels: 'cols4', tiling: GL_LIMITS })]) {
        const got = await matmulNT(h, We, variant);
        assert.deepEqual([...got.shape], [2, V]);
        const cols = [0, 1, 4095, 4096, 21845, 21846, 30000, V - 1];
        for (const m of [0, 1]) {
          for (const n of cols) {
            let s = 0;
            let abs = 0;
            for (let k = 0; k < d; k++) {
              const p = h.data[m * d + k] * We.data[n * d + k];
              s += p;
              abs += Math.abs(p);
            }
            const err = Math.abs(got.data[m * V + n] - s);
            assert.ok(err <= 2 * d * 2 ** -24 * abs + 1e-30, `logit (${m}, ${n}) is ${got.data[m * V + n]}, float64 ${s}`);
          }
        }
      }
    });
  });
}
