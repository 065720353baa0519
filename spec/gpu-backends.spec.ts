/**
 * The GPU backends in Node, on whatever GPU answers: under CI that is SwiftShader,
 * the software Vulkan driver of Debian's `chromium` package, behind Dawn (the
 * `webgpu` package).
 *
 * The default backend never picks a software GPU, so the ordinary run of the specs
 * stays on `webasm`; this file re-runs the kernel and model specs in a child process
 * with `GPT1_BACKEND=webgpu`, and compares a full `gpt1 dump --grads` on `webgpu`
 * with the same dump on `webasm`. Each child must exit by itself (Dawn keeps Node
 * alive until gpu.js's WebGPU device is destroyed), within a timeout.
 *
 * Without a WebGPU adapter the tests are skipped with the reason; under CI
 * (`CI=true`), where `.ci/run` installs chromium and libvulkan1, that is a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeConfig } from '../src/config.ts';
import { saveCheckpoint } from '../src/checkpoint/index.ts';
import { describeBackend, probeBackend, releaseBackends } from '../src/kernels/backend.ts';
import { readNpy } from '../src/io/npy.ts';
import { randomParams, relErr } from './helpers.ts';
import { requireOrSkip } from './browser/harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const probe = await probeBackend('webgpu');
await releaseBackends();
const skip = requireOrSkip(probe.ok ? undefined : `no WebGPU adapter in Node: ${probe.reason}`, 'apt-get install -y chromium libvulkan1');
if (probe.ok) console.log(`# webgpu adapter: ${describeBackend({ name: 'webgpu', adapter: probe.adapter })}`);

const tmp = mkdtempSync(join(tmpdir(), 'gpt1-gpu-backends-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The spec files re-run on webgpu: every product kernel, the model forward, and its backward. */
const SPECS = ['spec/kernels.spec.ts', 'spec/model.spec.ts', 'spec/backward.spec.ts'];

test(`kernel, model and backward specs on webgpu (${SPECS.join(', ')})`, { skip, timeout: 20 * 60_000 }, () => {
  // A test runner inside a test file runs no files while NODE_TEST_CONTEXT says it is a child.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './spec/setup.ts', '--test', '--test-reporter=spec', ...SPECS], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...env, GPT1_BACKEND: 'webgpu' },
    timeout: 18 * 60_000,
    maxBuffer: 64 * 2 ** 20,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const tail = out.split('\n').filter((l) => !/XDG_RUNTIME_DIR/.test(l)).slice(-60).join('\n');
  assert.equal(r.signal, null, `the child was killed (${r.signal}): it did not finish or exit by itself\n${tail}`);
  assert.equal(r.status, 0, `specs failed on webgpu:\n${tail}`);
  // They really ran on webgpu, and nothing was skipped.
  assert.match(out, /# backends exercised: webgpu/, 'kernels.spec did not exercise webgpu');
  assert.match(out, /on backend webgpu/, 'model.spec did not run on webgpu');
  const skipped = /ℹ skipped (\d+)/.exec(out);
  assert.ok(skipped !== null && skipped[1] === '0', `some specs were skipped on webgpu:\n${out.split('\n').filter((l) => /skip|SKIP|﹣/.test(l)).join('\n')}`);
});

/**
 * A narrow model with the real vocabulary: its tied head h·W_eᵀ is 40481 wide (ten
 * 4096-wide GPU tiles), and the backward's dh = dlogits·W_e has K = 40481, cut into
 * K tiles on a GPU backend but not on webasm, so the gradients round differently and
 * are compared within the model specs' tolerance.
 */
test('gpt1 dump --grads on webgpu equals webasm and exits by itself', { skip, timeout: 10 * 60_000 }, () => {
  const config = makeConfig({ n_vocab: 40478, n_special: 3, n_ctx: 16, n_embd: 32, n_head: 2, n_layer: 2 });
  const ckpt = join(tmp, 'model');
  saveCheckpoint(ckpt, 'hf', config, randomParams(config, 91));
  const ids = '40478,5,17,40477,1000,39999,2,3,250,40480';
  const dump = (be: string): string => {
    const out = join(tmp, `dump-${be}`);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gpt1.mjs'), 'dump', '--checkpoint', ckpt, '--ids', ids, '--out', out, '--grads', '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, GPT1_BACKEND: be },
      timeout: 4 * 60_000,
    });
    assert.equal(r.signal, null, `gpt1 dump on ${be} did not exit by itself within 4 minutes (killed: ${r.signal})`);
    assert.equal(r.status, 0, `gpt1 dump on ${be} failed: ${r.stderr.split('\n').filter((l) => l !== '' && !/XDG_RUNTIME_DIR/.test(l)).slice(-5).join(' | ')}`);
    assert.equal(JSON.parse(readFileSync(join(out, 'dump.json'), 'utf8')).backend, be);
    return out;
  };
  const gpu = dump('webgpu');
  const cpu = dump('webasm');
  const logits = relErr(readNpy(join(gpu, 'logits.npy')).tensor.data, readNpy(join(cpu, 'logits.npy')).tensor.data);
  assert.ok(logits <= 1e-5, `logits differ between webgpu and webasm: normwise relative error ${logits}`);
  let worst = 0;
  let count = 0;
  for (const name of Object.keys(randomParams(config, 91))) {
    const e = relErr(readNpy(join(gpu, 'grads', `${name}.npy`)).tensor.data, readNpy(join(cpu, 'grads', `${name}.npy`)).tensor.data);
    assert.ok(e <= 1e-4, `gradient of ${name} differs between webgpu and webasm: normwise relative error ${e}`);
    worst = Math.max(worst, e);
    count++;
  }
  assert.ok(count > 0, 'no gradients compared');
  console.log(`# webgpu vs webasm: logits relative error ${logits.toExponential(2)}, worst gradient relative error ${worst.toExponential(2)} over ${count} parameters`);
});
