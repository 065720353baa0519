/**
 * The named intermediate values of every block, read off a finished forward pass, so
 * that a port can localise a mismatch to one line of the block (`gpt1 dump
 * --intermediates`, docs/cli.md, docs/porting.md).
 *
 * Nothing here changes the forward pass or slows it: `forward` (gpt.ts) already keeps
 * what each block computed (its backward pass needs it), and this module only
 * re-arranges those tensors. Two values the block does not keep are recomputed from
 * kept ones with the same operations, so they are bit-identical to the ones used:
 * the residual sums z₁ = x + a and z₂ = n + m (`add`, as in `blockForward`), and the
 * scaled-and-masked scores w = mask(Q·Kᵀ/√d_h) (`bmmNT` then `scaleAndMask`, as in
 * `attentionForward`).
 *
 * Per block (T positions, d = n_embd, H = n_head, d_h = d/H; GPT-1 is Post-LN):
 *
 *     qkv = x·W_attn + b_attn            [T, 3d]       c_attn
 *     q, k, v = split_heads(qkv)         [H, T, d_h]   each
 *     w   = mask(q·kᵀ/√d_h)              [H, T, T]     scores (masked entries exactly −1e9)
 *     P   = softmax(w)                   [H, T, T]     (dumped as attentions.npy)
 *     a   = merge_heads(P·v)             [T, d]        merged
 *     y   = a·W_proj + b_proj            [T, d]        attn_out
 *     z₁  = x + y                        [T, d]        z1
 *     n   = LN₁(z₁)                      [T, d]        n
 *     u   = n·W_fc + b_fc                [T, n_inner]  ffn_pre
 *     g   = GELU(u)                      [T, n_inner]  ffn_act
 *     m   = g·W_proj′ + b_proj′          [T, d]        ffn_out
 *     z₂  = n + m                        [T, d]        z2
 *     h   = LN₂(z₂)                      [T, d]        h  (= hidden_states[l + 1])
 *
 * ## The later decoders' switches (`block.ts`, docs/evolution.md)
 * The same names, filled where they apply: with RoPE, `c_attn` is the projection
 * before the rotation and `q`, `k` (and so `scores`) are after it; with Pre-LN
 * (a = x + attn(LN₁(x)), h = a + ffn(LN₂(a))), `z1` is a, `n` is LN₂(a) (the FFN's
 * input, as in Post-LN) and `z2` is h; with SwiGLU, `ffn_pre` is the up projection u
 * and `ffn_act` is silu(gate) ⊙ u; with experts, `ffn_pre` is the router logits
 * [T, E] and `ffn_act` the routing weights [T, E] (0 for an unchosen expert).
 *
 * @module
 */
import { type GPTConfig, usesPreLN } from '../config.ts';
import { bmmNT } from '../kernels/matmul.ts';
import { type Tensor, add } from '../tensor.ts';
import { joinHeads, scaleAndMask } from './attention.ts';
import type { BlockOutput } from './block.ts';
import type { ForwardOutput } from './gpt.ts';

/** The intermediate names, in the order of the block's computation. */
export const INTERMEDIATE_NAMES = ['c_attn', 'q', 'k', 'v', 'scores', 'merged', 'attn_out', 'z1', 'n', 'ffn_pre', 'ffn_act', 'ffn_out', 'z2', 'h'] as const;
export type IntermediateName = (typeof INTERMEDIATE_NAMES)[number];

/** One block's intermediates by name (layouts in the module documentation). */
export type BlockIntermediates = Readonly<Record<IntermediateName, Tensor>>;

/**
 * The intermediates of one block of a forward pass without a key/value cache
 * (the cached keys would make k and v longer than T).
 */
export async function blockIntermediates(config: GPTConfig, block: BlockOutput): Promise<BlockIntermediates> {
  const dH = config.n_embd / config.n_head;
  const { q, present, a, y } = block.attn;
  const { k, v } = present; // [H, T, d_h]
  if (k.shape[1] !== q.shape[1]) throw new Error('blockIntermediates: a forward pass with a key/value cache has no per-block trace of its cached positions');
  const z1 = add(block.x, y); // as blockForward: x + attn(x) (Pre-LN: a = x + attn(LN₁(x)), as preLnBlockForward)
  const pre = usesPreLN(config);
  const n = pre ? block.ln2.y : block.ln1.y;
  return {
    c_attn: block.attn.qkv ?? joinHeads([q, k, v]), // the inverse of split_heads: exactly c_attn's output (RoPE: kept before the rotation)
    q,
    k,
    v,
    scores: scaleAndMask(await bmmNT(q, k), dH),
    merged: a,
    attn_out: y,
    z1,
    n,
    ffn_pre: block.ffn.u,
    ffn_act: block.ffn.g,
    ffn_out: block.ffn.y,
    z2: pre ? block.h : add(n, block.ffn.y), // as blockForward: n + ffn(n) (Pre-LN: h = a + ffn(LN₂(a)))
    h: block.h,
  };
}

/** The intermediates of every block of `fwd`, in layer order. */
export async function intermediates(config: GPTConfig, fwd: ForwardOutput): Promise<BlockIntermediates[]> {
  const out: BlockIntermediates[] = [];
  for (const block of fwd.blocks) out.push(await blockIntermediates(config, block));
  return out;
}
