/**
 * The language-modelling objective L₁ (paper §3.1, eq. 1).
 *
 * > L₁(U) = Σᵢ log P(uᵢ | u_{i−k}, …, u_{i−1}; Θ)
 *
 * ```math
 * L_1(\mathcal{U}) = \sum_i \log P(u_i \mid u_{i-k}, \ldots, u_{i-1}; \Theta)
 * \tag{1}
 * ```
 *
 * The model maximises L₁; we report the loss −L₁ averaged over the predicted
 * positions, i.e. the mean next-token cross-entropy in nats:
 *
 *     loss = −(1/Σₜ Mₜ) Σ_{t=0}^{T−2} M_{t+1} · log_softmax(logits[t])[ids[t+1]]
 *
 * ```math
 * \text{loss} = -\frac{1}{\sum_t M_t} \sum_{t=0}^{T-2} M_{t+1} \, \log \operatorname{softmax}(\text{logits}_t)_{\text{ids}_{t+1}}
 * ```
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
import { type Tensor, tensor } from '../tensor.ts';
import { logSoftmax, softmax } from './softmax.ts';

/**
 * Mean next-token cross-entropy of `ids` under `logits` [T, V], that is −L₁ (eq. 1)
 * divided by the number of predictions.
 *
 * ```math
 * \text{loss} = -\frac{1}{\sum_t M_t} \sum_{t=0}^{T-2} M_{t+1} \, \log \operatorname{softmax}(\text{logits}_t)_{\text{ids}_{t+1}}
 * ```
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

/**
 * Gradient of {@link lmLoss} with respect to the logits.
 *
 * Write N = Σ_{t=1}^{T−1} Mₜ (the denominator of the loss) and ℓ = log_softmax(logits).
 * The loss touches row t < T−1 only through ℓ[t, ids[t+1]], with weight −M_{t+1}/N:
 *
 *     dℓ[t, v] = −(M_{t+1}/N)·[v = ids[t+1]]
 *
 * and through log-softmax (dx = dℓ − softmax(x)·Σᵥ dℓ[t, v], see `logSoftmaxBackward`):
 *
 *     dlogits[t] = (softmax(logits[t]) − onehot(ids[t+1]))·M_{t+1}/N     for t < T−1
 *     dlogits[T−1] = 0                                                   (it predicts nothing)
 *
 * @param logits [T, V]
 * @param mask optional per-token mask M, length T
 * @returns dL/dlogits, [T, V]
 */
export function lmLossBackward(logits: Tensor, ids: readonly number[], mask?: readonly number[]): Tensor {
  const [T, V] = logits.shape;
  if (ids.length !== T) throw new Error(`lmLossBackward: ${ids.length} ids for ${T} rows of logits`);
  if (T < 2) throw new Error('lmLossBackward: at least two tokens are needed for one next-token prediction');
  let count = 0; // N = Σ_{t≥1} M_t
  for (let t = 1; t < T; t++) count += mask === undefined ? 1 : mask[t];
  if (count === 0) throw new Error('lmLossBackward: the mask leaves no prediction to score');
  const probs = softmax(logits); // [T, V]
  const d = new Float32Array(T * V); // [T, V]; row T−1 stays 0
  for (let t = 0; t + 1 < T; t++) {
    const weight = (mask === undefined ? 1 : mask[t + 1]) / count; // M_{t+1}/N
    if (weight === 0) continue;
    for (let v = 0; v < V; v++) d[t * V + v] = probs.data[t * V + v] * weight;
    d[t * V + ids[t + 1]] -= weight;
  }
  return tensor([T, V], d);
}
