/**
 * The reference kernels: the first, straightforward gpu.js kernels of this project,
 * one per product, kept verbatim as the readable definition of what every product
 * computes and as the oracle of `spec/kernels-fast.spec.ts` (the fast kernels of
 * `src/kernels/gemm.ts` must give the same bits); `bench/bench.ts` times them as its
 * *original* column. They are test code: the float64 oracle of the whole model is
 * `spec/reference.ts`, and these are its float32, gpu.js counterpart for the products.
 *
 * The model does not call these (it calls `src/kernels/matmul.ts`); they have no
 * tiling, so on a GL backend a product larger than a texture fails here.
 *
 * Every linear map of GPT-1 is one of three products, batched or not:
 *
 * | function | computes | shapes | used for |
 * |---|---|---|---|
 * | {@link referenceMatmul} | C = A·B (+ b) | [M,K]·[K,N] → [M,N] | Conv1D layers `x·W + b`; attention `probs·V` |
 * | {@link referenceMatmulNT} | C = A·Bᵀ | [M,K]·[N,K] → [M,N] | tied head `h·Weᵀ`; attention scores `Q·Kᵀ`; backward `dY·Wᵀ` |
 * | {@link referenceMatmulTN} | C = Aᵀ·B | [K,M]·[K,N] → [M,N] | weight gradients `Xᵀ·dY` |
 *
 * The batched forms ({@link referenceBmm}, {@link referenceBmmNT}, {@link referenceBmmTN}) take a leading batch
 * axis `[B, ·, ·]` on both operands and run all B products in one kernel launch: one
 * batch entry per attention head.
 *
 * ## The kernel
 * gpu.js runs a kernel function once per output cell. The cell is named by
 * `this.thread.x` (fastest axis: the column n), `this.thread.y` (the row m) and,
 * for batches, `this.thread.z` (the batch b). Inputs are flat row-major
 * `Float32Array`s, so element (m, k) of an [M, K] matrix is `a[m*K + k]`.
 *
 * Loop bounds come from `this.constants`: gpu.js silently stops a loop whose bound
 * it cannot see at compile time after 1000 iterations, which would truncate every
 * product with K > 1000 (the FFN's 3072) without an error.
 *
 * Kernels are compiled once per (backend, product, shape) and reused.
 *
 * @module
 */
import type { IKernelRunShortcut } from 'gpu.js';
import { type Backend, backend } from '../src/kernels/backend.ts';
import { type Tensor, showShape, tensor } from '../src/tensor.ts';
import { productDims } from '../src/kernels/shapes.ts';

// ---------------------------------------------------------------------------------
// Kernel sources. `this` is gpu.js's kernel context; the functions are never called
// directly by JavaScript, gpu.js parses their source and compiles it per backend.
// ---------------------------------------------------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any */
type KernelThis = { thread: { x: number; y: number; z: number }; constants: Record<string, number> };

/** C[m, n] = Σ_k A[m, k] · B[k, n] */
function kernelAB(this: KernelThis, a: Float32Array, b: Float32Array): number {
  const m = this.thread.y;
  const n = this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[m * this.constants.K + k] * b[k * this.constants.N + n];
  }
  return sum;
}

/** C[m, n] = bias[n] + Σ_k A[m, k] · B[k, n] */
function kernelABBias(this: KernelThis, a: Float32Array, b: Float32Array, bias: Float32Array): number {
  const m = this.thread.y;
  const n = this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[m * this.constants.K + k] * b[k * this.constants.N + n];
  }
  return sum + bias[n];
}

/** C[m, n] = Σ_k A[m, k] · B[n, k]   (B stored [N, K]) */
function kernelABt(this: KernelThis, a: Float32Array, b: Float32Array): number {
  const m = this.thread.y;
  const n = this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[m * this.constants.K + k] * b[n * this.constants.K + k];
  }
  return sum;
}

/** C[m, n] = Σ_k A[k, m] · B[k, n]   (A stored [K, M]) */
function kernelAtB(this: KernelThis, a: Float32Array, b: Float32Array): number {
  const m = this.thread.y;
  const n = this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[k * this.constants.M + m] * b[k * this.constants.N + n];
  }
  return sum;
}

/** C[z, m, n] = Σ_k A[z, m, k] · B[z, k, n] */
function kernelBatchAB(this: KernelThis, a: Float32Array, b: Float32Array): number {
  const z = this.thread.z;
  const m = this.thread.y;
  const n = this.thread.x;
  const aBase = z * this.constants.M * this.constants.K + m * this.constants.K;
  const bBase = z * this.constants.K * this.constants.N + n;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[aBase + k] * b[bBase + k * this.constants.N];
  }
  return sum;
}

/** C[z, m, n] = Σ_k A[z, m, k] · B[z, n, k] */
function kernelBatchABt(this: KernelThis, a: Float32Array, b: Float32Array): number {
  const z = this.thread.z;
  const m = this.thread.y;
  const n = this.thread.x;
  const aBase = z * this.constants.M * this.constants.K + m * this.constants.K;
  const bBase = z * this.constants.N * this.constants.K + n * this.constants.K;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[aBase + k] * b[bBase + k];
  }
  return sum;
}

/** C[z, m, n] = Σ_k A[z, k, m] · B[z, k, n] */
function kernelBatchAtB(this: KernelThis, a: Float32Array, b: Float32Array): number {
  const z = this.thread.z;
  const m = this.thread.y;
  const n = this.thread.x;
  const aBase = z * this.constants.K * this.constants.M + m;
  const bBase = z * this.constants.K * this.constants.N + n;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    sum += a[aBase + k * this.constants.M] * b[bBase + k * this.constants.N];
  }
  return sum;
}

const SOURCES = {
  AB: kernelAB,
  ABBias: kernelABBias,
  ABt: kernelABt,
  AtB: kernelAtB,
  BatchAB: kernelBatchAB,
  BatchABt: kernelBatchABt,
  BatchAtB: kernelBatchAtB,
} as const;
type KernelName = keyof typeof SOURCES;

// ---------------------------------------------------------------------------------
// Compilation cache and launching
// ---------------------------------------------------------------------------------

const compiled = new WeakMap<Backend, Map<string, IKernelRunShortcut>>();

/** The compiled kernel for one product and shape on one backend (compiled on first use). */
function getKernel(be: Backend, name: KernelName, dims: { B: number; M: number; K: number; N: number }): IKernelRunShortcut {
  let cache = compiled.get(be);
  if (cache === undefined) {
    cache = new Map();
    compiled.set(be, cache);
  }
  const key = `${name}:${dims.B}x${dims.M}x${dims.K}x${dims.N}`;
  let kernel = cache.get(key);
  if (kernel === undefined) {
    const batched = name.startsWith('Batch');
    kernel = be.gpu.createKernel(SOURCES[name] as any, {
      output: batched ? [dims.N, dims.M, dims.B] : [dims.N, dims.M],
      constants: { M: dims.M, K: dims.K, N: dims.N },
      precision: 'single',
      tactic: 'precision',
      asyncMode: be.asyncMode,
    });
    cache.set(key, kernel);
  }
  return kernel;
}

/** gpu.js returns rows as nested arrays of Float32Array; copy them into one flat buffer. */
function flatten(result: unknown, total: number): Float32Array {
  if (result instanceof Float32Array) return result.length === total ? result : result.slice(0, total);
  const out = new Float32Array(total);
  let offset = 0;
  const visit = (r: unknown): void => {
    if (r instanceof Float32Array) {
      out.set(r, offset);
      offset += r.length;
    } else {
      for (const x of r as unknown[]) visit(x);
    }
  };
  visit(result);
  if (offset !== total) throw new Error(`kernel returned ${offset} numbers, expected ${total}`);
  return out;
}

async function launch(be: Backend, name: KernelName, dims: { B: number; M: number; K: number; N: number }, args: Float32Array[]): Promise<Float32Array> {
  const total = dims.B * dims.M * dims.N;
  if (total === 0) return new Float32Array(0);
  if (dims.K === 0) return new Float32Array(total); // an empty sum is 0 (plus bias, handled by caller)
  const kernel = getKernel(be, name, dims);
  const result = await (kernel as unknown as (...a: Float32Array[]) => unknown)(...args);
  return flatten(result, total);
}

// ---------------------------------------------------------------------------------
// The products. Each takes an optional backend (tests pass one explicitly); the
// default is the process backend chosen by `backend()`.
// ---------------------------------------------------------------------------------

/**
 * C = A·B (+ bias broadcast over rows).
 * @param a [M, K]
 * @param b [K, N]
 * @param bias [N], optional
 * @returns [M, N]
 */
export async function referenceMatmul(a: Tensor, b: Tensor, bias?: Tensor, be?: Backend): Promise<Tensor> {
  const { M, K, N } = productDims('matmul', a, b, 'NN');
  const dims = { B: 1, M, K, N };
  if (bias === undefined) return tensor([M, N], await launch(be ?? (await backend()), 'AB', dims, [a.data, b.data]));
  if (bias.shape.length !== 1 || bias.shape[0] !== N) throw new Error(`matmul: bias has shape ${showShape(bias.shape)}, expected [${N}]`);
  if (K === 0) return tensor([M, N], tileRows(bias.data, M));
  return tensor([M, N], await launch(be ?? (await backend()), 'ABBias', dims, [a.data, b.data, bias.data]));
}

/**
 * C = A·Bᵀ, with B stored row-major as [N, K] (so no transposed copy is made).
 * @param a [M, K]
 * @param b [N, K]
 * @returns [M, N]
 */
export async function referenceMatmulNT(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { M, K, N } = productDims('matmulNT', a, b, 'NT');
  return tensor([M, N], await launch(be ?? (await backend()), 'ABt', { B: 1, M, K, N }, [a.data, b.data]));
}

/**
 * C = Aᵀ·B, with A stored row-major as [K, M].
 * @param a [K, M]
 * @param b [K, N]
 * @returns [M, N]
 */
export async function referenceMatmulTN(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { M, K, N } = productDims('matmulTN', a, b, 'TN');
  return tensor([M, N], await launch(be ?? (await backend()), 'AtB', { B: 1, M, K, N }, [a.data, b.data]));
}

/** Batched C[z] = A[z]·B[z]: [B, M, K]·[B, K, N] → [B, M, N]. */
export async function referenceBmm(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { B, M, K, N } = productDims('bmm', a, b, 'NN', true);
  return tensor([B, M, N], await launch(be ?? (await backend()), 'BatchAB', { B, M, K, N }, [a.data, b.data]));
}

/** Batched C[z] = A[z]·B[z]ᵀ: [B, M, K]·[B, N, K] → [B, M, N]. */
export async function referenceBmmNT(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { B, M, K, N } = productDims('bmmNT', a, b, 'NT', true);
  return tensor([B, M, N], await launch(be ?? (await backend()), 'BatchABt', { B, M, K, N }, [a.data, b.data]));
}

/** Batched C[z] = A[z]ᵀ·B[z]: [B, K, M]·[B, K, N] → [B, M, N]. */
export async function referenceBmmTN(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { B, M, K, N } = productDims('bmmTN', a, b, 'TN', true);
  return tensor([B, M, N], await launch(be ?? (await backend()), 'BatchAtB', { B, M, K, N }, [a.data, b.data]));
}

/** `rows` copies of `v` one after another: the [rows, N] matrix whose every row is v. */
function tileRows(v: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(rows * v.length);
  for (let r = 0; r < rows; r++) out.set(v, r * v.length);
  return out;
}
