/**
 * Finite-difference gradient checks of every hand-derived backward pass.
 *
 * Method. For a module y = f(x, θ) we pick a random probe r and the scalar loss
 * L = Σ r ⊙ y, so dL/dy = r. The analytic gradient comes from `src/` (float32, gpu.js
 * kernels); the numeric one is the central difference of L computed by the float64
 * re-implementation in `gradref.ts` at the same float32 point (and, when training,
 * with the same dropout masks, which makes dropout a fixed linear map).
 *
 * Step and tolerances.
 * - Central difference: error ≈ (h²/6)·|L‴| (truncation) + ε₆₄·|L|/h (rounding of
 *   the float64 loss, ε₆₄ ≈ 1.1e-16). With h = 1e-5 and inputs, weights and losses of
 *   order 1 these are ~1e-11 each: the numeric gradient is exact to ~10 digits, far
 *   below anything float32 can show. (h = 1e-5 ≈ ε₆₄^(1/3) is the usual optimum.)
 * - So the difference we measure is the float32 error of the analytic gradient.
 *   Each float32 operation is exact to u = 2⁻²⁴ ≈ 6e-8 relative to its operands, and
 *   sums of K terms err by ≲ K·u·Σ|terms|, which is relative to the *size of the
 *   terms*, not to a result that may cancel to ~0. We therefore allow
 *       |analytic − numeric| ≤ RTOL·|numeric| + ATOL·max|analytic over the tensor|
 *   with ATOL = 3e-5 and RTOL = 3e-4. Measured: every property here still passes
 *   (40 runs each) with ATOL = 1e-6, RTOL = 1e-5 and fails with 3e-7, 3e-6, i.e. the
 *   float32 error is ~1e-6 of the tensor's largest entry, so the bound has a 30×
 *   margin, while a real mistake (a missing term, a wrong sign, a transposed
 *   product, a mask in the wrong place) is an O(1) relative error.
 * - The bound also allows 8 rounding floors 2ε₆₄·|L|/h of the central difference
 *   itself (`compareGrad` in gradref.ts; 2ε₆₄ = 2⁻⁵², one unit in the last place of a
 *   loss of order 1): a tensor whose true gradient is 0 (at seed 5 of variants.spec
 *   an expert that only the constant aux loss of a balanced load reaches; its
 *   analytic gradient is exactly 0, so ATOL·scale = 0) still has a central difference
 *   of one unit in the loss's last place over 2h (2.2e-11 there). Wherever the
 *   gradient is of a measurable size the floor is orders of magnitude below
 *   ATOL·scale and changes nothing.
 *
 * Values are drawn far from the N(0, 0.02²) initialisation (weights ~0.3, gains
 * 1 ± 0.3, biases ~0.1, inputs ~1) so that every nonlinearity is exercised.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type GPTConfig, makeConfig, nTokenRows } from '../src/config.ts';
import { attentionBackward, attentionForward } from '../src/model/attention.ts';
import { blockBackward, blockForward } from '../src/model/block.ts';
import { conv1dBackward } from '../src/model/conv1d.ts';
import { dropoutBackward, dropoutForward, dropoutMask } from '../src/model/dropout.ts';
import { embeddingBackward } from '../src/model/embedding.ts';
import { ffnBackward, ffnForward } from '../src/model/ffn.ts';
import { backward, forward } from '../src/model/gpt.ts';
import { headBackward } from '../src/model/head.ts';
import { layerNormBackward, layerNormForward } from '../src/model/layernorm.ts';
import { lmLossBackward } from '../src/model/objectives.ts';
import { logSoftmaxBackward, logSoftmax, softmax, softmaxBackward } from '../src/model/softmax.ts';
import { paramShapes } from '../src/params.ts';
import { randint, rng } from '../src/random.ts';
import * as R from './gradref.ts';

/** Asserts the analytic gradient at every listed entry (all entries by default); the tolerances are R.GRAD_TOL, derived above. */
const check = R.assertGrad;

const seed = fc.integer({ min: 0, max: 0x7fffffff });
const FC = { numRuns: 10 };

/** A one- or two-layer config with the given sizes (vocabulary irrelevant for module tests). */
function moduleConfig(o: Partial<GPTConfig>): GPTConfig {
  return makeConfig({ n_vocab: 5, n_ctx: 8, n_layer: 1, ...o });
}

describe('gradient checks: modules', () => {
  it('conv1d: dx = dy·Wᵀ, dW = xᵀ·dy, db = Σₜ dy', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), seed, async (T, nIn, nOut, s) => {
        const x = R.randn([T, nIn], s);
        const w = R.randn([nIn, nOut], s + 1);
        const b = R.randn([nOut], s + 2);
        const r = R.randn([T, nOut], s + 3);
        const g = await conv1dBackward(x, w, r);
        const [x64, w64, b64] = [R.f64(x), R.f64(w), R.f64(b)];
        check('dx', g.dx, (v) => R.dot64(r.data, R.conv1d64(v, T, nIn, w64, b64, nOut)), x64);
        check('dw', g.dw, (v) => R.dot64(r.data, R.conv1d64(x64, T, nIn, v, b64, nOut)), w64);
        check('db', g.db, (v) => R.dot64(r.data, R.conv1d64(x64, T, nIn, w64, v, nOut)), b64);
      }),
      FC,
    );
  });

  it('layer norm: dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)), dg = Σₜ dy⊙x̂, db = Σₜ dy', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(0.05, 1, 20), // row spread: small (ε matters), unit, large
        seed,
        async (T, d, spread, s) => {
          const x = R.randn([T, d], s, spread);
          const gain = R.randn([d], s + 1);
          const bias = R.randn([d], s + 2);
          const r = R.randn([T, d], s + 3);
          const eps = 1e-5;
          const ln = layerNormForward(x, gain, bias, eps);
          const g = layerNormBackward(ln, gain, r);
          const [x64, g64, b64] = [R.f64(x), R.f64(gain), R.f64(bias)];
          // h scales with the input spread so that the step stays ~1e-5 relative to x.
          // The terms of dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) are of size
          // rstd·|dx̂|, and they can cancel almost exactly: for d = 2, x̂ = (±1)·σ/√(σ²+ε)
          // whatever x is, so dx is only ε/(σ²+ε) of its terms. The float32 error is
          // relative to the terms, so that is the scale of the absolute tolerance.
          const f = (v: Float64Array): number => R.dot64(r.data, R.layerNorm64(v, T, d, g64, b64, eps));
          check('dx', g.dx, f, x64, undefined, R.normTermScale(ln.rstd, r, gain), R.GRAD_TOL.h * spread);
          check('dg', g.dg, (v) => R.dot64(r.data, R.layerNorm64(x64, T, d, v, b64, eps)), g64);
          check('db', g.db, (v) => R.dot64(r.data, R.layerNorm64(x64, T, d, g64, v, eps)), b64);
        },
      ),
      FC,
    );
  });

  it('softmax: dx = P⊙(dP − rowsum(dP⊙P)); log-softmax: dx = dℓ − P·rowsum(dℓ)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom(1, 5), seed, async (rows, C, spread, s) => {
        const x = R.randn([rows, C], s, spread);
        const r = R.randn([rows, C], s + 1);
        const x64 = R.f64(x);
        // The terms summed in dx are of size max|r| (dxᵢ = Pᵢ(rᵢ − Σⱼ Pⱼrⱼ), dxᵢ = rᵢ − Pᵢ·Σⱼ rⱼ);
        // a saturated softmax cancels them to ~1e-6, so the float32 error is judged against
        // max|r|, not against the tiny result (seen: |diff| 2.6e-8 at a result scale of 5e-6).
        const terms = Math.max(...Array.from(r.data, Math.abs));
        check('softmax dx', softmaxBackward(softmax(x), r), (v) => R.dot64(r.data, R.softmax64(v, C)), x64, undefined, terms);
        check('logSoftmax dx', logSoftmaxBackward(logSoftmax(x), r), (v) => R.dot64(r.data, R.logSoftmax64(v, C)), x64, undefined, terms);
      }),
      FC,
    );
  });

  it('L1 loss: dlogits[t] = (softmax(logits[t]) − onehot(ids[t+1]))·M[t+1]/ΣM, last row 0', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 9 }), fc.boolean(), seed, async (T, V, masked, s) => {
        const logits = R.randn([T, V], s, 2);
        let g = rng(s);
        const ids: number[] = [];
        for (let t = 0; t < T; t++) {
          let id: number;
          [id, g] = randint(g, V);
          ids.push(id);
        }
        // A mask of 0/1 with at least one scored prediction (M[1] = 1), or none.
        const mask = masked ? ids.map((_, t) => (t === 1 || (s >> t) % 2 === 1 ? 1 : 0)) : undefined;
        const d = lmLossBackward(logits, ids, mask);
        check('dlogits', d, (v) => R.lmLoss64(v, V, ids, mask), R.f64(logits));
        for (let c = 0; c < V; c++) assert.equal(d.data[(T - 1) * V + c], 0, 'the last position predicts nothing');
      }),
      FC,
    );
  });

  it('dropout: dx = dy ⊙ keep/(1 − p), with the forward mask', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0.05, max: 0.9, noNaN: true }), seed, async (n, p, s) => {
        const x = R.randn([n], s);
        const r = R.randn([n], s + 1);
        const mask = dropoutMask(rng(s), [n], p);
        assert.ok(mask !== undefined);
        assert.deepEqual([...dropoutForward(x, mask).data], [...Float32Array.from(R.dropout64(R.f64(x), mask))]);
        check('dx', dropoutBackward(r, mask), (v) => R.dot64(r.data, R.dropout64(v, mask)), R.f64(x));
      }),
      FC,
    );
  });

  it('masked multi-head attention (with and without dropout and a key/value cache): dx and all four parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom([2, 1], [4, 2], [6, 3], [8, 2], [6, 1]), // [n_embd, n_head]
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 2 }), // cached positions T₀
        fc.constantFrom(0, 0.3), // attention and residual dropout rate (0: evaluation)
        seed,
        async ([dModel, H], T, T0, pdrop, s) => {
          const config = moduleConfig({ n_embd: dModel, n_head: H, attn_pdrop: pdrop, resid_pdrop: pdrop });
          const params = R.testParams(config, rng(s));
          const dH = dModel / H;
          const x = R.randn([T, dModel], s + 1);
          const r = R.randn([T, dModel], s + 2);
          const past = T0 === 0 ? undefined : { k: R.randn([H, T0, dH], s + 3), v: R.randn([H, T0, dH], s + 4) };
          const fwd = await attentionForward(params, config, 0, x, past, pdrop > 0 ? rng(s + 5) : undefined);
          const g = await attentionBackward(params, config, 0, fwd, r);
          const masks = { probs: fwd.probsDrop, attnResid: fwd.residDrop };
          const past64 = past === undefined ? undefined : { k: R.f64(past.k), v: R.f64(past.v), T0 };
          const p64 = R.toParams64(params);
          const x64 = R.f64(x);
          check('dx', g.dx, (v) => R.dot64(r.data, R.attention64(p64, config, 0, v, T, masks, past64)), x64);
          for (const [name, grad] of Object.entries(g.grads)) {
            check(name, grad, (v) => R.dot64(r.data, R.attention64({ ...p64, [name]: v }, config, 0, x64, T, masks, past64)), p64[name]);
          }
          assert.equal(Object.keys(g.grads).length, 4);
        },
      ),
      FC,
    );
  });

  it('feed-forward network (GELU, swish; with and without dropout): dx and all four parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<GPTConfig['afn']>('gelu', 'swish'),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom(0, 0.3),
        seed,
        async (afn, T, dModel, inner, pdrop, s) => {
          const config = moduleConfig({ n_embd: dModel, n_head: 1, n_inner: inner, afn, resid_pdrop: pdrop });
          const params = R.testParams(config, rng(s));
          const x = R.randn([T, dModel], s + 1);
          const r = R.randn([T, dModel], s + 2);
          const fwd = await ffnForward(params, config, 0, x, pdrop > 0 ? rng(s + 3) : undefined);
          const g = await ffnBackward(params, config, 0, fwd, r);
          const p64 = R.toParams64(params);
          const x64 = R.f64(x);
          check('dx', g.dx, (v) => R.dot64(r.data, R.ffn64(p64, config, 0, v, T, fwd.drop)), x64);
          for (const [name, grad] of Object.entries(g.grads)) {
            check(name, grad, (v) => R.dot64(r.data, R.ffn64({ ...p64, [name]: v }, config, 0, x64, T, fwd.drop)), p64[name]);
          }
        },
      ),
      FC,
    );
  });

  it('Post-LN block (with and without dropout): dx and all twelve parameters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom([4, 2], [6, 3], [8, 2]), fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 0.2), seed, async ([dModel, H], T, pdrop, s) => {
        const config = moduleConfig({ n_embd: dModel, n_head: H, attn_pdrop: pdrop, resid_pdrop: pdrop });
        const params = R.testParams(config, rng(s));
        const x = R.randn([T, dModel], s + 1);
        const r = R.randn([T, dModel], s + 2);
        const fwd = await blockForward(params, config, 0, x, undefined, pdrop > 0 ? rng(s + 3) : undefined);
        const g = await blockBackward(params, config, 0, fwd, r);
        const masks = { probs: fwd.attn.probsDrop, attnResid: fwd.attn.residDrop, mlpResid: fwd.ffn.drop };
        const p64 = R.toParams64(params);
        const x64 = R.f64(x);
        check('dx', g.dx, (v) => R.dot64(r.data, R.block64(p64, config, 0, v, T, masks)), x64);
        assert.equal(Object.keys(g.grads).length, 12);
        for (const [name, grad] of Object.entries(g.grads)) {
          check(name, grad, (v) => R.dot64(r.data, R.block64({ ...p64, [name]: v }, config, 0, x64, T, masks)), p64[name]);
        }
      }),
      FC,
    );
  });

  it('embedding (scatter-add, repeated tokens, position offset) and tied head (dlogitsᵀ·h, dlogits·W_e)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 }), seed, async (T, offset, s) => {
        const config = makeConfig({ n_vocab: 4, n_special: 1, n_ctx: 7, n_embd: 3, n_head: 1, n_layer: 1 });
        const V = nTokenRows(config);
        const d = config.n_embd;
        const params = R.testParams(config, rng(s));
        const ids = Array.from({ length: T }, (_, t) => (s >> (2 * t)) % V); // repeats likely with V = 5
        const r = R.randn([T, d], s + 1);
        const e = embeddingBackward(config, ids, r, offset);
        const p64 = R.toParams64(params);
        const h0 = (We: Float64Array, Wp: Float64Array): Float64Array => {
          const h = new Float64Array(T * d);
          for (let t = 0; t < T; t++) for (let c = 0; c < d; c++) h[t * d + c] = We[ids[t] * d + c] + Wp[(offset + t) * d + c];
          return h;
        };
        check('dTokens', e.dTokens, (v) => R.dot64(r.data, h0(v, p64['positions_embed.weight'])), p64['tokens_embed.weight']);
        check('dPositions', e.dPositions, (v) => R.dot64(r.data, h0(p64['tokens_embed.weight'], v)), p64['positions_embed.weight']);

        const h = R.randn([T, d], s + 2);
        const rl = R.randn([T, V], s + 3);
        const hg = await headBackward(params, h, rl);
        const logits = (hh: Float64Array, We: Float64Array): Float64Array => {
          const out = new Float64Array(T * V);
          for (let t = 0; t < T; t++) for (let v = 0; v < V; v++) for (let c = 0; c < d; c++) out[t * V + v] += hh[t * d + c] * We[v * d + c];
          return out;
        };
        check('head dh', hg.dh, (v) => R.dot64(rl.data, logits(v, p64['tokens_embed.weight'])), R.f64(h));
        check('head dTokens', hg.dTokens, (v) => R.dot64(rl.data, logits(R.f64(h), v)), p64['tokens_embed.weight']);
      }),
      FC,
    );
  });
});

describe('gradient check: the whole model, every parameter tensor', () => {
  const tiny = { n_vocab: 11, n_ctx: 6, n_embd: 8, n_head: 2, n_layer: 2 };
  const cases: { name: string; config: GPTConfig; train: boolean; mask: boolean; hidden: boolean }[] = [
    { name: 'evaluation, L1 loss', config: makeConfig(tiny), train: false, mask: false, hidden: false },
    { name: 'training with dropout 0.3 everywhere, masked L1 loss', config: makeConfig({ ...tiny, embd_pdrop: 0.3, attn_pdrop: 0.3, resid_pdrop: 0.3 }), train: true, mask: true, hidden: false },
    { name: 'L1 loss plus a gradient on h_n (as from a classifier), special tokens, dropout 0.1', config: makeConfig({ ...tiny, n_special: 3 }), train: true, mask: false, hidden: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 6 }), seed, async (T, s) => {
          const { config } = c;
          const V = nTokenRows(config);
          const params = R.testParams(config, rng(s));
          const ids = Array.from({ length: T }, (_, t) => ((s >>> (3 * t)) + t) % V);
          const mask = c.mask ? ids.map((_, t) => (t === 1 || (s >> (t + 7)) % 2 === 1 ? 1 : 0)) : undefined;
          const fwd = await forward(params, config, ids, c.train ? { dropout: { rng: rng(s + 1) } } : {});
          const r = R.randn([T, config.n_embd], s + 2);
          const grads = await backward(params, config, fwd, {
            dLogits: lmLossBackward(fwd.logits, ids, mask),
            ...(c.hidden ? { dHidden: r } : {}),
          });
          if (c.train) assert.ok(fwd.blocks[0].attn.probsDrop !== undefined && fwd.embedding.tokens !== undefined, 'training draws masks');
          const masks = R.masksOf(fwd);
          const p64 = R.toParams64(params);
          const loss = (q: R.Params64): number => {
            const out = R.gpt64(q, config, ids, masks);
            return R.lmLoss64(out.logits, V, ids, mask) + (c.hidden ? R.dot64(r.data, out.hN) : 0);
          };
          assert.deepEqual(Object.keys(grads), paramShapes(config).map(([n]) => n), 'a gradient for every parameter, in checkpoint order');
          let g = rng(s + 3);
          for (const [name, shape] of paramShapes(config)) {
            const grad = grads[name];
            assert.deepEqual([...grad.shape], shape, `${name} gradient shape`);
            // A random subset of entries, plus the largest, plus (for W_p) a row past T that must be 0.
            let entries: number[];
            [entries, g] = R.sampleEntries(grad, g, 5);
            if (name === 'positions_embed.weight' && T < config.n_ctx) entries.push(T * config.n_embd);
            check(name, grad, (v) => loss({ ...p64, [name]: v }), p64[name], entries);
          }
        }),
        { numRuns: 4 },
      );
    });
  }
});
