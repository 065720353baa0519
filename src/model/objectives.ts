/**
 * The language-modelling objective L₁ (paper §3.1, eq. 1).
 *
 * > L₁(U) = Σᵢ log P(uᵢ | u_{i−k}, …, u_{i−1}; Θ)
 *
 * The model maximises L₁; we report the loss −L₁ averaged over the predicted
 * positions, i.e. the mean next-token cross-entropy in nats:
 *
 *     loss = −(1/Σₜ Mₜ) Σ_{t=0}^{T−2} M_{t+1} · log_softmax(logits[t])[ids[t+1]]
 *
 * Position t predicts token t+1, so a sequence of T tokens gives T−1 predictions.
 * M is the original's per-token mask (1 for real tokens, 0 for padding); without a
 * mask every prediction counts.
 *
 * Original code (`train.py`, `model()`): `lm_losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
 * logits=lm_logits, labels=tf.reshape(X[:, 1:, 0], [-1]))`, then
 * `lm_losses = tf.reduce_sum(lm_losses*M[:, 1:], 1)/tf.reduce_sum(M[:, 1:], 1)`.
 *
 * @module
 */
import type { Tensor } from '../tensor.ts';
import { logSoftmax } from './softmax.ts';

/**
 * Mean next-token cross-entropy of `ids` under `logits` [T, V].
 * @param mask optional per-token mask M, length T (M[0] is never used: nothing predicts token 0)
 */
export function lmLoss(logits: Tensor, ids: readonly number[], mask?: readonly number[]): number {
  const [T, V] = logits.shape;
  if (ids.length !== T) throw new Error(`lmLoss: ${ids.length} ids for ${T} rows of logits`);
  if (T < 2) throw new Error('lmLoss: at least two tokens are needed for one next-token prediction');
  const logp = logSoftmax(logits); // [T, V]
  let total = 0;
  let count = 0;
  for (let t = 0; t + 1 < T; t++) {
    const m = mask === undefined ? 1 : mask[t + 1];
    if (m === 0) continue;
    total -= m * logp.data[t * V + ids[t + 1]];
    count += m;
  }
  if (count === 0) throw new Error('lmLoss: the mask leaves no prediction to score');
  return total / count;
}
