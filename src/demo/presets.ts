/**
 * Sizes of the main job (`npm start`): how much data, how big a model, how long.
 *
 * The *quick* preset is sized to finish in about five minutes on a 2-core laptop
 * with no GPU; *full* is the same experiment larger, for people with time; *tiny*
 * is for the test that checks the pipeline's structure in well under a minute.
 * Every number can be overridden from the command line (`npm start -- --help`).
 *
 * At the quick size the multiple-choice task (`--task wordnet`) stays at chance: its
 * pre-training learns only token frequencies, and neither 900 updates nor a 128-wide
 * model (each more than the whole budget) got past that. The README's main-job section
 * has the measurements; `scripts/wordnet-probe.ts` repeats them.
 *
 * The paper's own sizes, for comparison (§4.1): 12 layers, 768 wide, 12 heads,
 * 512-token contexts, batches of 64, 100 epochs of BooksCorpus, 40,000 BPE merges;
 * fine-tuning: 3 epochs, batch 32, lr 6.25e-5, λ = 0.5, warm-up 0.2%.
 *
 * @module
 */

export interface DemoPreset {
  /** Labelled examples in each split. */
  readonly nTrain: number;
  readonly nValid: number;
  readonly nTest: number;
  /** Characters of unlabelled pre-training text. */
  readonly pretrainChars: number;
  /** BPE merges learned on the pre-training text. */
  readonly merges: number;
  /** The model (same architecture as GPT-1, smaller). */
  readonly n_embd: number;
  readonly n_head: number;
  readonly n_layer: number;
  readonly n_ctx: number;
  /** Pre-training: updates, sequences per update, tokens per sequence, peak learning rate. */
  readonly pretrainSteps: number;
  readonly pretrainBatch: number;
  readonly pretrainCtx: number;
  readonly pretrainLr: number;
  /** Fine-tuning: epochs, batch, peak learning rate (the paper's 6.25e-5 is for a 117M model trained for days; small models want more). */
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  /** Samples printed after pre-training. */
  readonly samples: number;
  readonly sampleTokens: number;
}

export const PRESETS: Readonly<Record<'tiny' | 'quick' | 'full', DemoPreset>> = Object.freeze({
  tiny: {
    nTrain: 16, nValid: 8, nTest: 16, pretrainChars: 20_000, merges: 100,
    n_embd: 16, n_head: 2, n_layer: 1, n_ctx: 32,
    pretrainSteps: 6, pretrainBatch: 2, pretrainCtx: 32, pretrainLr: 1e-3,
    epochs: 1, batch: 4, lr: 1e-3, samples: 1, sampleTokens: 8,
  },
  quick: {
    nTrain: 200, nValid: 100, nTest: 400, pretrainChars: 600_000, merges: 1000,
    n_embd: 64, n_head: 4, n_layer: 2, n_ctx: 64,
    pretrainSteps: 300, pretrainBatch: 8, pretrainCtx: 64, pretrainLr: 6e-3,
    epochs: 3, batch: 8, lr: 5e-4, samples: 3, sampleTokens: 30,
  },
  full: {
    nTrain: 1000, nValid: 400, nTest: 1000, pretrainChars: 3_000_000, merges: 4000,
    n_embd: 128, n_head: 4, n_layer: 4, n_ctx: 128,
    pretrainSteps: 3000, pretrainBatch: 16, pretrainCtx: 128, pretrainLr: 1e-3,
    epochs: 3, batch: 8, lr: 2.5e-4, samples: 5, sampleTokens: 60,
  },
});
