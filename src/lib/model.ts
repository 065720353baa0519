/**
 * The `gpt1-ts/model` entry point: the forward and backward passes of the whole
 * model (paper §3.1: h_0 = U·W_e + W_p, h_l = transformer_block(h_{l−1}),
 * P(u) = softmax(h_n·W_eᵀ)), with its configuration and parameters.
 *
 * @module
 */
import '../kernels/node.ts'; // Node's backend hooks: process.env, Dawn (WebGPU), headless-gl, worker threads
export { type ForwardOptions, type ForwardOutput, type Upstream, forward, backward, lmLossAndGrads, batchLmLossAndGrads, cachedLength, addGrads, scaleGrads } from '../model/gpt.ts';
export { type KeyValue } from '../model/attention.ts';
export { type Activation, type GPTConfig, GPT1, makeConfig, nTokenRows, dHead, validateConfig } from '../config.ts';
export { type Params, type LayerParams, type ModelParams, type AttentionParams, type FFNParams, type MoEParams, type NormParams, type LinearParams, blockParamNames, paramShapes, countParams, validateParams, initParams, layerParams, modelParams, namedLayerPart, namedModelPart } from '../params.ts';
