/**
 * Choosing the gpu.js backend in the browser: WebGPU, WebGL2, or the CPU fallback.
 *
 * The page's bundle uses this module in place of `src/kernels/backend.ts` (an
 * alias in `web/build.ts`), so the model's kernels run on the backend chosen here.
 * Same interface as the Node module: {@link backend} is the choice of this page,
 * made once (the page's switch reloads it with `?backend=…`).
 *
 * @module
 */
import { GPU } from 'gpu.js';

export type BackendName = 'webgpu' | 'webgl2' | 'cpu' | 'headlessgl' | 'webasm';
/** The browser backends, fastest first. */
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl2', 'cpu'];

export interface Backend {
  readonly name: BackendName;
  readonly gpu: GPU;
  readonly asyncMode: boolean;
  readonly reason: string;
  readonly tiling?: { readonly maxDim: number; readonly maxElements: number };
  readonly kernels?: 'auto' | 'simple';
}

/** The adapter behind a backend, as the page shows it. */
export interface AdapterInfo {
  /** Vendor / renderer string, as the browser reports it. */
  readonly description: string;
  /** True for a software implementation (SwiftShader, llvmpipe, a fallback adapter). */
  readonly software: boolean;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render|microsoft basic/i;

let forced: BackendName | undefined;
let chosen: Promise<Backend> | undefined;

/** Forces the backend of this page (before the first kernel runs). */
export function forceBackend(name: BackendName | undefined): void {
  if (chosen !== undefined) throw new Error('forceBackend: the backend is already chosen; reload the page with ?backend=…');
  forced = name;
}

/** Why a backend cannot start in this browser, or `undefined` if it can. */
export async function unavailableReason(name: BackendName): Promise<string | undefined> {
  switch (name) {
    case 'cpu':
      return undefined;
    case 'webgl2':
      return GPU.isWebGL2Supported ? undefined : 'this browser gives no WebGL2 context';
    case 'webgpu':
      if (typeof navigator === 'undefined' || !('gpu' in navigator)) return 'this browser has no WebGPU (navigator.gpu)';
      try {
        return (await GPU.isWebGPUAvailable()) ? undefined : 'no WebGPU adapter answered';
      } catch (e) {
        return `WebGPU probe failed: ${(e as Error).message.split('\n')[0]}`;
      }
    default:
      return `${name} is a Node.js backend`;
  }
}

function instantiate(name: BackendName, reason: string): Backend {
  return { name, gpu: new GPU({ mode: name }), asyncMode: name === 'webgpu', reason };
}

/** The backend of this page: the forced one, or the first of webgpu → webgl2 → cpu that starts. */
export function backend(): Promise<Backend> {
  chosen ??= (async () => {
    if (forced !== undefined) {
      const why = await unavailableReason(forced);
      if (why !== undefined) throw new Error(`backend '${forced}' was requested but cannot start: ${why}`);
      return instantiate(forced, 'forced by ?backend=');
    }
    const skipped: string[] = [];
    for (const name of BACKENDS) {
      const why = await unavailableReason(name);
      if (why === undefined) return instantiate(name, skipped.length ? `fastest available (${skipped.join('; ')})` : 'fastest available');
      skipped.push(`${name}: ${why}`);
    }
    throw new Error('no gpu.js backend could start');
  })();
  return chosen;
}

export function withKernelOptions(be: Backend, options: { tiling?: Backend['tiling']; kernels?: Backend['kernels'] }): Backend {
  return { ...be, ...options };
}

export async function backendFor(name: BackendName): Promise<Backend> {
  const why = await unavailableReason(name);
  if (why !== undefined) throw new Error(`backend '${name}' cannot start: ${why}`);
  return instantiate(name, 'requested explicitly');
}

/** What the browser says about the device behind a backend. */
export async function adapterInfo(name: BackendName): Promise<AdapterInfo> {
  if (name === 'webgpu') {
    const gpu = (navigator as unknown as { gpu: { requestAdapter(): Promise<{ info?: Record<string, string>; isFallbackAdapter?: boolean } | null> } }).gpu;
    const adapter = await gpu.requestAdapter();
    const info = adapter?.info ?? {};
    const description = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter';
    return { description, software: Boolean(adapter?.isFallbackAdapter) || SOFTWARE.test(description) };
  }
  if (name === 'webgl2') {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl === null) return { description: 'no WebGL2 context', software: false };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const description = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    return { description, software: SOFTWARE.test(description) };
  }
  return { description: 'JavaScript on the CPU', software: true };
}
