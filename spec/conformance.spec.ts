/**
 * The conformance pack (docs/porting.md): `gpt1 init`, `gpt1 dump --intermediates`,
 * the committed vectors in conformance/, and conformance/check.py.
 *
 * - `gpt1 init` writes loadable checkpoints in both layouts; without spreads its
 *   weights are the paper's initialisation bit for bit.
 * - The intermediates satisfy the block's equations exactly (z₁ = x + y, h = LN₂ output
 *   = hidden_states[l + 1], …), and `dump.json` records the weights' sha256.
 * - GPT1_THREADS=0 does not change a dump's bytes (docs/cli.md says so).
 * - The MANIFEST lists every file of the pack with its sha256.
 * - Regenerating the pack and running check.py on it passes (drift within the
 *   documented tolerances, checkpoints bit for bit): the pack cannot rot.
 * - The independent numpy port (conformance/port.py) passes check.py, and each of its
 *   deliberate bugs fails check.py on the quantities docs/porting.md says catch it.
 *
 * The Python parts need `python3` with numpy (Debian: python3-numpy). Without it
 * they skip with that reason on a laptop and fail in CI (CI=true).
 *
 * @module
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { main } from '../src/cli/main.ts';
import { PRESETS } from '../src/config.ts';
import { decodeNpy } from '../src/io/npy.ts';
import { initParams } from '../src/params.ts';
import { rng } from '../src/random.ts';
import { regenerate } from '../conformance/regenerate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACK = join(ROOT, 'conformance');
const BIN = join(ROOT, 'bin', 'gpt1.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'gpt1-conformance-spec-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function gpt1(args: string[], env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `gpt1 argv…` in this process, with what it prints through console.error. */
async function mainCapturingErrors(argv: string[]): Promise<{ status: number; stderr: string }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { status: await main(argv), stderr: lines.join('\n') };
  } finally {
    console.error = original;
  }
}

function npy(path: string): { shape: readonly number[]; data: Float32Array } {
  const t = decodeNpy(readFileSync(path), path).tensor;
  return { shape: t.shape, data: t.data as Float32Array };
}

/** Why the Python checks cannot run here, or undefined. In CI a missing numpy is a failure, not a skip. */
function pythonMissing(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = 'python3 with numpy is not installed (Debian: apt-get install python3-numpy)';
  if (process.env.CI) assert.fail(`${why}; CI must install it (.ci/run)`);
  return why;
}

function python(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('python3', args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface CheckResult { what: string; quantity?: string; status: string; error?: number; tol?: number; first?: number | null }

/** check.py --json on `out`: the results and the exit status. */
function check(out: string): { status: number; results: CheckResult[] } {
  const r = python([join(PACK, 'check.py'), out, '--json']);
  assert.ok(r.status === 0 || r.status === 1, `check.py crashed: ${r.stderr}`);
  return { status: r.status, results: JSON.parse(r.stdout) as CheckResult[] };
}

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}

describe('gpt1 init', () => {
  test('writes both layouts; the same seed gives the same tensors; no spread is the paper\'s initialisation bit for bit', async () => {
    const a = join(scratch, 'init-original');
    const b = join(scratch, 'init-hf');
    assert.equal(await main(['init', '--preset', 'tiny', '--seed', '5', '--out', a, '--quiet']), 0);
    assert.equal(await main(['init', '--preset', 'tiny', '--seed', '5', '--layout', 'hf', '--out', b, '--quiet']), 0);
    const ca = loadCheckpoint(a);
    const cb = loadCheckpoint(b);
    assert.equal(ca.format, 'original');
    assert.equal(cb.format, 'hf');
    assert.deepEqual(ca.config, PRESETS.tiny);
    const paper = initParams(PRESETS.tiny, rng(5));
    for (const [name, t] of Object.entries(paper)) {
      assert.deepEqual(ca.params[name].data, t.data, name);
      assert.deepEqual(cb.params[name].data, t.data, name);
    }
  });

  test('size flags, spreads and a vocabulary', async () => {
    const out = join(scratch, 'init-spread');
    const status = await main(['init', '--vocab', 'gpt1', '--n-layer', '1', '--n-embd', '8', '--n-head', '2', '--n-ctx', '4', '--n-special', '3',
      '--std', '0.5', '--bias-std', '0.1', '--ln-gain-spread', '0.5', '--out', out, '--quiet']);
    assert.equal(status, 0);
    const { config, params } = loadCheckpoint(out);
    assert.deepEqual([config.n_layer, config.n_embd, config.n_head, config.n_ctx, config.n_vocab, config.n_special, config.n_inner], [1, 8, 2, 4, 40478, 3, 32]);
    assert.equal(config.initializer_range, 0.5);
    const gains = Array.from(params['h.0.ln_1.weight'].data);
    assert.ok(gains.every((g) => g > 0) && new Set(gains).size === gains.length, 'gains exp(0.5·N(0,1)): positive and distinct');
    assert.ok(params['h.0.attn.c_attn.bias'].data.some((x) => x !== 0), 'biases drawn');
    const w = params['h.0.mlp.c_fc.weight'].data;
    const rms = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    assert.ok(rms > 0.4 && rms < 0.6, `std 0.5 weights have rms ${rms}`);
  });

  test('refuses a vocabulary size that disagrees with --n-vocab, and an existing directory', async () => {
    const r = await mainCapturingErrors(['init', '--vocab', 'gpt1', '--n-vocab', '100', '--out', join(scratch, 'never')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--n-vocab 100 disagrees/);
    const again = await mainCapturingErrors(['init', '--out', join(scratch, 'init-original')]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /not empty/);
  });
});

describe('gpt1 dump --intermediates', () => {
  const model = join(PACK, 'models', 'exposing', 'original');
  const ids = JSON.parse(readFileSync(join(PACK, 'models', 'exposing', 'ids.json'), 'utf8')) as number[];
  const out = join(scratch, 'dump');
  const outThreads = join(scratch, 'dump-threads0');

  test('the intermediates satisfy the block equations exactly and dump.json records the weights', () => {
    const r = gpt1(['dump', '--checkpoint', model, '--ids', ids.join(','), '--intermediates', '--out', out, '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const I = (n: string) => npy(join(out, 'intermediates', `${n}.npy`));
    const hidden = npy(join(out, 'hidden_states.npy'));
    const { config } = loadCheckpoint(model);
    const [L, T, d, H] = [config.n_layer, ids.length, config.n_embd, config.n_head];
    assert.deepEqual(I('q').shape, [L, H, T, d / H]);
    assert.deepEqual(I('c_attn').shape, [L, T, 3 * d]);
    assert.deepEqual(I('scores').shape, [L, H, T, T]);
    assert.deepEqual(I('ffn_act').shape, [L, T, config.n_inner]);
    const h = I('h').data;
    assert.deepEqual(h, hidden.data.subarray(T * d), 'h[l] = hidden_states[l + 1]');
    const z1 = I('z1').data;
    const y = I('attn_out').data;
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < T * d; i++) assert.equal(z1[l * T * d + i], Math.fround(hidden.data[l * T * d + i] + y[l * T * d + i]), 'z1 = x + attn_out');
    }
    // q is column block 0 of c_attn, split by heads: q[l, h, t, j] = c_attn[l, t, h·d_h + j]
    const q = I('q').data;
    const qkv = I('c_attn').data;
    const dH = d / H;
    for (let l = 0; l < L; l++) for (let hh = 0; hh < H; hh++) for (let t = 0; t < T; t++) for (let j = 0; j < dH; j++) {
      assert.equal(q[((l * H + hh) * T + t) * dH + j], qkv[(l * T + t) * 3 * d + hh * dH + j]);
    }
    const scores = I('scores').data;
    for (let l = 0; l < L; l++) for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) assert.equal(scores[(l * H * T + i) * T + j], -1e9, 'masked scores are −1e9');
    const meta = JSON.parse(readFileSync(join(out, 'dump.json'), 'utf8')) as Record<string, unknown>;
    const hashes = meta.checkpoint_sha256 as Record<string, string>;
    assert.equal(hashes['params_0.npy'], createHash('sha256').update(readFileSync(join(model, 'params_0.npy'))).digest('hex'));
    assert.equal(meta.package_version, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    assert.ok('git_commit' in meta && 'backend' in meta && 'adapter' in meta && 'gpt1_threads' in meta);
  });

  test('GPT1_THREADS=0 gives the same bytes', () => {
    const r = gpt1(['dump', '--checkpoint', model, '--ids', ids.join(','), '--intermediates', '--grads', '--out', outThreads, '--quiet'], { GPT1_THREADS: '0' });
    assert.equal(r.status, 0, r.stderr);
    const again = join(scratch, 'dump-threads-default');
    assert.equal(gpt1(['dump', '--checkpoint', model, '--ids', ids.join(','), '--intermediates', '--grads', '--out', again, '--quiet']).status, 0);
    const files = walk(again).map((f) => relative(again, f)).filter((f) => f !== 'dump.json');
    assert.ok(files.length > 20);
    for (const f of files) assert.deepEqual(readFileSync(join(outThreads, f)), readFileSync(join(again, f)), f);
  });
});

describe('conformance pack', () => {
  test('MANIFEST lists every file of the pack with its sha256', () => {
    const rows = readFileSync(join(PACK, 'MANIFEST'), 'utf8').trim().split('\n').map((l) => l.split('  '));
    const listed = new Map(rows.map(([digest, path]) => [path, digest]));
    const files = ['models', 'dumps', 'train', 'tokenizer'].flatMap((p) => walk(join(PACK, p))).map((f) => relative(PACK, f));
    assert.deepEqual([...listed.keys()].sort(), files.sort());
    for (const f of files) assert.equal(createHash('sha256').update(readFileSync(join(PACK, f))).digest('hex'), listed.get(f), f);
    const bytes = files.reduce((s, f) => s + statSync(join(PACK, f)).size, 0);
    assert.ok(bytes < 4e6, `the pack is ${bytes} bytes`);
  });

  test('regenerating the pack reproduces it within the documented tolerances (check.py), checkpoints bit for bit', { timeout: 300_000 }, async (t) => {
    const why = pythonMissing();
    if (why) return t.skip(why);
    const out = join(scratch, 'regenerated');
    await regenerate(out);
    const { status, results } = check(out);
    const failed = results.filter((r) => r.status !== 'pass');
    assert.deepEqual(failed, [], 'every quantity within tolerance');
    assert.equal(status, 0);
    assert.ok(results.some((r) => r.what.startsWith('models/')) && results.some((r) => r.what.startsWith('train/')) && results.some((r) => r.what.startsWith('tokenizer/')));
  });
});

/**
 * Each deliberate bug of conformance/port.py and what docs/porting.md says catches
 * it: `fail` must fail; `firstAt` pins where the first failure is (layer index,
 * the localisation the intermediates give); `pass` must still pass (what the bug
 * leaves alone).
 */
const BUGS: Record<string, { fail: string[]; firstAt?: Record<string, number>; pass?: string[] }> = {
  'interleaved-heads': { fail: ['exposing/intermediates/q', 'exposing/intermediates/k', 'exposing/intermediates/v', 'exposing/attentions.npy', 'exposing/logits.npy'], firstAt: { 'exposing/intermediates/q': 0 }, pass: ['release-vocab/intermediates/c_attn'] },
  'scale-d': { fail: ['exposing/intermediates/scores (k <= q)', 'exposing/attentions.npy', 'exposing/logits.npy'], firstAt: { 'exposing/intermediates/scores (k <= q)': 0 }, pass: ['release-vocab/intermediates/q'] },
  'erf-gelu': { fail: ['exposing/intermediates/ffn_act', 'exposing/logits.npy'], firstAt: { 'exposing/intermediates/ffn_act': 0 }, pass: ['release-vocab/intermediates/ffn_pre'] },
  'eps-outside': { fail: ['exposing/intermediates/n', 'exposing/logits.npy'], firstAt: { 'exposing/intermediates/n': 0, 'exposing/intermediates/z1': 1 } },
  'unbiased-var': { fail: ['exposing/intermediates/n', 'exposing/logits.npy', 'release-vocab/logits.npy'], firstAt: { 'exposing/intermediates/n': 0, 'exposing/intermediates/z1': 1 } },
  'mask-before-scale': { fail: ['exposing/intermediates/scores (masked)'], pass: ['exposing/intermediates/scores (k <= q)', 'exposing/attentions.npy', 'exposing/logits.npy'] },
  'untied-head': { fail: ['exposing/logits.npy', 'exposing/loss.json lm_loss'], pass: ['exposing/hidden_states.npy'] },
};

describe('check.py against an independent numpy port (conformance/port.py)', () => {
  test('the port as written from the docs passes: dumps (read from the hf files) and the Adam steps', { timeout: 180_000 }, (t) => {
    const why = pythonMissing();
    if (why) return t.skip(why);
    const out = join(scratch, 'port-clean');
    const r = python([join(PACK, 'port.py'), '--out', out, '--layout', 'hf', '--train']);
    assert.equal(r.status, 0, r.stderr);
    const { status, results } = check(out);
    const dumps = results.filter((x) => x.what.startsWith('dumps/'));
    assert.ok(dumps.length >= 40, 'logits, hidden states, attentions, 15 intermediates, loss and gradients of both models');
    const train = results.filter((x) => x.what.startsWith('train/'));
    assert.equal(train.length, 5 * 4 + 4, 'loss, grad_norm, lr, checksums of the 5 runs; the 4 input transformations');
    assert.deepEqual([...dumps, ...train].filter((x) => x.status !== 'pass'), []);
    assert.equal(status, 0);
  });

  for (const [bug, expect] of Object.entries(BUGS)) {
    test(`the bug ${bug} fails check.py on ${expect.fail.join(', ')}`, { timeout: 120_000 }, (t) => {
      const why = pythonMissing();
      if (why) return t.skip(why);
      const out = join(scratch, `port-${bug}`);
      const r = python([join(PACK, 'port.py'), '--out', out, '--bug', bug]);
      assert.equal(r.status, 0, r.stderr);
      const { status, results } = check(out);
      assert.equal(status, 1, 'check.py exits 1');
      const get = (q: string): CheckResult => {
        const found = results.find((x) => x.what === `dumps/${q}`);
        assert.ok(found, `no result for ${q}`);
        return found;
      };
      for (const q of expect.fail) {
        const res = get(q);
        assert.equal(res.status, 'FAIL', `${q} should fail`);
        assert.ok((res.error as number) > 10 * (res.tol as number), `${q}: error ${res.error} should be well above the tolerance ${res.tol}`);
      }
      for (const [q, layer] of Object.entries(expect.firstAt ?? {})) assert.equal(get(q).first, layer, `${q}: first layer over the tolerance`);
      for (const q of expect.pass ?? []) assert.equal(get(q).status, 'pass', `${q} should pass`);
    });
  }
});
