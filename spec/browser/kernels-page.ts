/**
 * The page side of `spec/browser-kernels.spec.ts`: the project's own kernels and
 * model, bundled for the browser (esbuild), run on the backend the spec names.
 *
 * The spec writes the operands and the model's weights as one float32 file
 * (`data.bin`) with a manifest (`case.json`); the page fetches both, runs every
 * product and one forward pass, and returns the results as plain arrays.
 *
 * @module
 */
import { backend, describeBackend, releaseBackends, setBackendEnvironment } from '../../src/kernels/backend.ts';
import { bmm, bmmNT, bmmTN, matmul, matmulNT, matmulTN } from '../../src/kernels/matmul.ts';
import { forward } from '../../src/model/gpt.ts';
import type { GPTConfig } from '../../src/config.ts';
import { type Tensor, tensor } from '../../src/tensor.ts';

/** A tensor in `data.bin`: its shape and where its numbers start. */
export interface Stored {
  readonly shape: readonly number[];
  readonly offset: number;
}

/** What the spec asks the page to compute. */
export interface PageCase {
  readonly products: readonly { readonly kind: 'matmul' | 'matmulBias' | 'matmulNT' | 'matmulTN' | 'bmm' | 'bmmNT' | 'bmmTN'; readonly a: Stored; readonly b: Stored; readonly bias?: Stored }[];
  readonly model: { readonly config: GPTConfig; readonly params: Readonly<Record<string, Stored>>; readonly ids: readonly number[] };
}

/** What the page answers. */
export interface PageResult {
  readonly backend: string;
  readonly products: readonly { readonly shape: readonly number[]; readonly data: number[] }[];
  readonly logits: { readonly shape: readonly number[]; readonly data: number[] };
}

async function run(backendName: string): Promise<PageResult> {
  const c = (await (await fetch('case.json')).json()) as PageCase;
  const data = new Float32Array(await (await fetch('data.bin')).arrayBuffer());
  const load = (s: Stored): Tensor => {
    const n = s.shape.reduce((x, y) => x * y, 1);
    return tensor(s.shape, data.slice(s.offset, s.offset + n));
  };
  // A page has no process.env: it lends the backend choice its own variables (as the
  // explorer page does for ?backend=), so that forward() runs on the same backend.
  setBackendEnvironment({ platform: 'browser', vars: () => ({ GPT1_BACKEND: backendName }) });
  const be = await backend();
  try {
    const products = [];
    for (const p of c.products) {
      const a = load(p.a);
      const b = load(p.b);
      const out =
        p.kind === 'matmul' ? await matmul(a, b, undefined, be)
        : p.kind === 'matmulBias' ? await matmul(a, b, load(p.bias as Stored), be)
        : p.kind === 'matmulNT' ? await matmulNT(a, b, be)
        : p.kind === 'matmulTN' ? await matmulTN(a, b, be)
        : p.kind === 'bmm' ? await bmm(a, b, be)
        : p.kind === 'bmmNT' ? await bmmNT(a, b, be)
        : await bmmTN(a, b, be);
      products.push({ shape: out.shape, data: Array.from(out.data) });
    }
    const params = Object.fromEntries(Object.entries(c.model.params).map(([k, s]) => [k, load(s)]));
    const fwd = await forward(params, c.model.config, c.model.ids);
    return { backend: describeBackend(be), products, logits: { shape: fwd.logits.shape, data: Array.from(fwd.logits.data) } };
  } finally {
    await releaseBackends();
  }
}

(globalThis as { gpt1Kernels?: unknown }).gpt1Kernels = { run };
