/**
 * Shared test utilities: seeded random tensors and parameters, fast-check
 * arbitraries, float32 error bounds, a purity check, one-line error assertions and
 * the clean-up of gpu.js instances.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import fc from 'fast-check';
import { type GPTConfig, makeConfig } from '../src/config.ts';
import { type Params, paramShapes } from '../src/params.ts';
import { type Rng, fork, normals, rng, uniforms } from '../src/random.ts';
import { type Tensor, numel, tensor } from '../src/tensor.ts';
import type { RefProduct } from './reference.ts';

// ---------------------------------------------------------------------------------
// Floating-point error model
// ---------------------------------------------------------------------------------

/** Unit roundoff of float32 (round to nearest): u = 2⁻²⁴. */
export const U32 = 2 ** -24;
/** Unit roundoff of float64: 2⁻⁵³. */
export const U64 = 2 ** -53;
/** Smallest normal float32; an op that underflows (or a GPU that flushes subnormals) loses at most this much. */
export const MIN_NORMAL32 = 2 ** -126;

/**
 * γ_n = n·u/(1 − n·u) (Higham, Accuracy and Stability, §3.1): a sum of n products
 * computed in floating point, in ANY order, satisfies |fl(Σ xᵢyᵢ) − Σ xᵢyᵢ| ≤ γ_n Σ|xᵢyᵢ|.
 */
export function gamma(n: number, u = U32): number {
  return (n * u) / (1 - n * u);
}

/**
 * Checks a float32 product against its float64 reference, cell by cell, with the
 * a-priori bound of a K-term dot product:
 *
 *     |got − ref| ≤ (γ_K(float32) + γ_K(float64))·Σ_k|a_k b_k| + K·2⁻¹²⁶
 *
 * γ_K(float32) is the float32 computation's error (K products and K−1 additions in
 * any order, +1 term for a bias); γ_K(float64) covers the reference's own rounding;
 * K·2⁻¹²⁶ covers underflow (gradual, or flush-to-zero on GPUs) of tiny products.
 * The bound is relative to Σ|a_k||b_k|, not to |ref|: cancellation can make |ref|
 * arbitrarily small while the rounding errors stay proportional to Σ|a_k b_k|.
 * @returns undefined, or a description of the first violating cell
 */
export function productBoundViolation(got: Tensor, ref: RefProduct): string | undefined {
  if (got.shape.length !== ref.shape.length || got.shape.some((d, i) => d !== ref.shape[i])) {
    return `shape [${got.shape.join(', ')}], expected [${ref.shape.join(', ')}]`;
  }
  const g = gamma(ref.terms) + gamma(ref.terms, U64);
  for (let i = 0; i < ref.value.length; i++) {
    const err = Math.abs(got.data[i] - ref.value[i]);
    const bound = g * ref.absSum[i] + ref.terms * MIN_NORMAL32;
    if (!(err <= bound)) return `cell ${i}: got ${got.data[i]}, reference ${ref.value[i]}, |error| ${err} > bound ${bound} (Σ|ab| = ${ref.absSum[i]}, K = ${ref.terms})`;
  }
  return undefined;
}

/**
 * Normwise relative error in the ∞-norm:
 *
 *     rel(got, ref) = maxᵢ |gotᵢ − refᵢ| / maxᵢ |refᵢ|       (0 when both are all zero)
 *
 * Element-wise relative error is meaningless for entries near 0 (a logit of 1e-9
 * computed as 2e-9 is harmless); the normwise form measures the error against the
 * scale of the whole tensor.
 */
export function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(got.length, ref.length, 'relErr: lengths differ');
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(got[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  if (Number.isNaN(num)) return Infinity;
  return den === 0 ? num : num / den;
}

// ---------------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------------

/**
 * Value distributions for kernel inputs:
 * - `normal`: N(0, 1);
 * - `int`: integers in [−8, 8] (every product and partial sum is an exact float32
 *   while |Σ| < 2²⁴, so the kernel must be bit-exact whatever the summation order);
 * - `wide`: N(0, 1)·2^e with e uniform in [−20, 20] (magnitudes spanning 12 decades,
 *   to exercise the Σ|ab|-relative bound and cancellation).
 */
export type Dist = 'normal' | 'int' | 'wide';
export const DISTS: readonly Dist[] = ['normal', 'int', 'wide'];

/** n float32 values from `dist`, deterministic in `seed`. */
export function randomData(seed: number, n: number, dist: Dist = 'normal', std = 1): Float32Array {
  const r = rng(seed);
  switch (dist) {
    case 'normal':
      return normals(r, n, 0, std)[0];
    case 'int':
      return uniforms(r, n)[0].map((u) => Math.floor(u * 17) - 8);
    case 'wide': {
      const [z, r2] = normals(r, n);
      const [e] = uniforms(r2, n);
      return z.map((v, i) => v * 2 ** (Math.floor(e[i] * 41) - 20));
    }
  }
}

/** A tensor of `shape` with values from `dist`. */
export function randomTensor(shape: readonly number[], seed: number, dist: Dist = 'normal', std = 1): Tensor {
  return tensor(shape, randomData(seed, numel(shape), dist, std));
}

/** A copy of `t` with fresh data (same values). */
export function cloneTensor(t: Tensor): Tensor {
  return tensor(t.shape, t.data.slice());
}

/**
 * Random parameters with every kind of value non-trivial: weights N(0, std²),
 * biases N(0, biasStd²), LayerNorm gains 1 + N(0, gainStd²). Unlike `initParams`
 * (biases 0, gains 1), a bias or gain that a forward ignores or misplaces shows up.
 */
export function randomParams(config: GPTConfig, seed: number, std = 0.3, biasStd = 0.1, gainStd = 0.3): Params {
  const base: Rng = rng(seed);
  const out: Record<string, Tensor> = {};
  for (const [name, shape] of paramShapes(config)) {
    const n = numel(shape);
    const r = fork(base, name);
    if (/ln_\d\.weight$/.test(name)) out[name] = tensor(shape, normals(r, n, 1, gainStd)[0]);
    else if (name.endsWith('.bias')) out[name] = tensor(shape, normals(r, n, 0, biasStd)[0]);
    else out[name] = tensor(shape, normals(r, n, 0, std)[0]);
  }
  return Object.freeze(out);
}

/** T token ids in [0, vocab), deterministic in seed. */
export function randomIds(seed: number, T: number, vocab: number): number[] {
  return Array.from(uniforms(rng(seed), T)[0], (u) => Math.floor(u * vocab));
}

// ---------------------------------------------------------------------------------
// fast-check arbitraries
// ---------------------------------------------------------------------------------

/** A matrix dimension: often exactly 1 (the degenerate case), otherwise 1…max. */
export function dimArb(max: number): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.constant(1), weight: 1 }, { arbitrary: fc.integer({ min: 1, max }), weight: 3 });
}

/** A seed for `randomData`/`randomParams`. */
export const seedArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0x7fffffff });

/**
 * A small GPT-1 configuration: 1–3 layers, n_head ∈ {1, 2, 4} (at least `minHead`),
 * d_head ∈ {1, 2, 4, 8} (so n_embd is divisible by n_head by construction), a small
 * vocabulary (with or without the 3 special tokens) and context (at least `minCtx`).
 */
export function smallConfigArb(opts: { afn?: GPTConfig['afn']; minHead?: number; minCtx?: number } = {}): fc.Arbitrary<GPTConfig> {
  const heads = [1, 2, 4].filter((h) => h >= (opts.minHead ?? 1));
  return fc
    .record({
      n_head: fc.constantFrom(...heads),
      d_head: fc.constantFrom(1, 2, 4, 8),
      n_layer: fc.integer({ min: 1, max: 3 }),
      n_vocab: fc.integer({ min: 2, max: 40 }),
      n_special: fc.constantFrom(0, 3),
      n_ctx: fc.integer({ min: opts.minCtx ?? 1, max: 12 }),
      afn: opts.afn === undefined ? fc.constantFrom<GPTConfig['afn']>('gelu', 'relu', 'swish') : fc.constant(opts.afn),
    })
    .map(({ n_head, d_head, ...rest }) => makeConfig({ ...rest, n_head, n_embd: n_head * d_head }));
}

// ---------------------------------------------------------------------------------
// Purity: a deep snapshot of arguments, compared bit for bit after the call
// ---------------------------------------------------------------------------------

type Snap = unknown;

/** A copy of one typed array, tagged so that the comparison knows it was one. */
class TypedCopy {
  constructor(readonly kind: string, readonly values: Float64Array) {}
}

function deepCopy(x: unknown): Snap {
  if (x instanceof Float32Array || x instanceof Float64Array || x instanceof Int32Array) return new TypedCopy(x.constructor.name, Float64Array.from(x));
  if (Array.isArray(x)) return x.map(deepCopy);
  if (x !== null && typeof x === 'object') {
    const o: Record<string, Snap> = {};
    for (const k of Object.keys(x)) o[k] = deepCopy((x as Record<string, unknown>)[k]);
    return o;
  }
  return x;
}

function firstDifference(a: Snap, b: Snap, path: string): string | undefined {
  if (a instanceof TypedCopy || b instanceof TypedCopy) {
    if (!(a instanceof TypedCopy && b instanceof TypedCopy) || a.kind !== b.kind) return `${path}: no longer the same typed array kind`;
    if (a.values.length !== b.values.length) return `${path}: length ${a.values.length} became ${b.values.length}`;
    for (let i = 0; i < a.values.length; i++) {
      if (!Object.is(a.values[i], b.values[i])) return `${path}[${i}]: ${a.values[i]} became ${b.values[i]}`;
    }
    return undefined;
  }
  if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array-ness changed`;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return `${path}: keys changed`;
    for (const k of ka) {
      const d = firstDifference((a as Record<string, Snap>)[k], (b as Record<string, Snap>)[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${String(a)} became ${String(b)}`;
}

/**
 * Snapshots every argument (deeply: records, arrays, tensors' shapes and every
 * element of their buffers), runs `fn`, and asserts that nothing changed, bit for
 * bit (Object.is, so −0 vs 0 and NaN payload-free comparisons are exact).
 * @returns fn's result
 */
export async function assertPure<R>(what: string, args: readonly unknown[], fn: () => R | Promise<R>): Promise<R> {
  const before = deepCopy(args);
  const result = await fn();
  const diff = firstDifference(before, deepCopy(args), 'args');
  assert.equal(diff, undefined, `${what} modified its arguments: ${diff}`);
  return result;
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/**
 * Asserts that `fn` throws (or rejects with) an Error whose message is one line and
 * contains every string of `parts`.
 */
/** Asserts that `fn` throws an Error whose message matches `re` and is one line. */
export function throwsMessage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), `multi-line message: ${e.message}`);
    return true;
  });
}

export async function assertOneLineError(fn: () => unknown, parts: readonly string[]): Promise<string> {
  let message: string | undefined;
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    message = e.message;
  }
  assert.ok(message !== undefined, `expected an error mentioning ${JSON.stringify(parts)}, but nothing was thrown`);
  assert.ok(!message.includes('\n'), `error message is not one line: ${JSON.stringify(message)}`);
  for (const p of parts) assert.ok(message.includes(p), `error message ${JSON.stringify(message)} does not mention ${JSON.stringify(p)}`);
  return message;
}

// ---------------------------------------------------------------------------------
// gpu.js clean-up
// ---------------------------------------------------------------------------------

/**
 * Destroys a gpu.js instance after the file's tests (registers a root `after` hook).
 * The webasm backend's worker pool unrefs idle workers, so the process would exit
 * anyway; destroying terminates the workers explicitly and releases the compiled
 * kernels, so a file never depends on that detail.
 */
export function destroyAfterTests(gpu: { destroy(): unknown }): void {
  after(async () => {
    await gpu.destroy();
  });
}

// ---------------------------------------------------------------------------------
// Running a command in this process
// ---------------------------------------------------------------------------------

/** Exit status and captured text output of a command run in this process. */
export interface CapturedRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs `run(argv)` (e.g. the CLI's `main`) in this process with what it writes as
 * text to stdout and stderr captured (binary writes, e.g. the test runner's own,
 * pass through).
 */
export async function captureRun(run: (argv: string[]) => Promise<number>, argv: string[]): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  const hook = (sink: string[], orig: typeof ow, stream: NodeJS.WriteStream) =>
    ((chunk: unknown, ...rest: unknown[]): boolean => {
      if (typeof chunk === 'string') {
        sink.push(chunk);
        return true;
      }
      return (orig as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof ow;
  process.stdout.write = hook(out, ow, process.stdout);
  process.stderr.write = hook(err, ew, process.stderr);
  let code: number;
  try {
    code = await run(argv);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { code, out: out.join(''), err: err.join('') };
}
