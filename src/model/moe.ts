/**
 * Sparse mixture of experts in place of the dense FFN (Shazeer et al. 2017; Fedus et
 * al. 2021, "Switch Transformers"; Jiang et al. 2024, "Mixtral of Experts"). A switch
 * (`config.n_experts = E > 0`), not GPT-1: GPT-1 has one dense FFN per block.
 *
 * Mixtral §2.1: "For a given input x, the output of the MoE module is the weighted
 * sum of the outputs of the expert networks, where the weights are given by the
 * gating network's output [...] G(x) := Softmax(TopK(x·W_g))". Each of the E
 * experts is a whole FFN of this code base (`ffn.ts`, or `swiglu.ts` with
 * `afn = swiglu`) with its own parameters `h.{i}.mlp.experts.{e}.*`, and the router
 * is one matrix `h.{i}.mlp.router.weight` [d, E] without a bias. Per token t:
 *
 *     r_t      = x_t·W_router                                   [E]     router logits
 *     S_t      = the k largest entries of r_t (ties: lower index first)
 *     w_{t,e}  = exp(r_{t,e}) / Σ_{e′∈S_t} exp(r_{t,e′})  for e ∈ S_t   (softmax over the k chosen)
 *     y_t      = Σ_{e∈S_t} w_{t,e} · FFN_e(x_t)                 [d]
 *     y        = drop(y)                                        (residual dropout, one mask, as the dense FFN)
 *
 * Only the chosen experts run on a token: each expert e runs once on the rows of the
 * tokens that chose it. So a token's output does not depend on an expert it did not
 * choose (tested: perturbing one leaves it bit-identical), and with E = 1, k = 1 the
 * weight is exactly 1 and the MoE is the dense FFN exactly (tested).
 *
 * ## The load-balancing loss (Switch Transformer eq. 4–6)
 * "Given N experts indexed by i = 1 to N and a batch B with T tokens, the auxiliary
 * loss is computed as the scaled dot-product between vectors f and P,
 * loss = α·N·Σᵢ fᵢ·Pᵢ". Here, over one sequence's T tokens and their T·k assignments:
 *
 *     p_t    = softmax(r_t)                         [E]   (the full router softmax)
 *     f_e    = |{(t, j) : S_t[j] = e}| / (T·k)            (fraction of assignments)
 *     P̄_e    = (1/T)·Σ_t p_{t,e}
 *     aux    = E·Σ_e f_e·P̄_e                              (= 1 when f = P̄ = 1/E)
 *
 * The training objective adds `moe_aux_loss_coef` × the mean of aux over the layers,
 * so each layer's aux enters with weight c = coef/n_layer. f is piecewise constant
 * (a count), so the gradient flows through P̄ only.
 *
 * ## Backward
 * With dỹ = drop(dy), per chosen pair (t, e), o_{t,e} = FFN_e(x_t):
 *
 *     dFFN_e input rows: d o_{t,e} = w_{t,e}·dỹ_t        → the expert's own backward (ffn.ts / swiglu.ts)
 *     dw_{t,e}  = dỹ_t · o_{t,e}
 *     dr_{t,e}  = w_{t,e}·(dw_{t,e} − Σ_{e′∈S_t} w_{t,e′}·dw_{t,e′})     (softmax over S_t; 0 for e ∉ S_t)
 *     dr_t     += p_t ⊙ (q − p_t·q),  q_e = c·E·f_e/T                 (aux through P̄: softmax backward; computed from q − q₀ so a balanced load gives exactly 0)
 *     dx_t      = Σ_{e∈S_t} (expert e's dx)_t + dr_t·W_routerᵀ
 *     dW_router = xᵀ·dr
 *
 * An expert no token chose gets zero gradients.
 *
 * @module
 */
import { type GPTConfig, architecture, nExperts } from '../config.ts';
import { matmul } from '../kernels/matmul.ts';
import { type FFNParams, type LinearParams, type MoEParams, type Params, layerParams, namedLayerPart } from '../params.ts';
import { type Rng, fork } from '../random.ts';
import { type Tensor, add, tensor, zeros } from '../tensor.ts';
import { conv1dBackward } from './conv1d.ts';
import { dropoutBackward, dropoutForward, dropoutMask } from './dropout.ts';
import { type FFNGrads, type FFNOutput, ffnBackward, ffnBackwardWith, ffnForward, ffnForwardWith } from './ffn.ts';
import { softmax } from './softmax.ts';

/** One expert's share of a forward pass: the tokens it ran on and its FFN record on their rows. */
export interface ExpertRun {
  /** Token indices t, in increasing order. */
  readonly tokens: readonly number[];
  /** The slot j with S_t[j] = e, for each of `tokens`. */
  readonly slots: readonly number[];
  /** The expert's FFN on the gathered rows x[tokens], or undefined when no token chose it. */
  readonly fwd?: FFNOutput;
}

/**
 * What the MoE forward computed. It is an {@link FFNOutput} so a block keeps it where
 * it keeps a dense FFN: `u` is the router logits r [T, E] and `g` the routing weights
 * as a dense [T, E] matrix (w_{t,e}, 0 for unchosen experts).
 */
export interface MoEOutput extends FFNOutput {
  /** Full router softmax p, [T, E]. */
  readonly probs: Tensor;
  /** The chosen experts S_t, [T·k] (row t: slots 0 … k−1, by decreasing logit). */
  readonly chosen: Int32Array;
  /** The weights w_{t, S_t[j]}, [T·k]. */
  readonly weights: Float32Array;
  readonly experts: readonly ExpertRun[];
  /** f_e, the fraction of the T·k assignments that went to e, [E]. */
  readonly fraction: Float64Array;
  /** The load-balancing loss E·Σ f_e·P̄_e of this layer. */
  readonly aux: number;
}

/** The indices of the k largest of `row` by value, ties to the lower index, largest first. */
export function topK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => (row[b] - row[a]) || (a - b)); // stable on ties: lower index first
  return idx.slice(0, k);
}

/** E·Σ_e f_e·P̄_e (Switch eq. 4 without α). */
export function loadBalancingLoss(fraction: ArrayLike<number>, meanProb: ArrayLike<number>): number {
  const E = fraction.length;
  let s = 0;
  for (let e = 0; e < E; e++) s += fraction[e] * meanProb[e];
  return E * s;
}

/** Rows `rows` of x [T, d], stacked: [rows.length, d]. */
function gatherRows(x: Tensor, rows: readonly number[]): Tensor {
  const d = x.shape[1];
  const out = new Float32Array(rows.length * d);
  rows.forEach((t, r) => out.set(x.data.subarray(t * d, (t + 1) * d), r * d));
  return tensor([rows.length, d], out);
}

/**
 * The mixture of experts of block `layer` on x [T, d] (equations in the module documentation).
 * @param dropout the generator when training (the output mask is `fork(dropout, 'h.{layer}.mlp.resid')`, as the dense FFN's)
 */
export async function moeForward(params: Params, config: GPTConfig, layer: number, x: Tensor, dropout?: Rng): Promise<MoEOutput> {
  const moe = moeParams(params, config, layer);
  const [T, d] = x.shape;
  const { n_experts: E, experts_top_k: k } = architecture(config);
  const logits = await matmul(x, moe.router.weight); // r = x·W_router: [T, E]
  const probs = softmax(logits); // p: [T, E]
  const chosen = new Int32Array(T * k);
  const weights = new Float32Array(T * k);
  const gates = new Float32Array(T * E); // w as a dense [T, E]
  const rows: { tokens: number[]; slots: number[] }[] = Array.from({ length: E }, () => ({ tokens: [], slots: [] }));
  for (let t = 0; t < T; t++) {
    const r = logits.data.subarray(t * E, (t + 1) * E);
    const S = topK(r, k);
    const w = softmax(tensor([k], Float32Array.from(S, (e) => r[e]))).data; // softmax over the k chosen logits
    S.forEach((e, j) => {
      chosen[t * k + j] = e;
      weights[t * k + j] = w[j];
      gates[t * E + e] = w[j];
      rows[e].tokens.push(t);
      rows[e].slots.push(j);
    });
  }
  const experts: ExpertRun[] = [];
  const y64 = new Float64Array(T * d);
  for (let e = 0; e < E; e++) {
    const { tokens, slots } = rows[e];
    if (tokens.length === 0) {
      experts.push({ tokens, slots });
      continue;
    }
    const fwd = await ffnForwardWith(moe.experts[e], config, gatherRows(x, tokens)); // FFN_e on its tokens
    tokens.forEach((t, r) => {
      const w = weights[t * k + slots[r]];
      for (let c = 0; c < d; c++) y64[t * d + c] += w * fwd.y.data[r * d + c];
    });
    experts.push({ tokens, slots, fwd });
  }
  const mixed = tensor([T, d], Float32Array.from(y64)); // [T, d]
  const drop = dropout === undefined ? undefined : dropoutMask(fork(dropout, `h.${layer}.mlp.resid`), mixed.shape, config.resid_pdrop);
  const fraction = Float64Array.from(rows, (r) => r.tokens.length / (T * k));
  const meanProb = new Float64Array(E);
  for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) meanProb[e] += probs.data[t * E + e] / T;
  return {
    y: dropoutForward(mixed, drop), x, u: logits, g: tensor([T, E], gates), drop,
    probs, chosen, weights, experts, fraction, aux: loadBalancingLoss(fraction, meanProb),
  };
}

/** Backward of {@link moeForward} given dy [T, d], including the aux loss's gradient with weight moe_aux_loss_coef/n_layer. */
export async function moeBackward(params: Params, config: GPTConfig, layer: number, fwd: MoEOutput, dy: Tensor): Promise<FFNGrads> {
  const moe = moeParams(params, config, layer);
  const [T, d] = fwd.x.shape;
  const { n_experts: E, experts_top_k: k, moe_aux_loss_coef } = architecture(config);
  const c = moe_aux_loss_coef / config.n_layer;
  const dMixed = dropoutBackward(dy, fwd.drop); // dỹ: [T, d]
  const dx64 = new Float64Array(T * d);
  const dw = new Float64Array(T * k); // dL/dw_{t, S_t[j]}
  const experts: FFNParams[] = []; // each expert's gradients
  for (let e = 0; e < E; e++) {
    const { tokens, slots, fwd: ef } = fwd.experts[e];
    if (ef === undefined) {
      experts.push(zeroGrads(moe.experts[e]));
      continue;
    }
    const dOut = new Float32Array(tokens.length * d); // w_{t,e}·dỹ_t per gathered row
    tokens.forEach((t, r) => {
      const j = t * k + slots[r];
      let s = 0;
      for (let col = 0; col < d; col++) {
        dOut[r * d + col] = fwd.weights[j] * dMixed.data[t * d + col];
        s += dMixed.data[t * d + col] * ef.y.data[r * d + col];
      }
      dw[j] = s;
    });
    const g = await ffnBackwardWith(moe.experts[e], config, ef, tensor([tokens.length, d], dOut));
    experts.push(g.grads);
    tokens.forEach((t, r) => {
      for (let col = 0; col < d; col++) dx64[t * d + col] += g.dx.data[r * d + col];
    });
  }
  const dr = new Float32Array(T * E); // dL/dr: [T, E]
  for (let t = 0; t < T; t++) {
    let dot = 0; // Σ w·dw over the chosen
    for (let j = 0; j < k; j++) dot += fwd.weights[t * k + j] * dw[t * k + j];
    // aux: p_t ⊙ (q − p_t·q), written as p_e·((q_e − q₀)·Σp − Σ_e′ p_e′·(q_e′ − q₀)), which
    // is the same when Σp = 1 and exactly 0 when every q_e is equal (a balanced load,
    // where aux is constant), instead of float32 leftovers of Σp ≠ 1.
    const q = (e: number): number => (c * E * fwd.fraction[e]) / T; // q_e
    let sumP = 0; // Σp
    let dotAux = 0; // Σ p·(q − q₀)
    for (let e = 0; e < E; e++) {
      sumP += fwd.probs.data[t * E + e];
      dotAux += fwd.probs.data[t * E + e] * (q(e) - q(0));
    }
    for (let e = 0; e < E; e++) dr[t * E + e] = fwd.probs.data[t * E + e] * ((q(e) - q(0)) * sumP - dotAux);
    for (let j = 0; j < k; j++) dr[t * E + fwd.chosen[t * k + j]] += fwd.weights[t * k + j] * (dw[t * k + j] - dot);
  }
  const router = await conv1dBackward(fwd.x, moe.router.weight, tensor([T, E], dr)); // dx = dr·Wᵀ, dW = xᵀ·dr (its db is unused: no bias)
  const grads: MoEParams = { router: { weight: router.dw }, experts };
  return { dx: add(tensor([T, d], Float32Array.from(dx64)), router.dx), grads: namedLayerPart(layer, 'mlp', grads) };
}

/** Block `layer`'s router and experts; a dense block has none (`ffn.ts` runs it). */
function moeParams(params: Params, config: GPTConfig, layer: number): MoEParams {
  const { mlp } = layerParams(params, config, layer);
  if (!('experts' in mlp)) throw new Error(`block ${layer} has a dense FFN, not a mixture of experts (n_experts is 0)`);
  return mlp;
}

/** Zero gradients shaped like an expert's weights (an expert no token chose). */
function zeroGrads(w: FFNParams): FFNParams {
  const zero = (l: LinearParams): LinearParams => ({ weight: zeros(l.weight.shape), bias: zeros(l.bias.shape) });
  return w.c_gate === undefined ? { c_fc: zero(w.c_fc), c_proj: zero(w.c_proj) } : { c_fc: zero(w.c_fc), c_gate: zero(w.c_gate), c_proj: zero(w.c_proj) };
}

/** The FFN sublayer of block `layer`: dense ({@link ffnForward}) or, with `n_experts` > 0, {@link moeForward}. */
export function mlpForward(params: Params, config: GPTConfig, layer: number, x: Tensor, dropout?: Rng): Promise<FFNOutput> {
  return nExperts(config) > 0 ? moeForward(params, config, layer, x, dropout) : ffnForward(params, config, layer, x, dropout);
}

/** Backward of {@link mlpForward}. */
export function mlpBackward(params: Params, config: GPTConfig, layer: number, fwd: FFNOutput, dy: Tensor): Promise<FFNGrads> {
  return nExperts(config) > 0 ? moeBackward(params, config, layer, fwd as MoEOutput, dy) : ffnBackward(params, config, layer, fwd, dy);
}
