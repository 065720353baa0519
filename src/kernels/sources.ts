/**
 * The kernel functions: gpu.js parses their source and compiles it for a backend;
 * JavaScript never calls them. All of them compute the same thing, a strided product
 *
 *     C[z, m, n] = Σ_k A[z·sAz + m·sAm + k·sAk] · B[z·sBz + k·sBk + n·sBn]
 *
 * over flat row-major buffers, where the strides (in elements) say how the operands
 * are laid out. One formula covers every product of `matmul.ts`:
 *
 * | product | A layout | sAm | sAk | B layout | sBk | sBn |
 * |---|---|---|---|---|---|---|
 * | A·B   | [M, K] | K | 1 | [K, N] | N | 1 |
 * | A·Bᵀ  | [M, K] | K | 1 | [N, K] | 1 | K |
 * | Aᵀ·B  | [K, M] | 1 | M | [K, N] | N | 1 |
 *
 * so no kernel needs an operand transposed: the strides absorb the layout (on
 * webasm, `gemm.ts` still lays A·Bᵀ out so that B is contiguous along n, for one
 * `v128.load` per 4 columns). The batch strides sAz/sBz are M·K and K·N for `bmm*`
 * and 0 otherwise.
 *
 * | kernel | backend | one thread computes |
 * |---|---|---|
 * | {@link kernelSimple} | any (the readable reference) | C[z, m, n] |
 * | {@link kernelRows4} | webasm, M ≥ 4 | C[z, 4y … 4y+3, x] (in column tiles, z is the tile: columns 32z + x) |
 * | {@link kernelRow} | webasm, M < 4 | C[z, y, x] |
 * | {@link kernelRowPanels} | webasm, M < 4, a resident weight | C[m, 16y + x], m = z |
 * | {@link kernelRows4Cpu} | cpu | C[z, 4y … 4y+3, x] |
 * | {@link kernelCols4} | webgpu, headlessgl, webgl2, webgl | C[z, y, 4x … 4x+3] |
 *
 * Thread mapping, unless a kernel says otherwise: `this.thread.x` is the column n,
 * `this.thread.y` the row (or the block of 4 rows), `this.thread.z` the batch entry.
 * On the webasm backend the x axis is also the SIMD axis: 4 adjacent columns run as
 * the 4 lanes of one f32x4.
 *
 * All loop bounds are constants, so gpu.js sees them at compile time (a loop bound
 * it cannot see is silently capped at 1000 iterations).
 *
 * @module
 */

/** What a kernel function may read from `this` (gpu.js's kernel context). */
export interface KernelThis {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: Readonly<Record<string, number>>;
}

/**
 * **The simple kernel** — one output cell per thread, the formula above written
 * out. Readable and portable: every other kernel here sums the same terms in the
 * same order; the tests force it on any backend (`kernels: 'simple'`, the
 * `KernelOverrides` of `gemm.ts`; `spec/kernels-fast.spec.ts` checks it beside the others).
 *
 * On webasm it is slow (≈ 1 GFLOP/s per core, see `bench/NOTES.md`): every index is
 * float arithmetic (gpu.js types every local, including the loop counter, as f32)
 * that is converted to an integer at every load, and each SIMD step gathers 4
 * values of B and 1 of A for only 4 multiply-adds.
 */
export function kernelSimple(this: KernelThis, a: Float32Array, b: Float32Array): number {
  const z = this.thread.z;
  const m = this.thread.y;
  const n = this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[z * this.constants.sAz + m * this.constants.sAm + k * this.constants.sAk] * b[z * this.constants.sBz + k * this.constants.sBk + n * this.constants.sBn];
  }
  return sum;
}

/**
 * **The fast kernel** (webasm) — each thread computes a column of 4 rows,
 * C[z, 4y … 4y+3, x], and returns them as an `Array(4)`.
 *
 * Why it is faster than {@link kernelSimple} on the webasm backend (measured in
 * `bench/NOTES.md`):
 * 1. *4 rows per thread.* In a SIMD step the 4 lanes are 4 adjacent columns; the B
 *    value `b[bi]` differs per lane and costs a 4-load gather, the A values are the
 *    same for all lanes (one scalar load + splat). One gather now feeds 16
 *    multiply-adds instead of 4.
 * 2. *Running indices, truncated once.* gpu.js keeps every local in f32 and turns a
 *    float index into an integer with a saturating truncation at every load (6–9
 *    x86 instructions). `ai` and `bi` are advanced by a stride per step (exact: all
 *    indices stay below 2²⁴, which the tiling in `gemm.ts` guarantees), and `ai | 0`
 *    / `bi | 0` are integer expressions: the same truncation written 4 times is one
 *    value that V8 computes once, and `(ai | 0) + sAm` is integer arithmetic with a
 *    constant (folded into the load's addressing mode).
 *
 * With the project's gpu.js patch (`optimizeWasm`, docs/gpujs-patch.md) the same
 * source compiles much better: `k`, `ai` and `bi` become i32 locals (no truncation
 * at all), `bi` is held as one scalar (its 4 lanes are `bi … bi+3` when sBn = 1),
 * the 4 adjacent B values are one `v128.load` and each A value one
 * `v128.load32_splat`: 31 x86 instructions per 16 multiply-adds instead of 86.
 * `gemm.ts` arranges every product so that sBn = 1.
 *
 * Each of s0…s3 sums its K products in increasing k, exactly like the simple
 * kernel, so both give bit-identical results. Rows 4y+r ≥ M (when M is not a
 * multiple of 4) read past the last row of A but stay inside the kernel's wasm
 * memory (see `gemm.ts`); their sums are discarded.
 *
 * Constants: K, sAz, sAm, sAm2 = 2·sAm, sAm3 = 3·sAm, sAm4 = 4·sAm, sAk, sBz, sBk, sBn
 * (integers: the kernel is built with `strictIntegers`).
 */
export function kernelRows4(this: KernelThis, a: Float32Array, b: Float32Array): number[] {
  let ai = this.thread.z * this.constants.sAz + this.thread.y * this.constants.sAm4;
  let bi = this.thread.z * this.constants.sBz + this.thread.x * this.constants.sBn;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; k < this.constants.K; k++) {
    const bk = b[bi | 0];
    s0 += a[ai | 0] * bk;
    s1 += a[(ai | 0) + this.constants.sAm] * bk;
    s2 += a[(ai | 0) + this.constants.sAm2] * bk;
    s3 += a[(ai | 0) + this.constants.sAm3] * bk;
    ai += this.constants.sAk;
    bi += this.constants.sBk;
  }
  return [s0, s1, s2, s3];
}

/**
 * **The fast kernel for 1–3 rows** (webasm; generation runs every product with
 * M = 1) — one output per thread like {@link kernelSimple}, with the integer
 * running indices of {@link kernelRows4}, 4 terms per loop step (one truncation of
 * each running index per 4 terms) and the remaining K mod 4 terms after the loop.
 * Four rows per thread would waste 3/4 of the work when M = 1. The terms are summed
 * in increasing k, like the simple kernel.
 *
 * Constants: K4 = ⌊K/4⌋, KR = K mod 4, sAz, sAm, sAk, sAk2, sAk3, sAk4, sBz, sBn,
 * sBk, sBk2, sBk3, sBk4 (the 2·, 3·, 4· multiples of the strides).
 */
export function kernelRow(this: KernelThis, a: Float32Array, b: Float32Array): number {
  let ai = this.thread.z * this.constants.sAz + this.thread.y * this.constants.sAm;
  let bi = this.thread.z * this.constants.sBz + this.thread.x * this.constants.sBn;
  let sum = 0;
  for (let k = 0; k < this.constants.K4; k++) {
    sum += a[ai | 0] * b[bi | 0];
    sum += a[(ai | 0) + this.constants.sAk] * b[(bi | 0) + this.constants.sBk];
    sum += a[(ai | 0) + this.constants.sAk2] * b[(bi | 0) + this.constants.sBk2];
    sum += a[(ai | 0) + this.constants.sAk3] * b[(bi | 0) + this.constants.sBk3];
    ai += this.constants.sAk4;
    bi += this.constants.sBk4;
  }
  for (let k = 0; k < this.constants.KR; k++) {
    sum += a[ai | 0] * b[bi | 0];
    ai += this.constants.sAk;
    bi += this.constants.sBk;
  }
  return sum;
}

/**
 * **The matrix-vector kernel with the weight resident and packed in panels**
 * (webasm, M < 4: generation). Two changes to {@link kernelRow}, both for a product
 * that reads every weight once per token and is limited by memory, not arithmetic:
 * 1. *Resident.* B is the kernel constant `w` instead of an argument. gpu.js copies
 *    every argument into the kernel's wasm memory at every call, but a constant
 *    only once, when the kernel is built; for a matrix-vector product copying the
 *    weight would cost as much as using it. One such kernel exists per weight tile
 *    (see `gemm.ts`).
 * 2. *Packed panels.* `w` holds B as panels of P = 16 columns, each panel's K × 16
 *    numbers contiguous: element (k, n) at ⌊n/16⌋·16K + 16k + n mod 16. A row-major
 *    B puts the 4 columns of a SIMD step 4·N bytes apart from one k to the next
 *    (12 KB for N = 3072), a new page at every step, which the hardware prefetcher
 *    does not follow; a panel is read front to back. Measured 1.8–2.6× per product
 *    (`bench/NOTES.md`, idea 20).
 *
 * Thread mapping: `thread.x` is the column within the panel (0…15, the SIMD lanes
 * are 4 adjacent ones), `thread.y` the panel, `thread.z` the row m; the output
 * [16, N/16, M] is, flat, the rows of C padded to a multiple of 16 columns. Same
 * terms in the same increasing-k order as {@link kernelSimple}.
 *
 * Constants: K4 = ⌊K/4⌋, KR = K mod 4, sAm, sAk, sAk2, sAk3, sAk4, sBp = 16K (one
 * panel), P = 16, P2, P3, P4 (its multiples: one k step within a panel), w.
 */
export function kernelRowPanels(this: KernelThis & { constants: { w: Float32Array } }, a: Float32Array): number {
  let ai = this.thread.z * this.constants.sAm;
  let bi = this.thread.y * this.constants.sBp + this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.K4; k++) {
    sum += a[ai] * this.constants.w[bi];
    sum += a[ai + this.constants.sAk] * this.constants.w[bi + this.constants.P];
    sum += a[ai + this.constants.sAk2] * this.constants.w[bi + this.constants.P2];
    sum += a[ai + this.constants.sAk3] * this.constants.w[bi + this.constants.P3];
    ai += this.constants.sAk4;
    bi += this.constants.P4;
  }
  for (let k = 0; k < this.constants.KR; k++) {
    sum += a[ai] * this.constants.w[bi];
    ai += this.constants.sAk;
    bi += this.constants.P;
  }
  return sum;
}

/**
 * **The fast kernel of the cpu backend** — 4 rows per thread like
 * {@link kernelRows4}, but with plain float indices: the cpu backend transpiles to
 * JavaScript, where `x | 0` is not free and a float index is an ordinary number.
 */
export function kernelRows4Cpu(this: KernelThis, a: Float32Array, b: Float32Array): number[] {
  let ai = this.thread.z * this.constants.sAz + this.thread.y * this.constants.sAm4;
  let bi = this.thread.z * this.constants.sBz + this.thread.x * this.constants.sBn;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; k < this.constants.K; k++) {
    const bk = b[bi];
    s0 += a[ai] * bk;
    s1 += a[ai + this.constants.sAm] * bk;
    s2 += a[ai + this.constants.sAm2] * bk;
    s3 += a[ai + this.constants.sAm3] * bk;
    ai += this.constants.sAk;
    bi += this.constants.sBk;
  }
  return [s0, s1, s2, s3];
}

/**
 * **The GPU kernel** (webgpu, headlessgl, webgl2, webgl) — each thread computes 4
 * adjacent columns of one row, C[z, y, 4x … 4x+3], and returns them as an
 * `Array(4)` (a `vec4` on the GPU: one RGBA texel, one 16-byte store).
 *
 * Shaped for a GPU rather than for wasm:
 * 1. *4 outputs per thread.* The A value a[z, y, k] is the same for the 4 columns:
 *    one load feeds 4 multiply-adds (the simple kernel loads A and B once per
 *    multiply-add), and a quarter as many threads are launched.
 * 2. *The result is row-major as it comes.* Texel (z, y, x) holds columns 4x … 4x+3,
 *    so the flat output [tz, M, Np/4, 4] already is C [tz, M, Np]: nothing to unpack.
 * 3. *Index arithmetic below 2²⁴.* GPUs (and gpu.js's GL backends) compute indices
 *    in float32, exact only below 2²⁴; `gemm.ts` cuts every operand into tiles of at
 *    most 4096² = 2²⁴ numbers (and 4096 per dimension, a texture side every WebGL2
 *    device supports), so every index a thread forms is exact.
 *
 * B must hold whole quads of columns: `gemm.ts` pads a ragged tile with zero columns
 * (the padded sums are dropped), so no thread reads past its operand. Each sum runs
 * over k in increasing order, like {@link kernelSimple}.
 *
 * Constants: K, sAz, sAm, sAk, sBz, sBk, sBn, sBn2 = 2·sBn, sBn3 = 3·sBn, sBn4 = 4·sBn.
 */
export function kernelCols4(this: KernelThis, a: Float32Array, b: Float32Array): number[] {
  const aBase = this.thread.z * this.constants.sAz + this.thread.y * this.constants.sAm;
  const bBase = this.thread.z * this.constants.sBz + this.thread.x * this.constants.sBn4;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; k < this.constants.K; k++) {
    const av = a[aBase + k * this.constants.sAk];
    const bi = bBase + k * this.constants.sBk;
    s0 += av * b[bi];
    s1 += av * b[bi + this.constants.sBn];
    s2 += av * b[bi + this.constants.sBn2];
    s3 += av * b[bi + this.constants.sBn3];
  }
  return [s0, s1, s2, s3];
}
