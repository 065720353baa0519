/**
 * Matrix products as gpu.js kernels: the only place in `src/` where a product is computed.
 *
 * Every linear map of GPT-1 is one of three products, batched or not:
 *
 * | function | computes | shapes | used for |
 * |---|---|---|---|
 * | {@link matmul} | C = A·B (+ b) | [M,K]·[K,N] → [M,N] | Conv1D layers `x·W + b`; attention `probs·V` |
 * | {@link matmulNT} | C = A·Bᵀ | [M,K]·[N,K] → [M,N] | tied head `h·Weᵀ`; attention scores `Q·Kᵀ`; backward `dY·Wᵀ` |
 * | {@link matmulTN} | C = Aᵀ·B | [K,M]·[K,N] → [M,N] | weight gradients `Xᵀ·dY` |
 *
 * The batched forms ({@link bmm}, {@link bmmNT}, {@link bmmTN}) take a leading batch
 * axis `[B, ·, ·]` on both operands and run all B products in one kernel launch: one
 * batch entry per attention head.
 *
 * ## How a product runs
 * Each function only checks shapes and describes its operands by strides: the
 * element (m, k) of A and (k, n) of B sit at `m·sAm + k·sAk` and `k·sBk + n·sBn`
 * of the flat row-major buffers, so a transposed operand (Bᵀ stored as [N, K], Aᵀ
 * stored as [K, M]) is read in place, never copied. {@link gemm} then tiles the
 * product for the backend and runs each tile as one kernel launch:
 *
 * - the *GPU* kernel ({@link kernelCols4}: 4 adjacent columns per thread, one
 *   `vec4` store) on GL/WebGPU backends; the *simple* kernel ({@link kernelSimple}:
 *   one output per thread, the formula written out) is its readable reference;
 * - the *fast* kernels ({@link kernelRows4}, {@link kernelRow}) on webasm and cpu:
 *   4 rows per thread and integer running indices, same sums in the same order.
 *
 * The first, per-product kernels of this project are kept, as test code, in
 * `spec/reference-kernels.ts`: the readable definition and the tests' oracle;
 * `bench/NOTES.md` records what each change measured.
 *
 * Kernels are compiled once per (backend, kernel, tile shape) and reused.
 *
 * @module
 */
import { type Backend, backend } from './backend.ts';
import { type Operand, gemm } from './gemm.ts';
import { type Tensor, showShape, tensor } from '../tensor.ts';
import { productDims } from './shapes.ts';
// for the {@link} references above
import type { kernelCols4, kernelRow, kernelRows4, kernelSimple } from './sources.ts';

export type { kernelCols4, kernelRow, kernelRows4, kernelSimple };

/** Operand over a flat buffer with strides (batch, first index, second index). */
function op(data: Float32Array, sz: number, si: number, sj: number): Operand {
  return { data, offset: 0, sz, si, sj };
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
export async function matmul(a: Tensor, b: Tensor, bias?: Tensor, be?: Backend): Promise<Tensor> {
  const { M, K, N } = productDims('matmul', a, b, 'NN');
  if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== N)) {
    throw new Error(`matmul: bias has shape ${showShape(bias.shape)}, expected [${N}]`);
  }
  const c = await gemm(be ?? (await backend()), { batch: 1, M, K, N, a: op(a.data, 0, K, 1), b: op(b.data, 0, N, 1), bias: bias?.data });
  return tensor([M, N], c);
}

/**
 * C = A·Bᵀ, with B stored row-major as [N, K] (read in place, not transposed).
 * @param a [M, K]
 * @param b [N, K]
 * @returns [M, N]
 */
export async function matmulNT(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { M, K, N } = productDims('matmulNT', a, b, 'NT');
  return tensor([M, N], await gemm(be ?? (await backend()), { batch: 1, M, K, N, a: op(a.data, 0, K, 1), b: op(b.data, 0, 1, K) }));
}

/**
 * C = Aᵀ·B, with A stored row-major as [K, M] (read in place, not transposed).
 * @param a [K, M]
 * @param b [K, N]
 * @returns [M, N]
 */
export async function matmulTN(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { M, K, N } = productDims('matmulTN', a, b, 'TN');
  return tensor([M, N], await gemm(be ?? (await backend()), { batch: 1, M, K, N, a: op(a.data, 0, 1, M), b: op(b.data, 0, N, 1) }));
}

/** Batched C[z] = A[z]·B[z]: [B, M, K]·[B, K, N] → [B, M, N]. */
export async function bmm(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { B, M, K, N } = productDims('bmm', a, b, 'NN', true);
  return tensor([B, M, N], await gemm(be ?? (await backend()), { batch: B, M, K, N, a: op(a.data, M * K, K, 1), b: op(b.data, K * N, N, 1) }));
}

/** Batched C[z] = A[z]·B[z]ᵀ: [B, M, K]·[B, N, K] → [B, M, N]. */
export async function bmmNT(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { B, M, K, N } = productDims('bmmNT', a, b, 'NT', true);
  return tensor([B, M, N], await gemm(be ?? (await backend()), { batch: B, M, K, N, a: op(a.data, M * K, K, 1), b: op(b.data, N * K, 1, K) }));
}

/** Batched C[z] = A[z]ᵀ·B[z]: [B, K, M]·[B, K, N] → [B, M, N]. */
export async function bmmTN(a: Tensor, b: Tensor, be?: Backend): Promise<Tensor> {
  const { B, M, K, N } = productDims('bmmTN', a, b, 'TN', true);
  return tensor([B, M, N], await gemm(be ?? (await backend()), { batch: B, M, K, N, a: op(a.data, K * M, 1, M), b: op(b.data, K * N, N, 1) }));
}
