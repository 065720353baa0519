/**
 * The backend hooks only Node has (see {@link BackendEnvironment}): `process.env`,
 * WebGPU through Dawn (the `webgpu` npm package), headless-gl (the `gl` package),
 * and gpu.js's worker-thread pool. Importing this module installs them; the Node
 * entry points (the CLI, `npm start`, the tests, the bench, the notebooks) do. A web
 * page never imports it.
 *
 * ## WebGPU in Node
 * gpu.js looks for a global `navigator.gpu` and never loads Dawn itself. The probe
 * here loads `webgpu` (pinned in `package.json` `overrides` to a version whose
 * binary loads on Debian 12), sets Dawn's globals (`GPUBufferUsage`, …) and
 * `navigator.gpu`, and asks for an adapter. When Vulkan offers none and
 * `VK_ICD_FILENAMES` is unset, it asks once more with SwiftShader's Vulkan driver
 * from Debian's `chromium` package, a software GPU (the automatic choice skips it;
 * `GPT1_BACKEND=webgpu` uses it). Dawn keeps the process alive until gpu.js's
 * device is destroyed: `releaseBackends()` does that. On a machine with no GPU
 * device file ({@link noGPUDeviceNode}) the automatic choice does not load Dawn at
 * all: it could only find the software GPU it skips.
 *
 * ## headless-gl
 * `gl` is an optional dependency of gpu.js that `npm ci` does not build here
 * (`scripts/build-gl.sh` builds it); it needs a display (`xvfb-run -a`).
 *
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type AdapterInfo, type BackendEnvironment, type Probe, probeNavigatorGPU, setBackendEnvironment, webglRendererInfo } from './backend.ts';

const require = createRequire(import.meta.url);

/** SwiftShader's Vulkan driver as Debian's `chromium` package installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Where the Vulkan loader looks for drivers on Debian (and most Linux systems). */
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu'];

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** The Vulkan drivers the loader will try, by file name. */
function vulkanDrivers(): string[] {
  const forced = process.env.VK_ICD_FILENAMES;
  if (forced !== undefined && forced !== '') return forced.split(':');
  return ICD_DIRS.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')) : []));
}

/** Why Vulkan offered Dawn no adapter, as far as the files on disk tell. */
function noAdapterReason(): string {
  if (process.platform !== 'linux') return 'Dawn found no adapter';
  if (!LIB_DIRS.some((d) => existsSync(join(d, 'libvulkan.so.1')))) {
    return 'no Vulkan loader (libvulkan.so.1): apt-get install libvulkan1';
  }
  const drivers = vulkanDrivers();
  const hint = existsSync(SWIFTSHADER_ICD)
    ? `for a software GPU set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`
    : `for a software GPU apt-get install chromium and set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`;
  if (drivers.length === 0) return `no Vulkan driver is installed (no ICD file in ${ICD_DIRS[0]}); ${hint}`;
  const lavapipe = drivers.some((d) => d.includes('lvp')) ? "; Dawn refuses Mesa's lavapipe (it lacks shaderUniform*ArrayDynamicIndexing)" : '';
  return `Dawn accepted none of the Vulkan drivers (${drivers.join(', ')})${lavapipe}; ${hint}`;
}

interface Dawn {
  create(flags: string[]): unknown;
  globals: Record<string, unknown>;
}

let dawn: Promise<Dawn | string> | undefined;

/** Loads the `webgpu` package once; resolves to its exports or to why it did not load. */
function loadDawn(): Promise<Dawn | string> {
  dawn ??= (async () => {
    try {
      return (await import('webgpu')) as unknown as Dawn;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return "the 'webgpu' npm package is not installed (npm ci installs it)";
      return `the 'webgpu' npm package did not load: ${firstLine(e)}`;
    }
  })();
  return dawn;
}

/** Puts Dawn's `GPU` object where gpu.js looks for it. */
function installNavigatorGPU(gpu: unknown): void {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) g.navigator = { gpu };
  else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
}

let webgpuProbe: Promise<Probe> | undefined;

/** WebGPU in Node: Dawn behind `navigator.gpu`, then an adapter (probed once per process). */
export function probeWebGPUNode(): Promise<Probe> {
  webgpuProbe ??= (async (): Promise<Probe> => {
    if ((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined) return probeNavigatorGPU();
    const d = await loadDawn();
    if (typeof d === 'string') return { ok: false, reason: d };
    Object.assign(globalThis, d.globals);
    installNavigatorGPU(d.create([]));
    const first = await probeNavigatorGPU();
    if (first.ok) return first;
    const why = noAdapterReason();
    const icd = process.env.VK_ICD_FILENAMES;
    if ((icd === undefined || icd === '') && existsSync(SWIFTSHADER_ICD)) {
      // The Vulkan loader reads VK_ICD_FILENAMES when an instance is created.
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      installNavigatorGPU(d.create([]));
      const second = await probeNavigatorGPU();
      if (second.ok) {
        const a = second.adapter as AdapterInfo;
        return { ok: true, adapter: { name: `${a.name}, via ${SWIFTSHADER_ICD}: no hardware adapter answered`, software: true } };
      }
      process.env.VK_ICD_FILENAMES = icd ?? '';
      if (icd === undefined) delete process.env.VK_ICD_FILENAMES;
    }
    return { ok: false, reason: `no WebGPU adapter: ${why}` };
  })();
  return webgpuProbe;
}

/** headless-gl: loads `gl`, opens a 1×1 context, and reads its renderer. */
export function probeHeadlessGLNode(): Probe {
  let getContext: (w: number, h: number) => Parameters<typeof webglRendererInfo>[0] | null;
  try {
    getContext = require('gl') as typeof getContext;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND') return { ok: false, reason: "the optional 'gl' package is not installed (scripts/build-gl.sh builds it; see the README's Backends section)" };
    return { ok: false, reason: `the 'gl' package is not built for this Node (${firstLine(e)}); scripts/build-gl.sh builds it` };
  }
  const gl = getContext(1, 1);
  if (gl === null) {
    const display = process.env.DISPLAY;
    return {
      ok: false,
      reason: display === undefined || display === '' ? "'gl' is built but there is no display: run under xvfb-run -a" : `'gl' is built but could not open a context on display ${display}`,
    };
  }
  const adapter = webglRendererInfo(gl);
  (gl.getExtension('STACKGL_destroy_context') as { destroy?(): void } | null)?.destroy?.();
  return { ok: true, adapter };
}

/**
 * Why this machine has no GPU that Vulkan or GL could use, from its device files,
 * or `undefined` if it may have one. On Linux a GPU driver is reached through a
 * DRM render node (`/dev/dri/renderD*`: AMD, Intel, nouveau, virtio-gpu, …),
 * NVIDIA's own device files (`/dev/nvidia0`, …) or WSL's `/dev/dxg`; with none of
 * them only a software GPU can answer. Elsewhere, or where `/dev` cannot be read,
 * the answer is `undefined` (the probes decide).
 */
export function noGPUDeviceNode(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const has = (dir: string, name: RegExp): boolean => existsSync(dir) && readdirSync(dir).some((f) => name.test(f));
  try {
    if (has('/dev/dri', /^renderD\d+$/) || has('/dev', /^(nvidia\d+|dxg)$/)) return undefined;
  } catch {
    return undefined;
  }
  return 'no GPU device on this machine (no /dev/dri/renderD*, /dev/nvidia*, /dev/dxg)';
}

/** gpu.js's webasm worker pool class (a CommonJS internal), or null if gpu.js renamed it. */
function workerPool(): (new (size?: number) => unknown) | null {
  try {
    const mod = require('gpu.js/src/backend/web-assembly/worker-pool.js') as { WebAssemblyWorkerPool?: new (size?: number) => unknown };
    return typeof mod.WebAssemblyWorkerPool === 'function' ? mod.WebAssemblyWorkerPool : null;
  } catch {
    return null;
  }
}

/** Node's hooks. */
export const NODE_ENVIRONMENT: BackendEnvironment = Object.freeze({
  platform: 'node',
  vars: () => process.env,
  probeWebGPU: probeWebGPUNode,
  probeHeadlessGL: probeHeadlessGLNode,
  noGPUDevice: noGPUDeviceNode,
  workerPool,
});

setBackendEnvironment(NODE_ENVIRONMENT);
