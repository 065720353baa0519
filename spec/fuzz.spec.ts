/**
 * Fuzzing: hostile inputs generated with fast-check, for every reader of untrusted
 * data: `.npy` and safetensors files (malformed headers, lying lengths, shapes and
 * offsets, truncation at every offset), checkpoint configs with out-of-range numbers,
 * arbitrary Unicode and long whitespace runs for the tokenizer, arbitrary JSONL.
 *
 * Every case has exactly two acceptable outcomes:
 * - a correct load, checked against an independent decoding written here, or
 * - an `Error` whose message is one line and names the file.
 * Anything else (a crash, a stack overflow, a hang, a wrong load, a message without
 * the file) fails. Each case must also finish within 100× its expected time
 * ({@link outcome}): a reader that went quadratic, or tried to allocate what a header
 * claims, shows up as a time failure even when it ends in a clean error.
 *
 * The default run is a few hundred cases per property and takes seconds.
 * `GPT1_FUZZ_RUNS=N` runs N cases per property instead (e.g. 20000 for a long run).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { type GPTConfig, MAX_PARAMS, makeConfig, paramCount } from '../src/config.ts';
import { inspectCheckpointFiles, loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.ts';
import { decodeNpy, encodeNpy } from '../src/io/npy.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.ts';
import { numel, tensor } from '../src/tensor.ts';
import { countParams } from '../src/params.ts';
import { PY_WS } from '../src/tokenizer/python.ts';
import { textStandardize } from '../src/tokenizer/standardize.ts';
import { encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { TASK_KINDS, type TaskKind } from '../src/train/transforms.ts';
import { parseTaskJsonl } from '../src/train/task-files.ts';
import { randomParams } from './helpers.ts';

const TMP = mkdtempSync(join(tmpdir(), 'gpt1-fuzz-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** Cases per property: `GPT1_FUZZ_RUNS` if set, else `n`. */
function runs(n: number): number {
  const env = process.env.GPT1_FUZZ_RUNS;
  if (env === undefined || env === '') return n;
  const v = Number(env);
  if (!Number.isInteger(v) || v < 1) throw new Error(`GPT1_FUZZ_RUNS must be a positive integer, got '${env}'`);
  return v;
}

/**
 * Runs one case: `fn` must return (a load, which `fn` itself checks) or throw a
 * one-line Error naming `file`, within 100 × `expectedMs`. Returns the error message,
 * or undefined for a load.
 */
function outcome(file: string, expectedMs: number, fn: () => void): string | undefined {
  const t0 = performance.now();
  let message: string | undefined;
  try {
    fn();
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e; // a wrong load
    assert.ok(e instanceof Error, `threw a non-Error: ${String(e)}`);
    assert.ok(!(e instanceof RangeError), `RangeError (stack or allocation): ${e.message}`);
    message = e.message;
    assert.ok(!message.includes('\n'), `multi-line error: ${JSON.stringify(message)}`);
    assert.ok(message.includes(file), `error does not name ${file}: ${JSON.stringify(message)}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 100 * expectedMs, `took ${ms.toFixed(0)} ms, more than 100 × the expected ${expectedMs} ms`);
  return message;
}

// ---------------------------------------------------------------------------------
// Independent decoders (the oracles): straightforward, byte by byte.
// ---------------------------------------------------------------------------------

/** float32 values of little-endian bytes, by DataView. */
function f32At(bytes: Uint8Array, start: number, count: number): Float32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: count }, (_, k) => v.getFloat32(start + 4 * k, true));
}

/** Bitwise equality of two float32 arrays (NaN payloads and −0 included). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((u, i) => u === y[i]);
}

/** A .npy file with any header text (version 1.0 if it fits, else 2.0) followed by `data`. */
function npyWithHeader(text: string, data: Uint8Array): Uint8Array {
  const body = Buffer.from(text, 'latin1');
  const v1 = body.length <= 0xffff;
  const pre = Buffer.alloc(v1 ? 10 : 12);
  pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, v1 ? 1 : 2, 0]);
  if (v1) pre.writeUInt16LE(body.length, 8);
  else pre.writeUInt32LE(body.length, 8);
  return Buffer.concat([pre, body, data]);
}

/** A safetensors file with any header JSON text followed by `data`. */
function safetensorsWithHeader(json: string, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const body = Buffer.from(json, 'utf8');
  const pre = Buffer.alloc(8);
  pre.writeBigUInt64LE(lengthField ?? BigInt(body.length));
  return Buffer.concat([pre, body, data]);
}

// ---------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------

/** A dimension that may lie: small, zero, huge, negative, fractional, or not a number. */
const lyingDim = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 6 }), weight: 6 },
  { arbitrary: fc.constantFrom(-1, 2 ** 31, 2 ** 53, 1e300, 2.5, 10_737_418_240), weight: 2 },
  { arbitrary: fc.integer(), weight: 1 },
);
const smallData = fc.uint8Array({ minLength: 0, maxLength: 200 });

// ---------------------------------------------------------------------------------
// .npy
// ---------------------------------------------------------------------------------

describe('fuzz: .npy files', () => {
  const file = 'fuzz.npy';

  test('lying shapes and dtypes: an exact load or a one-line error naming the file', () => {
    const descr = fc.constantFrom('<f4', '>f4', '<f2', '<f8', '|u1', '<i2', '<i4', '>u4', '<i8', '|b1', '<c8', 'O', '<f4 ', "'", '');
    fc.assert(
      fc.property(descr, fc.array(lyingDim, { maxLength: 4 }), fc.boolean(), smallData, (d, shape, fortran, data) => {
        const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
        const bytes = npyWithHeader(`{'descr': '${d}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${tuple}, }\n`, data);
        outcome(file, 20, () => {
          const { header, tensor: t } = decodeNpy(bytes, file);
          assert.deepEqual(header.shape, shape);
          assert.equal(t.data.length, numel(shape));
          assert.equal(header.dataBytes, data.length);
          if (d === '<f4' && !fortran) assert.ok(sameBits(t.data, f32At(data, 0, t.data.length)));
        });
      }),
      { numRuns: runs(300) },
    );
  });

  test('arbitrary header text (Python-literal fragments, nesting, junk)', () => {
    const fragment = fc.constantFrom("{'descr': ", "'<f4'", ', ', "'shape': ", "'fortran_order': ", 'False', 'True', 'None', '(', ')', '[', ']', '{', '}', '3', '-1', '1L', "'", '"', ':', ' ', '\n', '\\', '\u00ff');
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), fc.nat({ max: 20 }), smallData, (parts, depth, data) => {
        const text = `${parts.join('')}${'('.repeat(depth * 100)}`;
        outcome(file, 20, () => {
          const { tensor: t } = decodeNpy(npyWithHeader(text, data), file);
          assert.equal(t.data.length, numel(t.shape));
        });
      }),
      { numRuns: runs(300) },
    );
  });

  test('random bytes flipped anywhere in a valid file', () => {
    const valid = encodeNpy(tensor([3, 5], Float32Array.from({ length: 15 }, (_, i) => i - 7.5)));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const bytes = valid.slice();
        for (const [at, b] of flips) bytes[at] = b;
        outcome(file, 20, () => {
          const { tensor: t } = decodeNpy(bytes, file);
          assert.equal(t.data.length, numel(t.shape));
        });
      }),
      { numRuns: runs(300) },
    );
  });

  test('truncation at every offset of a small file: an error for every prefix, the array for the whole', () => {
    const t = tensor([2, 3], Float32Array.from([1, -2, 3.5, 0, -0, 1e-30]));
    const valid = encodeNpy(t);
    for (let cut = 0; cut < valid.length; cut++) {
      const message = outcome(file, 20, () => void decodeNpy(valid.subarray(0, cut), file));
      assert.ok(message !== undefined, `a prefix of ${cut} bytes loaded`);
    }
    assert.ok(sameBits(decodeNpy(valid, file).tensor.data, t.data));
  });
});

// ---------------------------------------------------------------------------------
// safetensors
// ---------------------------------------------------------------------------------

/** Bytes per element of the dtypes the arbitraries draw. */
const ITEM: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, I32: 4, F64: 8, U8: 1, BOOL: 1 };

describe('fuzz: safetensors files', () => {
  const file = 'fuzz.safetensors';
  const dtype = fc.oneof({ arbitrary: fc.constantFrom('F32', 'F16', 'BF16'), weight: 6 }, { arbitrary: fc.constantFrom('I32', 'F64', 'U8', 'BOOL', 'f32', '', 'F8_E4M3'), weight: 1 });
  const entry = fc.record({
    name: fc.oneof(fc.constantFrom('a', 'b', 'h.0.ln_1.weight', '__proto__', 'constructor', '__metadata__', ''), fc.string({ maxLength: 6 })),
    dtype,
    shape: fc.array(lyingDim, { maxLength: 3 }),
    offsets: fc.oneof(fc.constant(undefined), fc.tuple(lyingDim, lyingDim)),
  });

  test('lying shapes, dtypes and offsets: an exact load or a one-line error naming the file', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), smallData, (entries, data) => {
        // consistent offsets unless the case gives its own (lying) ones
        const header: Record<string, unknown> = {};
        let at = 0;
        for (const e of entries) {
          const size = numel(e.shape.map((d) => Math.max(0, d))) * (ITEM[e.dtype] ?? 4);
          const offsets = e.offsets ?? [at, at + size];
          at = offsets[1];
          Object.defineProperty(header, e.name, { value: { dtype: e.dtype, shape: e.shape, data_offsets: offsets }, enumerable: true, configurable: true });
        }
        const bytes = safetensorsWithHeader(JSON.stringify(header), data);
        outcome(file, 20, () => {
          const f = decodeSafetensors(bytes, file, { allowNonFinite: true });
          for (const e of f.header.entries) {
            const t = f.tensors[e.name];
            assert.equal(t.data.length, numel(e.shape));
            if (e.dtype === 'F32') assert.ok(sameBits(t.data, f32At(bytes, f.header.dataStart + e.begin, t.data.length)));
          }
        });
      }),
      { numRuns: runs(300) },
    );
  });

  test('a lying header length and arbitrary header text', () => {
    const valid = encodeSafetensors({ w: tensor([2, 2], Float32Array.from([1, 2, 3, 4])) });
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 60 })), fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), smallData, (json, length, data) => {
        outcome(file, 20, () => {
          const f = decodeSafetensors(safetensorsWithHeader(json, data, length ?? undefined), file, { allowNonFinite: true });
          for (const e of f.header.entries) assert.equal(f.tensors[e.name].data.length, numel(e.shape));
        });
      }),
      { numRuns: runs(300) },
    );
    const f = decodeSafetensors(valid, file);
    assert.deepEqual([...f.tensors.w.data], [1, 2, 3, 4]);
  });

  test('truncation at every offset of a small file: an error for every prefix, the tensors for the whole', () => {
    const a = tensor([3], Float32Array.from([1, -1, 0.5]));
    const b = tensor([2, 2], Float32Array.from([4, 3, 2, 1]));
    const valid = encodeSafetensors({ a, b }, { format: 'pt' });
    for (let cut = 0; cut < valid.length; cut++) {
      const message = outcome(file, 20, () => void decodeSafetensors(valid.subarray(0, cut), file));
      assert.ok(message !== undefined, `a prefix of ${cut} bytes loaded`);
    }
    const f = decodeSafetensors(valid, file);
    assert.ok(sameBits(f.tensors.a.data, a.data) && sameBits(f.tensors.b.data, b.data));
  });
});

// ---------------------------------------------------------------------------------
// Configs
// ---------------------------------------------------------------------------------

/** A number a hostile config may hold, as JSON text (1e400 parses as Infinity). */
const hostileNumber = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 64 }).map(String), weight: 4 },
  { arbitrary: fc.constantFrom('0', '-1', '1e400', '-1e400', '1e9', '1e6', '2.5', '1e-400', '16777217', '4294967296', 'null', '"8"', 'true', '[]', '{}'), weight: 3 },
  { arbitrary: fc.double().map((x) => (Number.isFinite(x) ? String(x) : '1e400')), weight: 1 },
);

describe('fuzz: configs with out-of-range numbers', () => {
  const C: GPTConfig = makeConfig({ n_vocab: 10, n_ctx: 4, n_embd: 4, n_head: 2, n_layer: 1 });
  const base = join(TMP, 'base-hf');
  saveCheckpoint(base, 'hf', C, randomParams(C, 1));
  const config = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as Record<string, unknown>;

  test('makeConfig: accepted configs are valid and bounded; the rest fail with one line naming the field', () => {
    const field = fc.constantFrom<keyof GPTConfig>('n_vocab', 'n_special', 'n_ctx', 'n_embd', 'n_head', 'n_layer', 'n_inner', 'layer_norm_epsilon', 'embd_pdrop', 'attn_pdrop', 'resid_pdrop', 'clf_pdrop', 'initializer_range');
    fc.assert(
      fc.property(fc.dictionary(field, hostileNumber.map((t) => JSON.parse(t) as unknown), { maxKeys: 4 }), (fields) => {
        let c: GPTConfig | undefined;
        const message = outcome('config', 5, () => void (c = makeConfig(fields as Partial<GPTConfig>)));
        if (c !== undefined) {
          for (const v of Object.values(c)) if (typeof v === 'number') assert.ok(Number.isFinite(v));
          assert.ok(paramCount(c) <= MAX_PARAMS);
          assert.equal(paramCount(c), countParams(c)); // the closed form agrees with the list of tensors
        } else assert.match(message as string, /config\.|parameters/);
      }),
      { numRuns: runs(500) },
    );
  });

  test('config.json of a real checkpoint with hostile numbers: the same verdict from info and from loading', () => {
    const keys = ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'n_special', 'n_inner', 'layer_norm_epsilon', 'embd_pdrop', 'attn_pdrop', 'resid_pdrop', 'summary_first_dropout', 'initializer_range'];
    let k = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), hostileNumber, { minKeys: 1, maxKeys: 3 }), (changes) => {
        const dir = join(TMP, `cfg-${k++}`);
        saveCheckpoint(dir, 'hf', C, randomParams(C, 1));
        const text = `{${Object.entries({ ...Object.fromEntries(Object.entries(config).map(([a, b]) => [a, JSON.stringify(b)])), ...changes }).map(([a, b]) => `${JSON.stringify(a)}: ${b}`).join(', ')}}`;
        writeFileSync(join(dir, 'config.json'), text);
        const info = outcome(dir, 50, () => void inspectCheckpointFiles(dir));
        const load = outcome(dir, 100, () => {
          const got = loadCheckpoint(dir).config;
          // the sizes must agree with the tensors; every other number must be finite and in range
          for (const f of ['n_ctx', 'n_embd', 'n_layer', 'n_inner'] as const) assert.equal(got[f], C[f], f);
          assert.equal(got.n_vocab + got.n_special, C.n_vocab + C.n_special, 'token rows'); // n_special may split the rows differently
          for (const v of Object.values(got)) if (typeof v === 'number') assert.ok(Number.isFinite(v));
          assert.ok(got.layer_norm_epsilon > 0 && got.attn_pdrop >= 0 && got.attn_pdrop < 1 && C.n_embd % got.n_head === 0);
        });
        assert.equal(info, load);
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: runs(60) },
    );
  });
});

// ---------------------------------------------------------------------------------
// The tokenizer
// ---------------------------------------------------------------------------------

/** The original's two whitespace regexes and strip (the oracle for the linear pass). */
function whitespaceOracle(t: string): string {
  const s = t.replace(new RegExp(`[${PY_WS}]*\\n[${PY_WS}]*`, 'g'), ' \n ').replace(new RegExp(`[${PY_WS.replace('\\n', '')}]+`, 'g'), ' ');
  return s.replace(new RegExp(`^[${PY_WS}]+`), '').replace(new RegExp(`[${PY_WS}]+$`), '');
}

describe('fuzz: the tokenizer on arbitrary Unicode and long whitespace runs', () => {
  const enc = loadEncoder();
  const ws = fc.constantFrom(' ', '\n', '\t', '\r', '\v', '\f', '\u00a0', '\u3000', '\u2028', '\u0085', '\u200b');
  const run = fc.tuple(ws, fc.integer({ min: 1, max: 20_000 })).map(([c, k]) => c.repeat(k));
  const text = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 12 }), run), { maxLength: 6 }).map((p) => p.join(''));

  test('textStandardize equals the original regexes, in linear time', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), ws), { maxLength: 12 }).map((p) => p.join('')), (t) => {
        const noPunct = t.replace(/[-~!";?+,)(/*[\]}{|_\\—–―…´]/g, 'x');
        assert.equal(textStandardize(noPunct), whitespaceOracle(noPunct));
      }),
      { numRuns: runs(500) },
    );
  });

  test('encode never throws, gives ids of the vocabulary, and takes time linear in the text', () => {
    fc.assert(
      fc.property(text, (t) => {
        const t0 = performance.now();
        const ids = encode(enc, t);
        for (const id of ids) assert.ok(Number.isInteger(id) && id >= 0 && id < enc.nVocab, `id ${id}`);
        // 100 × the expected ~1 ms per 10,000 characters, and at least 2 s for the smallest case
        const ms = performance.now() - t0;
        assert.ok(ms < Math.max(2000, 100 * (t.length / 10_000)), `${t.length} characters took ${ms.toFixed(0)} ms`);
      }),
      { numRuns: runs(100) },
    );
  });
});

// ---------------------------------------------------------------------------------
// JSONL task files
// ---------------------------------------------------------------------------------

describe('fuzz: JSONL task files', () => {
  const file = 'fuzz.jsonl';
  const line = fc.oneof(
    { arbitrary: fc.json(), weight: 2 },
    { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
    { arbitrary: fc.record({ text: fc.string(), label: fc.oneof(fc.integer(), fc.string(), fc.constant(1e400), fc.double()) }).map((o) => JSON.stringify(o).replace('null', '1e400')), weight: 3 },
    { arbitrary: fc.record({ context: fc.string(), choices: fc.array(fc.string(), { maxLength: 4 }), label: fc.integer({ min: -1, max: 4 }) }).map((o) => JSON.stringify(o)), weight: 3 },
  );

  test('arbitrary lines and line ends: examples of the task, or a one-line error naming file:line', () => {
    fc.assert(
      fc.property(fc.constantFrom<TaskKind>(...TASK_KINDS), fc.array(line, { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'), (kind, lines, eol) => {
        const message = outcome(file, 20, () => {
          const examples = parseTaskJsonl(kind, lines.join(eol), file);
          for (const ex of examples) {
            assert.equal(ex.kind, kind);
            if (ex.kind === 'multiple-choice') assert.ok(Number.isInteger(ex.label) && ex.label >= 0 && ex.label < ex.choices.length);
            else assert.ok(typeof ex.label === 'string' || Number.isFinite(ex.label));
          }
        });
        if (message !== undefined) assert.match(message, /^fuzz\.jsonl:\d+: /);
      }),
      { numRuns: runs(300) },
    );
  });
});
