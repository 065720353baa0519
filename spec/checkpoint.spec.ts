import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { GPT1, type GPTConfig, makeConfig } from '../src/config.ts';
import { type Params, countParams, paramShapes } from '../src/params.ts';
import { type Tensor, numel, tensor } from '../src/tensor.ts';
import { type Rng, fork, normals, rng } from '../src/random.ts';
import { encodeNpy, encodeNpyHeader, readNpy } from '../src/io/npy.ts';
import { encodeSafetensors } from '../src/io/safetensors.ts';
import { recoverDirAtomic, resolveDirAtomic, writeDirAtomic, writeFileAtomic } from '../src/io/atomic.ts';
import { convertCheckpoint, detectFormat, loadCheckpoint, saveHF, saveOriginal } from '../src/checkpoint/index.ts';
import { arraySplitSizes, configFromOriginalShapes, encodeParamsShapes, originalLayout } from '../src/checkpoint/original.ts';
import { hfConfigJson } from '../src/checkpoint/hf.ts';
import { type FileLike, loadFiles } from '../web/src/files.ts';
import { throwsMessage } from './helpers.ts';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const root = mkdtempSync(join(tmpdir(), 'gpt1-ckpt-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
/** A fresh empty directory under the suite's temp dir. */
const fresh = (label = 'd'): string => {
  const d = join(root, `${label}-${counter++}`);
  mkdirSync(d);
  return d;
};
/** A path under the suite's temp dir that does not exist yet. */
const newPath = (label = 'c'): string => join(root, `${label}-${counter++}`);

const SMALL = makeConfig({ n_vocab: 50, n_ctx: 8, n_embd: 12, n_head: 3, n_layer: 2 });

/**
 * Every parameter random, including the LayerNorm gains and biases, with a few awkward
 * values (-0, a subnormal, the largest float32) so the round trips test bits, not values.
 */
function randomParams(config: GPTConfig, seed: Rng): Params {
  const out: Record<string, Tensor> = {};
  for (const [name, shape] of paramShapes(config)) {
    const data = normals(fork(seed, name), numel(shape), 0, 0.5)[0];
    if (data.length > 3) {
      data[0] = -0;
      data[1] = 1.4e-45;
      data[2] = -3.4028234663852886e38;
    }
    out[name] = tensor(shape, data);
  }
  return Object.freeze(out);
}

const bits = (t: Tensor): Uint32Array => new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
function assertSameParams(a: Params, b: Params, config: GPTConfig): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const [name] of paramShapes(config)) {
    assert.deepEqual(a[name].shape, b[name].shape, name);
    assert.deepEqual(bits(a[name]), bits(b[name]), name);
  }
}
/** All files of a directory, by name, as bytes. */
const filesOf = (dir: string): Record<string, Buffer> => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));

const PARAMS = randomParams(SMALL, rng(7));
const ORIG = newPath('orig');
const HF = newPath('hf');
saveOriginal(ORIG, SMALL, PARAMS);
saveHF(HF, SMALL, PARAMS);
/** A copy of a saved checkpoint to damage. */
const copyOf = (src: string): string => {
  const d = newPath('copy');
  cpSync(src, d, { recursive: true });
  return d;
};

/** The files of `dir` as the page's file input hands them to `loadFiles` (web/src/files.ts). */
const picked = (dir: string): FileLike[] =>
  readdirSync(dir).map((name) => {
    const blob = new Blob([readFileSync(join(dir, name))]);
    return { name, size: blob.size, slice: (start?: number, end?: number) => blob.slice(start, end) };
  });
/**
 * The page's loader, given the files of `dir`, fails with `loadCheckpoint`'s message
 * less the directory (the page names a file by its bare name): the same checks run.
 * Only for a file's problem: the choice of layout is worded for a directory or for
 * picked files.
 */
async function assertPageSaysTheSame(dir: string): Promise<void> {
  const cli = (() => {
    try {
      loadCheckpoint(dir);
    } catch (e) {
      return (e as Error).message;
    }
    return assert.fail(`${dir} loads`);
  })();
  await assert.rejects(loadFiles(picked(dir)), (e: Error) => {
    assert.equal(e.message, cli.replaceAll(`${dir}/`, ''));
    return true;
  });
}

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
/** The release's shapes file, shipped with the vocabulary (a byte-for-byte copy of the release's `model/params_shapes.json`). */
const REAL_SHAPES = join(import.meta.dirname, '..', 'vocab', 'params_shapes.json');

describe('the real release: params_shapes.json of openai/finetune-transformer-lm', { skip: existsSync(REAL_SHAPES) ? false : `${REAL_SHAPES} not present` }, () => {
  test('its 146 shapes give exactly the GPT-1 config (n_head 12 by default)', () => {
    const shapes = JSON.parse(readFileSync(REAL_SHAPES, 'utf8')) as number[][];
    assert.equal(shapes.length, 146);
    assert.equal(shapes.reduce((n, s) => n + numel(s), 0), 116_534_784);
    assert.deepEqual(configFromOriginalShapes(shapes, {}, {}, REAL_SHAPES), GPT1);
    assert.deepEqual(originalLayout(GPT1).map((a) => a.fileShape), shapes);
    assert.equal(countParams(GPT1), 116_534_784);
  });

  test('our params_shapes.json for GPT-1 is byte-identical to the release file', () => {
    assert.equal(encodeParamsShapes(GPT1), readFileSync(REAL_SHAPES, 'utf8'));
  });

  test('the 10 shards split 116,534,784 numbers as np.array_split does', () => {
    assert.deepEqual(arraySplitSizes(116_534_784, 10), [...Array(4).fill(11_653_479), ...Array(6).fill(11_653_478)]);
  });
});

describe('a small random model saved in both layouts', () => {
  test('is recognised and loads to identical params and config from both', () => {
    assert.equal(detectFormat(ORIG), 'original');
    assert.equal(detectFormat(HF), 'hf');
    const a = loadCheckpoint(ORIG);
    const b = loadCheckpoint(HF);
    assert.equal(a.format, 'original');
    assert.equal(b.format, 'hf');
    assert.deepEqual(a.config, SMALL);
    assert.deepEqual(b.config, SMALL);
    assertSameParams(a.params, PARAMS, SMALL);
    assertSameParams(b.params, PARAMS, SMALL);
  });

  test('the original layout has the 10 array_split shards, the shapes file and gpt1-ts.json', () => {
    assert.deepEqual(readdirSync(ORIG).sort(), ['gpt1-ts.json', 'params_0.npy', 'params_1.npy', 'params_2.npy', 'params_3.npy', 'params_4.npy', 'params_5.npy', 'params_6.npy', 'params_7.npy', 'params_8.npy', 'params_9.npy', 'params_shapes.json']);
    const sizes = Array.from({ length: 10 }, (_, k) => readNpy(join(ORIG, `params_${k}.npy`)).tensor.shape[0]);
    assert.deepEqual(sizes, arraySplitSizes(countParams(SMALL), 10));
    assert.deepEqual(JSON.parse(readFileSync(join(ORIG, 'params_shapes.json'), 'utf8'))[2], [1, 12, 36]);
  });

  test('loading the original layout makes views of one buffer holding exactly the numbers', () => {
    const { params } = loadCheckpoint(ORIG);
    const buffers = new Set(Object.values(params).map((t) => t.data.buffer));
    assert.equal(buffers.size, 1);
    assert.equal([...buffers][0].byteLength, 4 * countParams(SMALL));
  });

  test('the Hugging Face config.json has transformers\' fields', () => {
    const json = JSON.parse(readFileSync(join(HF, 'config.json'), 'utf8'));
    assert.deepEqual(json, hfConfigJson(SMALL));
    assert.equal(json.model_type, 'openai-gpt');
    assert.equal(json.vocab_size, 50);
    assert.equal(json.n_positions, 8);
    assert.equal(json.n_head, 3);
  });

  test('saving does not modify the params it is given', () => {
    const before = Object.fromEntries(Object.entries(PARAMS).map(([k, t]) => [k, Uint32Array.from(bits(t))]));
    saveOriginal(newPath(), SMALL, PARAMS);
    saveHF(newPath(), SMALL, PARAMS);
    for (const [k, t] of Object.entries(PARAMS)) assert.deepEqual(bits(t), before[k]);
  });

  test('original -> HF -> original and HF -> original -> HF are bit-identical (every tensor and every file)', () => {
    const o2h = newPath();
    const o2h2o = newPath();
    convertCheckpoint(ORIG, 'hf', o2h);
    convertCheckpoint(o2h, 'original', o2h2o);
    assertSameParams(loadCheckpoint(o2h2o).params, PARAMS, SMALL);
    assert.deepEqual(filesOf(o2h2o), filesOf(ORIG));
    assert.deepEqual(filesOf(o2h), filesOf(HF));
    const h2o = newPath();
    const h2o2h = newPath();
    convertCheckpoint(HF, 'original', h2o);
    convertCheckpoint(h2o, 'hf', h2o2h);
    assertSameParams(loadCheckpoint(h2o2h).params, PARAMS, SMALL);
    assert.deepEqual(filesOf(h2o2h), filesOf(HF));
  });

  test('convertCheckpoint refuses to write over its source and unknown formats', () => {
    throwsMessage(() => convertCheckpoint(HF, 'original', HF), /the output directory must differ from the source$/);
    throwsMessage(() => convertCheckpoint(HF, 'onnx' as 'hf', newPath()), /^unknown checkpoint format onnx/);
  });

  test('the vocabulary is copied and renamed for each layout', () => {
    const vocab = fresh('vocab');
    writeFileSync(join(vocab, 'encoder_bpe_40000.json'), '{"a</w>": 0}');
    writeFileSync(join(vocab, 'vocab_40000.bpe'), '#version: 0.2\na b\n');
    const h = newPath();
    saveHF(h, SMALL, PARAMS, { vocabDir: vocab });
    assert.equal(readFileSync(join(h, 'vocab.json'), 'utf8'), '{"a</w>": 0}');
    assert.equal(readFileSync(join(h, 'merges.txt'), 'utf8'), '#version: 0.2\na b\n');
    const o = newPath();
    convertCheckpoint(h, 'original', o);
    assert.equal(readFileSync(join(o, 'vocab_40000.bpe'), 'utf8'), '#version: 0.2\na b\n');
    assert.equal(readFileSync(join(o, 'encoder_bpe_40000.json'), 'utf8'), '{"a</w>": 0}');
    const half = fresh('vocab');
    writeFileSync(join(half, 'vocab.json'), '{}');
    throwsMessage(() => saveHF(newPath(), SMALL, PARAMS, { vocabDir: half }), /no vocabulary files \(.*vocab\.json \+ merges\.txt.*\)$/);
  });
});

describe('fine-tuned models with special tokens (n_special = 3)', () => {
  const config = makeConfig({ ...SMALL, n_special: 3 });
  const params = randomParams(config, rng(11));

  test('both layouts keep the special rows in tokens_embed and record n_special', () => {
    const o = newPath();
    const h = newPath();
    saveOriginal(o, config, params);
    saveHF(h, config, params);
    assert.equal(JSON.parse(readFileSync(join(o, 'gpt1-ts.json'), 'utf8')).n_special, 3);
    assert.deepEqual(JSON.parse(readFileSync(join(o, 'params_shapes.json'), 'utf8'))[1], [53, 12]);
    const json = JSON.parse(readFileSync(join(h, 'config.json'), 'utf8'));
    assert.equal(json.vocab_size, 53);
    assert.equal(json.n_special, 3);
    for (const dir of [o, h]) {
      const ck = loadCheckpoint(dir);
      assert.deepEqual(ck.config, config);
      assertSameParams(ck.params, params, config);
    }
  });

  test('an original checkpoint without gpt1-ts.json reads every token row as vocabulary', () => {
    const o = newPath();
    saveOriginal(o, config, params);
    unlinkSync(join(o, 'gpt1-ts.json'));
    const ck = loadCheckpoint(o, { n_head: 3 });
    assert.equal(ck.config.n_vocab, 53);
    assert.equal(ck.config.n_special, 0);
  });

  test('the pytorch-pretrained-bert convention (vocab_size without the specials) is read too', () => {
    const h = newPath();
    saveHF(h, config, params);
    const json = JSON.parse(readFileSync(join(h, 'config.json'), 'utf8'));
    writeFileSync(join(h, 'config.json'), JSON.stringify({ ...json, vocab_size: 50 }));
    assert.deepEqual(loadCheckpoint(h).config, config);
    writeFileSync(join(h, 'config.json'), JSON.stringify({ ...json, vocab_size: 52 }));
    throwsMessage(() => loadCheckpoint(h), /config\.json: vocab_size 52 \(n_special 3\) does not match tokens_embed\.weight with 53 rows$/);
  });
});

/** Writes a `.npy` with any dtype string and raw data bytes (for hostile and converted shards). */
function rawNpy(descr: string, shape: number[], data: Uint8Array): Uint8Array {
  const header = encodeNpyHeader(shape);
  const text = String.fromCharCode(...header).replace("'<f4'", `'${descr}'`);
  return Uint8Array.from([...Array.from(text, (c) => c.charCodeAt(0)), ...data]);
}

describe('the original layout, defensively', () => {
  test('f8 shards (as numpy might save them) load bit-identical; f2 shards are converted', () => {
    const o = copyOf(ORIG);
    for (let k = 0; k < 10; k++) {
      const t = readNpy(join(o, `params_${k}.npy`)).tensor;
      writeFileSync(join(o, `params_${k}.npy`), rawNpy('<f8', [...t.shape], new Uint8Array(Float64Array.from(t.data).buffer)));
    }
    assertSameParams(loadCheckpoint(o).params, PARAMS, SMALL);
    const t0 = readNpy(join(ORIG, 'params_0.npy')).tensor;
    const halves = new Uint16Array(t0.data.length).fill(0x3c00); // all 1.0
    writeFileSync(join(o, 'params_0.npy'), rawNpy('<f2', [...t0.shape], new Uint8Array(halves.buffer)));
    assert.equal(loadCheckpoint(o).params['positions_embed.weight'].data[5], 1);
  });

  test('shards split differently from array_split still load (train.py only concatenates)', () => {
    const o = copyOf(ORIG);
    const a = readNpy(join(o, 'params_0.npy')).tensor.data;
    const b = readNpy(join(o, 'params_1.npy')).tensor.data;
    const joined = Float32Array.from([...a, ...b]);
    writeFileSync(join(o, 'params_0.npy'), encodeNpy(tensor([joined.length - 1], joined.slice(0, -1))));
    writeFileSync(join(o, 'params_1.npy'), encodeNpy(tensor([1], joined.slice(-1))));
    assertSameParams(loadCheckpoint(o).params, PARAMS, SMALL);
  });

  const damage: [string, (dir: string) => void, (dir: string) => RegExp][] = [
    ['missing shard', (d) => unlinkSync(join(d, 'params_3.npy')), (d) => new RegExp(`^${esc(join(d, 'params_3.npy'))}: missing shard 3 of 10$`)],
    ['an 11th shard', (d) => writeFileSync(join(d, 'params_10.npy'), encodeNpy(tensor([0], new Float32Array(0)))), (d) => new RegExp(`^${esc(join(d, 'params_10.npy'))}: unexpected shard`)],
    ['wrong shape count', (d) => {
      const s = JSON.parse(readFileSync(join(d, 'params_shapes.json'), 'utf8'));
      writeFileSync(join(d, 'params_shapes.json'), JSON.stringify(s.slice(0, -1)));
    }, (d) => new RegExp(`^${esc(join(d, 'params_shapes.json'))}: 25 shapes is not 2 \\+ 12·n_layer \\(GPT-1 has 146\\)$`)],
    ['shapes inconsistent with one another', (d) => {
      const s = JSON.parse(readFileSync(join(d, 'params_shapes.json'), 'utf8'));
      s[15] = [35];
      writeFileSync(join(d, 'params_shapes.json'), JSON.stringify(s));
    }, () => /params_shapes\.json: shape 15 \(h\.1\.attn\.c_attn\.bias\) is \[35\], expected \[36\] from the other shapes$/],
    ['shapes not JSON', (d) => writeFileSync(join(d, 'params_shapes.json'), '[[8, 12],'), () => /params_shapes\.json: not JSON: /],
    ['a shape that is not a list of integers', (d) => writeFileSync(join(d, 'params_shapes.json'), '[[8, 12], [50, "12"]]'), () => /params_shapes\.json: shape 1 is not a list of non-negative integers: \[50,"12"\]$/],
    ['truncated shard', (d) => {
      const b = readFileSync(join(d, 'params_9.npy'));
      writeFileSync(join(d, 'params_9.npy'), b.subarray(0, b.length - 4));
    }, (d) => new RegExp(`^${esc(join(d, 'params_9.npy'))}: truncated data: shape \\[446\\] of '<f4' needs 1784 bytes, only 1780 follow the header$`)],
    ['a shard header lying about its size', (d) => {
      const t = readNpy(join(d, 'params_4.npy')).tensor;
      writeFileSync(join(d, 'params_4.npy'), Uint8Array.from([...encodeNpyHeader([445]), ...new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
    }, (d) => new RegExp(`^${esc(join(d, 'params_4.npy'))}: 4 unexpected bytes after the data of shape \\[445\\]`)],
    ['shards holding too few numbers', (d) => {
      const t = readNpy(join(d, 'params_4.npy')).tensor;
      writeFileSync(join(d, 'params_4.npy'), encodeNpy(tensor([445], t.data.slice(1))));
    }, () => /params_\*\.npy: the shards hold 4463 numbers in all, .*params_shapes\.json needs 4464$/],
    ['bad magic in a shard', (d) => writeFileSync(join(d, 'params_2.npy'), 'not a numpy file at all'), (d) => new RegExp(`^${esc(join(d, 'params_2.npy'))}: not a \\.npy file: bad magic`)],
    ['an integer shard', (d) => writeFileSync(join(d, 'params_5.npy'), rawNpy('<i4', [446], new Uint8Array(446 * 4))), () => /params_5\.npy: shard has dtype '<i4', expected a float type/],
    ['a 2-D shard', (d) => {
      const t = readNpy(join(d, 'params_6.npy')).tensor;
      writeFileSync(join(d, 'params_6.npy'), encodeNpy(tensor([2, 223], t.data)));
    }, () => /params_6\.npy: shard has shape \[2, 223\], expected a one-dimensional array$/],
    ['NaN in the weights', (d) => {
      const t = readNpy(join(d, 'params_2.npy')).tensor;
      const data = Float32Array.from(t.data);
      data[0] = NaN;
      writeFileSync(join(d, 'params_2.npy'), encodeNpy(tensor(t.shape, data)));
    }, // shard 2 starts at 2·447 = 894; h.0.attn.c_attn.weight spans 696..1128 of the flat vector.
    (d) => new RegExp(`^${esc(join(d, 'params_2.npy'))}: h\\.0\\.attn\\.c_attn\\.weight contains NaN at element 198 \\(flat index 894\\)$`)],
    ['Infinity in the weights', (d) => {
      const t = readNpy(join(d, 'params_9.npy')).tensor;
      const data = Float32Array.from(t.data);
      data[445] = -Infinity;
      writeFileSync(join(d, 'params_9.npy'), encodeNpy(tensor(t.shape, data)));
    }, () => /params_9\.npy: h\.1\.ln_2\.bias contains -Infinity at element 11 \(flat index 4463\)$/],
    ['an unknown field in gpt1-ts.json', (d) => writeFileSync(join(d, 'gpt1-ts.json'), '{"n_head": 3, "heads": 3}'), () => /gpt1-ts\.json: unknown field heads/],
    ['a field of the wrong type in gpt1-ts.json', (d) => writeFileSync(join(d, 'gpt1-ts.json'), '{"layer_norm_epsilon": "1e-5"}'), () => /gpt1-ts\.json: layer_norm_epsilon must be a number, got "1e-5"$/],
    ['n_special leaving no vocabulary', (d) => writeFileSync(join(d, 'gpt1-ts.json'), '{"n_special": 50}'), () => /params_shapes\.json: n_special 50 does not fit the 50 token rows$/],
    ['no shapes file', (d) => unlinkSync(join(d, 'params_shapes.json')), (d) => new RegExp(`^${esc(join(d, 'params_shapes.json'))}: missing \\(the shards params_\\*\\.npy cannot be split without it\\)$`)],
  ];
  for (const [what, hurt, message] of damage) {
    test(what, async () => {
      const d = copyOf(ORIG);
      hurt(d);
      throwsMessage(() => loadCheckpoint(d), message(d));
      await assertPageSaysTheSame(d);
    });
  }

  test('n_head: the recorded value, an agreeing request, a conflicting one, and the release default', () => {
    assert.equal(loadCheckpoint(ORIG, { n_head: 3 }).config.n_head, 3);
    throwsMessage(() => loadCheckpoint(ORIG, { n_head: 4 }), /params_shapes\.json: records n_head 3, but n_head 4 was asked for$/);
    const d = copyOf(ORIG);
    unlinkSync(join(d, 'gpt1-ts.json'));
    assert.equal(loadCheckpoint(d).config.n_head, 12);
    assert.equal(loadCheckpoint(d, { n_head: 6 }).config.n_head, 6);
    throwsMessage(() => loadCheckpoint(d, { n_head: 5 }), /params_shapes\.json: config\.n_embd \(12\) is not divisible by config\.n_head \(5\)$/);
  });

  test('saving refuses weights that are not finite or do not match the config, leaving the old checkpoint', () => {
    const d = copyOf(ORIG);
    const before = filesOf(d);
    const bad = { ...PARAMS, 'h.0.ln_1.bias': tensor([12], new Float32Array(12).fill(NaN)) };
    throwsMessage(() => saveOriginal(d, SMALL, bad), /h\.0\.ln_1\.bias contains NaN at element 0$/);
    throwsMessage(() => saveHF(d, SMALL, bad), /h\.0\.ln_1\.bias contains NaN at element 0$/);
    const { ['h.1.ln_2.bias']: _, ...missing } = PARAMS;
    throwsMessage(() => saveOriginal(d, SMALL, missing), /^missing parameter h\.1\.ln_2\.bias$/);
    assert.deepEqual(filesOf(d), before);
  });
});

/** The tensors of the small model in HF naming, to build variants of model.safetensors. */
const hfList = (params: Params = PARAMS): [string, Tensor][] => paramShapes(SMALL).map(([n]) => [n, params[n]]);
/** Writes `model.safetensors` bytes into a copy of the HF checkpoint. */
function hfWith(file: Uint8Array, config?: Record<string, unknown>): string {
  const d = copyOf(HF);
  writeFileSync(join(d, 'model.safetensors'), file);
  if (config) writeFileSync(join(d, 'config.json'), JSON.stringify(config));
  return d;
}
/** Replaces text of the same length inside the JSON header of a safetensors file. */
function patchHeader(file: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length);
  const at = Buffer.from(file).indexOf(from, 0, 'latin1');
  assert.ok(at >= 0, `${from} not found`);
  const out = Uint8Array.from(file);
  out.set(Buffer.from(to, 'latin1'), at);
  return out;
}
const HF_CONFIG = hfConfigJson(SMALL);

describe('the Hugging Face layout, leniently where transformers varies', () => {
  test('names with the transformer. prefix (an OpenAIGPTLMHeadModel state dict) load', () => {
    const d = hfWith(encodeSafetensors(hfList().map(([n, t]) => [`transformer.${n}`, t] as [string, Tensor])));
    assertSameParams(loadCheckpoint(d).params, PARAMS, SMALL);
  });

  test('a tied lm_head.weight equal to tokens_embed.weight is accepted and not kept', () => {
    const d = hfWith(encodeSafetensors([...hfList(), ['lm_head.weight', PARAMS['tokens_embed.weight']]]));
    const { params } = loadCheckpoint(d);
    assert.equal(params['lm_head.weight'], undefined);
    assertSameParams(params, PARAMS, SMALL);
  });

  test('causal-mask buffers h.{i}.attn.bias (older transformers saved them) are checked and dropped', () => {
    const mask = tensor([1, 1, 8, 8], Float32Array.from({ length: 64 }, (_, k) => (k % 8 <= Math.floor(k / 8) ? 1 : 0)));
    const d = hfWith(encodeSafetensors([...hfList(), ['h.0.attn.bias', mask], ['h.1.attn.bias', mask]]));
    assertSameParams(loadCheckpoint(d).params, PARAMS, SMALL);
    const notCausal = tensor([1, 1, 8, 8], new Float32Array(64).fill(1));
    throwsMessage(() => loadCheckpoint(hfWith(encodeSafetensors([...hfList(), ['h.0.attn.bias', notCausal]]))), /model\.safetensors: h\.0\.attn\.bias is not the causal mask \(element \[0, 1\] is 1\)$/);
  });

  test('BF16 and F16 weights are converted to float32 exactly', () => {
    // Build a file whose tensors are all BF16 (the top half of each float32) except the
    // LayerNorm gains, stored as F16 ones.
    const entries: Record<string, unknown> = {};
    const chunks: number[] = [];
    const expected: Record<string, number[]> = {};
    for (const [name, t] of hfList()) {
      const f16 = /ln_\d\.weight$/.test(name);
      const halves = f16 ? new Uint16Array(t.data.length).fill(0x3c00) : Uint16Array.from(bits(t), (w) => w >>> 16);
      entries[name] = { dtype: f16 ? 'F16' : 'BF16', shape: t.shape, data_offsets: [chunks.length, chunks.length + 2 * t.data.length] };
      chunks.push(...new Uint8Array(halves.buffer));
      expected[name] = f16 ? Array(t.data.length).fill(1) : [...new Float32Array(Uint32Array.from(halves, (h) => h << 16).buffer)];
    }
    const header = new TextEncoder().encode(JSON.stringify(entries));
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
    const { params } = loadCheckpoint(hfWith(Uint8Array.from([...len, ...header, ...chunks])));
    for (const [name] of hfList()) assert.deepEqual([...params[name].data], expected[name], name);
  });

  test('afn "silu" is swish, and an n_inner other than 4·n_embd is recorded and read', () => {
    assert.equal(loadCheckpoint(copyOf(HF), {}).config.afn, 'gelu');
    const d = copyOf(HF);
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...HF_CONFIG, afn: 'silu' }));
    assert.equal(loadCheckpoint(d).config.afn, 'swish');
    const narrow = makeConfig({ ...SMALL, n_inner: 20 });
    const h = newPath();
    const p = randomParams(narrow, rng(3));
    saveHF(h, narrow, p);
    assert.equal(JSON.parse(readFileSync(join(h, 'config.json'), 'utf8')).n_inner, 20);
    assert.deepEqual(loadCheckpoint(h).config, narrow);
  });
});

describe('the Hugging Face layout, defensively', () => {
  const file = readFileSync(join(HF, 'model.safetensors'));
  const damage: [string, () => string, RegExp][] = [
    ['only pytorch_model.bin', () => {
      const d = fresh();
      writeFileSync(join(d, 'config.json'), '{}');
      writeFileSync(join(d, 'pytorch_model.bin'), 'PK');
      return d;
    }, /: only pytorch_model\.bin found; safetensors is required: download model\.safetensors from openai-community\/openai-gpt$/],
    ['sharded safetensors', () => {
      const d = fresh();
      writeFileSync(join(d, 'model.safetensors.index.json'), '{}');
      return d;
    }, /sharded safetensors \(model\.safetensors\.index\.json\) is not supported/],
    ['config.json only', () => {
      const d = fresh();
      writeFileSync(join(d, 'config.json'), '{}');
      return d;
    }, /model\.safetensors: missing \(found config\.json only\)$/],
    ['no config.json', () => {
      const d = copyOf(HF);
      unlinkSync(join(d, 'config.json'));
      return d;
    }, /config\.json: missing$/],
    ['a GPT-2 config', () => hfWith(file, { ...HF_CONFIG, model_type: 'gpt2' }), /config\.json: model_type is "gpt2", expected "openai-gpt"$/],
    ['n_positions disagreeing with the tensors', () => hfWith(file, { ...HF_CONFIG, n_positions: 512 }), /config\.json: n_positions 512 does not match positions_embed\.weight with 8 rows$/],
    ['n_embd disagreeing with the tensors', () => hfWith(file, { ...HF_CONFIG, n_embd: 768 }), /config\.json: n_embd 768 does not match tokens_embed\.weight \[50, 12\] and positions_embed\.weight \[8, 12\]$/],
    ['n_layer disagreeing with the tensors', () => hfWith(file, { ...HF_CONFIG, n_layer: 1 }), /model\.safetensors: unexpected tensor h\.1\.attn\.c_attn\.weight \(not a parameter of a 1-layer GPT-1\)$/],
    ['n_layer larger than the tensors', () => hfWith(file, { ...HF_CONFIG, n_layer: 3 }), /model\.safetensors: missing tensor h\.2\.attn\.c_attn\.weight$/],
    ['a string where a number belongs', () => hfWith(file, { ...HF_CONFIG, n_head: '3' }), /config\.json: n_head must be a number, got "3"$/],
    ['an unknown activation', () => hfWith(file, { ...HF_CONFIG, afn: 'tanh' }), /config\.json: afn "tanh" is not one of gelu, relu, swish, silu$/],
    ['a missing parameter', () => hfWith(encodeSafetensors(hfList().filter(([n]) => n !== 'h.1.ln_2.bias'))), /model\.safetensors: missing tensor h\.1\.ln_2\.bias$/],
    ['an unexpected tensor', () => hfWith(encodeSafetensors([...hfList(), ['multiple_choice_head.summary.weight', PARAMS['h.0.ln_1.bias']]])), /model\.safetensors: unexpected tensor multiple_choice_head\.summary\.weight/],
    ['the same parameter with and without prefix', () => hfWith(encodeSafetensors([...hfList(), ['transformer.h.0.ln_1.bias', PARAMS['h.0.ln_1.bias']]])), /model\.safetensors: tensors h\.0\.ln_1\.bias and transformer\.h\.0\.ln_1\.bias are the same parameter$/],
    ['a tensor of the wrong shape', () => hfWith(encodeSafetensors(hfList().map(([n, t]) => [n, n === 'h.0.attn.c_proj.weight' ? tensor([1, 12, 12], t.data) : t] as [string, Tensor]))), /model\.safetensors: tensor h\.0\.attn\.c_proj\.weight has shape \[1, 12, 12\], expected \[12, 12\]$/],
    ['an integer dtype', () => hfWith(patchHeader(file, '"h.0.ln_1.bias":{"dtype":"F32"', '"h.0.ln_1.bias":{"dtype":"I32"')), /model\.safetensors: tensor h\.0\.ln_1\.bias has dtype I32; only F32, F16, BF16 are read$/],
    ['a header lying about sizes', () => hfWith(patchHeader(file, '"shape":[12,36]', '"shape":[12,37]')), /model\.safetensors: tensor h\.0\.attn\.c_attn\.weight: data_offsets \[\d+, \d+\] hold 1728 bytes but shape \[12, 37\] of F32 needs 1776$/],
    ['a truncated file', () => hfWith(file.subarray(0, file.length - 1)), /model\.safetensors: truncated: the tensors need 17856 data bytes, the file has 17855 after the header$/],
    ['NaN in the weights', () => {
      const bad = Float32Array.from(PARAMS['h.0.mlp.c_fc.weight'].data);
      bad[5] = NaN;
      return hfWith(encodeSafetensors(hfList().map(([n, t]) => [n, n === 'h.0.mlp.c_fc.weight' ? tensor(t.shape, bad) : t] as [string, Tensor])));
    }, /model\.safetensors: tensor h\.0\.mlp\.c_fc\.weight contains NaN at element 5$/],
    ['an lm_head.weight that is not tied', () => {
      const lm = Float32Array.from(PARAMS['tokens_embed.weight'].data);
      lm[77] += 1;
      return hfWith(encodeSafetensors([...hfList(), ['lm_head.weight', tensor([50, 12], lm)]]));
    }, /model\.safetensors: lm_head\.weight differs from tokens_embed\.weight at element 77; GPT-1 ties the output layer to the token embedding$/],
    ['an lm_head.weight of another shape', () => hfWith(encodeSafetensors([...hfList(), ['lm_head.weight', PARAMS['positions_embed.weight']]])), /model\.safetensors: tensor lm_head\.weight has shape \[8, 12\], expected \[50, 12\]$/],
    ['both layouts in one directory', () => {
      const d = copyOf(HF);
      cpSync(ORIG, d, { recursive: true });
      return d;
    }, /holds both an original \(params_shapes\.json\) and a Hugging Face \(model\.safetensors\) checkpoint; keep one$/],
    ['an empty directory', () => fresh(), /: not a GPT-1 checkpoint: expected params_shapes\.json \+ params_0\.\.9\.npy \(original\) or model\.safetensors \+ config\.json \(Hugging Face\)$/],
    ['no directory at all', () => newPath(), /: no such checkpoint directory$/],
    ['a file instead of a directory', () => join(HF, 'config.json'), /config\.json: not a directory \(a checkpoint is a directory\)$/],
  ];
  /** The cases that fail in choosing the layout, worded for a directory (the page words its own for picked files). */
  const CHOOSING_THE_LAYOUT = new Set(['only pytorch_model.bin', 'sharded safetensors', 'both layouts in one directory', 'an empty directory', 'no directory at all', 'a file instead of a directory']);
  for (const [what, make, message] of damage) {
    test(what, async () => {
      const d = make();
      throwsMessage(() => loadCheckpoint(d), message);
      if (!CHOOSING_THE_LAYOUT.has(what)) await assertPageSaysTheSame(d);
    });
  }

  test('n_head from config.json must agree with a requested one', () => {
    throwsMessage(() => loadCheckpoint(HF, { n_head: 4 }), /config\.json: records n_head 3, but n_head 4 was asked for$/);
  });
});

describe('checkpoint properties', () => {
  const configs = fc.record({
    n_vocab: fc.integer({ min: 1, max: 9 }),
    n_special: fc.integer({ min: 0, max: 3 }),
    n_ctx: fc.integer({ min: 1, max: 5 }),
    n_head: fc.integer({ min: 1, max: 3 }),
    d_head: fc.integer({ min: 1, max: 3 }),
    n_layer: fc.integer({ min: 1, max: 2 }),
    n_inner: fc.integer({ min: 1, max: 9 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });

  // Invariant: for any GPT-1 shape (any vocabulary, specials, context, width, heads,
  // depth and inner width) and any finite weights, saving in either layout and loading
  // gives back the same config and bit-identical params, and converting to the other
  // layout and back reproduces every file byte for byte.
  test('save/load and convert round trips are exact for random configs', () => {
    fc.assert(
      fc.property(configs, ({ d_head, seed, ...sizes }) => {
        const config = makeConfig({ ...sizes, n_embd: d_head * sizes.n_head });
        const params = randomParams(config, rng(seed));
        const o = newPath();
        const h = newPath();
        saveOriginal(o, config, params);
        saveHF(h, config, params);
        for (const dir of [o, h]) {
          const ck = loadCheckpoint(dir);
          assert.deepEqual(ck.config, config);
          assertSameParams(ck.params, params, config);
        }
        const o2 = newPath();
        const h2 = newPath();
        convertCheckpoint(o, 'hf', h2);
        convertCheckpoint(h2, 'original', o2);
        assert.deepEqual(filesOf(h2), filesOf(h));
        assert.deepEqual(filesOf(o2), filesOf(o));
        for (const dir of [o, h, o2, h2]) rmSync(dir, { recursive: true });
      }),
      { numRuns: 20 },
    );
  });
});

describe('atomic writes', () => {
  test('writeFileAtomic writes and replaces a file, leaving no temporary file', () => {
    const d = fresh();
    const p = join(d, 'a.bin');
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    writeFileAtomic(p, [new Uint8Array([4]), new Uint8Array([5, 6])]);
    assert.deepEqual([...readFileSync(p)], [4, 5, 6]);
    writeFileAtomic(p, 'text');
    assert.equal(readFileSync(p, 'utf8'), 'text');
    assert.deepEqual(readdirSync(d), ['a.bin']);
    throwsMessage(() => writeFileAtomic(join(d, 'no', 'b'), 'x'), /no\/b: cannot write: ENOENT/);
    assert.deepEqual(readdirSync(d), ['a.bin']);
  });

  test('writeDirAtomic creates, then replaces the whole directory, leaving no sibling', () => {
    const parent = fresh();
    const d = join(parent, 'ckpt');
    writeDirAtomic(d, { 'a.txt': 'one', 'b.bin': new Uint8Array([1]) });
    assert.deepEqual(filesOf(d), { 'a.txt': Buffer.from('one'), 'b.bin': Buffer.from([1]) });
    writeDirAtomic(d, { 'c.txt': 'two' });
    assert.deepEqual(filesOf(d), { 'c.txt': Buffer.from('two') });
    assert.deepEqual(readdirSync(parent), ['ckpt']);
    throwsMessage(() => writeDirAtomic(d, { '../x': 'no' }), /ckpt: invalid file name "\.\.\/x"$/);
    throwsMessage(() => writeDirAtomic(join(parent, 'none', 'ckpt'), {}), /parent directory .* does not exist$/);
    writeFileSync(join(parent, 'file'), '');
    throwsMessage(() => writeDirAtomic(join(parent, 'file'), {}), /file: cannot write: exists and is not a directory$/);
  });

  /**
   * Lays out the state a crash leaves at each point of the swap (see atomic.ts):
   * S0 = old + a partial build, S1 = old + complete .new, S2 = .old + .new, S3 = .old + new.
   */
  function crashState(state: 'S0' | 'S1' | 'S2' | 'S3'): { parent: string; d: string } {
    const parent = fresh();
    const d = join(parent, 'ckpt');
    const put = (dir: string, version: string): void => {
      mkdirSync(dir);
      writeFileSync(join(dir, 'v.txt'), version);
    };
    if (state === 'S0') {
      put(d, 'old');
      put(join(parent, '.ckpt.tmp-1-abcd'), 'partial');
    }
    if (state === 'S1') {
      put(d, 'old');
      put(join(parent, '.ckpt.new'), 'new');
    }
    if (state === 'S2') {
      put(join(parent, '.ckpt.old'), 'old');
      put(join(parent, '.ckpt.new'), 'new');
    }
    if (state === 'S3') {
      put(join(parent, '.ckpt.old'), 'old');
      put(d, 'new');
    }
    return { parent, d };
  }

  test('after a crash at any point a complete version is found, and recovery leaves the newest', () => {
    const expectResolved = { S0: 'old', S1: 'old', S2: 'new', S3: 'new' } as const;
    const expectRecovered = { S0: 'old', S1: 'new', S2: 'new', S3: 'new' } as const;
    for (const state of ['S0', 'S1', 'S2', 'S3'] as const) {
      const { parent, d } = crashState(state);
      assert.equal(readFileSync(join(resolveDirAtomic(d), 'v.txt'), 'utf8'), expectResolved[state], state);
      recoverDirAtomic(d);
      assert.equal(readFileSync(join(d, 'v.txt'), 'utf8'), expectRecovered[state], state);
      assert.deepEqual(readdirSync(parent), ['ckpt'], state);
    }
  });

  test('a write after a crash finishes the old swap first, then writes', () => {
    const { parent, d } = crashState('S2');
    writeDirAtomic(d, { 'v.txt': 'newest' });
    assert.equal(readFileSync(join(d, 'v.txt'), 'utf8'), 'newest');
    assert.deepEqual(readdirSync(parent), ['ckpt']);
  });

  test('loadCheckpoint reads the complete copy a crash between the two renames left', () => {
    const parent = fresh();
    const d = join(parent, 'ckpt');
    cpSync(HF, join(parent, '.ckpt.new'), { recursive: true });
    cpSync(ORIG, join(parent, '.ckpt.old'), { recursive: true });
    assert.equal(loadCheckpoint(d).format, 'hf');
    renameSync(join(parent, '.ckpt.new'), join(parent, 'elsewhere'));
    assert.equal(loadCheckpoint(d).format, 'original');
    assert.deepEqual(readdirSync(parent).sort(), ['.ckpt.old', 'elsewhere']); // loading changed nothing
  });
});

describe('the page\'s loader (web/src/files.ts) reads the files with Blob.slice and checks them with the same functions', () => {
  const variant = makeConfig({ n_vocab: 50, n_ctx: 8, n_embd: 12, n_head: 3, n_layer: 2, position_embedding: 'rope', normalization: 'rmsnorm', norm_placement: 'pre', afn: 'swiglu' });
  const variantParams = randomParams(variant, rng(8));
  for (const [what, format, config, params] of [
    ['GPT-1, original layout', 'original', SMALL, PARAMS],
    ['GPT-1, Hugging Face layout', 'hf', SMALL, PARAMS],
    ['a RoPE + RMSNorm + Pre-LN + SwiGLU variant, original layout', 'original', variant, variantParams],
    ['a RoPE + RMSNorm + Pre-LN + SwiGLU variant, Hugging Face layout (no positions_embed.weight)', 'hf', variant, variantParams],
  ] as const) {
    test(`${what}: the config and every bit of loadCheckpoint`, async () => {
      const d = newPath('page');
      (format === 'original' ? saveOriginal : saveHF)(d, config, params);
      const model = await loadFiles(picked(d));
      assert.equal(model.format, format);
      assert.deepEqual(model.config, loadCheckpoint(d).config);
      assertSameParams(model.params, params, config);
    });
  }
});

describe('interoperability with the original train.py loader', { skip: hasNumpy ? false : 'python3 with numpy not available' }, () => {
  test('numpy, loading our shards exactly as train.py does, gets our shapes and numbers', () => {
    const out = newPath('np');
    const r = spawnSync('python3', ['-c', `
import json, numpy as np
d = ${JSON.stringify(ORIG)}
shapes = json.load(open(d + '/params_shapes.json'))
offsets = np.cumsum([np.prod(shape) for shape in shapes])
init_params = [np.load(d + '/params_{}.npy'.format(n)) for n in range(10)]
init_params = np.split(np.concatenate(init_params, 0), offsets)[:-1]
init_params = [param.reshape(shape) for param, shape in zip(init_params, shapes)]
np.save(${JSON.stringify(out)}, np.concatenate([p.ravel() for p in init_params]))
print(json.dumps([list(p.shape) for p in init_params]))
`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), originalLayout(SMALL).map((a) => a.fileShape));
    const flat = readNpy(`${out}.npy`).tensor;
    const ours = Float32Array.from(paramShapes(SMALL).flatMap(([n]) => [...PARAMS[n].data]));
    assert.deepEqual(bits(flat), bits(tensor([ours.length], ours)));
  });
});
