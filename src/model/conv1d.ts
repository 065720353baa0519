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
 * @module
 */
import { matmul } from '../kernels/matmul.ts';
import type { Tensor } from '../tensor.ts';

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
