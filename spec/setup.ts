/**
 * Loaded before every spec file (`node --import ./spec/setup.ts --test …`).
 *
 * Property tests draw fresh random cases on every run, which is how they find what
 * nobody thought of. `FC_SEED=<integer>` pins fast-check's seed instead, so that a
 * run can be repeated exactly (CI pins it; a failure prints the seed and path that
 * reproduce it either way).
 */
import fc from 'fast-check';
import { after } from 'node:test';
// Node's backend hooks (process.env, Dawn for WebGPU, headless-gl, worker threads).
import '../src/kernels/node.ts';
import { releaseBackends } from '../src/kernels/backend.ts';

// Every file releases the process's backends after its tests: WebGPU's device (Dawn)
// keeps Node alive until it is destroyed, even in a file that never names a backend.
after(releaseBackends);

const seed = process.env.FC_SEED;
if (seed !== undefined && seed !== '') {
  if (!/^-?\d+$/.test(seed)) throw new Error(`FC_SEED must be an integer, got '${seed}'`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(seed) });
}
