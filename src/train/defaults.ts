/**
 * Learning-rate defaults that learn at every model size, and a check that the loss
 * moves.
 *
 * The paper's peak learning rate, 2.5e-4 (§4.1), is for the 117M-parameter model
 * trained for days with batches of 64×512 tokens. Much smaller models trained for a
 * few hundred updates barely move at that rate: `gpt1 pretrain --config tiny` went
 * from 7.098 to 7.090 in 60 updates. So the default peak rate depends on the size:
 *
 * | config | default lr | where it comes from |
 * |---|---|---|
 * | `gpt1` (768 wide, 12 layers) | 2.5e-4 | the paper |
 * | `small` (256 wide, 4 layers) | 2e-3 | measured: 30 updates of 2×32 tokens; mean loss of the last 10 updates 6.921 (2.5e-4), 6.420 (2e-3), 6.604 (6e-3) |
 * | `tiny` (16 wide, 2 layers) | 6e-3 | measured: 60 updates of 8×16 tokens; mean loss of the last 10 updates 7.014 (2.5e-4), 6.699 (2e-3), 6.296 (6e-3), 6.291 (2e-2) |
 *
 * Both measurements: `gpt1 pretrain` on 300,000 characters of SpamAssassin text (the
 * main job's pre-training text, seed 1), a 1,000-merge vocabulary, seed 42, the
 * default warm-up; short runs on a shared 2-core machine, so a guide rather than an
 * optimum. At 2e-2 the tiny model gains nothing over 6e-3, and 6e-3 is what the main
 * job's quick preset (64 wide) was measured to want.
 *
 * Warm-up stays the paper's 2000 updates, or 10% of a shorter run.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';
import { PRESETS } from '../config.ts';
import { PRETRAIN_DEFAULTS } from './pretrain.ts';

/** Default peak learning rate of pre-training per config preset (see the module comment). */
export const PRETRAIN_LR: Readonly<Record<string, number>> = Object.freeze({ gpt1: PRETRAIN_DEFAULTS.lr, small: 2e-3, tiny: 6e-3 });

/**
 * The default peak learning rate for a model: that of the preset with its shape, else
 * of the nearest preset by width (GPT-1's from 768 wide up). Returns the rate and the
 * preset it comes from.
 */
export function defaultPretrainLr(config: Pick<GPTConfig, 'n_embd' | 'n_layer' | 'n_head'>): { lr: number; preset: string } {
  const same = Object.entries(PRESETS).find(([name, c]) => Object.hasOwn(PRETRAIN_LR, name) && c.n_embd === config.n_embd && c.n_layer === config.n_layer && c.n_head === config.n_head);
  const preset = same?.[0] ?? (config.n_embd >= PRESETS.gpt1.n_embd ? 'gpt1' : config.n_embd >= PRESETS.small.n_embd ? 'small' : 'tiny');
  return { lr: PRETRAIN_LR[preset], preset };
}

/**
 * Whether the loss has not moved: the mean of the last `window` losses is within
 * `tolerance` (relative) of the mean of the first `window`. False while there are
 * fewer than 2·window losses.
 */
export function lossHasNotMoved(losses: readonly number[], window = 10, tolerance = 0.01): boolean {
  if (losses.length < 2 * window) return false;
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = mean(losses.slice(0, window));
  const last = mean(losses.slice(-window));
  return first - last < tolerance * Math.abs(first);
}
