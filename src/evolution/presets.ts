/**
 * Sizes of `npm run evolution`. *quick* is meant to finish in about ten minutes on an
 * idle 2-core machine (the README says what it took on the shared one); *tiny* is the
 * structure test's; *full* is the same experiment larger.
 *
 * @module
 */
import type { DemoPreset } from '../demo/presets.ts';

/**
 * An evolution run's sizes: the main job's data, tokenizer, model and training sizes
 * ({@link DemoPreset}, documented there), plus what only the comparison needs.
 */
export interface EvolutionPreset extends Pick<DemoPreset,
  | 'nTrain' | 'nValid' | 'nTest' | 'pretrainChars' | 'merges'
  | 'n_embd' | 'n_head' | 'n_layer' | 'n_ctx'
  | 'pretrainSteps' | 'pretrainBatch' | 'pretrainLr'
  | 'epochs' | 'batch' | 'lr'> {
  /** Held-out sequences for the LM loss (and for the length study). */
  readonly nHeldout: number;
  /** The other sizes of the scaling study (the base size is the GPT-1 arm). */
  readonly scaling: readonly { readonly n_layer: number; readonly n_embd: number; readonly n_head: number }[];
}

export const EVOLUTION_PRESETS: Readonly<Record<'tiny' | 'quick' | 'full', EvolutionPreset>> = Object.freeze({
  tiny: {
    nTrain: 8, nValid: 4, nTest: 12, pretrainChars: 20_000, merges: 60,
    n_embd: 8, n_head: 2, n_layer: 1, n_ctx: 16,
    pretrainSteps: 3, pretrainBatch: 2, pretrainLr: 1e-3,
    epochs: 1, batch: 4, lr: 1e-3, nHeldout: 4,
    scaling: [{ n_layer: 1, n_embd: 4, n_head: 2 }, { n_layer: 1, n_embd: 6, n_head: 2 }],
  },
  quick: {
    nTrain: 200, nValid: 16, nTest: 200, pretrainChars: 600_000, merges: 500,
    n_embd: 32, n_head: 4, n_layer: 2, n_ctx: 64,
    pretrainSteps: 160, pretrainBatch: 4, pretrainLr: 6e-3,
    epochs: 1, batch: 8, lr: 5e-4, nHeldout: 60,
    scaling: [{ n_layer: 1, n_embd: 8, n_head: 2 }, { n_layer: 1, n_embd: 16, n_head: 2 }, { n_layer: 2, n_embd: 16, n_head: 2 }, { n_layer: 2, n_embd: 24, n_head: 4 }],
  },
  full: {
    nTrain: 400, nValid: 100, nTest: 400, pretrainChars: 3_000_000, merges: 4000,
    n_embd: 128, n_head: 4, n_layer: 4, n_ctx: 128,
    pretrainSteps: 2000, pretrainBatch: 16, pretrainLr: 1e-3,
    epochs: 3, batch: 8, lr: 2.5e-4, nHeldout: 200,
    scaling: [{ n_layer: 1, n_embd: 16, n_head: 2 }, { n_layer: 2, n_embd: 32, n_head: 4 }, { n_layer: 2, n_embd: 64, n_head: 4 }, { n_layer: 4, n_embd: 96, n_head: 4 }],
  },
});
