/**
 * The backend choice (`src/kernels/backend.ts`): the default is the fastest backend
 * that starts on real hardware, never a software GPU; a forced backend is used or
 * refused with its reason; software renderers are recognised by name.
 *
 * The choice takes its platform hooks from an injected environment, so these tests
 * give it fake probes (a software WebGPU adapter, a hardware one, a missing
 * package) and check what it decides, without any GPU.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type BackendEnvironment,
  type Probe,
  backendEnvironment,
  chooseBackend,
  describeBackend,
  isSoftwareRenderer,
  releaseBackends,
  setBackendEnvironment,
  webgpuAdapterInfo,
} from '../src/kernels/backend.ts';
import { probeHeadlessGLNode } from '../src/kernels/node.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_ENV = backendEnvironment();
after(() => setBackendEnvironment(NODE_ENV));

/**
 * A Node-like environment whose GPU probes answer what the test says. gpu.js's
 * `GPU` constructor refuses mode 'webgpu' without `navigator.gpu`, so a successful
 * fake WebGPU probe puts a stand-in there (no kernel is ever compiled on it).
 */
function fakeEnv(webgpu: Probe, headlessgl: Probe, vars: Record<string, string> = {}): BackendEnvironment {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (webgpu.ok && g.navigator?.gpu === undefined) g.navigator = { ...(g.navigator ?? {}), gpu: {} };
  return { platform: 'node', vars: () => vars, probeWebGPU: async () => webgpu, probeHeadlessGL: () => headlessgl };
}

const SWIFTSHADER: Probe = { ok: true, adapter: { name: 'SwiftShader driver 5.0.0 (google swiftshader)', software: true } };
const LLVMPIPE: Probe = { ok: true, adapter: { name: 'llvmpipe (LLVM 15.0.6, 256 bits)', software: true } };
const NO_GL: Probe = { ok: false, reason: "the optional 'gl' package is not installed" };

describe('the automatic choice', () => {
  test('skips software GPUs and takes webasm, saying why', async () => {
    setBackendEnvironment(fakeEnv(SWIFTSHADER, LLVMPIPE));
    const be = await chooseBackend();
    assert.equal(be.name, 'webasm');
    assert.equal(be.adapter, undefined);
    assert.match(be.reason, /webgpu: only a software GPU \(SwiftShader/);
    assert.match(be.reason, /headlessgl: only a software GPU \(llvmpipe/);
    assert.match(be.reason, /GPT1_BACKEND=webgpu forces it/);
    await releaseBackends();
  });

  test('says why a GPU backend cannot start, and still takes webasm', async () => {
    setBackendEnvironment(fakeEnv({ ok: false, reason: 'no WebGPU adapter: no Vulkan loader (libvulkan.so.1)' }, NO_GL));
    const be = await chooseBackend();
    assert.equal(be.name, 'webasm');
    assert.match(be.reason, /webgpu: no WebGPU adapter: no Vulkan loader/);
    assert.match(be.reason, /headlessgl: the optional 'gl' package is not installed/);
    await releaseBackends();
  });

  test('starts no GPU backend where the platform sees no GPU device, and says so; forced, one is probed all the same', async () => {
    const probed: string[] = [];
    setBackendEnvironment({
      ...fakeEnv(SWIFTSHADER, LLVMPIPE),
      probeWebGPU: async () => (probed.push('webgpu'), SWIFTSHADER),
      probeHeadlessGL: () => (probed.push('headlessgl'), LLVMPIPE),
      noGPUDevice: () => 'no GPU device on this machine',
    });
    const be = await chooseBackend();
    assert.equal(be.name, 'webasm');
    assert.deepEqual(probed, [], 'a GPU backend was probed although there is no GPU device');
    assert.match(be.reason, /webgpu, headlessgl: not started: no GPU device on this machine, so only a software GPU could answer/);
    const forced = await chooseBackend('webgpu');
    assert.equal(forced.name, 'webgpu');
    assert.deepEqual(probed, ['webgpu']);
    await releaseBackends();
  });

  test('takes a hardware GPU first and names its device', async () => {
    setBackendEnvironment(fakeEnv({ ok: true, adapter: { name: 'NVIDIA GeForce RTX 4090 (nvidia ada)', software: false } }, NO_GL));
    const be = await chooseBackend();
    assert.equal(be.name, 'webgpu');
    assert.equal(describeBackend(be), 'webgpu (NVIDIA GeForce RTX 4090 (nvidia ada))');
    await releaseBackends();
  });
});

describe('a forced backend', () => {
  test('is used even when it is a software GPU, and marked as one', async () => {
    setBackendEnvironment(fakeEnv(SWIFTSHADER, NO_GL));
    const be = await chooseBackend('webgpu');
    assert.equal(be.name, 'webgpu');
    assert.equal(be.reason, 'forced by GPT1_BACKEND');
    assert.equal(describeBackend(be), 'webgpu (SwiftShader driver 5.0.0 (google swiftshader); software GPU)');
    await releaseBackends();
  });

  test('that cannot start is an error with the reason, never a fallback', async () => {
    setBackendEnvironment(fakeEnv(SWIFTSHADER, NO_GL));
    await assert.rejects(chooseBackend('headlessgl'), /backend 'headlessgl' was requested but cannot start: the optional 'gl' package is not installed/);
    await assert.rejects(chooseBackend('quantum'), /unknown backend 'quantum'/);
    // webgl2 exists only in a page
    await assert.rejects(chooseBackend('webgl2'), /webgl2 needs a browser canvas/);
  });
});

test('software renderers are recognised by their names', () => {
  for (const name of ['SwiftShader driver 5.0.0', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', 'Mesa lavapipe', 'Microsoft Basic Render Driver']) {
    assert.ok(isSoftwareRenderer(name), name);
  }
  for (const name of ['NVIDIA GeForce RTX 3080', 'AMD Radeon RX 6800 (RADV NAVI21)', 'Intel(R) UHD Graphics 630', 'Apple M2']) {
    assert.ok(!isSoftwareRenderer(name), name);
  }
  // WebGPU's fallback adapter is software whatever its name
  assert.deepEqual(webgpuAdapterInfo({ info: { vendor: 'x', architecture: 'y', description: 'Some Adapter', isFallbackAdapter: true } }), { name: 'Some Adapter (x y)', software: true });
  assert.deepEqual(webgpuAdapterInfo({ info: { vendor: 'nvidia', architecture: 'ada', description: 'RTX 4090' } }), { name: 'RTX 4090 (nvidia ada)', software: false });
});

test('headless-gl says why it cannot start (not installed, not built, or no display)', (t) => {
  const p = probeHeadlessGLNode();
  if (p.ok) return t.skip(`headless-gl starts here (${p.adapter?.name}): no reason to check`);
  assert.match(p.reason, /'gl' package is not installed|'gl' package is not built|no display|could not open a context/);
});

/*
 * On this CPU-only machine (and CI's) the default stays webasm, and `gpt1 info`
 * says why in its own lines; the process exits by itself (it probed Dawn).
 */
test('gpt1 info names the default backend, every candidate, and exits by itself', () => {
  const { GPT1_BACKEND: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gpt1.mjs'), 'info'], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(r.signal, null, 'gpt1 info did not exit by itself');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^backend {5}\S+/);
  for (const name of ['webgpu', 'headlessgl', 'webasm', 'cpu']) assert.ok(lines.some((l) => l.startsWith(`  ${name}`)), `no line for ${name}:\n${r.stdout}`);
  const webgpu = lines.find((l) => l.startsWith('  webgpu')) as string;
  // Without a hardware GPU the default is webasm, and the webgpu line says why not.
  if (/software GPU|cannot start/.test(webgpu)) assert.match(lines[0], /^backend {5}webasm: /);
  const json = spawnSync(process.execPath, [join(ROOT, 'bin', 'gpt1.mjs'), 'info', '--json'], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { backend: { name: string; candidates: { name: string; ok: boolean }[] } };
  assert.deepEqual(parsed.backend.candidates.map((c) => c.name), ['webgpu', 'headlessgl', 'webasm', 'cpu']);
});
