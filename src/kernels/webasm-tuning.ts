/**
 * Two measured adjustments to gpu.js's webasm backend, made through its internals
 * and therefore feature-detected: if a future gpu.js renames what they touch, each
 * silently turns into a no-op and the products stay correct, only slower.
 *
 * 1. **Flat results.** A kernel returning `Array(4)` gets its output back from
 *    gpu.js as nested arrays holding one 4-element `subarray` per output cell
 *    (`WebAssemblyKernel#_shapeOutput`): ≈ 0.5 µs of main-thread time per cell,
 *    measured 170–360 ms for the 393,216 cells of a 512×768·768×3072 product, as
 *    long as the product itself. The fast kernels replace it, per kernel
 *    instance, by the identity: the run returns the flat `Float32Array` gpu.js has
 *    already copied out of wasm memory.
 * 2. **One worker pool per GPU.** Every threaded kernel instance starts its own
 *    pool of `hardwareConcurrency` workers (≈ 9 MB of RSS per kernel here with 2
 *    workers); a forward pass compiles ~10 kernels per sequence length. All kernels
 *    of one backend share one pool instead (the pool keys its per-worker state by
 *    an id that gpu.js makes unique across kernels).
 *
 * See `bench/NOTES.md` for the measurements.
 *
 * @module
 */
import type { IKernelRunShortcut } from 'gpu.js';
import { type Backend, backendEnvironment } from './backend.ts';

interface WasmKernelInternals {
  _shapeOutput?: unknown;
  _pool?: unknown;
  /** Per-argument-shape module instances; `shared` ones also live in the pool's workers under `id`. */
  _moduleCache?: Map<unknown, { shared: boolean; id: unknown }>;
  /** Settles when the kernel's queued threaded runs have finished. */
  _threadedTail?: Promise<unknown>;
}

type PoolCtor = new (size?: number) => unknown;
let poolCtor: PoolCtor | null | undefined;

/** The pool class, lent by the platform (Node's worker threads, `node.ts`); null where there is none. */
function workerPoolClass(): PoolCtor | null {
  poolCtor ??= backendEnvironment().workerPool?.() ?? null;
  return poolCtor;
}

const pools = new WeakMap<object, unknown>();
/** The shared pools themselves, to recognise them. */
const sharedPools = new WeakSet<object>();

/** Applies the adjustments to a freshly created kernel of a fast path (webasm only). */
export function prepareKernel(be: Backend, kernel: IKernelRunShortcut): void {
  if (be.name !== 'webasm') return;
  const inner = (kernel as unknown as { kernel?: WasmKernelInternals }).kernel;
  if (inner === undefined || inner === null) return;
  if (typeof inner._shapeOutput === 'function') inner._shapeOutput = (data: Float32Array) => data;
  if (be.asyncMode && 'poolSize' in inner && inner._pool === null) {
    const Pool = workerPoolClass();
    if (Pool !== null) {
      let pool = pools.get(be.gpu);
      if (pool === undefined) {
        pool = new Pool();
        pools.set(be.gpu, pool);
        sharedPools.add(pool as object);
      }
      inner._pool = pool;
    }
  }
}

/**
 * The `total` numbers of a kernel result as one flat array: the result itself when
 * it is flat, a view when its rows are consecutive views of one buffer (gpu.js's
 * usual layout), otherwise a copy.
 */
export function recoverFlat(result: unknown, total: number): Float32Array {
  if (result instanceof Float32Array) return result.length === total ? result : result.subarray(0, total);
  const leaves: Float32Array[] = [];
  const visit = (r: unknown): void => {
    if (r instanceof Float32Array) leaves.push(r);
    else if (Array.isArray(r)) for (const x of r) visit(x);
    else if (typeof r === 'number') leaves.push(Float32Array.of(r));
    else if (r !== null && typeof r === 'object' && typeof (r as ArrayLike<number>).length === 'number') leaves.push(Float32Array.from(r as ArrayLike<number>));
  };
  visit(result);
  if (leaves.length === 0) {
    if (total === 0) return new Float32Array(0);
    throw new Error(`kernel returned no numbers, expected ${total}`);
  }
  const first = leaves[0];
  const last = leaves[leaves.length - 1];
  if (first.buffer === last.buffer && first.byteOffset === 0 && last.byteOffset + last.byteLength === total * 4 && leaves.every((l) => l.buffer === first.buffer)) {
    return new Float32Array(first.buffer, 0, total);
  }
  const out = new Float32Array(total);
  let offset = 0;
  for (const l of leaves) {
    if (offset + l.length > total) throw new Error(`kernel returned more than the expected ${total} numbers`);
    out.set(l, offset);
    offset += l.length;
  }
  if (offset !== total) throw new Error(`kernel returned ${offset} numbers, expected ${total}`);
  return out;
}

/**
 * Destroys a kernel evicted from a cache without destroying the worker pool it
 * shares with the other kernels (gpu.js's `destroy` also destroys the kernel's pool).
 *
 * The workers keep, per kernel, its wasm module and shared memory (gpu.js's
 * "entries"). gpu.js's own `destroy` frees them by terminating the kernel's pool;
 * a shared pool lives on, so the kernel's entries are released in the workers
 * explicitly, once the kernel's queued runs have finished. Without this, every
 * evicted kernel leaked its memory inside the workers (measured: +2.5 TB of
 * reserved address space and +60 MB RSS per pass over 60 sequence lengths, until
 * `WebAssembly.Memory()` could no longer allocate).
 */
export function releaseKernel(kernel: IKernelRunShortcut): void {
  const inner = (kernel as unknown as { kernel?: WasmKernelInternals }).kernel;
  if (inner !== undefined && inner !== null && 'poolSize' in inner && inner._pool !== null && sharedPools.has(Object(inner._pool))) {
    const pool = inner._pool as { release?: (id: unknown) => void };
    const ids = [...(inner._moduleCache?.values() ?? [])].filter((e) => e.shared).map((e) => e.id);
    const tail = inner._threadedTail ?? Promise.resolve();
    inner._pool = null;
    const release = (): void => {
      if (typeof pool.release === 'function') for (const id of ids) pool.release(id);
    };
    tail.then(release, release);
  }
  kernel.destroy();
}
