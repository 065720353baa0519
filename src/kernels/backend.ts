/**
 * Choosing the gpu.js backend, once per process.
 *
 * Every matrix product of the model runs as a gpu.js kernel. gpu.js 2.24 can run
 * the same kernel source on several backends; the project tries them from the
 * fastest kind of hardware down and keeps the first that really starts:
 *
 * | backend | runs on | needs |
 * |---|---|---|
 * | `webgpu` | a GPU through WGSL | the `webgpu` npm package and an adapter |
 * | `headlessgl` | a GPU through OpenGL ES | the `gl` npm package (built from source) and a display |
 * | `webasm` | the CPU: WebAssembly, f32x4 SIMD, worker threads | nothing |
 * | `cpu` | the CPU: kernels transpiled to JavaScript | nothing |
 *
 * `GPT1_BACKEND=<name>` (or the CLI's `--backend <name>`, which sets it) forces one;
 * forcing a backend that cannot start is an error, never a silent fallback.
 * `GPT1_THREADS=0` keeps `webasm` on the calling thread (no worker pool).
 *
 * The chosen `GPU` instance and the kernels compiled on it are module-level caches:
 * they memoise compilation, never results, so they do not make any model function
 * impure.
 *
 * @module
 */
import { GPU } from 'gpu.js';

export type BackendName = 'webgpu' | 'headlessgl' | 'webasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'headlessgl', 'webasm', 'cpu'];

/** The backend in use and the reason it was chosen, for reports and `--help`. */
export interface Backend {
  readonly name: BackendName;
  readonly gpu: GPU;
  /** True when kernels return Promises and may run on worker threads. */
  readonly asyncMode: boolean;
  readonly reason: string;
  /**
   * Tile limits of the products (see `gemm.ts`); default: by backend. Tests set a
   * tiny one to run the GL tiling code on webasm and cpu.
   */
  readonly tiling?: { readonly maxDim: number; readonly maxElements: number };
  /** `'simple'` runs the simple kernel on every backend (tests); default `'auto'`: the fastest. */
  readonly kernels?: 'auto' | 'simple';
}

let chosen: Promise<Backend> | undefined;

/** Why a backend cannot start on this machine, or `undefined` if it can. */
export async function unavailableReason(name: BackendName): Promise<string | undefined> {
  switch (name) {
    case 'cpu':
      return undefined;
    case 'webasm':
      return GPU.isWebAssemblySupported ? undefined : 'WebAssembly is not supported by this JavaScript engine';
    case 'headlessgl':
      return GPU.isHeadlessGLSupported ? undefined : "the optional 'gl' package is not built or no display is available";
    case 'webgpu':
      try {
        return (await GPU.isWebGPUAvailable()) ? undefined : 'no WebGPU adapter answered';
      } catch (e) {
        return `WebGPU probe failed: ${(e as Error).message.split('\n')[0]}`;
      }
  }
}

/** Creates the `GPU` instance for a backend that is known to be available. */
function instantiate(name: BackendName, reason: string): Backend {
  // webasm only uses its worker threads under the async contract; webgpu is always async.
  const asyncMode = (name === 'webasm' && process.env.GPT1_THREADS !== '0') || name === 'webgpu';
  return { name, gpu: new GPU({ mode: name }), asyncMode, reason };
}

/**
 * The backend for this process: `GPT1_BACKEND` if set, otherwise the first of
 * webgpu → headlessgl → webasm → cpu that starts. Decided once; later calls return
 * the same value.
 */
export function backend(): Promise<Backend> {
  chosen ??= (async () => {
    const forced = process.env.GPT1_BACKEND;
    if (forced !== undefined && forced !== '') {
      if (!(BACKENDS as readonly string[]).includes(forced)) {
        throw new Error(`unknown backend '${forced}' (GPT1_BACKEND / --backend): expected one of ${BACKENDS.join(', ')}`);
      }
      const why = await unavailableReason(forced as BackendName);
      if (why !== undefined) throw new Error(`backend '${forced}' was requested but cannot start: ${why}`);
      return instantiate(forced as BackendName, 'forced by GPT1_BACKEND');
    }
    const skipped: string[] = [];
    for (const name of BACKENDS) {
      const why = await unavailableReason(name);
      if (why === undefined) {
        return instantiate(name, skipped.length ? `fastest available (${skipped.join('; ')})` : 'fastest available');
      }
      skipped.push(`${name}: ${why}`);
    }
    throw new Error('no gpu.js backend could start'); // unreachable: cpu always starts
  })();
  return chosen;
}

/**
 * The same backend (same `GPU` instance) with other kernel options. Kernels are
 * compiled per backend object, so the copy compiles its own.
 */
export function withKernelOptions(be: Backend, options: { tiling?: Backend['tiling']; kernels?: Backend['kernels'] }): Backend {
  return { ...be, ...options };
}

/**
 * A backend instance for one named backend, independent of the process-wide
 * choice; the tests use this to run every kernel on every backend available.
 */
export async function backendFor(name: BackendName): Promise<Backend> {
  const why = await unavailableReason(name);
  if (why !== undefined) throw new Error(`backend '${name}' cannot start: ${why}`);
  return instantiate(name, 'requested explicitly');
}
