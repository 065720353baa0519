/**
 * The position-wise linear layer, which the original code calls a 1×1 convolution.
 *
 *     y[t, :] = x[t, :] · W + b        W: [n_in, n_out] ("nx, nf"), b: [n_out]
 *
 * The same W and b apply to every position t. Original code (`train.py`):
 * `conv1d(x, scope, nf, rf, ...)` with `rf == 1`:
 * `c = tf.matmul(tf.reshape(x, [-1, nx]), tf.reshape(w, [-1, nf])) + b`. Hugging Face
 * keeps the name (`Conv1D`) and the [in, out] layout, which is why every weight of
 * the checkpoint is stored input-major.
 *
 * The backward pass ({@link conv1dBackward}) is two more products and a column sum.
 *
 * @module
 */
import { matmul, matmulNT, matmulTN } from '../kernels/matmul.ts';
import { type Tensor, tensor } from '../tensor.ts';

/**
 * y = x·W + b
 * @param x [T, n_in]
 * @param w [n_in, n_out]
 * @param b [n_out]
 * @returns [T, n_out]
 */
export function conv1dForward(x: Tensor, w: Tensor, b: Tensor): Promise<Tensor> {
  return matmul(x, w, b);
}

/** Gradients of {@link conv1dForward}. */
export interface Conv1dGrads {
  /** dL/dx, [T, n_in] */
  readonly dx: Tensor;
  /** dL/dW, [n_in, n_out] */
  readonly dw: Tensor;
  /** dL/db, [n_out] */
  readonly db: Tensor;
}

/**
 * Backward of y = x·W + b, given dy = dL/dy.
 *
 * Component-wise, y[t, j] = Σᵢ x[t, i]·W[i, j] + b[j], so
 *
 *     dL/dx[t, i] = Σⱼ dy[t, j]·W[i, j]     ⇒  dx = dy·Wᵀ       [T, n_out]·[n_out, n_in] (matmulNT)
 *     dL/dW[i, j] = Σₜ x[t, i]·dy[t, j]     ⇒  dW = xᵀ·dy       [n_in, T]·[T, n_out]     (matmulTN)
 *     dL/db[j]    = Σₜ dy[t, j]             ⇒  db = column sums of dy
 *
 * (W and b are shared by every position t, so their gradients sum over t.)
 *
 * @param x the forward input, [T, n_in]
 * @param w the weight, [n_in, n_out]
 * @param dy [T, n_out]
 */
export async function conv1dBackward(x: Tensor, w: Tensor, dy: Tensor): Promise<Conv1dGrads> {
  const dx = await matmulNT(dy, w); // [T, n_out]·[n_in, n_out]ᵀ → [T, n_in]
  const dw = await matmulTN(x, dy); // [T, n_in]ᵀ·[T, n_out] → [n_in, n_out]
  const db = columnSums(dy); // [n_out]
  return { dx, dw, db };
}

/** Σₜ m[t, :] for a [T, N] matrix: [N]. Accumulated in float64, rounded once. */
export function columnSums(m: Tensor): Tensor {
  const N = m.shape[m.shape.length - 1];
  const T = N === 0 ? 0 : m.data.length / N;
  const acc = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < N; j++) acc[j] += m.data[t * N + j];
  }
  return tensor([N], Float32Array.from(acc));
}
