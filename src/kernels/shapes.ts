/**
 * Shape checks shared by every product of the kernel layer (the fast ones in
 * `matmul.ts` and the original ones in `spec/reference-kernels.ts`): ranks, agreeing inner and
 * batch dimensions, and the (B, M, K, N) a product computes.
 *
 * @module
 */
import { type Tensor, showShape } from '../tensor.ts';

/** How each operand is stored: `N` as written ([M, K] for A, [K, N] for B), `T` transposed. */
export type Layout = 'NN' | 'NT' | 'TN';

/** Batch count and the extents of C[z] = A[z]·B[z] ([M, K]·[K, N] → [M, N]). */
export interface ProductDims {
  readonly B: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
}

function rank(t: Tensor, r: number, op: string, which: string): void {
  if (t.shape.length !== r) throw new Error(`${op}: ${which} must have rank ${r}, got shape ${showShape(t.shape)}`);
}

function agree(x: number, y: number, op: string, a: Tensor, b: Tensor): void {
  if (x !== y) throw new Error(`${op}: inner dimensions disagree for ${showShape(a.shape)} and ${showShape(b.shape)}`);
}

/**
 * The dimensions of product `op` of a and b stored as `layout`, batched (rank 3,
 * leading batch axis) or not (rank 2, B = 1).
 * @throws a one-line error naming `op` for a wrong rank or disagreeing dimensions.
 */
export function productDims(op: string, a: Tensor, b: Tensor, layout: Layout, batched = false): ProductDims {
  const r = batched ? 3 : 2;
  rank(a, r, op, 'A');
  rank(b, r, op, 'B');
  const [Ba, a0, a1] = batched ? a.shape : [1, ...a.shape];
  const [Bb, b0, b1] = batched ? b.shape : [1, ...b.shape];
  const [M, K] = layout === 'TN' ? [a1, a0] : [a0, a1]; // A is [M, K], or [K, M] when transposed
  const [K2, N] = layout === 'NT' ? [b1, b0] : [b0, b1]; // B is [K, N], or [N, K] when transposed
  agree(Ba, Bb, op, a, b);
  agree(K, K2, op, a, b);
  return { B: Ba, M, K, N };
}
