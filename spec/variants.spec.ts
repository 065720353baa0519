/**
 * The later decoders' switches (RoPE, RMSNorm, Pre-LN, SwiGLU, mixture of experts):
 * gradient checks of every hand-derived backward against central differences of the
 * float64 reference (`gradref.ts`, same method and tolerances as `gradcheck.spec.ts`),
 * the key/value cache with RoPE, and the invariants each change is built on, derived
 * in the module files and restated at each test.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { type GPTConfig, GPT1, MAX_EXPERTS, architecture, architectureOverrides, makeConfig, nTokenRows, paramCount } from '../src/config.ts';
import { withArchitecture } from '../src/architectures.ts';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.ts';
import { main } from '../src/cli/main.ts';
import { readNpy } from '../src/io/npy.ts';
import { blockBackward, blockForward } from '../src/model/block.ts';
import { ffnForward } from '../src/model/ffn.ts';
import { backward, forward, lmLossAndGrads } from '../src/model/gpt.ts';
import { type MoEOutput, loadBalancingLoss, mlpBackward, mlpForward, moeForward, topK } from '../src/model/moe.ts';
import { lmLossBackward } from '../src/model/objectives.ts';
import { rmsNormBackward, rmsNormForward } from '../src/model/rmsnorm.ts';
import { ropeBackward, ropeForward } from '../src/model/rope.ts';
import { type Params, countActiveParams, countParams, paramShapes } from '../src/params.ts';
import { rng } from '../src/random.ts';
import { type Tensor, equal, tensor, zeros } from '../src/tensor.ts';
import { assertPure, permuteHeads, randomIds, randomParams, relErr, seedArb } from './helpers.ts';
import * as R from './gradref.ts';

/** Asserts the analytic gradient at the listed entries (all by default), with gradcheck.spec.ts's tolerances. */
const check = R.assertGrad;

const FC = { numRuns: 6 };

/** The single switches and their combinations, as config overrides. */
const VARIANTS: Record<string, Partial<GPTConfig>> = {
  rope: { position_embedding: 'rope' },
  rmsnorm: { normalization: 'rmsnorm' },
  pre: { norm_placement: 'pre' },
  swiglu: { afn: 'swiglu' },
  moe: { n_experts: 3, experts_top_k: 2, moe_aux_loss_coef: 0.5 },
  modern: { position_embedding: 'rope', normalization: 'rmsnorm', norm_placement: 'pre', afn: 'swiglu' },
  'modern + moe (swiglu experts)': { position_embedding: 'rope', normalization: 'rmsnorm', norm_placement: 'pre', afn: 'swiglu', n_experts: 4, experts_top_k: 2, moe_aux_loss_coef: 0.5 },
  'moe, top-1, Pre-LN LayerNorm': { norm_placement: 'pre', n_experts: 2, experts_top_k: 1, moe_aux_loss_coef: 0.5 },
};

const tiny = (o: Partial<GPTConfig>): GPTConfig => makeConfig({ n_vocab: 11, n_ctx: 7, n_embd: 8, n_head: 2, n_layer: 2, n_inner: 6, ...o });

describe('variant gradient checks: modules', () => {
  it('RMSNorm: dx = r·(dx̂ − x̂·mean(dx̂⊙x̂)), dg = Σₜ dy⊙x̂', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(0.05, 1, 20), seedArb, async (T, d, spread, s) => {
        const x = R.randn([T, d], s, spread);
        const g = R.randn([d], s + 1);
        const r = R.randn([T, d], s + 2);
        const fwd = rmsNormForward(x, g, 1e-5);
        const grads = rmsNormBackward(fwd, g, r);
        const [x64, g64] = [R.f64(x), R.f64(g)];
        // as for LayerNorm: the float32 error is relative to the terms rstd·|dx̂|
        check('dx', grads.dx, (v) => R.dot64(r.data, R.rmsNorm64(v, T, d, g64, 1e-5)), x64, undefined, R.normTermScale(fwd.rstd, r, g), R.GRAD_TOL.h * spread);
        check('dg', grads.dg, (v) => R.dot64(r.data, R.rmsNorm64(x64, T, d, v, 1e-5)), g64);
      }),
      FC,
    );
  });

  it('RoPE: dx = R(p)ᵀ·dy at every position offset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom(2, 4, 6), fc.integer({ min: 0, max: 40 }), seedArb, async (H, T, dH, T0, s) => {
        const x = R.randn([H, T, dH], s);
        const r = R.randn([H, T, dH], s + 1);
        const f = (v: Float64Array): number => {
          const m = Float64Array.from(v); // [H, T, d_h] read as H blocks of a [T, d_h] matrix
          for (let h = 0; h < H; h++) {
            const block = m.subarray(h * T * dH, (h + 1) * T * dH);
            R.rope64(block, T, dH, 0, 1, dH, T0, 10000);
          }
          return R.dot64(r.data, m);
        };
        check('dx', ropeBackward(r, T0, 10000), f, R.f64(x));
        // and the forward agrees with the float64 definition
        const y = ropeForward(x, T0, 10000);
        const m = R.f64(x);
        for (let h = 0; h < H; h++) R.rope64(m.subarray(h * T * dH, (h + 1) * T * dH), T, dH, 0, 1, dH, T0, 10000);
        assert.ok(relErr(y.data, m) < 1e-6, `RoPE forward vs float64: ${relErr(y.data, m)}`);
      }),
      FC,
    );
  });

  for (const [name, o] of Object.entries({ swiglu: { afn: 'swiglu' }, 'moe (gelu experts)': { n_experts: 3, experts_top_k: 2 }, 'moe (swiglu experts, top-1)': { afn: 'swiglu', n_experts: 3, experts_top_k: 1 } } as Record<string, Partial<GPTConfig>>)) {
    it(`FFN sublayer, ${name} (with and without dropout): dx and every parameter, aux loss included`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom(0, 0.3), seedArb, async (T, d, inner, pdrop, s) => {
          const config = makeConfig({ n_vocab: 5, n_ctx: 8, n_layer: 1, n_head: 1, n_embd: d, n_inner: inner, resid_pdrop: pdrop, moe_aux_loss_coef: 0.7, ...o });
          const params = R.testParams(config, rng(s));
          const x = R.randn([T, d], s + 1);
          const r = R.randn([T, d], s + 2);
          const fwd = await mlpForward(params, config, 0, x, pdrop > 0 ? rng(s + 3) : undefined);
          const g = await mlpBackward(params, config, 0, fwd, r);
          const p64 = R.toParams64(params);
          const f = (q: R.Params64, xx: Float64Array): number => {
            const m = R.mlp64(q, config, 0, xx, T, fwd.drop);
            return R.dot64(r.data, m.y) + 0.7 * m.aux;
          };
          check('dx', g.dx, (v) => f(p64, v), R.f64(x));
          const names = paramShapes(config).map(([n]) => n).filter((n) => n.includes('.mlp.'));
          assert.deepEqual(Object.keys(g.grads).sort(), names.sort(), 'a gradient for every FFN parameter');
          for (const n of names) check(n, g.grads[n], (v) => f({ ...p64, [n]: v }, R.f64(x)), p64[n], undefined, routerScale(n, 1));
        }),
        FC,
      );
    });
  }

  for (const [name, o] of Object.entries(VARIANTS)) {
    it(`block, ${name} (with and without dropout, with a key/value cache): dx and every parameter`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.constantFrom(0, 0.2), seedArb, async (T, T0, pdrop, s) => {
          const config = makeConfig({ n_vocab: 5, n_ctx: 8, n_layer: 1, n_embd: 8, n_head: 2, n_inner: 6, attn_pdrop: pdrop, resid_pdrop: pdrop, ...o });
          const params = R.testParams(config, rng(s));
          const x = R.randn([T, 8], s + 1);
          const r = R.randn([T, 8], s + 2);
          const past = T0 === 0 ? undefined : { k: R.randn([2, T0, 4], s + 3), v: R.randn([2, T0, 4], s + 4) };
          const fwd = await blockForward(params, config, 0, x, past, pdrop > 0 ? rng(s + 5) : undefined);
          const g = await blockBackward(params, config, 0, fwd, r);
          const masks = { probs: fwd.attn.probsDrop, attnResid: fwd.attn.residDrop, mlpResid: fwd.ffn.drop };
          const past64 = past === undefined ? undefined : { k: R.f64(past.k), v: R.f64(past.v), T0 };
          const coef = (config.moe_aux_loss_coef ?? 0) * (config.n_experts ? 1 : 0);
          const f = (q: R.Params64, xx: Float64Array): number => {
            const b = R.blockAux64(q, config, 0, xx, T, masks, past64);
            return R.dot64(r.data, b.h) + coef * b.aux;
          };
          const p64 = R.toParams64(params);
          check('dx', g.dx, (v) => f(p64, v), R.f64(x));
          const names = paramShapes(config).map(([n]) => n).filter((n) => n.startsWith('h.0.'));
          assert.deepEqual(Object.keys(g.grads).sort(), names.sort(), 'a gradient for every block parameter');
          for (const n of names) check(n, g.grads[n], (v) => f({ ...p64, [n]: v }, R.f64(x)), p64[n], undefined, routerScale(n, 1));
        }),
        FC,
      );
    });
  }
});

/**
 * The term scale of the router's gradient. With k = 1 the routing weight is exactly 1
 * and dr = w·(dw − w·dw) cancels to 0 exactly in real arithmetic, but the float32
 * terms w·dw are of the size of dy·FFN(x) (~1 in the module tests, ~1/T·|W_e| ≈ 0.01
 * at the top of the model), so the rounding residue (seen: 4e-9) is judged against that.
 */
function routerScale(name: string, terms: number): number | undefined {
  return name.endsWith('router.weight') ? terms : undefined;
}

describe('variant gradient checks: the whole model, every parameter tensor (objective = L₁ + coef·aux)', () => {
  for (const [name, o] of Object.entries(VARIANTS)) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.boolean(), seedArb, async (T, train, s) => {
          const config = tiny({ ...o, ...(train ? { embd_pdrop: 0.2, attn_pdrop: 0.2, resid_pdrop: 0.2 } : {}) });
          const V = nTokenRows(config);
          const params = R.testParams(config, rng(s));
          const ids = randomIds(s + 9, T, V);
          const fwd = await forward(params, config, ids, train ? { dropout: { rng: rng(s + 1) } } : {});
          const grads = await backward(params, config, fwd, { dLogits: lmLossBackward(fwd.logits, ids) });
          const masks = R.masksOf(fwd);
          const p64 = R.toParams64(params);
          const loss = (q: R.Params64): number => R.objective64(config, R.gpt64(q, config, ids, masks), ids);
          assert.deepEqual(Object.keys(grads), paramShapes(config).map(([n]) => n), 'a gradient for every parameter, in checkpoint order');
          if (config.n_experts) assert.ok(Math.abs((fwd.moeAuxLoss ?? NaN) - R.gpt64(p64, config, ids, masks).aux) < 1e-5, 'moeAuxLoss matches the reference');
          let g = rng(s + 3);
          for (const [pname] of paramShapes(config)) {
            const grad = grads[pname];
            let entries: number[];
            [entries, g] = R.sampleEntries(grad, g, 4);
            check(pname, grad, (v) => loss({ ...p64, [pname]: v }), p64[pname], entries, routerScale(pname, 0.01));
          }
        }),
        { numRuns: 3 },
      );
    });
  }
});

describe('variants: the forward against the float64 reference, the cache, causality, purity, heads', () => {
  for (const [name, o] of Object.entries(VARIANTS)) {
    it(`${name}: logits match the float64 reference; a key/value cache gives the full forward's logits`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 7 }), fc.nat(), seedArb, async (T, cutRaw, s) => {
          const config = tiny(o);
          const params = randomParams(config, s);
          const ids = randomIds(s + 1, T, nTokenRows(config));
          const full = await forward(params, config, ids);
          const ref = R.gpt64(R.toParams64(params), config, ids);
          assert.ok(relErr(full.logits.data, ref.logits) < 1e-5, `logits vs float64: ${relErr(full.logits.data, ref.logits)}`);
          const cut = 1 + (cutRaw % (T - 1));
          const first = await forward(params, config, ids.slice(0, cut));
          const rest = await forward(params, config, ids.slice(cut), { past: first.present });
          const both = new Float32Array([...first.logits.data, ...rest.logits.data]);
          assert.ok(relErr(both, full.logits.data) < 1e-5, `cached vs full: ${relErr(both, full.logits.data)}`);
        }),
        FC,
      );
    });

    it(`${name}: changing later tokens leaves every earlier position bit-identical`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 7 }), fc.nat(), seedArb, async (T, cutRaw, s) => {
          const config = tiny(o);
          const V = nTokenRows(config);
          const params = randomParams(config, s);
          const ids = randomIds(s + 1, T, V);
          const t = cutRaw % (T - 1);
          const changed = ids.map((id, j) => (j <= t ? id : (id + 1) % V));
          const a = await forward(params, config, ids);
          const b = await forward(params, config, changed);
          const V2 = a.logits.shape[1];
          assert.ok(equal(tensor([t + 1, V2], a.logits.data.slice(0, (t + 1) * V2)), tensor([t + 1, V2], b.logits.data.slice(0, (t + 1) * V2))), `logits rows ≤ ${t} changed`);
        }),
        FC,
      );
    });

    it(`${name}: forward and backward leave their arguments untouched and are repeatable`, async () => {
      const config = tiny({ ...o, attn_pdrop: 0.1 });
      const params = randomParams(config, 3);
      const ids = randomIds(4, 5, nTokenRows(config));
      const fwd = await assertPure('forward', [params, ids], () => forward(params, config, ids, { dropout: { rng: rng(1) } }));
      const dLogits = lmLossBackward(fwd.logits, ids);
      const g1 = await assertPure('backward', [params, dLogits], () => backward(params, config, fwd, { dLogits }));
      const g2 = await backward(params, config, await forward(params, config, ids, { dropout: { rng: rng(1) } }), { dLogits });
      for (const n of Object.keys(g1)) assert.ok(equal(g1[n], g2[n]), `${n} not repeatable`);
    });

    it(`${name}: permuting heads consistently in c_attn and c_proj leaves the logits unchanged`, async () => {
      const config = tiny(o);
      for (const s of [1, 2, 3]) {
        const params = randomParams(config, s);
        const ids = randomIds(s + 1, 6, nTokenRows(config));
        let permuted: Params = params;
        for (let l = 0; l < config.n_layer; l++) permuted = permuteHeads(permuted, config, l, [1, 0]);
        const a = await forward(params, config, ids);
        const b = await forward(permuted, config, ids);
        assert.ok(relErr(b.logits.data, a.logits.data) <= 1e-5, `logits moved by ${relErr(b.logits.data, a.logits.data)}`);
      }
    });
  }
});

describe('RoPE invariants (rope.ts)', () => {
  /*
   * (R(p)q)·(R(s)k) = qᵀR(s − p)k: shifting both positions by the same amount keeps
   * every dot product; |R(p)x| = |x|; R(0) = I. In float32 the first two hold to
   * rounding (~1e-6 relative); the third is exact (cos 0 = 1, sin 0 = 0).
   */
  it('scores depend only on the offset; the norm is kept; position 0 is the identity', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(2, 4, 8), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 100 }), seedArb, async (dH, T, shift, s) => {
        const q = R.randn([1, T, dH], s);
        const k = R.randn([1, T, dH], s + 1);
        const dots = (a: Tensor, b: Tensor): number[] => {
          const out: number[] = [];
          for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) out.push(R.dot64(a.data.subarray(i * dH, (i + 1) * dH), b.data.subarray(j * dH, (j + 1) * dH)));
          return out;
        };
        const at0 = dots(ropeForward(q, 0, 10000), ropeForward(k, 0, 10000));
        const shifted = dots(ropeForward(q, shift, 10000), ropeForward(k, shift, 10000));
        for (let i = 0; i < at0.length; i++) assert.ok(Math.abs(at0[i] - shifted[i]) <= 1e-4 * (1 + Math.abs(at0[i])), `q·k moved from ${at0[i]} to ${shifted[i]} under a shift of ${shift}`);
        const y = ropeForward(q, shift, 10000);
        for (let t = 0; t < T; t++) {
          const n0 = Math.hypot(...q.data.subarray(t * dH, (t + 1) * dH));
          const n1 = Math.hypot(...y.data.subarray(t * dH, (t + 1) * dH));
          assert.ok(Math.abs(n0 - n1) <= 1e-6 * (1 + n0), `norm ${n0} became ${n1}`);
        }
        const one = R.randn([2, 1, dH], s + 2);
        assert.ok(equal(ropeForward(one, 0, 10000), one), 'R(0) is not the identity');
      }),
      { numRuns: 20 },
    );
  });

  it('a RoPE model has no position embedding and its parameters do not depend on n_ctx', () => {
    const a = paramShapes(tiny({ position_embedding: 'rope' }));
    assert.ok(!a.some(([n]) => n === 'positions_embed.weight'));
    assert.deepEqual(paramShapes(tiny({ position_embedding: 'rope', n_ctx: 50 })), a);
  });
});

describe('RMSNorm invariants (rmsnorm.ts)', () => {
  /* y(c·x) = y(x) for c > 0 as ε → 0; mean(x̂²) = mean(x²)/(mean(x²) + ε) = 1 − O(ε/mean(x²)). */
  it('invariant to positive scaling of a row (ε → 0); x̂ has mean square 1', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 16 }), fc.double({ min: 0.01, max: 100, noNaN: true }), seedArb, async (T, d, c, s) => {
        const x = R.randn([T, d], s);
        const g = R.randn([d], s + 1);
        const eps = 0; // the limit ε → 0 itself: with ε > 0 the output moves by ≈ ε/(2·mean(x²)) relative, which a small scaled row makes visible
        const a = rmsNormForward(x, g, eps);
        const b = rmsNormForward(tensor([T, d], x.data.map((v) => v * c)), g, eps);
        assert.ok(relErr(b.y.data, a.y.data) < 1e-6, `scaled by ${c}: moved by ${relErr(b.y.data, a.y.data)}`);
        for (let t = 0; t < T; t++) {
          let ms = 0;
          for (let i = 0; i < d; i++) ms += a.xhat.data[t * d + i] ** 2 / d;
          assert.ok(Math.abs(ms - 1) < 1e-5, `mean square ${ms}`);
        }
      }),
      { numRuns: 30 },
    );
  });
});

/** `params` with every tensor whose name matches `re` replaced by zeros. */
function zeroed(params: Params, re: RegExp): Params {
  const out: Record<string, Tensor> = { ...params };
  for (const n of Object.keys(out)) if (re.test(n)) out[n] = zeros(out[n].shape);
  return out;
}

describe('Pre-LN, SwiGLU and MoE invariants', () => {
  /* a = x + attn(LN₁(x)), h = a + ffn(LN₂(a)): zero both sublayers' output projections (c_proj weight and bias), and h = x + 0 + 0 = x exactly. */
  it('Pre-LN: with every sublayer output zeroed, h = x exactly', async () => {
    for (const o of [{}, { normalization: 'rmsnorm' as const, afn: 'swiglu' as const }, { n_experts: 2, experts_top_k: 1 }]) {
      const config = tiny({ norm_placement: 'pre', ...o });
      const params = zeroed(randomParams(config, 5), /c_proj\.(weight|bias)$/);
      const x = R.randn([5, 8], 6);
      const b = await blockForward(params, config, 0, x);
      assert.ok(equal(b.h, x), `h ≠ x for ${JSON.stringify(o)}`);
    }
  });

  /* silu(0) = 0, so g = silu(0)·u = 0 and y = 0·W_proj + b_proj = b_proj: the FFN adds exactly its output bias (0 with that zeroed too). */
  it('SwiGLU with W_gate = 0 and b_gate = 0 contributes exactly 0 (with b_proj = 0)', async () => {
    const config = tiny({ afn: 'swiglu' });
    const params = zeroed(randomParams(config, 7), /(c_gate\.(weight|bias)|mlp\.c_proj\.bias)$/);
    const out = await ffnForward(params, config, 0, R.randn([4, 8], 8));
    assert.ok(out.y.data.every((v) => v === 0), 'the FFN output is not exactly 0');
  });

  /* E = 1, k = 1: the one expert is chosen, its weight is softmax of one logit = exp(0)/exp(0) = 1 exactly, and it runs on all rows of x: the dense FFN, bit for bit. */
  it('MoE with E = 1, k = 1 equals the dense FFN exactly (also with dropout)', async () => {
    for (const afn of ['gelu', 'swiglu'] as const) {
      const dense = tiny({ afn, resid_pdrop: 0.3 });
      const moe = tiny({ afn, resid_pdrop: 0.3, n_experts: 1, experts_top_k: 1 });
      const dp = randomParams(dense, 9);
      const mp: Record<string, Tensor> = { ...randomParams(moe, 10) };
      for (const [n] of paramShapes(moe)) {
        const denseName = n.replace('.mlp.experts.0.', '.mlp.');
        if (dp[denseName] !== undefined) mp[n] = dp[denseName];
      }
      const x = R.randn([5, 8], 11);
      const a = await ffnForward(dp, dense, 1, x, rng(12));
      const b = await moeForward(mp, moe, 1, x, rng(12));
      assert.ok(equal(a.y, b.y), `${afn}: MoE(E=1,k=1) ≠ dense FFN`);
    }
  });

  it('MoE: the routing weights of each token sum to 1; ties go to the lower index', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.nat(), seedArb, async (T, E, kRaw, s) => {
        const k = 1 + (kRaw % E);
        const config = tiny({ n_experts: E, experts_top_k: k });
        const out = await moeForward(randomParams(config, s), config, 0, R.randn([T, 8], s + 1));
        for (let t = 0; t < T; t++) {
          let sum = 0;
          for (let j = 0; j < k; j++) sum += out.weights[t * k + j];
          assert.ok(Math.abs(sum - 1) <= 1e-6, `token ${t}: weights sum to ${sum}`);
          assert.equal(new Set(out.chosen.subarray(t * k, (t + 1) * k)).size, k, 'k distinct experts');
        }
      }),
      { numRuns: 20 },
    );
    assert.deepEqual(topK([1, 3, 3, 0, 3], 2), [1, 2]);
    assert.deepEqual(topK([2, 2, 2], 3), [0, 1, 2]);
  });

  /* Expert e runs only on the rows of the tokens that chose it, and a token's output sums only its chosen experts: an unchosen expert's parameters never enter. */
  it('MoE: perturbing an expert a token did not choose leaves that token bit-identical', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, async (s) => {
        const config = tiny({ n_experts: 4, experts_top_k: 2 });
        const params = randomParams(config, s);
        const x = R.randn([6, 8], s + 1);
        const a = await moeForward(params, config, 0, x);
        const e = 3;
        const perturbed: Record<string, Tensor> = { ...params };
        for (const n of Object.keys(params)) if (n.startsWith(`h.0.mlp.experts.${e}.`)) perturbed[n] = tensor(params[n].shape, params[n].data.map((v) => v + 0.5));
        const b = await moeForward(perturbed, config, 0, x);
        let untouched = 0;
        for (let t = 0; t < 6; t++) {
          if ([...a.chosen.subarray(t * 2, t * 2 + 2)].includes(e)) continue;
          untouched++;
          assert.ok(a.y.data.subarray(t * 8, (t + 1) * 8).every((v, i) => Object.is(v, b.y.data[t * 8 + i])), `token ${t} changed`);
        }
        return untouched >= 0;
      }),
      { numRuns: 15 },
    );
  });

  /* f_e = P̄_e = 1/E gives E·Σ_e (1/E)(1/E) = E·E/E² = 1: exact in floating point for E a power of 2. */
  it('MoE: the load-balancing loss is exactly 1 under uniform routing', async () => {
    for (const E of [1, 2, 4, 8]) {
      const u = new Float64Array(E).fill(1 / E);
      assert.equal(loadBalancingLoss(u, u), 1);
    }
    // and through the model: a zero router gives p = 1/E for every token; two tokens
    // whose router logits mirror each other split the assignments evenly.
    const config = makeConfig({ n_vocab: 5, n_ctx: 4, n_layer: 1, n_embd: 2, n_head: 1, n_inner: 3, n_experts: 2, experts_top_k: 1 });
    const params: Record<string, Tensor> = { ...randomParams(config, 1), 'h.0.mlp.router.weight': tensor([2, 2], Float32Array.from([1, -1, 0, 0])) };
    const out = (await moeForward(params, config, 0, tensor([2, 2], Float32Array.from([0.5, 0, -0.5, 0])))) as MoEOutput;
    assert.deepEqual([...out.fraction], [0.5, 0.5]);
    assert.ok(Math.abs(out.aux - 1) < 1e-7, `aux = ${out.aux}`);
  });

  /*
   * With E = 2, k = 1, no router bias and x₁ = −x₀, the router logits of the two tokens
   * are negatives of each other, so they choose different experts: f = (½, ½) for any
   * router weights, and aux = 2·½·(P̄₀ + P̄₁) = 1 whatever the probabilities are. Its
   * gradient is therefore exactly 0, and with dy = 0 (no LM gradient) the backward must
   * give exactly zero router and input gradients, not float32 leftovers of Σp ≠ 1.
   */
  it('MoE: a balanced load gives the aux loss exactly zero gradient', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, async (s) => {
        const config = makeConfig({ n_vocab: 5, n_ctx: 4, n_layer: 1, n_embd: 4, n_head: 1, n_inner: 3, n_experts: 2, experts_top_k: 1 });
        const params = randomParams(config, s);
        const x0 = R.randn([4], s + 1);
        const x = tensor([2, 4], Float32Array.from([...x0.data, ...x0.data.map((v) => -v)]));
        const fwd = (await moeForward(params, config, 0, x)) as MoEOutput;
        assert.deepEqual([...fwd.fraction], [0.5, 0.5], 'the two tokens choose different experts');
        const { dx, grads } = await mlpBackward(params, config, 0, fwd, zeros([2, 4]));
        assert.ok(dx.data.every((v) => v === 0), `dx = ${[...dx.data]}`);
        const dRouter = grads['h.0.mlp.router.weight'];
        assert.ok(dRouter.data.every((v) => v === 0), `dW_router = ${[...dRouter.data]}`);
      }),
      { numRuns: 30 },
    );
  });
});

describe('variant configs', () => {
  it('GPT-1 records no switch; each switch is recorded only when it differs from GPT-1', () => {
    assert.deepEqual(architectureOverrides(GPT1), {});
    assert.deepEqual(architectureOverrides(tiny({ n_experts: 4 })), { n_experts: 4, experts_top_k: 2, moe_aux_loss_coef: 0.01 });
    assert.deepEqual(architectureOverrides(tiny({ position_embedding: 'rope' })), { position_embedding: 'rope', rope_theta: 10000 });
  });

  it('bad switches are one-line errors', () => {
    assert.throws(() => tiny({ position_embedding: 'alibi' as 'rope' }), /position_embedding must be learned or rope/);
    assert.throws(() => tiny({ n_experts: 2, experts_top_k: 3 }), /experts_top_k must be an integer in \[1, n_experts = 2\]/);
    assert.throws(() => makeConfig({ n_embd: 6, n_head: 2, position_embedding: 'rope' }), /even head width/);
    assert.throws(() => tiny({ n_experts: MAX_EXPERTS + 1 }), /n_experts must be an integer in \[0, 1024\]/);
    assert.throws(() => tiny({ n_experts: 1.5 }), /n_experts must be an integer/);
    assert.throws(() => tiny({ position_embedding: 'rope', rope_theta: Infinity }), /rope_theta must be > 1/);
    assert.throws(() => tiny({ n_experts: 2, moe_aux_loss_coef: NaN }), /moe_aux_loss_coef must be >= 0/);
  });

  it('paramCount (the closed form validateConfig bounds) equals countParams (the list of tensors) for every variant', () => {
    for (const [name, o] of Object.entries({ gpt1: {}, ...VARIANTS, 'rmsnorm, Pre-LN, rope, n_ctx 50': { normalization: 'rmsnorm', norm_placement: 'pre', position_embedding: 'rope', n_ctx: 50 } } as Record<string, Partial<GPTConfig>>)) {
      for (const size of [{}, { n_embd: 12, n_head: 3, n_inner: 5, n_layer: 3, n_special: 2 }]) {
        const config = tiny({ ...o, ...size });
        assert.equal(paramCount(config), countParams(config), `${name} ${JSON.stringify(size)}`);
      }
    }
    assert.equal(paramCount(GPT1), countParams(GPT1));
  });

  it('parameter counts: swiglu at n_inner = 2/3 of 4d matches GPT-1 minus the two small bias differences', () => {
    const d = 48;
    const gpt = countParams(makeConfig({ n_vocab: 10, n_ctx: 8, n_embd: d, n_head: 4, n_layer: 2 }));
    const sw = countParams(makeConfig({ n_vocab: 10, n_ctx: 8, n_embd: d, n_head: 4, n_layer: 2, afn: 'swiglu', n_inner: (8 * d) / 3 }));
    assert.equal(sw - gpt, 2 * ((8 * d) / 3 * 2 - 4 * d)); // weights match exactly; the extra gate bias adds n_inner per layer, GPT-1's c_fc bias has 4d
  });
});

describe('variant checkpoints', () => {
  const root = mkdtempSync(join(tmpdir(), 'gpt1-variants-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  /* Saving then loading gives back the same config (switches included) and the same bits, in both layouts, for every variant. */
  for (const [name, o] of Object.entries({ ...VARIANTS, 'rope theta 500, n_ctx 5': { position_embedding: 'rope', rope_theta: 500, n_ctx: 5 } } as Record<string, Partial<GPTConfig>>)) {
    it(`${name}: save and load, original and Hugging Face layouts, give the same config and bits`, () => {
      const config = tiny({ ...o, n_layer: 3 });
      const params = randomParams(config, 2);
      for (const format of ['original', 'hf'] as const) {
        const dir = join(root, `${name.replace(/[^a-z0-9]+/gi, '-')}-${format}`);
        saveCheckpoint(dir, format, config, params);
        const back = loadCheckpoint(dir, { n_head: config.n_head });
        assert.deepEqual({ ...back.config, ...architecture(back.config) }, { ...config, ...architecture(config) }, `${format}: config (defaults filled in)`);
        for (const [n] of paramShapes(config)) assert.ok(equal(back.params[n], params[n]), `${format}: ${n}`);
      }
    });
  }
});

/** `gpt1 …` in this process with its stdout lines swallowed; returns the exit status. */
async function gpt1Quiet(...argv: string[]): Promise<number> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await main([...argv, '--quiet']);
  } finally {
    console.log = log;
  }
}

describe('gpt1 init and gpt1 dump for the variants', () => {
  const root = mkdtempSync(join(tmpdir(), 'gpt1-variants-cli-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const cases: Record<string, string[]> = {
    modern: ['--arch', 'modern'],
    moe: ['--arch', 'moe'],
    'GPT-1 with RoPE and 3 experts, top-1': ['--position-embedding', 'rope', '--n-experts', '3', '--experts-top-k', '1', '--moe-aux-loss-coef', '0.2'],
  };
  for (const [name, flags] of Object.entries(cases)) {
    it(`${name}: init makes it; dump writes moe_aux_loss (with experts) and the gradients of lm_loss + coef·aux`, async () => {
      const ckpt = join(root, name.replace(/[^a-z0-9]+/gi, '-'));
      assert.equal(await gpt1Quiet('init', '--preset', 'tiny', '--seed', '3', '--std', '0.3', ...flags, '--out', ckpt), 0);
      const { config, params } = loadCheckpoint(ckpt);
      const ids = [1, 5, 9, 3, 22, 7];
      assert.equal(await gpt1Quiet('dump', '--checkpoint', ckpt, '--ids', ids.join(','), '--grads', '--intermediates', '--out', `${ckpt}-dump`), 0);
      const loss = JSON.parse(readFileSync(join(`${ckpt}-dump`, 'loss.json'), 'utf8'));
      const want = await lmLossAndGrads(params, config, ids);
      assert.equal(loss.lm_loss, want.loss);
      assert.equal(loss.moe_aux_loss, want.moeAuxLoss, 'moe_aux_loss is there exactly when the model has experts');
      for (const [n] of paramShapes(config)) assert.ok(equal(readNpy(join(`${ckpt}-dump`, 'grads', `${n}.npy`)).tensor, want.grads[n]), `grads/${n}.npy`);
    });
  }

  it('the presets: modern matches GPT-1\'s parameter count and moe its active count at the same width, within one FFN column', () => {
    for (const size of [tiny({}), makeConfig({ n_vocab: 100, n_ctx: 64, n_embd: 64, n_head: 4, n_layer: 3 }), GPT1]) {
      const perColumn = (c: GPTConfig): number => c.n_layer * (3 * c.n_embd + 2) * (c.n_experts ? c.experts_top_k ?? 2 : 1);
      const modern = withArchitecture(size, 'modern');
      const moe = withArchitecture(size, 'moe');
      assert.ok(Math.abs(countParams(modern) - countParams(size)) <= perColumn(modern) / 2, `modern ${countParams(modern)} vs ${countParams(size)}`);
      assert.ok(Math.abs(countActiveParams(moe) - countParams(size)) <= perColumn(moe) / 2, `moe active ${countActiveParams(moe)} vs ${countParams(size)}`);
      assert.equal(moe.n_experts, 4);
      assert.equal(moe.experts_top_k, 2);
    }
  });
});
