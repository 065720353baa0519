#!/usr/bin/env node
/**
 * The `gpt1` executable: `bin` in package.json points at its build, `dist/cli/bin.js`;
 * in a checkout, `bin/gpt1.mjs` runs this same file from the TypeScript sources.
 *
 * Around {@link main}: a reader of stdout or stderr that goes away ends the process
 * quietly ({@link exitQuietlyOnClosedPipe}), and the GPU backends are released at the
 * end (Dawn, WebGPU's runtime, keeps Node alive until gpu.js's device is destroyed).
 *
 * @module
 */
import { releaseBackends } from '../kernels/backend.ts';
import { exitQuietlyOnClosedPipe, main } from './main.ts';

exitQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
await releaseBackends();
