/**
 * The `gpt1-ts/generate` entry point: continuing a prompt with the key/value cache
 * (greedy, or a draw with temperature, top-k, top-p and a repetition penalty).
 *
 * @module
 */
import '../kernels/node.ts'; // Node's backend hooks: process.env, Dawn (WebGPU), headless-gl, worker threads
export { type GenerateOptions, type GeneratedToken, generate, generateTokens, generateIds, pickToken, applyRepetitionPenalty, nucleusSize, endsWithStop } from '../generate.ts';
