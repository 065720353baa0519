/**
 * Typed parameter access (`params.ts`): `layerParams`/`modelParams` give the checkpoint's
 * tensors as typed records whose paths are the names, and `namedLayerPart`/`namedModelPart`
 * turn such records back into names.
 *
 * Invariants, derived from the definitions:
 * - the typed view is a relabelling, not a copy: flattening every part of
 *   `layerParams(params, config, i)` back to names gives exactly block i's names of
 *   `blockParamShapes(config, i)`, in that order, each mapped to the very tensor of
 *   `params` (===); flattening `modelParams` gives all of `params` in `paramShapes` order;
 * - a field is present exactly when the config's switches give the checkpoint that
 *   tensor: a norm's bias iff LayerNorm, `c_gate` iff SwiGLU, `experts` (E of them)
 *   iff n_experts = E > 0, W_p iff not RoPE, `ln_f` iff Pre-LN;
 * - a missing tensor is a one-line error naming it;
 * - a misspelled field is a compile-time error (checked by `tsc`, which `npm test` runs
 *   first, through the `@ts-expect-error` lines below: if the names were untyped,
 *   those lines would not be errors and tsc would fail on the unused directives).
 *
 * @module
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type GPTConfig, makeConfig } from '../src/config.ts';
import { type LayerParams, type Params, blockParamShapes, initParams, layerParams, modelParams, namedLayerPart, namedModelPart, paramShapes } from '../src/params.ts';
import { rng } from '../src/random.ts';
import type { Tensor } from '../src/tensor.ts';

/** Any combination of the five switches, on a tiny model. */
const configArb = fc
  .record({
    rope: fc.boolean(),
    rms: fc.boolean(),
    pre: fc.boolean(),
    swiglu: fc.boolean(),
    experts: fc.integer({ min: 0, max: 3 }),
    layers: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ rope, rms, pre, swiglu, experts, layers }): GPTConfig => makeConfig({
    n_vocab: 7, n_ctx: 6, n_layer: layers, n_embd: 4, n_head: 2, n_inner: 5,
    ...(rope ? { position_embedding: 'rope' } : {}),
    ...(rms ? { normalization: 'rmsnorm' } : {}),
    ...(pre ? { norm_placement: 'pre' } : {}),
    ...(swiglu ? { afn: 'swiglu' } : {}),
    ...(experts > 0 ? { n_experts: experts, experts_top_k: 1 } : {}),
  }));

/** Every part of a block's typed record, back to names, in the block's order. */
function flattenLayer(layer: number, lp: LayerParams): Record<string, Tensor> {
  return { ...namedLayerPart(layer, 'attn', lp.attn), ...namedLayerPart(layer, 'ln_1', lp.ln_1), ...namedLayerPart(layer, 'mlp', lp.mlp), ...namedLayerPart(layer, 'ln_2', lp.ln_2) };
}

describe('typed parameter access (params.ts)', () => {
  it('layerParams and modelParams relabel the checkpoint: back to names they give every tensor of params, itself, in checkpoint order', () => {
    fc.assert(
      fc.property(configArb, fc.nat(), (config, s) => {
        const params = initParams(config, rng(s));
        for (let i = 0; i < config.n_layer; i++) {
          const named = flattenLayer(i, layerParams(params, config, i));
          assert.deepEqual(Object.keys(named), blockParamShapes(config, i).map(([n]) => n));
          for (const [name, t] of Object.entries(named)) assert.ok(t === params[name], `${name} is params' own tensor`);
        }
        const m = modelParams(params, config);
        const all: Record<string, Tensor> = {
          ...(m.positions_embed === undefined ? {} : namedModelPart('positions_embed', m.positions_embed)),
          ...namedModelPart('tokens_embed', m.tokens_embed),
          ...Object.assign({}, ...m.h.map((lp, i) => flattenLayer(i, lp))),
          ...(m.ln_f === undefined ? {} : namedModelPart('ln_f', m.ln_f)),
        };
        assert.deepEqual(Object.keys(all), paramShapes(config).map(([n]) => n));
        for (const [name, t] of Object.entries(all)) assert.ok(t === params[name], name);
      }),
      { numRuns: 40 },
    );
  });

  it('a field is present exactly when the switches give the checkpoint its tensor', () => {
    fc.assert(
      fc.property(configArb, (config) => {
        const params = initParams(config, rng(1));
        const m = modelParams(params, config);
        const E = config.n_experts ?? 0;
        assert.equal(m.positions_embed !== undefined, config.position_embedding !== 'rope', 'W_p iff learned positions');
        assert.equal(m.ln_f !== undefined, config.norm_placement === 'pre', 'ln_f iff Pre-LN');
        assert.equal(m.h.length, config.n_layer);
        for (const lp of m.h) {
          for (const norm of [lp.ln_1, lp.ln_2]) assert.equal(norm.bias !== undefined, config.normalization !== 'rmsnorm', 'a norm bias iff LayerNorm');
          assert.equal('experts' in lp.mlp, E > 0, 'experts iff n_experts > 0');
          const ffns = 'experts' in lp.mlp ? lp.mlp.experts : [lp.mlp];
          assert.equal(ffns.length, Math.max(E, 1));
          for (const f of ffns) assert.equal(f.c_gate !== undefined, config.afn === 'swiglu', 'c_gate iff SwiGLU');
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a tensor the config needs and params lacks is a one-line error naming it', () => {
    const config = makeConfig({ n_vocab: 7, n_ctx: 6, n_layer: 2, n_embd: 4, n_head: 2 });
    const params = initParams(config, rng(2));
    for (const [name] of paramShapes(config)) {
      const without: Params = Object.fromEntries(Object.entries(params).filter(([n]) => n !== name));
      assert.throws(() => modelParams(without, config), new RegExp(`^Error: missing parameter ${name.replaceAll('.', '\\.')}$`));
      if (name.startsWith('h.1.')) assert.throws(() => layerParams(without, config, 1), /missing parameter/);
      else if (name.startsWith('h.')) assert.doesNotThrow(() => layerParams(without, config, 1), 'block 1 reads only its own tensors');
    }
  });

  it('a misspelled name does not compile', () => {
    const config = makeConfig({ n_vocab: 7, n_ctx: 6, n_layer: 1, n_embd: 4, n_head: 2 });
    const lp = layerParams(initParams(config, rng(3)), config, 0);
    // @ts-expect-error: the checkpoint's name is c_attn
    assert.equal(lp.attn.c_atn, undefined);
    // @ts-expect-error: a Conv1D has weight and bias, no `w`
    assert.equal(lp.attn.c_proj.w, undefined);
    // @ts-expect-error: the parts of a block are attn, ln_1, mlp, ln_2 (at run time the names would be silently wrong)
    assert.deepEqual(Object.keys(namedLayerPart(0, 'ln1', lp.ln_1)), ['h.0.ln1.weight', 'h.0.ln1.bias']);
    assert.equal(lp.attn.c_attn.weight.shape.join(','), '4,12');
  });
});
