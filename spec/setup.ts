/**
 * Loaded before every spec file (`node --import ./spec/setup.ts --test …`).
 *
 * Property tests draw fresh random cases on every run, which is how they find what
 * nobody thought of. `FC_SEED=<integer>` pins fast-check's seed instead, so that a
 * run can be repeated exactly (CI pins it; a failure prints the seed and path that
 * reproduce it either way).
 */
import fc from 'fast-check';
// Node's backend hooks (process.env, Dawn for WebGPU, headless-gl, worker threads).
import '../src/kernels/node.ts';

const seed = process.env.FC_SEED;
if (seed !== undefined && seed !== '') {
  if (!/^-?\d+$/.test(seed)) throw new Error(`FC_SEED must be an integer, got '${seed}'`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(seed) });
}
