#!/usr/bin/env node
// The `gpt1` command. The sources are TypeScript; tsx compiles them on the fly.
import { register } from 'tsx/esm/api';

register();
const { main, exitQuietlyOnClosedPipe } = await import('../src/cli/main.ts');
const { releaseBackends } = await import('../src/kernels/backend.ts');
exitQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
// Dawn (WebGPU) keeps Node alive until gpu.js's device is destroyed.
await releaseBackends();
