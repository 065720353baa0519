/**
 * `npm run bench`: this project's gpu.js path against a peer, TensorFlow.js with its
 * WebAssembly backend (`@tensorflow/tfjs-backend-wasm`, XNNPACK, SIMD; single
 * threaded in Node, where tfjs-backend-wasm disables its threads), on the same
 * operations, in the same process, interleaved (one repetition of each contender in
 * turn, so that a burst of load from other processes hits both).
 *
 *     npm run bench                       # everything, writes bench/results.md
 *     npm run bench -- --quick            # fewer repetitions and shapes
 *     npm run bench -- --only matmul      # or forward | generate | memory | train | tokenizer
 *     npm run bench -- --backend webgpu   # the default backend forced (webgpu | headlessgl | …);
 *                                         # writes bench/results-<backend>.md
 *
 * Sections:
 * - matmul: the GPT-1 products at T = 64 and 512 tokens (c_attn, attn c_proj, c_fc,
 *   mlp c_proj, tied head), on every CPU gpu.js backend (webasm, cpu), the project's
 *   original kernels (`spec/reference-kernels.ts`, T = 64 only: slow) and TF.js; with
 *   `--backend` naming a GPU backend, also on it, against webasm in a table of its own;
 * - forward: GPT-1 (117 M, random weights) on 64 and 512 tokens: ours is
 *   `forward` of `src/model/gpt.ts`; the peer is the straightforward TF.js GPT-1 of
 *   this file, given the same weights (its logits are compared with ours);
 * - generate: one token with the key/value cache after a 64-token context;
 * - memory: peak RSS of a process that builds GPT-1 and runs one 512-token forward
 *   (each contender in its own child process);
 * - train: one training step (LM loss, gradients, Adam) at a small configuration;
 * - tokenizer: encoding 100 KB of English and learning 2000 BPE merges on 2 MB (ours
 *   only: no peer; goals that the tests once asserted as time limits).
 *
 * Times are wall-clock medians with min–max over the repetitions, after warm-up
 * calls (kernel compilation is reported separately where it matters). The machine
 * is shared: see the load averages printed in the results.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { GPT1, type GPTConfig, PRESETS, nTokenRows } from '../src/config.ts';
import { wordnetDictDir } from '../src/data/wordnet.ts';
import '../src/kernels/node.ts'; // Node's backend hooks: process.env, Dawn, headless-gl, worker threads
import { type Backend, GPU_BACKENDS, backend, backendFor, describeBackend, releaseBackends, unavailableReason } from '../src/kernels/backend.ts';
import { matmul, matmulNT } from '../src/kernels/matmul.ts';
import { referenceMatmul, referenceMatmulNT } from '../spec/reference-kernels.ts';
import { forward, lmLossAndGrads } from '../src/model/gpt.ts';
import { type Params, initParams } from '../src/params.ts';
import { rng } from '../src/random.ts';
import { type Tensor, tensor } from '../src/tensor.ts';
import { encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { learnBpe } from '../src/tokenizer/learn.ts';
import { ADAM_DEFAULTS, adamStep, initAdamState } from '../src/train/optimizer.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

// ---------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------

const SECTIONS = ['matmul', 'forward', 'generate', 'memory', 'train', 'tokenizer'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  readonly quick: boolean;
  readonly only: readonly Section[];
  readonly out: string | null;
}

function parseArgs(argv: readonly string[]): Options {
  let quick = false;
  const only: Section[] = [];
  let out: string | null = path.join(HERE, 'results.md');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only') {
      const v = argv[++i];
      if (!(SECTIONS as readonly string[]).includes(v)) throw new Error(`--only expects one of ${SECTIONS.join(', ')}, got '${v}'`);
      only.push(v as Section);
    } else if (a === '--backend') {
      // The same switch as the CLI's: the process backend, chosen at the first product.
      const v = argv[++i] ?? '';
      process.env.GPT1_BACKEND = v;
      if (out === path.join(HERE, 'results.md')) out = path.join(HERE, `results-${v}.md`);
    } else if (a === '--no-write') out = null;
    else if (a === '--out') out = path.resolve(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--quick] [--only matmul|forward|generate|memory|train|tokenizer]... [--backend webgpu|headlessgl|webasm|cpu] [--out FILE | --no-write]');
      process.exit(0);
    } else throw new Error(`unknown argument '${a}' (try --help)`);
  }
  return { quick, only: only.length > 0 ? only : [...SECTIONS], out };
}

// ---------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------

/** One contender of a comparison. */
interface Contender {
  readonly name: string;
  /** Runs the operation once; resolves when its result is available on the CPU. */
  readonly run: () => Promise<unknown>;
  /** Repetitions for this contender (default: the comparison's). */
  readonly reps?: number;
}

interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/**
 * Warm-up (compilation, first-touch) once per contender, then `reps` rounds; in each
 * round every contender still owed a repetition runs once. Returns ms per call.
 */
async function compare(label: string, contenders: readonly Contender[], reps: number, warmup = 1): Promise<Map<string, Stats & { first: number }>> {
  const first = new Map<string, number>();
  for (const c of contenders) {
    for (let w = 0; w < warmup; w++) {
      const t0 = performance.now();
      await c.run();
      if (w === 0) first.set(c.name, performance.now() - t0);
    }
  }
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const rounds = Math.max(...contenders.map((c) => c.reps ?? reps));
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      if (r >= (c.reps ?? reps)) continue;
      const t0 = performance.now();
      await c.run();
      times.get(c.name)!.push(performance.now() - t0);
    }
  }
  const out = new Map<string, Stats & { first: number }>();
  for (const c of contenders) out.set(c.name, { ...stats(times.get(c.name)!), first: first.get(c.name) ?? NaN });
  progress(`${label}: ${contenders.map((c) => `${c.name} ${fmtMs(out.get(c.name)!.median)}`).join(', ')}`);
  return out;
}

const fmtMs = (ms: number): string => (ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`);
const fmtStats = (s: Stats | undefined): string => (s === undefined ? '—' : `${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)}, n=${s.n})`);
const gflops = (flop: number, ms: number): string => (flop / ms / 1e6).toFixed(2);
const ratio = (ours: Stats | undefined, peer: Stats | undefined): string => (ours === undefined || peer === undefined ? '—' : `${(ours.median / peer.median).toFixed(1)}×`);

// ---------------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------------

/** Fast deterministic N(0, σ²)-ish data (sum of uniforms), for the product operands. */
function randomData(n: number, seed: number, sigma = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let u = 0;
    for (let j = 0; j < 3; j++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      u += (s >>> 0) / 4294967296;
    }
    out[i] = (u - 1.5) * 2 * sigma; // variance 3·(1/12)·4σ² = σ²
  }
  return out;
}

// ---------------------------------------------------------------------------------
// The peer: TensorFlow.js (wasm backend) and a straightforward GPT-1 in it
// ---------------------------------------------------------------------------------

async function startTfjs(): Promise<string> {
  // tfjs-backend-wasm reads its .wasm binary from disk in Node (fs, no network);
  // point it at the package's dist/ explicitly rather than rely on __dirname.
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
  setWasmPaths(dist);
  await tf.setBackend('wasm');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `TF.js ${tf.version.tfjs} wasm backend (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : 'single thread'}; binaries from ${path.relative(ROOT, dist)})`;
}

interface TfLayer {
  readonly attnW: tf.Tensor2D;
  readonly attnB: tf.Tensor1D;
  readonly projW: tf.Tensor2D;
  readonly projB: tf.Tensor1D;
  readonly ln1G: tf.Tensor1D;
  readonly ln1B: tf.Tensor1D;
  readonly fcW: tf.Tensor2D;
  readonly fcB: tf.Tensor1D;
  readonly mlpW: tf.Tensor2D;
  readonly mlpB: tf.Tensor1D;
  readonly ln2G: tf.Tensor1D;
  readonly ln2B: tf.Tensor1D;
}

interface TfModel {
  readonly config: GPTConfig;
  readonly we: tf.Tensor2D;
  /** Wₑᵀ [d, V], stored once, when the head should not use matMul's transpose_b. */
  readonly weT?: tf.Tensor2D;
  readonly wp: tf.Tensor2D;
  readonly layers: readonly TfLayer[];
  /** Every tensor above, as variables when built for training. */
  readonly all: readonly tf.Tensor[];
}

/** The same weights as `params`, as TF.js tensors (or variables, for training). */
function tfModel(params: Params, config: GPTConfig, trainable = false): TfModel {
  const all: tf.Tensor[] = [];
  const t = <R extends tf.Rank>(name: string): tf.Tensor<R> => {
    const p = params[name];
    const x = tf.tensor(p.data, [...p.shape] as number[]) as unknown as tf.Tensor<R>;
    const v = trainable ? (tf.variable(x, true, name) as unknown as tf.Tensor<R>) : x;
    all.push(v);
    return v;
  };
  const layers: TfLayer[] = [];
  const we = t<tf.Rank.R2>('tokens_embed.weight') as tf.Tensor2D;
  const wp = t<tf.Rank.R2>('positions_embed.weight') as tf.Tensor2D;
  for (let i = 0; i < config.n_layer; i++) {
    const p = `h.${i}.`;
    layers.push({
      attnW: t(`${p}attn.c_attn.weight`), attnB: t(`${p}attn.c_attn.bias`),
      projW: t(`${p}attn.c_proj.weight`), projB: t(`${p}attn.c_proj.bias`),
      ln1G: t(`${p}ln_1.weight`), ln1B: t(`${p}ln_1.bias`),
      fcW: t(`${p}mlp.c_fc.weight`), fcB: t(`${p}mlp.c_fc.bias`),
      mlpW: t(`${p}mlp.c_proj.weight`), mlpB: t(`${p}mlp.c_proj.bias`),
      ln2G: t(`${p}ln_2.weight`), ln2B: t(`${p}ln_2.bias`),
    });
  }
  return { config, we, wp, layers, all };
}

function tfLayerNorm(x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(g).add(b) as tf.Tensor2D;
}

function tfGelu(u: tf.Tensor): tf.Tensor {
  return u.mul(0.5).mul(tf.tanh(u.add(u.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
}

/** Keys/values per layer, [H, S, d_h]. */
type TfCache = { k: tf.Tensor3D; v: tf.Tensor3D }[];

/**
 * GPT-1 in TF.js, written the obvious way: embedding, 12 Post-LN blocks (masked
 * multi-head attention with an optional key/value cache, GELU MLP), tied head.
 * Call inside `tf.tidy`; returns the logits and the new cache.
 */
function tfForward(m: TfModel, ids: readonly number[], past?: TfCache, oneHotEmbedding = false): { logits: tf.Tensor2D; present: TfCache } {
  const { n_embd: d, n_head: H, layer_norm_epsilon: eps } = m.config;
  const dH = d / H;
  const T = ids.length;
  const T0 = past === undefined ? 0 : past[0].k.shape[1];
  const S = T0 + T;
  const idx = tf.tensor1d([...ids], 'int32');
  // tfjs-backend-wasm has no UnsortedSegmentSum, the gradient of gather: training selects rows by a one-hot product instead
  const tokens = oneHotEmbedding ? tf.matMul(tf.oneHot(idx, m.we.shape[0]).cast('float32'), m.we) : tf.gather(m.we, idx);
  let h = tokens.add(m.wp.slice([T0, 0], [T, d])) as tf.Tensor2D;
  // B[i, j] = 1 where key j is visible from query i (j ≤ T₀ + i)
  const rows = tf.range(T0, T0 + T, 1, 'int32').reshape([T, 1]);
  const cols = tf.range(0, S, 1, 'int32').reshape([1, S]);
  const B = tf.lessEqual(cols, rows).cast('float32');
  const present: TfCache = [];
  const heads = (x: tf.Tensor2D): tf.Tensor3D => x.reshape([T, H, dH]).transpose([1, 0, 2]) as tf.Tensor3D;
  for (let l = 0; l < m.layers.length; l++) {
    const L = m.layers[l];
    const qkv = tf.matMul(h, L.attnW).add(L.attnB) as tf.Tensor2D;
    const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[];
    let kh = heads(k);
    let vh = heads(v);
    if (past !== undefined) {
      kh = tf.concat([past[l].k, kh], 1);
      vh = tf.concat([past[l].v, vh], 1);
    }
    present.push({ k: kh, v: vh });
    const w = tf.matMul(heads(q), kh, false, true).mul(1 / Math.sqrt(dH));
    const masked = w.mul(B).add(B.sub(1).mul(1e9)); // w·B − 1e9·(1 − B)
    const probs = tf.softmax(masked);
    const a = tf.matMul(probs, vh).transpose([1, 0, 2]).reshape([T, d]) as tf.Tensor2D;
    const y = tf.matMul(a, L.projW).add(L.projB) as tf.Tensor2D;
    const n = tfLayerNorm(h.add(y), L.ln1G, L.ln1B, eps);
    const u = tf.matMul(n, L.fcW).add(L.fcB);
    const f = tf.matMul(tfGelu(u) as tf.Tensor2D, L.mlpW).add(L.mlpB) as tf.Tensor2D;
    h = tfLayerNorm(n.add(f), L.ln2G, L.ln2B, eps);
  }
  return { logits: m.weT !== undefined ? tf.matMul(h, m.weT) : tf.matMul(h, m.we, false, true), present };
}

/** Mean next-token cross-entropy of a sequence (the LM loss L₁), in TF.js. */
function tfLmLoss(m: TfModel, ids: readonly number[]): tf.Scalar {
  const { logits } = tfForward(m, ids, undefined, true);
  const T = ids.length;
  const logp = tf.logSoftmax(logits.slice([0, 0], [T - 1, logits.shape[1]]));
  const targets = tf.oneHot(tf.tensor1d(ids.slice(1), 'int32'), logits.shape[1]);
  return logp.mul(targets).sum().neg().div(T - 1) as tf.Scalar;
}

// ---------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------

interface Report {
  readonly lines: string[];
  readonly goals: { goal: string; value: string; met: boolean | null; why: string }[];
}

const MATMUL_SHAPES: readonly { name: string; K: number; N: number; nt?: boolean; peerGetsBt?: boolean }[] = [
  { name: 'c_attn  T×768·768×2304', K: 768, N: 2304 },
  { name: 'c_proj  T×768·768×768', K: 768, N: 768 },
  { name: 'c_fc    T×768·768×3072', K: 768, N: 3072 },
  { name: 'mlp proj T×3072·3072×768', K: 3072, N: 768 },
  { name: 'head    T×768·(40478×768)ᵀ', K: 768, N: 40478, nt: true },
  // TF.js's transpose_b product is slow (see the table); the same product with Wₑᵀ stored once:
  { name: 'head, TF.js given Wₑᵀ [768, 40478]', K: 768, N: 40478, nt: true, peerGetsBt: true },
];

async function benchMatmul(o: Options, report: Report, backends: Map<string, Backend>): Promise<void> {
  const Ts = [64, 512];
  const reps = o.quick ? 3 : 5;
  report.lines.push('## Matrix products', '');
  report.lines.push('GFLOP/s = 2·T·K·N / median time. *ours* = `src/kernels/matmul.ts` (fast kernels, tiled); *original* = the project\'s first kernels (`spec/reference-kernels.ts`, before this work; T = 64 only, 1 run); ratio = ours (webasm) / TF.js, > 1 means slower.', '');
  report.lines.push('| product | T | ours webasm | GFLOP/s | ours cpu | GFLOP/s | original (webasm) | GFLOP/s | TF.js wasm | GFLOP/s | ratio |');
  report.lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const rates512: number[] = [];
  const gpu = backends.get('gpu'); // the forced GPU backend, compared with webasm in a table of its own
  const gpuRows: string[] = [];
  const ratios: number[] = []; // ours / TF.js per GPT-1 shape (TF.js given Wₑᵀ for the head), T = 64 and 512
  for (const T of Ts) {
    for (const s of MATMUL_SHAPES) {
      const a = tensor([T, s.K], randomData(T * s.K, 1 + T + s.N, 1));
      const b = s.nt ? tensor([s.N, s.K], randomData(s.N * s.K, 2 + s.N, 0.02)) : tensor([s.K, s.N], randomData(s.N * s.K, 2 + s.N, 0.02));
      const ta = tf.tensor2d(a.data, [T, s.K]);
      const tb0 = tf.tensor2d(b.data, s.nt ? [s.N, s.K] : [s.K, s.N]);
      const tb = s.peerGetsBt ? tf.transpose(tb0) : tb0;
      const ours = (be: Backend) => () => (s.nt ? matmulNT(a, b, be) : matmul(a, b, undefined, be));
      const contenders: Contender[] = [];
      const wasm = backends.get('webasm');
      const cpu = backends.get('cpu');
      if (wasm) contenders.push({ name: 'webasm', run: ours(wasm) });
      if (gpu) contenders.push({ name: gpu.name, run: ours(gpu) });
      const flop = 2 * T * s.K * s.N;
      // the cpu backend is one JavaScript thread (≈ 1 GFLOP/s): fewer runs, no 512-token head in --quick
      if (cpu && !(o.quick && T === 512) && !s.peerGetsBt) contenders.push({ name: 'cpu', run: ours(cpu), reps: flop > 5e9 ? 1 : 2 });
      if (wasm && T === 64 && !s.peerGetsBt) contenders.push({ name: 'original', run: () => (s.nt ? referenceMatmulNT(a, b, wasm) : referenceMatmul(a, b, undefined, wasm)), reps: 1 });
      contenders.push({
        name: 'tfjs',
        run: async () => {
          const c = tf.matMul(ta, tb, false, !!s.nt && !s.peerGetsBt);
          await c.data();
          c.dispose();
        },
      });
      const r = await compare(`matmul ${s.name} T=${T}`, contenders, reps);
      ta.dispose();
      tb.dispose();
      if (tb !== tb0) tb0.dispose();
      const g = (n: string) => (r.has(n) ? gflops(flop, r.get(n)!.median) : '—');
      if (T === 512 && r.has('webasm') && !s.peerGetsBt) rates512.push(flop / r.get('webasm')!.median / 1e6);
      // the head against TF.js's fast layout (Wₑᵀ stored), the other shapes as they are
      if (r.has('webasm') && r.has('tfjs') && (s.peerGetsBt || !s.nt)) ratios.push(r.get('webasm')!.median / r.get('tfjs')!.median);
      report.lines.push(`| ${s.name} | ${T} | ${fmtStats(r.get('webasm'))} | ${g('webasm')} | ${fmtStats(r.get('cpu'))} | ${g('cpu')} | ${fmtStats(r.get('original'))} | ${g('original')} | ${fmtStats(r.get('tfjs'))} | ${g('tfjs')} | ${ratio(r.get('webasm'), r.get('tfjs'))} |`);
      if (gpu) gpuRows.push(`| ${s.name} | ${T} | ${fmtStats(r.get(gpu.name))} | ${g(gpu.name)} | ${fmtStats(r.get('webasm'))} | ${ratio(r.get(gpu.name), r.get('webasm'))} |`);
    }
  }
  report.lines.push('');
  if (gpu) {
    report.lines.push(`### On ${describeBackend(gpu)}`, '', 'The same products on the forced GPU backend (the GPU kernel of `sources.ts`, GL tiles); ratio = GPU / webasm, > 1 means slower.', '');
    report.lines.push(`| product | T | ours ${gpu.name} | GFLOP/s | ours webasm | ratio |`, '|---|---|---|---|---|---|', ...gpuRows, '');
  }
  if (rates512.length > 0) {
    const met = rates512.filter((x) => x >= 10).length;
    report.goals.push({ goal: 'matmul ≥ 10 GFLOP/s (default backend, GPT-1 shapes, T = 512; issue 6)', value: `${Math.min(...rates512).toFixed(1)}–${Math.max(...rates512).toFixed(1)} GFLOP/s; ≥ 10 on ${met} of ${rates512.length} shapes`, met: met === rates512.length, why: '' });
  }
  if (ratios.length > 0) {
    const met = ratios.filter((x) => x <= 1).length;
    report.goals.push({ goal: 'matrix products at T = 64 and 512: ours / TF.js ≤ 1.0 on every GPT-1 shape (issue 13)', value: `${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)}×; ≤ 1.0 on ${met} of ${ratios.length}`, met: met === ratios.length, why: '' });
  }
}

function gptIds(T: number, seed: number, vocab: number): number[] {
  const d = randomData(T, seed);
  return Array.from(d, (x) => Math.floor(Math.abs(x * 7919)) % vocab);
}

let gpt1Params: Params | undefined;
function gpt1(): Params {
  if (gpt1Params === undefined) {
    progress('initialising GPT-1 (117 M parameters, N(0, 0.02²), seed 1)…');
    gpt1Params = initParams(GPT1, rng(1));
  }
  return gpt1Params;
}

async function benchForward(o: Options, report: Report): Promise<void> {
  const params = gpt1();
  const m = tfModel(params, GPT1);
  const mT: TfModel = { ...m, weT: tf.transpose(m.we) };
  report.lines.push('## GPT-1 forward (117 M parameters, random weights, logits over 40478 tokens)', '');
  report.lines.push('*ours* = `forward` of `src/model/gpt.ts` on the default backend; *TF.js* = the GPT-1 of `bench/bench.ts` with the same weights, its tied head written like the original (`matMul(h, W_e, transpose_b)`); *TF.js, Wₑᵀ* = the same with Wₑᵀ stored once (TF.js\'s transpose_b product is slow, see the matrix products). max |Δlogit| compares ours with TF.js (logits are O(1)); ratio = ours / TF.js, Wₑᵀ.', '');
  report.lines.push('| tokens | ours | TF.js wasm | TF.js wasm, Wₑᵀ | ratio | max \\|Δlogit\\| | ours, first call (compiles kernels) |');
  report.lines.push('|---|---|---|---|---|---|---|');
  for (const T of [64, 512]) {
    const ids = gptIds(T, 100 + T, GPT1.n_vocab);
    const reps = T === 64 ? (o.quick ? 3 : 5) : o.quick ? 1 : 3;
    let oursLogits: Tensor | undefined;
    let tfLogits: Float32Array | undefined;
    const r = await compare(`forward T=${T}`, [
      { name: 'ours', run: async () => { oursLogits = (await forward(params, GPT1, ids)).logits; } },
      {
        name: 'tfjs',
        run: async () => {
          const logits = tf.tidy(() => tfForward(m, ids).logits);
          tfLogits = (await logits.data()) as Float32Array;
          logits.dispose();
        },
      },
      {
        name: 'tfjsT',
        run: async () => {
          const logits = tf.tidy(() => tfForward(mT, ids).logits);
          await logits.data();
          logits.dispose();
        },
      },
    ], reps);
    let maxDiff = 0;
    if (oursLogits && tfLogits) for (let i = 0; i < tfLogits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(oursLogits.data[i] - tfLogits[i]));
    report.lines.push(`| ${T} | ${fmtStats(r.get('ours'))} | ${fmtStats(r.get('tfjs'))} | ${fmtStats(r.get('tfjsT'))} | ${ratio(r.get('ours'), r.get('tfjsT'))} | ${maxDiff.toExponential(1)} | ${fmtMs(r.get('ours')!.first)} |`);
    const med = r.get('ours')!.median;
    const vsT = med / r.get('tfjsT')!.median;
    report.goals.push({ goal: `forward, ${T} tokens ≤ 1.0× TF.js wasm with Wₑᵀ stored (issue 13)`, value: `${fmtMs(med)}, ${vsT.toFixed(1)}×`, met: vsT <= 1, why: '' });
  }
  report.lines.push('');
  for (const t of m.all) t.dispose();
  mT.weT?.dispose();
}

async function benchGenerate(o: Options, report: Report): Promise<void> {
  const params = gpt1();
  const m0 = tfModel(params, GPT1);
  const m: TfModel = { ...m0, weT: tf.transpose(m0.we) };
  const context = gptIds(64, 7, GPT1.n_vocab);
  const steps = o.quick ? 8 : 16;
  report.lines.push('## Generation with the key/value cache (GPT-1, context 64)', '');
  report.lines.push(`One token per call after a 64-token prefill: ours = \`forward(params, config, [id], { past })\`; TF.js = the same model with its cache (and Wₑᵀ stored once). ${steps} consecutive tokens (context 64 … ${64 + steps - 1}), medians per token; the first call of ours compiles the matrix-vector kernels and copies the weights into them once.`, '');
  let past = (await forward(params, GPT1, context)).present;
  let tfPast = tf.tidy(() => tfForward(m, context).present);
  for (const c of tfPast) { tf.keep(c.k); tf.keep(c.v); }
  const oursT: number[] = [];
  const tfT: number[] = [];
  let firstOurs = NaN;
  for (let i = -1; i < steps; i++) {
    const id = (i + 2) * 101;
    let t0 = performance.now();
    const out = await forward(params, GPT1, [id], { past });
    past = out.present;
    if (i < 0) firstOurs = performance.now() - t0;
    else oursT.push(performance.now() - t0);
    t0 = performance.now();
    const next = tf.tidy(() => {
      const r = tfForward(m, [id], tfPast);
      for (const c of r.present) { tf.keep(c.k); tf.keep(c.v); }
      return r;
    });
    await next.logits.data();
    next.logits.dispose();
    for (const c of tfPast) { c.k.dispose(); c.v.dispose(); }
    tfPast = next.present;
    if (i >= 0) tfT.push(performance.now() - t0);
    progress(`generate token ${i + 1}/${steps}: ours ${fmtMs(i < 0 ? firstOurs : oursT[oursT.length - 1])}, tfjs ${fmtMs(performance.now() - t0)}`);
  }
  for (const c of tfPast) { c.k.dispose(); c.v.dispose(); }
  for (const t of m.all) t.dispose();
  m.weT?.dispose();
  const so = stats(oursT);
  const st = stats(tfT);
  report.lines.push('| | ours | TF.js wasm | ratio | ours, first token |', '|---|---|---|---|---|');
  report.lines.push(`| ms per token | ${fmtStats(so)} | ${fmtStats(st)} | ${ratio(so, st)} | ${fmtMs(firstOurs)} |`, '');
  report.goals.push({ goal: 'generation ≤ 40 ms/token at context 64 (issue 13)', value: fmtMs(so.median), met: so.median <= 40, why: '' });
}

/** Runs `--child <what>` in a fresh process and returns its JSON answer. */
function child(what: string, arg: string): { maxRssMB: number; rssBeforeMB: number; ms: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'bench.ts'), '--child', what, arg], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`child ${what} failed: ${r.stderr.split('\n').slice(-5).join(' | ')}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as { maxRssMB: number; rssBeforeMB: number; ms: number };
}

async function benchMemory(_o: Options, report: Report): Promise<void> {
  report.lines.push('## Peak memory of a GPT-1 forward (512 tokens)', '');
  report.lines.push('Each contender runs in its own child process: build GPT-1 (random weights, float32: 466 MB), run one 512-token forward, report `process.resourceUsage().maxRSS` (the peak resident set of the whole process, weights included) and the RSS before the forward.', '');
  report.lines.push('| | peak RSS | RSS before the forward | forward time |', '|---|---|---|---|');
  for (const what of ['ours', 'tfjs']) {
    progress(`memory: child process for ${what} (512-token forward)…`);
    const r = child(`mem-${what}`, '512');
    report.lines.push(`| ${what === 'ours' ? 'ours' : 'TF.js wasm'} | ${r.maxRssMB.toFixed(0)} MB | ${r.rssBeforeMB.toFixed(0)} MB | ${fmtMs(r.ms)} |`);
    if (what === 'ours') report.goals.push({ goal: 'peak RSS of a 512-token GPT-1 forward ≤ 1.5 GB', value: `${(r.maxRssMB / 1024).toFixed(2)} GB (512 tokens)`, met: r.maxRssMB <= 1536, why: '' });
  }
  report.lines.push('');
}

async function benchTrain(o: Options, report: Report): Promise<void> {
  const config = PRESETS.small;
  const T = 64;
  const params = initParams(config, rng(3));
  const ids = gptIds(T, 9, config.n_vocab);
  const hp = { ...ADAM_DEFAULTS, lr: 2.5e-4, tTotal: 1000 };
  let state = initAdamState(params);
  let p = params;
  const m = tfModel(params, config, true);
  const opt = tf.train.adam(2.5e-4, 0.9, 0.999, 1e-8);
  const r = await compare('train step', [
    {
      name: 'ours',
      run: async () => {
        const { grads } = await lmLossAndGrads(p, config, ids);
        const step = adamStep(p, grads, state, hp);
        p = step.params;
        state = step.state;
      },
    },
    {
      name: 'tfjs',
      run: async () => {
        const loss = opt.minimize(() => tfLmLoss(m, ids), true, m.all as tf.Variable[]);
        await loss?.data();
        loss?.dispose();
      },
    },
  ], o.quick ? 2 : 4);
  for (const t of m.all) t.dispose();
  opt.dispose();
  report.lines.push(`## One training step (config \`small\`: ${config.n_layer} layers, d = ${config.n_embd}, ${config.n_head} heads, ${nTokenRows(config)} tokens; one sequence of ${T} tokens)`, '');
  report.lines.push('LM loss, its gradient with respect to every parameter, and one Adam update (ours: `lmLossAndGrads` + `adamStep` with weight decay and clipping; TF.js: `tf.train.adam().minimize` on the same loss; its token embedding is a one-hot product, T×V·V×d, because tfjs-backend-wasm lacks the kernel of the gradient of `gather`).', '');
  report.lines.push('| | ours | TF.js wasm | ratio |', '|---|---|---|---|');
  report.lines.push(`| one step | ${fmtStats(r.get('ours'))} | ${fmtStats(r.get('tfjs'))} | ${ratio(r.get('ours'), r.get('tfjs'))} |`, '');
  const stepRatio = r.get('ours')!.median / r.get('tfjs')!.median;
  report.goals.push({ goal: 'a training step at `small` ≤ 1.0× TF.js (issue 13)', value: `${stepRatio.toFixed(2)}×`, met: stepRatio <= 1, why: '' });
}

/** WordNet's noun glosses (a devDependency), one English sentence or phrase each. */
function glosses(): string[] {
  return readFileSync(path.join(wordnetDictDir(), 'data.noun'), 'utf8')
    .split('\n').filter((l) => l.includes(' | ')).map((l) => l.slice(l.indexOf(' | ') + 3).trim());
}

/** Consecutive glosses from `from` on, together at least `chars` characters. */
function glossText(all: readonly string[], from: number, chars: number): string[] {
  const parts: string[] = [];
  for (let i = from, n = 0; n < chars; i++) { parts.push(all[i]); n += all[i].length + 1; }
  return parts;
}

async function benchTokenizer(o: Options, report: Report): Promise<void> {
  const all = glosses();
  const reps = o.quick ? 2 : 5;
  // Encoding: a fresh encoder each time, warmed up on another part of the file (the JIT, and its BPE memo).
  const warm = glossText(all, 0, 100_000).join('\n');
  const text = glossText(all, 20_000, 100_000).join('\n');
  const encodeMs: number[] = [];
  let ids = 0;
  for (let r = 0; r < reps; r++) {
    const enc = loadEncoder();
    encode(enc, warm);
    const t0 = performance.now();
    ids = encode(enc, text).length;
    encodeMs.push(performance.now() - t0);
  }
  const e = stats(encodeMs);
  progress(`tokenizer: encode 100 KB ${fmtMs(e.median)}`);
  const corpus = glossText(all, 0, 2_000_000);
  const learnMs: number[] = [];
  for (let r = 0; r < (o.quick ? 1 : 3); r++) {
    const t0 = performance.now();
    learnBpe(corpus, 2000);
    learnMs.push(performance.now() - t0);
  }
  const l = stats(learnMs);
  progress(`tokenizer: learn 2000 merges on 2 MB ${fmtMs(l.median)}`);
  report.lines.push('## Tokenizer (GPT-1 vocabulary; WordNet noun glosses)', '');
  report.lines.push(`\`encode\` of ${text.length.toLocaleString('en-US')} characters (${ids.toLocaleString('en-US')} ids) with a fresh encoder warmed up on another 100 KB of the file (its BPE memo holds that text's words, as in the test this replaces); \`learnBpe\` of 2000 merges on ${corpus.reduce((n, g) => n + g.length + 1, 0).toLocaleString('en-US')} characters.`, '');
  report.lines.push('| | time |', '|---|---|');
  report.lines.push(`| encode 100 KB | ${fmtStats(e)} |`, `| learn 2000 merges on 2 MB | ${fmtStats(l)} |`, '');
  report.goals.push({ goal: 'encode 100 KB of English in under 2 s (was a test)', value: fmtMs(e.median), met: e.median < 2000, why: '' });
  report.goals.push({ goal: 'learn 2000 BPE merges on 2 MB in under 30 s (was a test)', value: fmtMs(l.median), met: l.median < 30_000, why: '' });
}

// ---------------------------------------------------------------------------------
// Child processes (memory)
// ---------------------------------------------------------------------------------

async function runChild(what: string, arg: string): Promise<void> {
  const T = Number(arg);
  const params = initParams(GPT1, rng(1));
  const ids = gptIds(T, 100 + T, GPT1.n_vocab);
  const rssBeforeMB = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  if (what === 'mem-ours') {
    await forward(params, GPT1, ids);
  } else if (what === 'mem-tfjs') {
    await startTfjs();
    const m = tfModel(params, GPT1);
    const logits = tf.tidy(() => tfForward(m, ids).logits);
    await logits.data();
  } else throw new Error(`unknown child task ${what}`);
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ maxRssMB: process.resourceUsage().maxRSS / 1024, rssBeforeMB, ms }));
}

// ---------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------

function machine(): string[] {
  let cpu = 'unknown CPU';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    cpu = os.cpus()[0]?.model ?? cpu;
  }
  return [
    `- CPU: ${cpu}, ${os.cpus().length} logical cores (os.cpus), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `- Node ${process.version} (V8 ${process.versions.v8}), ${os.type()} ${os.release()}`,
    `- date: ${new Date().toISOString()}`,
  ];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return runChild(argv[1], argv[2]);
  const o = parseArgs(argv);
  const started = performance.now();
  const load0 = os.loadavg();
  const be = await backend();
  const peer = await startTfjs();
  const backends = new Map<string, Backend>();
  for (const name of ['webasm', 'cpu'] as const) {
    if ((await unavailableReason(name)) === undefined) backends.set(name, name === be.name ? be : await backendFor(name));
  }
  if (GPU_BACKENDS.includes(be.name)) backends.set('gpu', be);
  progress(`default backend: ${describeBackend(be)} (${be.reason}); peer: ${peer}; sections: ${o.only.join(', ')}${o.quick ? ' (quick)' : ''}`);
  const report: Report = { lines: [], goals: [] };
  const run: Record<Section, () => Promise<void>> = {
    matmul: () => benchMatmul(o, report, backends),
    forward: () => benchForward(o, report),
    generate: () => benchGenerate(o, report),
    memory: () => benchMemory(o, report),
    train: () => benchTrain(o, report),
    tokenizer: () => benchTokenizer(o, report),
  };
  for (const s of o.only) await run[s]();
  const load1 = os.loadavg();
  const head = [
    '# Benchmark results',
    '',
    `Produced by \`npm run bench${o.quick ? ' -- --quick' : ''}${process.env.GPT1_BACKEND ? ` -- --backend ${process.env.GPT1_BACKEND}` : ''}${o.only.length < SECTIONS.length ? ` -- --only ${o.only.join(' --only ')}` : ''}\` (bench/bench.ts) in ${((performance.now() - started) / 60000).toFixed(1)} min.`,
    '',
    ...machine(),
    `- ours: gpu.js ${readVersion('gpu.js')}, default backend \`${describeBackend(be)}\` (${be.reason}), worker threads: ${be.asyncMode ? 'yes (asyncMode)' : 'no'}`,
    `- peer: ${peer}`,
    `- load average (1 min) at start ${load0[0].toFixed(2)}, at end ${load1[0].toFixed(2)}: the machine is shared, so times are noisy; medians over the runs, min–max shown`,
    '',
  ];
  const goals = report.goals.length === 0 ? [] : [
    '## Goals',
    '',
    '| goal | measured | met |',
    '|---|---|---|',
    ...report.goals.map((g) => `| ${g.goal} | ${g.value} | ${g.met === null ? '—' : g.met ? 'yes' : 'no'} |`),
    '',
    'Why a goal is missed: see bench/NOTES.md.',
    '',
  ];
  const text = [...head, ...goals, ...report.lines].join('\n');
  console.log(text);
  if (o.out !== null) {
    writeFileSync(o.out, text);
    progress(`wrote ${path.relative(process.cwd(), o.out)}`);
  }
  // Every GPU instance made here (the default and the peers), and Dawn's device,
  // which keeps Node alive until it is destroyed.
  await releaseBackends();
}

function readVersion(pkg: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
