/**
 * The pure core imports nothing Node-only, so that a web page can bundle it.
 *
 * The core is the model (`src/model/`), the kernels and the backend choice
 * (`src/kernels/`, except the Node hooks in `node.ts`), the pure tokenizer
 * (`src/tokenizer/text-encoder.ts` and what it uses), generation, and the small
 * modules they stand on. esbuild bundles them for `platform: 'browser'`, where a
 * Node built-in (`node:fs`, `node:module`, `worker_threads`, …) cannot be resolved
 * and fails the build; and `process` is defined to a marker that must not appear in
 * the output, so the core does not read `process.env` behind the bundler's back.
 *
 * The check can fail: the Node-only modules next to the core (`node.ts`,
 * `encoder.ts`) are bundled the same way and must be refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The modules of the core, relative to `src/`. */
export const CORE_MODULES = [
  'config.ts',
  'params.ts',
  'tensor.ts',
  'random.ts',
  'generate.ts',
  'model/gpt.ts',
  'model/attention.ts',
  'model/block.ts',
  'model/conv1d.ts',
  'model/dropout.ts',
  'model/embedding.ts',
  'model/ffn.ts',
  'model/head.ts',
  'model/layernorm.ts',
  'model/objectives.ts',
  'model/softmax.ts',
  'kernels/backend.ts',
  'kernels/matmul.ts',
  'kernels/gemm.ts',
  'kernels/sources.ts',
  'kernels/shapes.ts',
  'kernels/webasm-tuning.ts',
  'tokenizer/text-encoder.ts',
  'tokenizer/bpe.ts',
  'train/optimizer.ts',
] as const;

const MARKER = '__process_is_node_only__';

/** Bundles `src/<module>` for the browser (gpu.js left out: it ships its own browser build). */
async function bundleForBrowser(modules: readonly string[], external: string[] = ['gpu.js']): Promise<{ ok: true; text: string } | { ok: false; errors: string[] }> {
  const entry = modules.map((m) => `export * as m${modules.indexOf(m)} from './src/${m}';`).join('\n');
  try {
    const r = await build({
      stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      external,
      define: { process: MARKER },
    });
    return { ok: true, text: r.outputFiles[0].text };
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string } | null }[] }).errors ?? [{ text: String(e) }];
    return { ok: false, errors: errors.map((x) => `${x.location?.file ?? '?'}: ${x.text}`) };
  }
}

test('the core bundles for the browser without Node built-ins or process', async () => {
  const r = await bundleForBrowser(CORE_MODULES);
  assert.ok(r.ok, `bundling the core for the browser failed:\n${r.ok ? '' : r.errors.join('\n')}`);
  assert.ok(!r.text.includes(MARKER), `the core reads the global 'process' at: ${r.text.slice(Math.max(0, r.text.indexOf(MARKER) - 200), r.text.indexOf(MARKER) + 40)}`);
  // the bundle really holds the core (a check that bundled nothing would pass vacuously)
  for (const name of ['forward', 'backward', 'textEncoderFromData', 'chooseBackend', 'gemm']) {
    assert.match(r.text, new RegExp(`\\b${name}\\b`), `the bundle lacks ${name}`);
  }
});

test('with gpu.js (its browser build), the core bundles for the browser', async () => {
  const r = await bundleForBrowser(['model/gpt.ts', 'kernels/backend.ts'], []);
  assert.ok(r.ok, `bundling the core with gpu.js failed:\n${r.ok ? '' : r.errors.join('\n')}`);
});

test('the Node-only modules next to the core are refused by the same check', async () => {
  for (const m of ['kernels/node.ts', 'tokenizer/encoder.ts']) {
    const r = await bundleForBrowser([m]);
    assert.ok(!r.ok, `${m} bundled for the browser, but it imports Node built-ins: the check would not catch them`);
    assert.ok(r.errors.some((e) => /node:|built into node/.test(e)), `${m}: unexpected errors ${r.errors.join('; ')}`);
  }
});
