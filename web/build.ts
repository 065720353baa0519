/**
 * `npm run web`: builds the explorer into `web/dist/` — a static site that works
 * from any static host:
 *
 * | file | what |
 * |---|---|
 * | `index.html`, `style.css` | the page |
 * | `app.js` | `web/src/main.ts` and the `src/` modules it imports, bundled by esbuild, with gpu.js's browser build |
 * | `model/` | the bundled model (`web/model/`, made by `scripts/web-model.ts`) |
 * | `vocab/` | the released GPT-1 BPE vocabulary, for checkpoints that come without one |
 *
 * The page links each view to the walk-through and the API pages of the documentation
 * site (`npm run docs`), found at {@link DEFAULT_DOCS_URL} or `GPT1_DOCS_URL`.
 *
 * @module
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { VOCAB_FILE_NAMES } from '../src/tokenizer/text-encoder.ts';

const WEB = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(WEB, '..');
const OUT = join(WEB, 'dist');

/**
 * The model, the kernels, the backend choice and the tokenizer import nothing
 * Node-only. The file-format parsers the page reuses (`src/io/npy.ts`,
 * `src/io/safetensors.ts`, `src/checkpoint/*.ts`: headers, configs, layouts) share
 * their modules with the Node readers, which import `node:fs` and `node:path`; those
 * imports, and only those, resolve to a stub whose functions throw
 * (`web/src/shim/node.ts`). A Node built-in imported from anywhere else fails the build.
 */
const FILE_FORMAT_MODULES = [join(ROOT, 'src/io'), join(ROOT, 'src/checkpoint')];
const nodeStub: Plugin = {
  name: 'gpt1-node-stub',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      if (FILE_FORMAT_MODULES.some((dir) => args.importer.startsWith(dir + sep))) return { path: join(WEB, 'src/shim/node.ts') };
      return { errors: [{ text: `${args.path} imported by ${args.importer}: the page's bundle must not need Node built-ins` }] };
    });
  },
};

/**
 * Where the page finds the documentation site (`npm run docs`, `docs/api/`): relative
 * to the page, `../../docs/api/` is the site of the same checkout when the repository
 * is served (as `npm run web:serve` does). `GPT1_DOCS_URL` at build time moves it
 * (e.g. where the two are published apart).
 */
export const DEFAULT_DOCS_URL = '../../docs/api/';

/** Builds the site; returns the output folder. */
export async function buildSite(out = OUT, docsUrl = process.env.GPT1_DOCS_URL || DEFAULT_DOCS_URL): Promise<string> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(WEB, 'src/main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(out, 'app.js'),
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
    define: { GPT1_DOCS_URL: JSON.stringify(docsUrl) },
    plugins: [nodeStub],
  });
  for (const f of ['index.html', 'style.css']) cpSync(join(WEB, f), join(out, f));
  cpSync(join(WEB, 'model'), join(out, 'model'), { recursive: true });
  mkdirSync(join(out, 'vocab'));
  for (const f of [...VOCAB_FILE_NAMES[0], 'LICENSE']) cpSync(join(ROOT, 'vocab', f), join(out, 'vocab', f));
  return out;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildSite();
  console.log(`built ${out}`);
}
