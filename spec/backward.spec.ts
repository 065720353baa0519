/**
 * Invariants of the backward passes: properties that hold exactly (or to float32
 * rounding) whatever the values, each with its one-line derivation.
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
import { embeddingDropout } from '../src/model/embedding.ts';
import { ffnBackward, ffnForward } from '../src/model/ffn.ts';
import { type ForwardOutput, addGrads, backward, batchLmLossAndGrads, forward, lmLossAndGrads, scaleGrads } from '../src/model/gpt.ts';
import { layerNormBackward, layerNormForward } from '../src/model/layernorm.ts';
import { lmLoss, lmLossBackward } from '../src/model/objectives.ts';
import { softmax, softmaxBackward } from '../src/model/softmax.ts';
import type { Params } from '../src/params.ts';
import { fork, rng } from '../src/random.ts';
import { type Tensor, equal, tensor } from '../src/tensor.ts';
import * as R from './gradref.ts';

const seed = fc.integer({ min: 0, max: 0x7fffffff });
const TINY = { n_vocab: 11, n_ctx: 6, n_embd: 8, n_head: 2, n_layer: 2 };

/** A Tensor whose data is zero except in rows `rows` of a [T, C] matrix (random there). */
function rowsOnly(T: number, C: number, rows: (t: number) => boolean, s: number): Tensor {
  const r = R.randn([T, C], s);
  const out = new Float32Array(T * C);
  for (let t = 0; t < T; t++) if (rows(t)) out.set(r.data.subarray(t * C, (t + 1) * C), t * C);
  return tensor([T, C], out);
}

/** Every Float32Array / Uint8Array reachable from a value, for purity snapshots. */
function arrays(v: unknown, out: (Float32Array | Uint8Array)[] = [], seen = new Set<unknown>()): (Float32Array | Uint8Array)[] {
  if (v === null || typeof v !== 'object' || seen.has(v)) return out;
  seen.add(v);
  if (v instanceof Float32Array || v instanceof Uint8Array) out.push(v);
  else for (const x of Object.values(v as object)) arrays(x, out, seen);
  return out;
}

/** Runs `fn` and asserts that no array reachable from `inputs` changed. */
async function assertUnchanged<T>(what: string, inputs: unknown, fn: () => Promise<T> | T): Promise<T> {
  const live = arrays(inputs);
  const copies = live.map((a) => a.slice());
  const result = await fn();
  live.forEach((a, i) => assert.ok(a.every((x, j) => Object.is(x, copies[i][j])), `${what} modified one of its inputs`));
  return result;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('LayerNorm backward', () => {
  // dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)).
  // Σⱼ dxⱼ = rstd·(Σdx̂ − d·mean(dx̂) − mean(dx̂⊙x̂)·Σx̂) = 0, because Σⱼ x̂ⱼ = 0.
  // Σⱼ x̂ⱼdxⱼ = rstd·(Σdx̂⊙x̂ − mean(dx̂)·Σx̂ − mean(dx̂⊙x̂)·Σx̂²) = rstd·Σ(dx̂⊙x̂)·(1 − Σx̂²/d),
  // and Σx̂²/d = σ²/(σ² + ε): orthogonal to x̂ up to the relative ε/(σ² + ε).
  it('rows of dx sum to 0 and dx is orthogonal to x̂ up to the ε term', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2, max: 64 }), fc.constantFrom(0.01, 1, 100), seed, async (T, d, spread, s) => {
        const x = R.randn([T, d], s, spread);
        const g = R.randn([d], s + 1);
        const b = R.randn([d], s + 2);
        const dy = R.randn([T, d], s + 3);
        const ln = layerNormForward(x, g, b, 1e-5);
        const { dx } = layerNormBackward(ln, g, dy);
        for (let t = 0; t < T; t++) {
          const row = (a: ArrayLike<number>): number[] => Array.from({ length: d }, (_, i) => a[t * d + i]);
          const [xh, dxr, dxhat] = [row(ln.xhat.data), row(dx.data), row(dy.data).map((v, i) => v * g.data[i])];
          const r = ln.rstd[t];
          const terms = r * maxAbs(dxhat) * d; // size of what was summed
          const sum = dxr.reduce((a, v) => a + v, 0);
          assert.ok(Math.abs(sum) <= 1e-5 * terms, `row ${t}: Σ dx = ${sum}`);
          const dot = dxr.reduce((a, v, i) => a + v * xh[i], 0);
          const sumSq = xh.reduce((a, v) => a + v * v, 0);
          const expected = r * dxhat.reduce((a, v, i) => a + v * xh[i], 0) * (1 - sumSq / d);
          assert.ok(Math.abs(dot - expected) <= 1e-5 * terms, `row ${t}: Σ x̂·dx = ${dot}, expected ${expected}`);
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe('softmax backward', () => {
  // dx = P⊙(dP − rowsum(dP⊙P)) ⇒ Σⱼ dxⱼ = ΣPⱼdPⱼ − (ΣPⱼ)·rowsum(dP⊙P) = 0 since ΣPⱼ = 1;
  // and dxⱼ = 0 exactly where Pⱼ = 0.
  it('rows sum to 0 and entries with P = 0 get exactly 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 30 }), seed, (rows, C, s) => {
        const x = R.randn([rows, C], s, 3);
        const masked = tensor(x.shape, x.data.map((v, i) => (i % C > Math.floor(i / C) ? -1e9 : v))); // causal: column j > row r masked
        const P = softmax(masked);
        const dP = R.randn([rows, C], s + 1);
        const dx = softmaxBackward(P, dP);
        for (let r = 0; r < rows; r++) {
          let sum = 0;
          for (let j = 0; j < C; j++) {
            sum += dx.data[r * C + j];
            if (P.data[r * C + j] === 0) assert.ok(dx.data[r * C + j] === 0, 'P = 0 ⇒ dx = 0 (±0)');
          }
          assert.ok(Math.abs(sum) <= 1e-6 * maxAbs(dP.data), `row ${r}: Σ dx = ${sum}`);
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('causality of the gradient', () => {
  // Position i only reads positions j ≤ i (the mask), so a loss that depends on the
  // outputs at positions ≤ t does not depend on inputs at positions > t: their gradient
  // is 0. In the backward pass this is exact, not approximate: rows > t of every
  // upstream gradient are exact zeros, masked scores get an explicit 0, and masked
  // probabilities are exactly 0 (exp underflow), so only products with exact zeros
  // reach those rows.
  it('attention and a block: dy only at positions ≤ t gives dx = 0 exactly at positions > t', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.nat(), fc.constantFrom(0, 0.3), seed, async (T, tRaw, pdrop, s) => {
        const t = tRaw % (T - 1); // t < T − 1: at least one future position
        const config = makeConfig({ ...TINY, n_layer: 1, attn_pdrop: pdrop, resid_pdrop: pdrop });
        const params = R.testParams(config, rng(s));
        const x = R.randn([T, config.n_embd], s + 1);
        const dy = rowsOnly(T, config.n_embd, (i) => i <= t, s + 2);
        const drop = pdrop > 0 ? rng(s + 3) : undefined;
        const attn = await attentionBackward(params, config, 0, await attentionForward(params, config, 0, x, undefined, drop), dy);
        const block = await blockBackward(params, config, 0, await blockForward(params, config, 0, x, undefined, drop), dy);
        for (const [what, dx] of [['attention', attn.dx], ['block', block.dx]] as const) {
          for (let i = (t + 1) * config.n_embd; i < dx.data.length; i++) assert.ok(dx.data[i] === 0, `${what}: dx at a future position is ${dx.data[i]}`);
          // (With attention dropout, a position may lose all its probabilities in every head:
          // then attention alone legitimately passes it nothing; the block's residual path still does.)
          if (what === 'block' || pdrop === 0) assert.ok(maxAbs(dx.data.subarray(0, (t + 1) * config.n_embd)) > 0, `${what}: the past does get gradient`);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('whole model: the loss at position t alone (mask = onehot(t+1)) gives 0 gradient to position embeddings > t', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 3, max: 6 }), fc.nat(), fc.boolean(), seed, async (T, tRaw, train, s) => {
        const t = tRaw % (T - 1);
        const config = makeConfig(TINY);
        const params = R.testParams(config, rng(s));
        const ids = Array.from({ length: T }, (_, i) => (s + 7 * i) % config.n_vocab);
        const mask = ids.map((_, i) => (i === t + 1 ? 1 : 0));
        const { grads } = await lmLossAndGrads(params, config, ids, mask, train ? { dropout: { rng: rng(s + 1) } } : {});
        const Wp = grads['positions_embed.weight'].data; // [n_ctx, d]
        const d = config.n_embd;
        for (let i = (t + 1) * d; i < Wp.length; i++) assert.ok(Wp[i] === 0, `positions_embed row ${Math.floor(i / d)} > t = ${t}: ${Wp[i]}`);
        assert.ok(maxAbs(Wp.subarray(0, (t + 1) * d)) > 0);
      }),
      { numRuns: 10 },
    );
  });
});

describe('linearity in the upstream gradient', () => {
  // backward is the transposed Jacobian applied to (dLogits, dHidden): a linear map, so
  // backward(a·g₁ + b·g₂) = a·backward(g₁) + b·backward(g₂), up to float32 rounding.
  it('whole model, dLogits and dHidden together, with dropout', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), seed, async (T, a, b, s) => {
        const config = makeConfig({ ...TINY, n_special: 2 });
        const V = nTokenRows(config);
        const params = R.testParams(config, rng(s));
        const ids = Array.from({ length: T }, (_, i) => (s + 5 * i) % V);
        const fwd = await forward(params, config, ids, { dropout: { rng: rng(s + 1) } });
        const up = (k: number) => ({ dLogits: R.randn([T, V], s + k), dHidden: R.randn([T, config.n_embd], s + k + 1) });
        const [u1, u2] = [up(2), up(4)];
        const mix = (x: Tensor, y: Tensor): Tensor => tensor(x.shape, x.data.map((v, i) => a * v + b * y.data[i]));
        const g1 = await backward(params, config, fwd, u1);
        const g2 = await backward(params, config, fwd, u2);
        const g12 = await backward(params, config, fwd, { dLogits: mix(u1.dLogits, u2.dLogits), dHidden: mix(u1.dHidden, u2.dHidden) });
        const combo = addGrads(scaleGrads(g1, a), scaleGrads(g2, b));
        for (const name of Object.keys(g12)) {
          const scale = Math.abs(a) * maxAbs(g1[name].data) + Math.abs(b) * maxAbs(g2[name].data);
          const err = maxAbs(g12[name].data.map((v, i) => v - combo[name].data[i]));
          assert.ok(err <= 1e-5 * scale + 1e-30, `${name}: |backward(a·g₁ + b·g₂) − (a·backward(g₁) + b·backward(g₂))| = ${err}, scale ${scale}`);
        }
      }),
      { numRuns: 6 },
    );
  });
});

describe('dropout', () => {
  const config0 = makeConfig({ ...TINY, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });

  it('a rate of 0 draws no masks and equals evaluation bit for bit, forward and backward', async () => {
    const params = R.testParams(config0, rng(1));
    const ids = [1, 2, 3, 4, 5];
    const train = await lmLossAndGrads(params, config0, ids, undefined, { dropout: { rng: rng(2) } });
    const evalRun = await lmLossAndGrads(params, config0, ids);
    assert.equal(train.loss, evalRun.loss);
    for (const name of Object.keys(params)) assert.ok(equal(train.grads[name], evalRun.grads[name]), name);
    const fwd = await forward(params, config0, ids, { dropout: { rng: rng(2) } });
    const masks = R.masksOf(fwd);
    assert.equal(masks.tokens, undefined);
    assert.ok(masks.blocks.every((b) => b.probs === undefined && b.attnResid === undefined && b.mlpResid === undefined));
    assert.equal(dropoutMask(rng(3), [4], 0), undefined);
  });

  it('masks are reproducible from the seed, differ between seeds, and evaluation draws none', async () => {
    const config = makeConfig(TINY); // 0.1 everywhere, as in the paper
    const params = R.testParams(config, rng(1));
    const ids = [1, 2, 3, 4, 5, 6];
    const run = (s: number): Promise<ForwardOutput> => forward(params, config, ids, { dropout: { rng: rng(s) } });
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    const keeps = (f: ForwardOutput): Uint8Array[] => {
      const m = R.masksOf(f);
      return [m.tokens!, m.positions!, ...m.blocks.flatMap((x) => [x.probs!, x.attnResid!, x.mlpResid!])].map((x) => x.keep);
    };
    assert.deepEqual(keeps(a), keeps(b));
    assert.ok(equal(a.logits, b.logits));
    assert.notDeepEqual(keeps(a), keeps(c));
    assert.ok(!equal(a.logits, c.logits), 'different masks give different logits');
    const ev = await forward(params, config, ids);
    assert.equal(ev.embedding.tokens, undefined);
    assert.equal(ev.blocks[0].attn.probsDrop, undefined);
    assert.ok(equal(ev.logits, (await forward(params, config, ids)).logits));
    // Shapes of the masks: the embedding matrices, [H, T, T], [T, d], [T, d].
    const m = R.masksOf(a);
    assert.deepEqual(m.tokens!.shape, [nTokenRows(config), config.n_embd]);
    assert.deepEqual(m.positions!.shape, [config.n_ctx, config.n_embd]);
    assert.deepEqual(m.blocks[1].probs!.shape, [config.n_head, 6, 6]);
    assert.deepEqual(m.blocks[1].attnResid!.shape, [6, config.n_embd]);
    assert.deepEqual(m.blocks[1].mlpResid!.shape, [6, config.n_embd]);
  });

  it('keeps each unit with probability 1 − p and scales kept units by 1/(1 − p)', () => {
    for (const p of [0.1, 0.5]) {
      const n = 100_000;
      const mask = dropoutMask(rng(11), [n], p)!;
      const kept = mask.keep.reduce((a, v) => a + v, 0);
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(kept - n * (1 - p)) < 5 * sd, `kept ${kept} of ${n} at p = ${p}`);
      const x = tensor([4], Float32Array.from([1, 2, 3, 4]));
      const m4 = dropoutMask(rng(12), [4], p)!;
      const y = dropoutForward(x, m4);
      y.data.forEach((v, i) => assert.equal(v, m4.keep[i] ? Math.fround(x.data[i] / (1 - p)) : 0));
      assert.ok(equal(dropoutBackward(x, m4), y), 'backward applies the same map');
    }
  });
});

describe('purity and API', () => {
  it('no backward modifies its inputs (parameters, ids, saved forward values, upstream gradients)', async () => {
    const config = makeConfig({ ...TINY, afn: 'gelu' });
    const params = R.testParams(config, rng(3));
    const ids = [3, 1, 4, 1, 5];
    const fwd = await forward(params, config, ids, { dropout: { rng: rng(4) } });
    const dLogits = lmLossBackward(fwd.logits, ids);
    const dHidden = R.randn([5, config.n_embd], 5);
    await assertUnchanged('backward', [params, ids, fwd, dLogits, dHidden], () => backward(params, config, fwd, { dLogits, dHidden }));
    const b = fwd.blocks[1];
    const dy = R.randn([5, config.n_embd], 6);
    await assertUnchanged('blockBackward', [params, b, dy], () => blockBackward(params, config, 1, b, dy));
    await assertUnchanged('attentionBackward', [params, b.attn, dy], () => attentionBackward(params, config, 1, b.attn, dy));
    await assertUnchanged('ffnBackward', [params, b.ffn, dy], () => ffnBackward(params, config, 1, b.ffn, dy));
    await assertUnchanged('layerNormBackward', [b.ln1, dy], () => layerNormBackward(b.ln1, params['h.1.ln_1.weight'], dy));
    await assertUnchanged('conv1dBackward', [b.x, dy], () => conv1dBackward(b.x, params['h.1.attn.c_proj.weight'], dy));
    await assertUnchanged('softmaxBackward', [b.attn.probs], () => softmaxBackward(b.attn.probs, b.attn.probs));
    await assertUnchanged('lmLossBackward', [fwd.logits, ids], () => lmLossBackward(fwd.logits, ids));
    // And the forward with dropout leaves the parameters alone (embedding dropout makes copies).
    await assertUnchanged('forward', [params], () => forward(params, config, ids, { dropout: { rng: rng(4) } }));
  });

  it('a gradient for every parameter, fresh tensors, and one-line errors for missing or misshapen upstream gradients', async () => {
    const config = makeConfig(TINY);
    const params = R.testParams(config, rng(3));
    const ids = [1, 2, 3];
    const fwd = await forward(params, config, ids);
    const grads = await backward(params, config, fwd, { dLogits: lmLossBackward(fwd.logits, ids) });
    assert.deepEqual(Object.keys(grads), Object.keys(params));
    const paramArrays = new Set(arrays(params));
    for (const [name, g] of Object.entries(grads)) {
      assert.deepEqual(g.shape, params[name].shape);
      assert.ok(!paramArrays.has(g.data), `${name}: the gradient shares memory with a parameter`);
    }
    await assert.rejects(backward(params, config, fwd, {}), /backward needs upstream\.dLogits or upstream\.dHidden/);
    await assert.rejects(backward(params, config, fwd, { dHidden: R.randn([2, 8], 1) }), /upstream\.dHidden has shape \[2, 8\], expected \[3, 8\]/);
  });

  it('batchLmLossAndGrads is the mean over sequences of lmLossAndGrads (one embedding mask per batch, other streams per sequence)', async () => {
    const config: GPTConfig = makeConfig(TINY);
    const params = R.testParams(config, rng(3));
    const batch = [{ ids: [1, 2, 3] }, { ids: [4, 5, 6, 7], mask: [1, 1, 1, 0] }];
    const r = rng(9);
    const got = await batchLmLossAndGrads(params, config, batch, { rng: r });
    const embedding = embeddingDropout(params, config, fork(r, 'embedding'));
    const one = await Promise.all(batch.map((x, i) => lmLossAndGrads(params, config, x.ids, x.mask, { dropout: { rng: fork(r, String(i)), embedding } })));
    assert.ok(Math.abs(got.loss - (one[0].loss + one[1].loss) / 2) < 1e-12);
    const mean: Params = scaleGrads(addGrads(one[0].grads, one[1].grads), 0.5);
    for (const name of Object.keys(mean)) assert.ok(equal(got.grads[name], mean[name]), name);
    // lmLossAndGrads' loss is lmLoss of the same forward.
    const fwd = await forward(params, config, [1, 2, 3]);
    assert.equal((await lmLossAndGrads(params, config, [1, 2, 3])).loss, lmLoss(fwd.logits, [1, 2, 3]));
  });
});
