/**
 * The engine under every matrix product: one strided product
 *
 *     C[z, m, n] = Σ_k A(z, m, k) · B(z, k, n)  (+ bias[n])
 *
 * with A(z, m, k) = a.data[a.offset + z·a.sz + m·a.si + k·a.sj] and
 * B(z, k, n) = b.data[b.offset + z·b.sz + k·b.si + n·b.sj], cut into tiles that
 * each run as one gpu.js kernel launch (kernel sources in `sources.ts`).
 *
 * ## Which kernel
 * | backend | kernel | why |
 * |---|---|---|
 * | webasm | {@link kernelRows4} (M ≥ 4), {@link kernelRow} / {@link kernelRowPanels} (M < 4) | 4 rows per thread, integer running indices, compiled with the gpu.js patch's `optimizeWasm`; B read 4 adjacent numbers at a time (`orient`), in column tiles; resident matrix-vector weights packed in panels |
 * | cpu | {@link kernelRows4Cpu} | 4 rows per thread in plain JavaScript |
 * | webgpu, headlessgl, webgl2, webgl | {@link kernelCols4} | 4 columns per thread, one `vec4` store; checked on SwiftShader (Node and Chromium), no hardware GPU here |
 *
 * {@link KernelOverrides.kernels} `= 'simple'` forces the simple kernel on any
 * backend, and `'cols4'` the GPU kernel (tests).
 *
 * ## Tiling
 * A tile is at most `maxDim` rows, columns and inner terms, and every operand and
 * output of a launch holds at most `maxElements` numbers; the partial products over
 * K tiles are summed here, then the bias is added once. The limits per backend:
 * - GL / WebGPU: `maxDim = 4096`, `maxElements = 4096²`: textures (and, with them,
 *   the [T, 40478] logits and the 40478-row W_e) must fit the device's texture size.
 * - webasm / cpu: `maxDim = 65536`, `maxElements = 2²⁴`: gpu.js computes array
 *   indices in float32, which is exact only below 2²⁴ = 16,777,216 (the 40478 × 768
 *   W_e has 31 M elements, so the tied head needs 2 tiles); `maxDim` bounds how far a
 *   discarded padding row or column may read past its operand (see below).
 * {@link KernelOverrides.tiling} overrides them; the tests force tiny tiles on
 * webasm and cpu to exercise the GL code path without a GL device.
 *
 * A tile's operand is passed as a zero-copy `subarray` of the caller's buffer when
 * the elements it spans fit `maxElements`; otherwise (a column tile of a row-major
 * matrix, say) it is copied into a compact buffer.
 *
 * ## Padding without copies
 * The fast webasm and cpu kernels compute whole blocks: 4 rows per thread, and 4
 * columns per SIMD step (the column count is rounded up to a multiple of 4 so that
 * every row is whole quads: gpu.js's workers fall back to scalar code for a whole
 * launch otherwise; to a multiple of 32 in column tiles). The extra rows and
 * columns read past the operand (up to 3 row or column strides; up to 31 numbers
 * of a contiguous B in a column tile); gpu.js lays a kernel's wasm memory out as
 * `[arguments | output]` plus 1 MiB of slack, so those reads stay inside it when
 * they fit the slack (operands with a larger stride are copied compactly first),
 * and their results are dropped when the tile is unpacked. The GPU kernel reads
 * no further than its operands: a ragged tile of B gets zero columns instead.
 *
 * @module
 */
import type { IKernelRunShortcut } from 'gpu.js';
import type { Backend } from './backend.ts';
import { kernelCols4, kernelRow, kernelRowPanels, kernelRows4, kernelRows4Cpu, kernelSimple } from './sources.ts';
import { prepareKernel, recoverFlat, releaseKernel } from './webasm-tuning.ts';

/** A strided view of an operand: element (z, i, j) is data[offset + z·sz + i·si + j·sj]. */
export interface Operand {
  readonly data: Float32Array;
  readonly offset: number;
  readonly sz: number;
  /** Stride of the first matrix index (m for A, k for B). */
  readonly si: number;
  /** Stride of the second matrix index (k for A, n for B). */
  readonly sj: number;
}

/** One product: `batch` independent [M, K]·[K, N] products. */
export interface Product {
  readonly batch: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  /** A(z, m, k): si = stride of m, sj = stride of k. */
  readonly a: Operand;
  /** B(z, k, n): si = stride of k, sj = stride of n. */
  readonly b: Operand;
  /** Added to every row, [N]. */
  readonly bias?: Float32Array;
}

/** Tile limits: at most `maxDim` per tile dimension, `maxElements` per operand or output. */
export interface TileLimits {
  readonly maxDim: number;
  readonly maxElements: number;
}

export const WASM_LIMITS: TileLimits = Object.freeze({ maxDim: 65536, maxElements: 2 ** 24 });
export const GL_LIMITS: TileLimits = Object.freeze({ maxDim: 4096, maxElements: 4096 * 4096 });

/**
 * What the tests force on a backend, to run the GPU backends' code path on webasm
 * and cpu (there is no GPU here). They are not part of {@link Backend}, whose
 * fields describe the device: a test passes the products a copy of a backend with
 * these added (`{ ...be, tiling }`), which the products hand to {@link gemm}
 * unchanged. Kernels are compiled per backend object, so the copy compiles its own.
 */
export interface KernelOverrides {
  /** Tile limits; default: by backend ({@link WASM_LIMITS}, {@link GL_LIMITS}). */
  readonly tiling?: TileLimits;
  /**
   * `'simple'` runs the simple kernel, `'cols4'` the GPU kernel, on every backend;
   * default `'auto'`: the one shaped for the backend (see {@link kernelKind}).
   */
  readonly kernels?: 'auto' | 'simple' | 'cols4';
}

/** A backend as the products reach `gemm`: possibly with the tests' {@link KernelOverrides}. */
type GemmBackend = Backend & KernelOverrides;

/** The tile limits in force for a backend. */
export function tileLimits(be: GemmBackend): TileLimits {
  if (be.tiling !== undefined) return be.tiling;
  return be.name === 'webasm' || be.name === 'cpu' ? WASM_LIMITS : GL_LIMITS;
}

/**
 * The kernels `gemm` launches (sources in `sources.ts`): how many rows and columns of
 * C one thread computes (4 of either is an `Array(4)` result), and whether the
 * kernel keeps its indices integer (built with `strictIntegers`, so that
 * `(ai | 0) + sAm` stays integer arithmetic).
 */
const KERNELS = {
  simple: { source: kernelSimple, rows: 1, cols: 1, integerIndices: false },
  rows4: { source: kernelRows4, rows: 4, cols: 1, integerIndices: true },
  row: { source: kernelRow, rows: 1, cols: 1, integerIndices: true },
  rowResident: { source: kernelRowPanels, rows: 1, cols: 1, integerIndices: true },
  rows4cpu: { source: kernelRows4Cpu, rows: 4, cols: 1, integerIndices: true },
  cols4: { source: kernelCols4, rows: 1, cols: 4, integerIndices: false },
} as const;

type KernelKind = keyof typeof KERNELS;

/** The kernel a backend runs for a product with M rows. */
export function kernelKind(be: GemmBackend, M: number): KernelKind {
  if (be.kernels === 'simple') return 'simple';
  if (be.kernels === 'cols4') return 'cols4';
  if (be.name === 'webasm') return M >= 4 ? 'rows4' : 'row';
  if (be.name === 'cpu') return 'rows4cpu';
  return 'cols4';
}

// ---------------------------------------------------------------------------------
// Tile sizes
// ---------------------------------------------------------------------------------

const up4 = (x: number): number => Math.ceil(x / 4) * 4;

/** Splits n into the fewest tiles of at most `cap`, of equal size rounded up to a multiple of 4 (when that fits the cap). */
function evenSplit(n: number, cap: number): number {
  const tiles = Math.ceil(n / cap);
  const size = Math.ceil(n / tiles);
  return up4(size) <= cap ? Math.min(up4(size), n) : size;
}

/**
 * Tile sizes (batch, rows, inner, columns) within the limits: each of tm, tk, tn at
 * most maxDim, and A [tm, tk], B [tk, tn] and C [tm, tn] (rows and columns padded
 * to multiples of 4) each at most maxElements. The largest offending dimension is
 * halved until everything fits, then each dimension is split into equal tiles.
 */
export function tileSizes(p: Product, lim: TileLimits): { tz: number; tm: number; tk: number; tn: number } {
  const { maxDim, maxElements: E } = lim;
  let cm = Math.min(p.M, maxDim);
  let ck = Math.min(p.K, maxDim);
  let cn = Math.min(p.N, maxDim);
  const half = (x: number): number => Math.max(1, Math.ceil(x / 2));
  for (;;) {
    const overA = up4(cm) * ck > E;
    const overB = ck * up4(cn) > E;
    const overC = up4(cm) * up4(cn) > E;
    if (!overA && !overB && !overC) break;
    const candidates: ['m' | 'k' | 'n', number][] = [];
    if (overA || overC) candidates.push(['m', cm]);
    if (overA || overB) candidates.push(['k', ck]);
    if (overB || overC) candidates.push(['n', cn]);
    // the largest first; on a tie k is cut last, so that C and Cᵀ (the same
    // product with m and n swapped, see `orient`) cut K alike
    candidates.sort((x, y) => y[1] - x[1] || (x[0] === 'k' ? 1 : 0) - (y[0] === 'k' ? 1 : 0));
    const [dim] = candidates[0];
    if (dim === 'm') cm = half(cm);
    else if (dim === 'k') ck = half(ck);
    else cn = half(cn);
    if (cm === 1 && ck === 1 && cn === 1) break;
  }
  const tm = evenSplit(p.M, cm);
  const tk = evenSplit(p.K, ck);
  const tn = evenSplit(p.N, cn);
  const per = Math.max(up4(tm) * tk, tk * up4(tn), up4(tm) * up4(tn), 1);
  const tz = Math.max(1, Math.min(p.batch, maxDim, Math.floor(E / per)));
  return { tz, tm, tk, tn };
}

// ---------------------------------------------------------------------------------
// Operand tiles
// ---------------------------------------------------------------------------------

/**
 * The sub-operand (z0.., i0.., j0..) of extent (nz, ni, nj): a zero-copy subarray
 * when the elements it spans fit `maxElements`, else a compact copy.
 */
function subOperand(o: Operand, z0: number, i0: number, j0: number, nz: number, ni: number, nj: number, maxElements: number): Operand {
  const start = o.offset + z0 * o.sz + i0 * o.si + j0 * o.sj;
  const span = (nz - 1) * o.sz + (ni - 1) * o.si + (nj - 1) * o.sj + 1;
  if (span <= maxElements) {
    return { data: o.data.subarray(start, start + span), offset: 0, sz: nz > 1 ? o.sz : 0, si: o.si, sj: o.sj };
  }
  const out = new Float32Array(nz * ni * nj);
  let w = 0;
  for (let z = 0; z < nz; z++) {
    for (let i = 0; i < ni; i++) {
      const row = start + z * o.sz + i * o.si;
      if (o.sj === 1) {
        out.set(o.data.subarray(row, row + nj), w);
        w += nj;
      } else {
        for (let j = 0; j < nj; j++) out[w++] = o.data[row + j * o.sj];
      }
    }
  }
  return { data: out, offset: 0, sz: nz > 1 ? ni * nj : 0, si: nj, sj: 1 };
}

// ---------------------------------------------------------------------------------
// Compiled kernels
// ---------------------------------------------------------------------------------

/** Kernels compiled per backend, in least-recently-used order (a Map keeps insertion order). */
const compiled = new WeakMap<Backend, Map<string, IKernelRunShortcut>>();
/** Resident-weight kernels, per weight buffer: they die with the weights. */
const resident = new WeakMap<ArrayBufferLike, Map<string, IKernelRunShortcut>>();
/** At most this many ordinary kernels are kept per backend; the least recently used is destroyed. */
const MAX_KERNELS = 256;
/** Resident kernels hold a copy of their weight; beyond this many bytes in all, the least recently used is destroyed. */
const MAX_RESIDENT_BYTES = 2 ** 30;
/** Resident kernels in least-recently-used order, with what is needed to forget them. */
const residentLru = new Map<IKernelRunShortcut, { readonly bytes: number; readonly buffer: ArrayBufferLike; readonly key: string }>();
let residentBytes = 0;

interface Launch {
  readonly kind: KernelKind;
  readonly tz: number;
  readonly M: number;
  readonly K: number;
  /** Output columns the kernel computes: N rounded up to a multiple of 4 (fast kernels), of `PANEL` (resident weights) or of the column tile. */
  readonly Np: number;
  /** The columns of B that hold numbers (≤ Np), where it matters: a resident weight packed in panels, zero beyond N. */
  readonly N?: number;
  /**
   * `rows4` on webasm, one batch entry: the columns are cut into tiles of this
   * many, one tile per `thread.z` (see `COLUMN_TILE`); Np is then a multiple of it.
   */
  readonly colTile?: number;
  readonly a: Operand;
  readonly b: Operand;
}

/** Columns per panel of a resident matrix-vector weight ({@link kernelRowPanels}). */
const PANEL = 16;

/** B's tile (K × N, any strides) packed in panels of `PANEL` columns: (k, n) at ⌊n/P⌋·PK + Pk + n mod P, zero-padded to Np columns. */
function packedPanels(b: Operand, K: number, N: number, Np: number): Float32Array {
  const w = new Float32Array(K * Np);
  for (let n = 0; n < N; n++) {
    const src = b.offset + n * b.sj;
    let dst = Math.floor(n / PANEL) * PANEL * K + (n % PANEL);
    for (let k = 0; k < K; k++, dst += PANEL) w[dst] = b.data[src + k * b.si];
  }
  return w;
}

function createKernel(be: Backend, L: Launch): IKernelRunShortcut {
  const { a, b } = L;
  const k = KERNELS[L.kind];
  const rows = Math.ceil(L.M / k.rows);
  const constants: Record<string, number | Float32Array> = {
    K: L.K, K4: Math.floor(L.K / 4), KR: L.K % 4,
    sAz: a.sz, sAm: a.si, sAm2: 2 * a.si, sAm3: 3 * a.si, sAm4: 4 * a.si, sAk: a.sj, sAk2: 2 * a.sj, sAk3: 3 * a.sj, sAk4: 4 * a.sj,
    sBz: b.sz, sBk: b.si, sBk2: 2 * b.si, sBk3: 3 * b.si, sBk4: 4 * b.si, sBn: b.sj,
  };
  if (L.kind === 'cols4') Object.assign(constants, { sBn2: 2 * b.sj, sBn3: 3 * b.sj, sBn4: 4 * b.sj });
  if (L.kind === 'rowResident') {
    // The weight is packed once, here (it is the kernel's constant from now on).
    constants.w = packedPanels(b, L.K, L.N ?? L.Np, L.Np);
    Object.assign(constants, { sBp: PANEL * L.K, P: PANEL, P2: 2 * PANEL, P3: 3 * PANEL, P4: 4 * PANEL });
  }
  if (L.colTile !== undefined) {
    // thread.z walks the column tiles: B's z stride is one tile, A is the same for all
    Object.assign(constants, { sAz: 0, sBz: L.colTile * b.sj });
  }
  const output = L.colTile !== undefined ? [L.colTile, rows, L.Np / L.colTile]
    : L.kind === 'rowResident' ? [PANEL, L.Np / PANEL, L.M]
    : [L.Np / k.cols, rows, L.tz];
  const kernel = be.gpu.createKernel(k.source as never, {
    output,
    constants,
    precision: 'single',
    tactic: 'precision',
    asyncMode: be.asyncMode,
    strictIntegers: k.integerIndices,
    // The patched gpu.js's better WebAssembly (docs/gpujs-patch.md): i32 indices,
    // one v128.load for 4 adjacent numbers. An unpatched gpu.js ignores the setting.
    ...(be.name === 'webasm' && L.kind !== 'simple' ? { optimizeWasm: be.wasmOptimizations ?? true } : {}),
    ...(k.rows * k.cols === 4 ? { returnType: 'Array(4)' as const } : {}),
  });
  prepareKernel(be, kernel);
  return kernel;
}

function getKernel(be: Backend, L: Launch): IKernelRunShortcut {
  const { a, b } = L;
  const shape = `${L.kind}|${L.tz}x${L.M}x${L.K}x${L.Np}${L.colTile !== undefined ? `/${L.colTile}` : ''}|a${a.sz},${a.si},${a.sj},${a.data.length}|b${b.sz},${b.si},${b.sj},${b.data.length}`;
  if (L.kind === 'rowResident') {
    // One kernel per weight tile: keyed by where the tile lies in its buffer.
    let perBuffer = resident.get(b.data.buffer);
    if (perBuffer === undefined) {
      perBuffer = new Map();
      resident.set(b.data.buffer, perBuffer);
    }
    const key = `${shape}@${b.data.byteOffset}`;
    let kernel = perBuffer.get(key);
    if (kernel === undefined) {
      kernel = createKernel(be, L);
      perBuffer.set(key, kernel);
      residentBytes += b.data.byteLength;
      while (residentBytes > MAX_RESIDENT_BYTES && residentLru.size > 0) {
        const [old, info] = residentLru.entries().next().value as [IKernelRunShortcut, { bytes: number; buffer: ArrayBufferLike; key: string }];
        residentLru.delete(old);
        residentBytes -= info.bytes;
        resident.get(info.buffer)?.delete(info.key);
        releaseKernel(old);
      }
    } else {
      residentLru.delete(kernel); // refresh its place in the LRU order
    }
    residentLru.set(kernel, { bytes: b.data.byteLength, buffer: b.data.buffer, key });
    return kernel;
  }
  let cache = compiled.get(be);
  if (cache === undefined) {
    cache = new Map();
    compiled.set(be, cache);
  }
  let kernel = cache.get(shape);
  if (kernel !== undefined) {
    cache.delete(shape); // refresh its place in the LRU order
  } else {
    kernel = createKernel(be, L);
    if (cache.size >= MAX_KERNELS) {
      const [oldest, evicted] = cache.entries().next().value as [string, IKernelRunShortcut];
      cache.delete(oldest);
      releaseKernel(evicted);
    }
  }
  cache.set(shape, kernel);
  return kernel;
}

/** Where a tile's result goes: C is [*, rows, cols]; the tile starts at (z0, m0, n0). */
interface Destination {
  readonly out: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly z0: number;
  readonly m0: number;
  readonly n0: number;
  /** Add to C (a later K tile) instead of writing it. */
  readonly accumulate: boolean;
}

/**
 * Writes (or adds) the output of a row-major launch [tz, Mk, Np] into C: the first
 * M rows and N columns of each batch entry; row (z, m) goes to `rowOf(z, m)`.
 */
function unpackRows(flat: Float32Array, tz: number, Mk: number, M: number, N: number, Np: number, out: Float32Array, rowOf: (z: number, m: number) => number, accumulate: boolean): void {
  for (let z = 0; z < tz; z++) {
    for (let m = 0; m < M; m++) {
      const src = (z * Mk + m) * Np;
      const dst = rowOf(z, m);
      if (accumulate) for (let n = 0; n < N; n++) out[dst + n] += flat[src + n];
      else out.set(flat.subarray(src, src + N), dst);
    }
  }
}

/**
 * Writes (or adds) the output of a 4-rows-per-thread launch into C: cell (z, mb, n)
 * holds rows 4·mb … 4·mb+3 of column n, 4 numbers apart. A separate small function
 * so that V8 compiles its loops tightly (≈ 1 ns per number instead of ≈ 20 inline).
 */
function unpackRows4(flat: Float32Array, tz: number, Mk: number, M: number, N: number, Np: number, out: Float32Array, base: number, zStride: number, rowStride: number, accumulate: boolean): void {
  const Mq = Math.ceil(Mk / 4); // row quads the kernel computed; only the first M rows are kept
  for (let z = 0; z < tz; z++) {
    for (let mb = 0; 4 * mb < M; mb++) {
      const rows = Math.min(4, M - 4 * mb);
      for (let r = 0; r < rows; r++) {
        let src = (z * Mq + mb) * Np * 4 + r;
        const dst = base + z * zStride + (4 * mb + r) * rowStride;
        if (accumulate) {
          for (let n = 0; n < N; n++, src += 4) out[dst + n] += flat[src];
        } else {
          for (let n = 0; n < N; n++, src += 4) out[dst + n] = flat[src];
        }
      }
    }
  }
}

/**
 * Writes (or adds) the output of a column-tiled 4-rows-per-thread launch into C:
 * cell (x, mb, t) holds rows 4·mb … 4·mb+3 of column t·colTile + x.
 */
function unpackColumnTiles(flat: Float32Array, colTile: number, tiles: number, Mq: number, M: number, N: number, out: Float32Array, base: number, rowStride: number, accumulate: boolean): void {
  for (let t = 0; t < tiles; t++) {
    const n0 = t * colTile;
    const width = Math.min(colTile, N - n0);
    for (let mb = 0; 4 * mb < M; mb++) {
      const rows = Math.min(4, M - 4 * mb);
      for (let r = 0; r < rows; r++) {
        let src = ((t * Mq + mb) * colTile) * 4 + r;
        const dst = base + (4 * mb + r) * rowStride + n0;
        if (accumulate) {
          for (let x = 0; x < width; x++, src += 4) out[dst + x] += flat[src];
        } else {
          for (let x = 0; x < width; x++, src += 4) out[dst + x] = flat[src];
        }
      }
    }
  }
}

/**
 * Columns per `thread.z` tile of a webasm product: a 32-column strip of B
 * (K × 32 numbers, 96 KB at K = 768) stays in the core's cache while every row
 * quad of A passes over it. Measured 1.4–1.5× over one flat pass per row quad
 * (bench/NOTES.md, idea 19).
 */
const COLUMN_TILE = 32;

/** Numbers that a padding row or column may read past its operand (gpu.js leaves 16 pages = 262144 numbers after the output). */
const SLACK = 200000;

/** A weight tile at least this large is kept resident in its matrix-vector kernel. */
const RESIDENT_MIN = 65536;
/** Batched matrix-vector products (attention during generation) round K and N up to this, so that a growing context recompiles once every 32 positions. */
const BUCKET = 32;

/** The kernel sizes of small dimensions: a dimension ≤ 512 is rounded up to the next of these. */
const DIM_BUCKETS = [4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512];

/** A dimension as a kernel computes it: small ones rounded up to a bucket, large ones (model widths, vocabularies) as they are. */
function bucketDim(n: number): number {
  return DIM_BUCKETS.find((b) => b >= n) ?? n;
}

/** A zero-padded compact copy of operand o, extent (nz, ni, nj) → (nz, pi, pj). */
function padded(o: Operand, nz: number, ni: number, nj: number, pi: number, pj: number): Operand {
  const out = new Float32Array(nz * pi * pj);
  for (let z = 0; z < nz; z++) {
    for (let i = 0; i < ni; i++) {
      const src = o.offset + z * o.sz + i * o.si;
      const dst = (z * pi + i) * pj;
      if (o.sj === 1) out.set(o.data.subarray(src, src + nj), dst);
      else for (let j = 0; j < nj; j++) out[dst + j] = o.data[src + j * o.sj];
    }
  }
  return { data: out, offset: 0, sz: nz > 1 ? pi * pj : 0, si: pj, sj: 1 };
}

/**
 * A zero-padded compact copy of operand o like {@link padded}, laid out along o's
 * own contiguous axis: when o is contiguous along i (si = 1) rather than j, the
 * copy is i-fastest (si = 1, sj = pi), so each run of ni numbers is one block copy
 * instead of ni reads 4·sj bytes apart. During generation the key cache is such an
 * operand (B(k, n) of Q·Kᵀ is K[n, k]): copying it transposed took 2–12× as long,
 * and a layer's two attention products 1.4–1.7× the CPU time (bench/NOTES.md,
 * idea 26). The kernel then reads B's 4 lanes as a gather (the products are
 * small); it reads any strides, and the sums are the same.
 */
function paddedAlike(o: Operand, nz: number, ni: number, nj: number, pi: number, pj: number): Operand {
  if (o.si !== 1 || o.sj === 1) return padded(o, nz, ni, nj, pi, pj);
  const t = padded(swapped(o), nz, nj, ni, pj, pi); // [nz, pj, pi]: i fastest
  return { ...t, si: 1, sj: pi };
}

/**
 * Runs one tile [tz, M, N]·… and writes (or adds) it into its place in C.
 *
 * Matrix-vector tiles (M < 4, the `row` kernel on webasm) get two more tricks,
 * both for generation, where every product has M = 1:
 * - a weight tile (one batch entry, ≥ 65536 numbers) stays resident in its own
 *   kernel instead of being copied into wasm memory at every call;
 * - batched tiles (attention scores and values over the growing key/value cache)
 *   are zero-padded to multiples of 32 in K and N, so that their kernels are
 *   compiled once per 32 positions rather than at every token (padding terms are
 *   0·0 and add exactly 0).
 */
async function runTile(be: Backend, kind: KernelKind, batched: boolean, tz: number, M: number, K: number, N: number, a: Operand, b: Operand, d: Destination): Promise<void> {
  const { out, accumulate } = d;
  const rowOf = (z: number, m: number): number => ((d.z0 + z) * d.rows + d.m0 + m) * d.cols + d.n0;
  if (kind === 'row') {
    let Nk = N; // columns the kernel computes
    if (batched) {
      const Kb = Math.ceil(K / BUCKET) * BUCKET;
      const Nb = Math.ceil(N / BUCKET) * BUCKET;
      if (Kb !== K || Nb !== N) {
        a = paddedAlike(a, tz, M, K, M, Kb);
        b = paddedAlike(b, tz, K, N, Kb, Nb);
        K = Kb;
        Nk = Nb;
      }
    }
    const res = !batched && b.data.length >= RESIDENT_MIN;
    const Np = Math.ceil(Nk / (res ? PANEL : 4)) * (res ? PANEL : 4);
    const kernel = getKernel(be, { kind: res ? 'rowResident' : 'row', tz, M, K, Np, N, a, b });
    const result = await (kernel as unknown as (...x: Float32Array[]) => unknown)(...(res ? [a.data] : [a.data, b.data]));
    unpackRows(recoverFlat(result, tz * M * Np), tz, M, M, N, Np, out, rowOf, accumulate);
    return;
  }
  // Sequence lengths vary from call to call, and every distinct shape would compile
  // its own kernels; small dimensions are rounded up to a few sizes by zero padding
  // (padded rows and columns are computed and dropped; padded k terms are 0·0 and
  // add exactly 0), so a run over many lengths reuses a few dozen kernels.
  const [Mk, Kk, Nk] = [bucketDim(M), bucketDim(K), bucketDim(N)]; // the kernel's extents
  if (Mk !== M || Kk !== K) a = padded(a, tz, M, K, Mk, Kk);
  if (Kk !== K || Nk !== N) b = padded(b, tz, K, N, Kk, Nk);
  // rows4 (webasm) on one batch entry: column tiles (one per thread.z), so that all row
  // quads of a tile reuse the same strip of B from the cache.
  const colTile = kind === 'rows4' && tz === 1 && b.sj === 1 && Nk > COLUMN_TILE ? COLUMN_TILE : undefined;
  const Np = kind === 'simple' ? Nk : Math.ceil(Nk / (colTile ?? 4)) * (colTile ?? 4);
  // The GPU kernel reads whole quads of columns: a ragged tile of B gets zero columns.
  if (kind === 'cols4' && Np !== Nk) b = padded(b, tz, Kk, Nk, Kk, Np);
  const rows4 = KERNELS[kind].rows === 4;
  if (rows4) {
    // Padding rows/columns read up to 3 strides past the operand: keep that inside gpu.js's slack.
    if (Mk % 4 !== 0 && 3 * a.si > SLACK) a = padded(a, tz, Mk, Kk, Mk, Kk);
    if (Nk % 4 !== 0 && 3 * b.sj > SLACK) b = padded(b, tz, Kk, Nk, Kk, Nk);
  }
  const kernel = getKernel(be, { kind, tz, M: Mk, K: Kk, Np, a, b, colTile });
  const result = await (kernel as unknown as (x: Float32Array, y: Float32Array) => unknown)(a.data, b.data);
  if (rows4) {
    const Mq = Math.ceil(Mk / 4);
    const flat = recoverFlat(result, tz * Mq * Np * 4);
    if (colTile !== undefined) unpackColumnTiles(flat, colTile, Np / colTile, Mq, M, N, out, rowOf(0, 0), d.cols, accumulate);
    else unpackRows4(flat, tz, Mk, M, N, Np, out, rowOf(0, 0), d.rows * d.cols, d.cols, accumulate);
  } else {
    unpackRows(recoverFlat(result, tz * Mk * Np), tz, Mk, M, N, Np, out, rowOf, accumulate);
  }
}

// ---------------------------------------------------------------------------------
// The product
// ---------------------------------------------------------------------------------

/**
 * Whether {@link gemm} cuts the K axis of this product into K tiles. Uncut, every
 * cell is one kernel's sum of its K terms in increasing k, bit-identical to the
 * reference kernels (`spec/reference-kernels.ts`); cut, the partial sums of the
 * tiles are added in tile order, which rounds differently.
 */
export function cutsK(be: GemmBackend, p: Product): boolean {
  if (p.K === 0 || p.batch * p.M * p.N === 0) return false;
  // (tileSizes cuts K alike for C and for Cᵀ, so `orient` does not change this)
  return tileSizes(p, tileLimits(be)).tk < p.K;
}

/** Operand x with its two matrix indices swapped: element (z, j, i) of the result is (z, i, j) of x. */
const swapped = (x: Operand): Operand => ({ data: x.data, offset: x.offset, sz: x.sz, si: x.sj, sj: x.si });

/** A compact copy of operand o (extent nz × ni × nj): row-major (j fastest), or with i fastest when `iFastest`. */
function compact(o: Operand, nz: number, ni: number, nj: number, iFastest: boolean): Operand {
  const out = new Float32Array(nz * ni * nj);
  for (let z = 0; z < nz; z++) {
    for (let i = 0; i < ni; i++) {
      const src = o.offset + z * o.sz + i * o.si;
      let dst = z * ni * nj + (iFastest ? i : i * nj);
      for (let j = 0; j < nj; j++, dst += iFastest ? ni : 1) out[dst] = o.data[src + j * o.sj];
    }
  }
  return iFastest ? { data: out, offset: 0, sz: ni * nj, si: 1, sj: ni } : { data: out, offset: 0, sz: ni * nj, si: nj, sj: 1 };
}

/**
 * Lays a product out for the webasm fast kernels, whose SIMD lanes are 4
 * adjacent output columns: with the patched gpu.js, B(k, n … n+3) is one
 * `v128.load` when B is contiguous along n (sj = 1), and a 4-load gather
 * otherwise. A·Bᵀ (the tied head, dY·Wᵀ, Q·Kᵀ) has B contiguous along k
 * instead. Then:
 * - if A is contiguous along m, compute Cᵀ = Bᵀ·Aᵀ (lanes along m), no copy;
 * - else copy the smaller operand: A as [K, M] (and compute Cᵀ), or B as [K, N].
 * Every cell is still the same K products summed in increasing k (x·y = y·x
 * in float32), so the result is bit-identical either way.
 * @returns the product to run, and whether it computes Cᵀ
 */
function orient(be: GemmBackend, p: Product): { readonly p: Product; readonly transposed: boolean } {
  const vectorized = be.name === 'webasm' && be.kernels !== 'simple';
  if (!vectorized || p.b.sj === 1 || p.M < 4 || p.N < 4) return { p, transposed: false };
  const t = (a: Operand): Product => ({ batch: p.batch, M: p.N, K: p.K, N: p.M, a: swapped(p.b), b: swapped(a) });
  if (p.a.si === 1) return { p: t(p.a), transposed: true };
  if (p.M <= p.N) return { p: t(compact(p.a, p.batch, p.M, p.K, true)), transposed: true };
  return { p: { ...p, b: compact(p.b, p.batch, p.K, p.N, false) }, transposed: false };
}

/**
 * C = A·B (+ bias) for a strided product, tiled for the backend.
 * @returns C, [batch, M, N] row-major
 */
export async function gemm(be: GemmBackend, p: Product): Promise<Float32Array> {
  const { batch, M, K, N } = p;
  if (batch * M * N > 0 && K > 0) {
    const o = orient(be, p);
    if (o.transposed) {
      const ct = await gemm(be, o.p); // Cᵀ: [batch, N, M]
      const out = new Float32Array(batch * M * N);
      for (let z = 0; z < batch; z++) {
        const base = z * M * N;
        for (let n = 0; n < N; n++) {
          let src = base + n * M;
          for (let m = 0; m < M; m++, src++) out[base + m * N + n] = ct[src];
        }
      }
      addBias(out, batch * M, N, p.bias);
      return out;
    }
    p = o.p;
  }
  const out = new Float32Array(batch * M * N);
  if (out.length === 0) return out;
  if (K > 0) {
    const lim = tileLimits(be);
    const { tz, tm, tk, tn } = tileSizes(p, lim);
    const E = lim.maxElements;
    for (let z0 = 0; z0 < batch; z0 += tz) {
      const nz = Math.min(tz, batch - z0);
      for (let m0 = 0; m0 < M; m0 += tm) {
        const nm = Math.min(tm, M - m0);
        const kind = kernelKind(be, nm);
        for (let n0 = 0; n0 < N; n0 += tn) {
          const nn = Math.min(tn, N - n0);
          for (let k0 = 0; k0 < K; k0 += tk) {
            const nk = Math.min(tk, K - k0);
            const a = subOperand(p.a, z0, m0, k0, nz, nm, nk, E);
            const b = subOperand(p.b, z0, k0, n0, nz, nk, nn, E);
            // Later K tiles add their partial sums to the first one's.
            await runTile(be, kind, batch > 1, nz, nm, nk, nn, a, b, { out, rows: M, cols: N, z0, m0, n0, accumulate: k0 > 0 });
          }
        }
      }
    }
  }
  addBias(out, batch * M, N, p.bias);
  return out;
}

/** Adds bias [N] to each of the `rows` rows of out. */
function addBias(out: Float32Array, rows: number, N: number, bias: Float32Array | undefined): void {
  if (bias === undefined) return;
  for (let row = 0; row < rows; row++) {
    const o = row * N;
    for (let n = 0; n < N; n++) out[o + n] += bias[n];
  }
}
