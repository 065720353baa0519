/**
 * The project's patch to gpu.js's webasm code generator (`patches/gpu.js+2.24.1.patch`,
 * docs/gpujs-patch.md), tested on its own, kernel by kernel: every kernel here runs
 * with `optimizeWasm` off and with each improvement on (and all of them), and the
 * outputs must be the same bits. The kernels are chosen to hit the cases where a
 * careless version would be wrong: lane-dependent branches and early returns, reads
 * past the end and before the start of an array (the range check's fallback),
 * stride-2 gathers, integer division (must stay float), a loop counter in float
 * maths, 2D and 3D outputs, widths that are not a multiple of 4 (a scalar tail).
 *
 * A second group checks that the improvements really fire (the emitted instructions
 * contain `v128.load`, `v128.load32_splat`, i32 loop counters): without the patch
 * applied (`npm ci` runs patch-package), those tests fail and say so.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GPU } from 'gpu.js';
import { randomData, seedArb } from './helpers.ts';

const require = createRequire(import.meta.url);
const builder = require('gpu.js/src/backend/web-assembly/wasm-builder.js') as { WasmFunctionEmitter: { prototype: Record<string, unknown> } };

/** Which options to compare: none (gpu.js as published), each alone, and all. */
const VARIANTS: readonly [string, unknown][] = [
  ['integerLocals', { integerLocals: true }],
  ['integerLocals+contiguousLoads', { integerLocals: true, contiguousLoads: true }],
  ['contiguousLoads', { contiguousLoads: true }],
  ['integerLocals+contiguousLoads+uniformIndices', { integerLocals: true, contiguousLoads: true, uniformIndices: true }],
  ['splatLoads', { splatLoads: true }],
  ['all (true)', true],
];

type KernelFn = (this: never, ...args: never[]) => unknown;

interface KernelCase {
  readonly name: string;
  readonly fn: KernelFn;
  readonly output: number[];
  readonly constants?: Record<string, number>;
  readonly args: (seed: number) => unknown[];
  readonly settings?: Record<string, unknown>;
}

const vec = (n: number, seed: number): Float32Array => randomData(seed, n, 'normal');

/* eslint-disable @typescript-eslint/no-explicit-any -- kernel sources are gpu.js's dialect of JavaScript */
const CASES: readonly KernelCase[] = [
  {
    name: 'loop counter used in float maths',
    fn: function (this: any, a: Float32Array) {
      let s = 0;
      for (let k = 0; k < this.constants.K; k++) {
        s += k * 0.37 + a[k + this.thread.x] / (k + 1);
      }
      return s + this.thread.x * 0.5;
    } as KernelFn,
    output: [13],
    constants: { K: 20 },
    args: (seed) => [vec(40, seed)],
  },
  {
    name: 'integer division stays float (/ and %)',
    fn: function (this: any) {
      const i = this.thread.x;
      let q = 7;
      q = q / 2;
      const r = i % 3;
      const h = i / 4;
      let j = i * 3;
      j += 1;
      return q + r + h + j / 8;
    } as KernelFn,
    output: [11],
    args: () => [],
  },
  {
    name: 'contiguous read with an offset: negative starts and reads past the end (the fallback)',
    fn: function (this: any, a: Float32Array) {
      return a[this.thread.x + this.constants.off];
    } as KernelFn,
    output: [23],
    constants: { off: -6 },
    args: (seed) => [vec(21, seed)],
  },
  {
    name: 'reads past the end through a running integer index',
    fn: function (this: any, a: Float32Array) {
      let i = this.thread.x * this.constants.one + 3;
      let s = 0;
      for (let k = 0; k < 4; k++) {
        s += a[i];
        i += this.constants.step;
      }
      return s;
    } as KernelFn,
    output: [18],
    constants: { one: 1, step: 5 },
    args: (seed) => [vec(30, seed)],
  },
  {
    name: 'stride-2 gather (no v128.load)',
    fn: function (this: any, a: Float32Array) {
      return a[this.thread.x * 2] - a[2 * this.thread.x + 1];
    } as KernelFn,
    output: [14],
    args: (seed) => [vec(28, seed)],
  },
  {
    name: 'lane-dependent branches, early returns and breaks',
    fn: function (this: any, a: Float32Array) {
      const i = this.thread.x;
      let j = i;
      let s = 0;
      if (i % 2 === 0) {
        s = a[i + 1];
      } else {
        if (i > 9) return a[i] * 2;
        j = j + 1; // assigned under a lane mask: never lane-affine
      }
      for (let k = 0; k < 3; k++) {
        if (i > 5 && k === 1) break;
        s += a[j + k];
      }
      return s + a[j];
    } as KernelFn,
    output: [15],
    args: (seed) => [vec(24, seed)],
  },
  {
    name: 'a uniform read under a lane mask, and a uniform loop inside a divergent one',
    fn: function (this: any, a: Float32Array, b: Float32Array) {
      let s = 0;
      for (let k = 0; k < this.thread.x; k++) {
        s += b[k] * a[this.thread.x];
        for (let r = 0; r < 2; r++) s += a[r + this.thread.x];
      }
      return s;
    } as KernelFn,
    output: [10],
    args: (seed) => [vec(16, seed), vec(16, seed + 1)],
  },
  {
    name: '2D output, 2D argument (y index in the read)',
    fn: function (this: any, a: any) {
      return a[this.thread.y][this.thread.x] * 2 + a[this.thread.y][this.thread.x + 1];
    } as KernelFn,
    output: [9, 5],
    args: (seed) => {
      const rows: Float32Array[] = [];
      for (let y = 0; y < 5; y++) rows.push(vec(12, seed + y));
      return [rows];
    },
  },
  {
    name: '3D output over a flat array (z·XY + y·X + x), 4 rows per thread',
    fn: function (this: any, a: Float32Array) {
      const base = this.thread.z * this.constants.XY + this.thread.y * this.constants.X + this.thread.x;
      return [a[base], a[base + 1], a[base] + this.thread.z, a[this.thread.y * this.constants.X]];
    } as KernelFn,
    output: [8, 3, 2],
    constants: { X: 8, XY: 24 },
    args: (seed) => [vec(60, seed)],
    settings: { returnType: 'Array(4)' },
  },
  {
    name: 'a 4-row product with running indices (the project’s kernelRows4 shape)',
    fn: function (this: any, a: Float32Array, b: Float32Array) {
      let ai = this.thread.y * this.constants.sAm4;
      let bi = this.thread.x;
      let s0 = 0;
      let s1 = 0;
      for (let k = 0; k < this.constants.K; k++) {
        const bk = b[bi | 0];
        s0 += a[ai | 0] * bk;
        s1 += a[(ai | 0) + this.constants.sAm] * bk;
        ai += 1;
        bi += this.constants.N;
      }
      return [s0, s1, 0, 0];
    } as KernelFn,
    output: [10, 2],
    constants: { K: 7, N: 10, sAm: 7, sAm4: 28 },
    args: (seed) => [vec(7 * 8, seed), vec(7 * 10, seed + 1)],
    settings: { returnType: 'Array(4)' },
  },
];
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Runs one kernel case on a fresh webasm GPU, synchronously, and returns its output's numbers in order. */
function run(c: KernelCase, optimizeWasm: unknown, seed: number, strictIntegers: boolean): number[] {
  const gpu = new GPU({ mode: 'webasm' });
  try {
    const k = gpu.createKernel(c.fn as never, { output: c.output, constants: c.constants ?? {}, precision: 'single', strictIntegers, optimizeWasm, ...c.settings } as never);
    const out = (k as unknown as (...x: unknown[]) => unknown)(...c.args(seed));
    const flat: number[] = [];
    const visit = (x: unknown): void => {
      if (typeof x === 'number') flat.push(x);
      else if (x !== null && typeof x === 'object' && typeof (x as ArrayLike<unknown>).length === 'number') for (const v of Array.from(x as ArrayLike<unknown>)) visit(v);
    };
    visit(out);
    return flat;
  } finally {
    gpu.destroy();
  }
}

function sameBits(label: string, got: number[], want: number[]): void {
  assert.equal(got.length, want.length, `${label}: ${got.length} numbers, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${label}: output ${i} is ${got[i]}, gpu.js without optimizeWasm gives ${want[i]}`);
  }
}

describe('gpu.js patch: optimizeWasm gives the same bits as the published code generator', () => {
  if (!GPU.isWebAssemblySupported) {
    test('optimizeWasm', (t) => t.skip('WebAssembly is not supported by this JavaScript engine'));
    return;
  }
  for (const c of CASES) {
    /*
     * Invariant (property): for random inputs, every variant of optimizeWasm writes
     * exactly the output of the unoptimized kernel (same float32 bits), with and
     * without strictIntegers (which types integer constants as Integer).
     */
    test(c.name, () => {
      fc.assert(
        fc.property(seedArb, fc.boolean(), (seed, strictIntegers) => {
          const want = run(c, false, seed, strictIntegers);
          assert.ok(want.every((x) => Number.isFinite(x)), `${c.name}: the unoptimized kernel gave a non-finite number`);
          for (const [label, opt] of VARIANTS) sameBits(`${c.name} with ${label}${strictIntegers ? ' (strictIntegers)' : ''}`, run(c, opt, seed, strictIntegers), want);
        }),
        { numRuns: 4 },
      );
    });
  }

  /*
   * Invariant (property): a read at x + off of an array of length L, for any
   * offset (negative, zero, past the end) and widths that are not multiples of 4,
   * reads what the published generator reads (the clamped gather wherever the 4
   * lanes are not all inside the array), or traps where it traps (a negative
   * index in the scalar tail).
   */
  test('contiguous reads at any offset and length equal the gather', () => {
    const c = CASES[2];
    fc.assert(
      fc.property(fc.integer({ min: -12, max: 30 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 30 }), seedArb, (off, width, L, seed) => {
        const k: KernelCase = { ...c, output: [width], constants: { off }, args: (s) => [vec(L, s)] };
        const label = `offset ${off}, width ${width}, length ${L}`;
        // The scalar tail (width mod 4 cells) reads unclamped, as published: a
        // negative index traps there. The optimized kernel must then trap too.
        const outcome = (opt: unknown): number[] | string => {
          try {
            return run(k, opt, seed, true);
          } catch (e) {
            return (e as Error).message;
          }
        };
        const want = outcome(false);
        const got = outcome(true);
        if (typeof want === 'string' || typeof got === 'string') assert.equal(got, want, label);
        else sameBits(label, got, want);
      }),
      { numRuns: 30 },
    );
  });
});

/** The instructions the generator emits for a kernel's SIMD body, by name. */
function simdOps(c: KernelCase, optimizeWasm: unknown): string[] {
  const proto = builder.WasmFunctionEmitter.prototype;
  const names = ['v128Load', 'v128Load32Splat', 'i32x4TruncSatF32x4S', 'i32TruncSatF32S', 'i32x4ExtractLane', 'f32x4ReplaceLane', 'addLocal'];
  const saved = names.map((n) => proto[n] as (...x: unknown[]) => unknown);
  const ops: string[] = [];
  names.forEach((n, i) => {
    proto[n] = function (this: { name: string }, ...args: unknown[]) {
      if (this.name === 'kernel_simd') ops.push(n === 'addLocal' ? `local ${String(args[0])}` : n);
      return saved[i].apply(this, args);
    };
  });
  try {
    run(c, optimizeWasm, 1, true);
  } finally {
    names.forEach((n, i) => {
      proto[n] = saved[i];
    });
  }
  return ops;
}

describe('gpu.js patch: the improvements fire (the patch is applied)', () => {
  const product = CASES[CASES.length - 1];
  test('without optimizeWasm: float indices truncated at every read, B as a 4-load gather', () => {
    const ops = simdOps(product, false);
    assert.ok(ops.includes('i32x4TruncSatF32x4S') || ops.includes('i32TruncSatF32S'), 'expected float-to-int truncations');
    assert.ok(!ops.includes('v128Load') && !ops.includes('v128Load32Splat'), 'expected no vector loads from an input');
  });
  test('with optimizeWasm: no truncation, B(k, n…n+3) as one v128.load, A as v128.load32_splat', () => {
    const ops = simdOps(product, true);
    assert.ok(ops.includes('v128Load'), `no v128.load emitted: is patches/gpu.js+2.24.1.patch applied (npm ci runs patch-package)? ops: ${ops.join(' ')}`);
    assert.ok(ops.includes('v128Load32Splat'), 'no v128.load32_splat emitted');
    assert.ok(!ops.includes('i32x4TruncSatF32x4S') && !ops.includes('i32TruncSatF32S'), 'an index is still truncated from a float');
  });
  test('a stride-2 read stays a gather even with optimizeWasm', () => {
    const ops = simdOps(CASES[4], true);
    assert.ok(!ops.includes('v128Load'), 'a stride-2 read must not become a v128.load');
    assert.ok(ops.filter((o) => o === 'f32x4ReplaceLane').length >= 3, 'expected the 4-load gather');
  });
});
