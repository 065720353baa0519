/**
 * Loads a module of the project's `src/` into a tslab notebook:
 *
 *     const src = require('./src.cjs');
 *     const { forward } = src('model/gpt.ts');
 *
 * Why not a plain `import { forward } from '../src/model/gpt.ts'` in a cell: tslab
 * type-checks and compiles every cell with its own TypeScript (5.0, CommonJS output,
 * `moduleResolution: node10`, `rootDir` = the notebook's folder), which rejects the
 * project's `.ts`-extension ESM imports and any file outside `notebooks/`; its only
 * report is an empty `<Error>` plus the diagnostics on stderr.
 *
 * So the modules are loaded at run time by tsx, the transpiler that runs the project
 * (`npm start`, `npm test`), through its CommonJS API: `tsx/cjs/api`'s `require`
 * compiles the ESM TypeScript of `src/` on the fly, resolves paths relative to this
 * file, and keeps one module cache, so every call below shares one module graph (one
 * gpu.js backend, one kernel cache). (`tsx/esm/api` cannot be used here: its
 * CommonJS build registers a loader path that does not exist, and an `import()`
 * inside a tslab cell has no module loader to call.)
 *
 * What a cell gets back is typed `any` (tslab cannot see `src/`'s types); the
 * project's own type check covers `src/`.
 *
 * @param {string} path a file under `src/`, with its `.ts` extension, e.g. `'model/gpt.ts'`
 * @returns {any} the module's exports
 */
'use strict';

const tsx = require('tsx/cjs/api');

// Node's backend hooks (process.env, Dawn for WebGPU, headless-gl, worker threads),
// installed once, before the first kernel.
tsx.require('../src/kernels/node.ts', __filename);
const { releaseBackends } = tsx.require('../src/kernels/backend.ts', __filename);

module.exports = function src(path) {
  return tsx.require(`../src/${path}`, __filename);
};

/**
 * Releases the gpu.js backends (and WebGPU's device, which keeps Node alive): the
 * last cell of a notebook calls `await src.release()`.
 */
module.exports.release = releaseBackends;
