/**
 * `npm run web:serve`: builds the explorer (`web/build.ts`) and serves it on
 * 127.0.0.1 (port 8080, or `PORT`; `PORT=0` picks a free one), then prints the URL.
 *
 * The repository root is served, so that the page's links to the documentation
 * site (`docs/api/`, built by `npm run docs`) and to the sources work; the page is
 * at `/web/dist/`. Stop with Ctrl-C.
 *
 * @module
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../spec/browser/harness.ts';
import { buildSite } from './build.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await buildSite();
const server = await serveStatic(ROOT, Number(process.env.PORT ?? 8080));
console.log(`GPT-1 explorer: ${server.url}web/dist/`);
console.log(`  e.g. ${server.url}web/dist/?text=the%20president%20is&backend=webgl`);
const stop = (): void => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
