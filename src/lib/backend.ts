/**
 * The `gpt1-ts/backend` entry point: which gpu.js backend runs the kernels.
 *
 * ```js
 * import { backend, backendFor } from 'gpt1-ts/backend';
 * (await backend()).name;   // 'webasm' on a machine without a GPU
 * ```
 *
 * The choice is made once per process, on the first product; set
 * `GPT1_BACKEND=webgpu|headlessgl|webasm|cpu` before that to force one. A process
 * that used WebGPU exits only once `await releaseBackends()` has destroyed Dawn's device.
 *
 * @module
 */
// Node's backend hooks (process.env, Dawn for WebGPU, headless-gl, worker threads): this entry is for Node.
import '../kernels/node.ts';

export { type Backend, type BackendName, BACKENDS, backend, backendFor, unavailableReason, describeBackend, releaseBackends } from '../kernels/backend.ts';
