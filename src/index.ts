/**
 * `gpt1-ts` as a library: the model, its parameters, generation, the tokenizer and
 * the checkpoint formats, from one import.
 *
 * ```js
 * import { loadCheckpoint, loadEncoder, encode, decode, forward, generateIds } from 'gpt1-ts';
 * const { config, params } = loadCheckpoint('model/');      // original or Hugging Face layout
 * const enc = loadEncoder();                                 // the released 40,000-merge vocabulary
 * const out = await forward(params, config, encode(enc, 'the president is'));
 * out.logits.shape;                                          // [3, n_vocab + n_special]
 * ```
 *
 * Narrower entry points (each also a module of this package): `gpt1-ts/model`,
 * `gpt1-ts/tokenizer`, `gpt1-ts/checkpoint`, `gpt1-ts/training`, `gpt1-ts/generate`,
 * `gpt1-ts/backend` (see the `exports` of `package.json`).
 *
 * @module
 */
export * from './config.ts';
export * from './params.ts';
export * from './tensor.ts';
export * from './random.ts';
export * from './lib/model.ts';
export * from './lib/generate.ts';
export * from './lib/backend.ts';
export * from './tokenizer/index.ts';
export * from './checkpoint/index.ts';
