#!/usr/bin/env node
/**
 * The `gpt1` executable of the published package (`bin` in package.json points at its
 * build, `dist/cli/bin.js`). In a checkout, `bin/gpt1.mjs` runs the TypeScript
 * sources directly instead.
 *
 * @module
 */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
