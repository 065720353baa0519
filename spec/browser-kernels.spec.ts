/**
 * The project's kernels and a tiny-model forward pass in headless Chromium, on
 * WebGL2 and on WebGPU (both on SwiftShader, Chromium's CPU implementation of a GPU,
 * on a machine without one).
 *
 * esbuild bundles `spec/browser/kernels-page.ts` (the products of `matmul.ts`, the
 * model's `forward`, the backend choice) for the browser with gpu.js's browser build;
 * the page fetches operands and weights written here, runs them on the named backend
 * and returns the results. They are checked:
 * - every product against the float64 reference, cell by cell, within the a-priori
 *   float32 bound of a K-term dot product (`productBoundViolation`, derived in
 *   `spec/helpers.ts`), and against the same product on Node's `webasm` (two
 *   results within that bound of the truth are within twice it of each other);
 * - the logits against Node's `webasm` forward, normwise (the model specs' 1e-4).
 *
 * The shapes cross the GPU tile limits of `gemm.ts` (4096 per dimension): a product
 * 5000 wide, one with K = 5000 (K tiles whose partial sums are added), and the tied
 * head of a narrow model with the real 40478-token vocabulary (40481 columns).
 *
 * Without Chromium the tests skip with the reason; under CI that is a failure.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { makeConfig } from '../src/config.ts';
import { backendFor } from '../src/kernels/backend.ts';
import { bmm, bmmNT, bmmTN, matmul, matmulNT, matmulTN } from '../src/kernels/matmul.ts';
import { forward } from '../src/model/gpt.ts';
import { type Tensor, tensor } from '../src/tensor.ts';
import { destroyAfterTests, productBoundViolation, randomParams, randomTensor, relErr } from './helpers.ts';
import { type ProductKind, refProduct } from './reference.ts';
import { browserSkipReason, withPage, withServer } from './browser/harness.ts';
import type { PageCase, PageResult, Stored } from './browser/kernels-page.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const skip = browserSkipReason();

/** [kind, B, M, K, N]: ragged shapes, and shapes past the 4096 GPU tile limit. */
const PRODUCTS: readonly [ProductKind, number, number, number, number][] = [
  ['matmul', 1, 33, 70, 45],
  ['matmulBias', 1, 5, 64, 96],
  ['matmul', 1, 3, 20, 5000], // wider than a 4096 tile
  ['matmulTN', 1, 7, 5000, 3], // K = 5000: two K tiles, partial sums added
  ['matmulNT', 1, 2, 8, 40481], // the tied head of a narrow model: ten column tiles
  ['bmm', 3, 9, 17, 11],
  ['bmmNT', 2, 6, 16, 6],
  ['bmmTN', 2, 10, 6, 16],
];

/** A narrow GPT-1 with the real vocabulary: its head is 40481 wide. */
const CONFIG = makeConfig({ n_vocab: 40478, n_special: 3, n_ctx: 8, n_embd: 8, n_head: 2, n_layer: 1 });
const IDS = [40478, 12, 40477, 30000, 7, 40480];

/** Operand shapes of a product. */
function shapes(kind: ProductKind, B: number, M: number, K: number, N: number): [number[], number[]] {
  switch (kind) {
    case 'matmul':
    case 'matmulBias':
      return [[M, K], [K, N]];
    case 'matmulNT':
      return [[M, K], [N, K]];
    case 'matmulTN':
      return [[K, M], [K, N]];
    case 'bmm':
      return [[B, M, K], [B, K, N]];
    case 'bmmNT':
      return [[B, M, K], [B, N, K]];
    case 'bmmTN':
      return [[B, K, M], [B, K, N]];
  }
}

interface Operands {
  readonly kind: ProductKind;
  readonly a: Tensor;
  readonly b: Tensor;
  readonly bias?: Tensor;
}

const operands: Operands[] = PRODUCTS.map(([kind, B, M, K, N], i) => {
  const [sa, sb] = shapes(kind, B, M, K, N);
  return { kind, a: randomTensor(sa, 100 + i), b: randomTensor(sb, 200 + i), ...(kind === 'matmulBias' ? { bias: randomTensor([N], 300 + i) } : {}) };
});
const params = randomParams(CONFIG, 77);

let site = '';
/** Node's webasm results, the page's yardstick. */
let nodeProducts: Tensor[] = [];
let nodeLogits: Tensor | undefined;

function runProduct(o: Operands, be: Awaited<ReturnType<typeof backendFor>>): Promise<Tensor> {
  switch (o.kind) {
    case 'matmul':
      return matmul(o.a, o.b, undefined, be);
    case 'matmulBias':
      return matmul(o.a, o.b, o.bias, be);
    case 'matmulNT':
      return matmulNT(o.a, o.b, be);
    case 'matmulTN':
      return matmulTN(o.a, o.b, be);
    case 'bmm':
      return bmm(o.a, o.b, be);
    case 'bmmNT':
      return bmmNT(o.a, o.b, be);
    case 'bmmTN':
      return bmmTN(o.a, o.b, be);
  }
}

before(async () => {
  if (skip !== false) return;
  site = mkdtempSync(join(tmpdir(), 'gpt1-browser-kernels-'));
  // One float32 file with every operand and weight, and a manifest of where each lies.
  const chunks: Float32Array[] = [];
  let offset = 0;
  const store = (t: Tensor): Stored => {
    chunks.push(t.data);
    const s = { shape: [...t.shape], offset };
    offset += t.data.length;
    return s;
  };
  const c: PageCase = {
    products: operands.map((o) => ({ kind: o.kind, a: store(o.a), b: store(o.b), ...(o.bias ? { bias: store(o.bias) } : {}) })),
    model: { config: CONFIG, params: Object.fromEntries(Object.entries(params).map(([k, t]) => [k, store(t)])), ids: IDS },
  };
  const all = new Float32Array(offset);
  let at = 0;
  for (const ch of chunks) {
    all.set(ch, at);
    at += ch.length;
  }
  writeFileSync(join(site, 'data.bin'), all);
  writeFileSync(join(site, 'case.json'), JSON.stringify(c));
  writeFileSync(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>gpt1-ts kernels</title><link rel="icon" href="data:,"><script type="module" src="kernels.js"></script>\n');
  await build({ entryPoints: [join(ROOT, 'spec/browser/kernels-page.ts')], bundle: true, platform: 'browser', format: 'esm', outfile: join(site, 'kernels.js'), logLevel: 'error' });

  const be = await backendFor('webasm');
  destroyAfterTests(be.gpu);
  nodeProducts = [];
  for (const o of operands) nodeProducts.push(await runProduct(o, be));
  nodeLogits = (await forward(params, CONFIG, IDS)).logits;
});
after(() => {
  if (site !== '') rmSync(site, { recursive: true, force: true });
});

/** Runs the page on one backend and checks its answers. */
async function checkInBrowser(backendName: 'webgl2' | 'webgpu'): Promise<void> {
  const result = await withServer(site, (url) =>
    withPage({ webgpu: backendName === 'webgpu' }, async (page, errors) => {
      await page.goto(url);
      await page.waitForFunction(() => (globalThis as { gpt1Kernels?: unknown }).gpt1Kernels !== undefined, undefined, { timeout: 60_000 });
      const r = await page.evaluate((name) => (globalThis as unknown as { gpt1Kernels: { run(n: string): Promise<PageResult> } }).gpt1Kernels.run(name), backendName);
      assert.deepEqual(errors.filter((e) => !/GPU stall|Automatic fallback to software WebGL/.test(e)), [], 'the page logged errors');
      return r;
    }),
  );
  console.log(`# ${backendName} in Chromium: ${result.backend}`);
  assert.ok(result.backend.startsWith(backendName), `the page ran on ${result.backend}, not ${backendName}`);
  operands.forEach((o, i) => {
    const [, B, M, K, N] = PRODUCTS[i];
    const got = tensor(result.products[i].shape, Float32Array.from(result.products[i].data));
    const what = `${o.kind} B=${B} M=${M} K=${K} N=${N} on ${backendName}`;
    const ref = refProduct(o.kind, o.a, o.b, o.bias);
    assert.equal(productBoundViolation(got, ref), undefined, `${what}: outside the float32 bound of the float64 reference`);
    // Both within γ_K·Σ|ab| of the truth, so within twice that of each other.
    const twice = { ...ref, value: Float64Array.from(nodeProducts[i].data), absSum: ref.absSum.map((x) => 2 * x), terms: ref.terms };
    assert.equal(productBoundViolation(got, twice), undefined, `${what}: differs from Node's webasm by more than twice the bound`);
  });
  const logits = tensor(result.logits.shape, Float32Array.from(result.logits.data));
  assert.deepEqual([...logits.shape], [IDS.length, 40481]);
  const e = relErr(logits.data, (nodeLogits as Tensor).data);
  assert.ok(e <= 1e-4, `logits on ${backendName} differ from Node's webasm: normwise relative error ${e}`);
  console.log(`# ${backendName}: logits vs Node webasm, normwise relative error ${e.toExponential(2)}`);
}

test('the kernels and a tiny-model forward in Chromium on WebGL2 match Node', { skip, timeout: 10 * 60_000 }, () => checkInBrowser('webgl2'));
test('the kernels and a tiny-model forward in Chromium on WebGPU match Node', { skip, timeout: 10 * 60_000 }, () => checkInBrowser('webgpu'));
