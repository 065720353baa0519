/**
 * The `gpt1-ts/backend` entry point: which gpu.js backend runs the kernels.
 *
 * ```js
 * import { backend, backendFor } from 'gpt1-ts/backend';
 * (await backend()).name;   // 'webasm' on a machine without a GPU
 * ```
 *
 * The choice is made once per process, on the first product; set
 * `GPT1_BACKEND=webgpu|headlessgl|webasm|cpu` before that to force one.
 *
 * @module
 */
export { type Backend, type BackendName, BACKENDS, backend, backendFor, unavailableReason } from '../kernels/backend.ts';
