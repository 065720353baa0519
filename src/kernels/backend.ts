/**
 * Choosing the gpu.js backend, once per process.
 *
 * Every matrix product of the model runs as a gpu.js kernel. gpu.js 2.24 can run
 * the same kernel source on several backends; the project tries them from the
 * fastest kind of hardware down and keeps the first that really starts:
 *
 * | backend | runs on | needs |
 * |---|---|---|
 * | `webgpu` | a GPU through WGSL | Node: the `webgpu` npm package (Dawn) and a Vulkan adapter; a browser: `navigator.gpu` |
 * | `headlessgl` | a GPU through OpenGL ES (Node) | the `gl` npm package (built from source) and a display |
 * | `webgl2`, `webgl` | a GPU through WebGL (a browser) | a canvas |
 * | `webasm` | the CPU: WebAssembly, f32x4 SIMD, worker threads | nothing |
 * | `cpu` | the CPU: kernels transpiled to JavaScript | nothing |
 *
 * **Honest choice.** A GPU backend whose adapter is a software renderer
 * (SwiftShader, llvmpipe, lavapipe, WebGPU's fallback adapter) is slower than
 * `webasm` on the same CPU (measured in the README's Backends section), so the
 * automatic choice skips it and says so; `GPT1_BACKEND=<name>` (or the CLI's
 * `--backend <name>`, which sets it) forces any backend, software or not, and
 * forcing one that cannot start is an error, never a silent fallback.
 * `GPT1_THREADS=0` keeps `webasm` on the calling thread (no worker pool), and
 * `GPT1_WASM_OPTIMIZE` picks the gpu.js patch's improvements
 * ({@link Backend.wasmOptimizations}); both are read when the backend is made.
 *
 * **No Node-only imports.** This module runs in a browser as well as in Node. What
 * only Node can do (load Dawn, load `gl`, read `process.env`, start worker threads)
 * comes in through a {@link BackendEnvironment}: Node's is in `node.ts`, which the
 * Node entry points (the CLI, `npm start`, the tests, the bench, the notebooks)
 * install with {@link setBackendEnvironment}; a web page installs none or its own.
 *
 * The chosen `GPU` instance and the kernels compiled on it are module-level caches:
 * they memoise compilation, never results, so they do not make any model function
 * impure. {@link releaseBackends} destroys them (and WebGPU's device, which
 * otherwise keeps Node alive) at the end of a process.
 *
 * @module
 */
import * as gpujs from 'gpu.js';
import { GPU } from 'gpu.js';

export type BackendName = 'webgpu' | 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';
/** Every backend name, GPU backends first. */
export const BACKENDS: readonly BackendName[] = ['webgpu', 'headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];
/** The backends that run on a GPU (or on a software implementation of one). */
export const GPU_BACKENDS: readonly BackendName[] = ['webgpu', 'headlessgl', 'webgl2', 'webgl'];

/** The device behind a GPU backend, as its driver names it. */
export interface AdapterInfo {
  /** The driver's own words, e.g. `SwiftShader driver 5.0.0 (google swiftshader)`. */
  readonly name: string;
  /** A software implementation running on the CPU (SwiftShader, llvmpipe, lavapipe, a fallback adapter). */
  readonly software: boolean;
}

/** What a probe of one backend found: an adapter (GPU backends) or why it cannot start. */
export type Probe = { readonly ok: true; readonly adapter?: AdapterInfo } | { readonly ok: false; readonly reason: string };

/**
 * What the platform lends the backend choice. Everything here is optional except
 * `vars`; a missing hook means the platform cannot do that (the browser default).
 */
export interface BackendEnvironment {
  /** `node` or `browser`: decides which backends are candidates. */
  readonly platform: 'node' | 'browser';
  /** Settings by name (`GPT1_BACKEND`, `GPT1_THREADS`, `GPT1_WASM_OPTIMIZE`), read at each choice: Node passes `process.env`. */
  readonly vars: () => Readonly<Record<string, string | undefined>>;
  /**
   * Makes `navigator.gpu` answer where the platform lacks it (Node: Dawn), then asks
   * for an adapter. Without the hook, `navigator.gpu` is asked directly.
   */
  readonly probeWebGPU?: () => Promise<Probe>;
  /** Whether headless-gl can start, with its renderer (Node only). */
  readonly probeHeadlessGL?: () => Probe;
  /**
   * A cheap look for a GPU, before the automatic choice starts any GPU backend: why
   * this machine can have none (Node on Linux: no GPU device file), or `undefined`
   * when it may have one. Without a GPU only a software one could answer, which the
   * automatic choice skips anyway; starting Dawn just to find that out costs about
   * half a second, ~70 MB and native warnings on stderr at every command. A forced
   * backend and {@link surveyBackends} (`gpt1 info`) probe regardless.
   */
  readonly noGPUDevice?: () => string | undefined;
  /** gpu.js's webasm worker-pool class, for sharing one pool between kernels (Node only). */
  readonly workerPool?: () => (new (size?: number) => unknown) | null;
}

/** The variables of the host, when there is one (`process.env` in Node; none in a page). */
function hostVars(): Readonly<Record<string, string | undefined>> {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
}

const DEFAULT_ENVIRONMENT: BackendEnvironment = Object.freeze({
  platform: 'document' in globalThis || (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === undefined ? 'browser' : 'node',
  vars: hostVars,
});

let environment: BackendEnvironment = DEFAULT_ENVIRONMENT;

/** Installs the platform's hooks; call before the first kernel (a later choice is not redone). */
export function setBackendEnvironment(env: BackendEnvironment): void {
  environment = env;
}

/** The hooks in force. */
export function backendEnvironment(): BackendEnvironment {
  return environment;
}

/** The backend in use and the reason it was chosen, for reports and `--help`. */
export interface Backend {
  readonly name: BackendName;
  readonly gpu: GPU;
  /** True when kernels return Promises and may run on worker threads. */
  readonly asyncMode: boolean;
  readonly reason: string;
  /** The device of a GPU backend (absent for webasm and cpu). */
  readonly adapter?: AdapterInfo;
  /**
   * webasm: the patched gpu.js's code-generation improvements that the fast kernels
   * ask for (`optimizeWasm`, docs/gpujs-patch.md), from `GPT1_WASM_OPTIMIZE`: all of
   * them when it is unset or `1`, none for `0`, the named ones for a comma-separated
   * list (`integerLocals,contiguousLoads`: the benchmark compares them that way).
   */
  readonly wasmOptimizations?: boolean | Readonly<Record<string, boolean>>;
}

/** `GPT1_WASM_OPTIMIZE` as gpu.js's `optimizeWasm` setting (see {@link Backend.wasmOptimizations}). */
function parseWasmOptimize(setting: string | undefined): boolean | Record<string, boolean> {
  if (setting === undefined || setting === '' || setting === '1') return true;
  if (setting === '0') return false;
  return Object.fromEntries(setting.split(',').map((name) => [name.trim(), true]));
}

/**
 * The backend's name with its device, as every report and progress line prints it:
 * `webgpu (SwiftShader driver 5.0.0; software GPU)`, `webasm`.
 */
export function describeBackend(be: Pick<Backend, 'name' | 'adapter'>): string {
  if (be.adapter === undefined) return be.name;
  return `${be.name} (${be.adapter.name}${be.adapter.software ? '; software GPU' : ''})`;
}

/** Words that mark a renderer as a software one, in the names drivers give themselves. */
const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** Whether a driver's name says that it renders on the CPU. */
export function isSoftwareRenderer(name: string): boolean {
  return SOFTWARE_RENDERERS.test(name);
}

let chosen: Promise<Backend> | undefined;
/** Every `GPU` instance this module made, to destroy at the end of the process. */
const instances = new Set<GPU>();
let webgpuUsed = false;

/** The candidates of the automatic choice on this platform, fastest kind first. */
function candidates(): BackendName[] {
  return environment.platform === 'node' ? ['webgpu', 'headlessgl', 'webasm', 'cpu'] : ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'];
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** Asks `navigator.gpu` for an adapter directly (a browser, or Node with Dawn already set up). */
export async function probeNavigatorGPU(): Promise<Probe> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (gpu === undefined) return { ok: false, reason: 'navigator.gpu is missing (no WebGPU on this platform)' };
  let adapter: { info?: Record<string, unknown>; isFallbackAdapter?: boolean } | null;
  try {
    adapter = (await gpu.requestAdapter()) as typeof adapter;
  } catch (e) {
    return { ok: false, reason: `navigator.gpu.requestAdapter() failed: ${firstLine(e)}` };
  }
  if (adapter === null || adapter === undefined) return { ok: false, reason: 'navigator.gpu answered no adapter' };
  return { ok: true, adapter: webgpuAdapterInfo(adapter) };
}

/** The name and kind of a WebGPU adapter, from its `info` (vendor, architecture, description). */
export function webgpuAdapterInfo(adapter: { info?: Record<string, unknown>; isFallbackAdapter?: boolean }): AdapterInfo {
  const info = adapter.info ?? {};
  const str = (k: string): string => (typeof info[k] === 'string' ? (info[k] as string) : '');
  const who = [str('vendor'), str('architecture')].filter((s) => s !== '').join(' ');
  const name = [str('description') || str('device') || 'unnamed adapter', who && `(${who})`].filter((s) => s !== '').join(' ');
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  return { name, software: fallback || isSoftwareRenderer(name) };
}

/** The name and kind of a WebGL context's renderer (unmasked where the browser allows). */
export function webglRendererInfo(gl: { getParameter(p: number): unknown; getExtension(n: string): unknown; RENDERER: number }): AdapterInfo {
  const ext = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  const name = String(gl.getParameter(ext !== null ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return { name, software: isSoftwareRenderer(name) };
}

function probeWebGL(version: 'webgl2' | 'webgl'): Probe {
  const doc = (globalThis as { document?: { createElement(t: string): { getContext(k: string): unknown } } }).document;
  if (doc === undefined) return { ok: false, reason: `${version} needs a browser canvas (in Node, use headlessgl)` };
  const gl = doc.createElement('canvas').getContext(version) as Parameters<typeof webglRendererInfo>[0] | null;
  if (gl === null) return { ok: false, reason: `the browser gave no ${version} context (GPU blocklisted or disabled)` };
  return { ok: true, adapter: webglRendererInfo(gl) };
}

/** Whether a backend can start here, and on which device. */
export async function probeBackend(name: BackendName): Promise<Probe> {
  switch (name) {
    case 'cpu':
      return { ok: true };
    case 'webasm':
      return GPU.isWebAssemblySupported ? { ok: true } : { ok: false, reason: 'WebAssembly is not supported by this JavaScript engine' };
    case 'headlessgl':
      if (environment.probeHeadlessGL !== undefined) return environment.probeHeadlessGL();
      return { ok: false, reason: environment.platform === 'node' ? "headless-gl is probed only with Node's backend environment (import src/kernels/node.ts)" : 'headless-gl runs only in Node (a page uses webgl2)' };
    case 'webgl2':
    case 'webgl':
      return probeWebGL(name);
    case 'webgpu':
      try {
        if (environment.probeWebGPU === undefined && environment.platform === 'node' && (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu === undefined) {
          return { ok: false, reason: "navigator.gpu is missing: in Node, import src/kernels/node.ts first (it sets up Dawn, the 'webgpu' package)" };
        }
        return await (environment.probeWebGPU ?? probeNavigatorGPU)();
      } catch (e) {
        return { ok: false, reason: `WebGPU probe failed: ${firstLine(e)}` };
      }
  }
}

/** Why a backend cannot start on this machine, or `undefined` if it can. */
export async function unavailableReason(name: BackendName): Promise<string | undefined> {
  const p = await probeBackend(name);
  return p.ok ? undefined : p.reason;
}

/** Creates the `GPU` instance for a backend that is known to be available. */
function instantiate(name: BackendName, reason: string, adapter?: AdapterInfo): Backend {
  const vars = environment.vars();
  // webasm only uses its worker threads under the async contract; webgpu is always async.
  const asyncMode = (name === 'webasm' && vars.GPT1_THREADS !== '0') || name === 'webgpu';
  const gpu = new GPU({ mode: name });
  instances.add(gpu);
  if (name === 'webgpu') webgpuUsed = true;
  return {
    name, gpu, asyncMode, reason,
    ...(adapter !== undefined ? { adapter } : {}),
    ...(name === 'webasm' ? { wasmOptimizations: parseWasmOptimize(vars.GPT1_WASM_OPTIMIZE) } : {}),
  };
}

function isBackendName(s: string): s is BackendName {
  return (BACKENDS as readonly string[]).includes(s);
}

/** Every candidate backend of this platform with what its probe found, in the order of the automatic choice. */
export async function surveyBackends(): Promise<{ readonly name: BackendName; readonly probe: Probe }[]> {
  const out: { name: BackendName; probe: Probe }[] = [];
  for (const name of candidates()) out.push({ name, probe: await probeBackend(name) });
  return out;
}

/**
 * Chooses a backend: the forced one if `forced` is set, otherwise the first
 * candidate that starts on a hardware device (or needs none), skipping software
 * GPUs, and every GPU backend unprobed where the platform sees no GPU device
 * ({@link BackendEnvironment.noGPUDevice}). The reason says what was skipped and why.
 */
export async function chooseBackend(forced?: string): Promise<Backend> {
  if (forced !== undefined && forced !== '') {
    if (!isBackendName(forced)) {
      throw new Error(`unknown backend '${forced}' (GPT1_BACKEND / --backend): expected one of ${BACKENDS.join(', ')}`);
    }
    const p = await probeBackend(forced);
    if (!p.ok) throw new Error(`backend '${forced}' was requested but cannot start: ${p.reason}`);
    return instantiate(forced, 'forced by GPT1_BACKEND', p.adapter);
  }
  const skipped: string[] = [];
  let tried = candidates();
  const noDevice = environment.noGPUDevice?.();
  if (noDevice !== undefined) {
    const gpus = tried.filter((name) => GPU_BACKENDS.includes(name));
    tried = tried.filter((name) => !GPU_BACKENDS.includes(name));
    skipped.push(`${gpus.join(', ')}: not started: ${noDevice}, so only a software GPU could answer; GPT1_BACKEND=<name> forces one`);
  }
  for (const name of tried) {
    const p = await probeBackend(name);
    if (!p.ok) {
      skipped.push(`${name}: ${p.reason}`);
    } else if (p.adapter?.software === true) {
      skipped.push(`${name}: only a software GPU (${p.adapter.name}), slower than webasm on the same CPU; GPT1_BACKEND=${name} forces it`);
    } else {
      return instantiate(name, skipped.length ? `fastest available (${skipped.join('; ')})` : 'fastest available', p.adapter);
    }
  }
  throw new Error('no gpu.js backend could start'); // unreachable: cpu always starts
}

/**
 * The backend for this process: `GPT1_BACKEND` if set, otherwise the fastest that
 * starts on real hardware (see {@link chooseBackend}). Decided once; later calls
 * return the same value.
 */
export function backend(): Promise<Backend> {
  chosen ??= chooseBackend(environment.vars().GPT1_BACKEND);
  return chosen;
}

/**
 * A backend instance for one named backend, independent of the process-wide
 * choice; the tests use this to run every kernel on every backend available.
 */
export async function backendFor(name: BackendName): Promise<Backend> {
  const p = await probeBackend(name);
  if (!p.ok) throw new Error(`backend '${name}' cannot start: ${p.reason}`);
  return instantiate(name, 'requested explicitly', p.adapter);
}

/**
 * Destroys every `GPU` instance made here and, if WebGPU was used, gpu.js's shared
 * WebGPU device: Dawn keeps a Node process alive until its device is destroyed. Call
 * once, when the process has finished its kernels (the CLI, the tests' teardown, the
 * bench). A later {@link backend} call chooses afresh.
 */
export async function releaseBackends(): Promise<void> {
  const all = [...instances];
  instances.clear();
  chosen = undefined;
  for (const gpu of all) {
    try {
      await gpu.destroy();
    } catch {
      // a half-started instance may fail to destroy; the process is ending anyway
    }
  }
  if (webgpuUsed) {
    webgpuUsed = false;
    const ctx = (gpujs as unknown as { WebGPUContext?: { destroy(): Promise<void> } }).WebGPUContext;
    await ctx?.destroy();
  }
}
