import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeNpy, encodeNpy, encodeNpyHeader, float16ToNumber, parseNpyHeader, readNpy, readNpyHeader } from '../src/io/npy.ts';
import { fromArray, tensor } from '../src/tensor.ts';
import { throwsMessage } from './helpers.ts';

const latin1 = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const bytes = (...parts: (string | number[] | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? latin1(p) : [...p])));
const f32 = (...xs: number[]): number[] => [...new Uint8Array(Float32Array.from(xs).buffer)];

/** A `.npy` file by hand: magic, version, little-endian header length, the header text, then data. */
function npyFile(major: number, dict: string, data: number[]): Uint8Array {
  const lenBytes = major === 1 ? [dict.length & 0xff, dict.length >> 8] : [dict.length & 0xff, (dict.length >> 8) & 0xff, 0, 0];
  return bytes('\x93NUMPY', [major, 0], lenBytes, dict, data);
}


const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const python = (code: string): string => {
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

describe('npy writer', () => {
  test('writes exactly the bytes numpy.save writes for a [2] float32 array (hand-built)', () => {
    // numpy ≥ 1.24: sorted dict, 21 - len('2') = 20 growth spaces, padded so that
    // 10 + HEADER_LEN = 128 (a multiple of 64), ended by '\n'. HEADER_LEN = 118 = 0x76 'v'.
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"; // 57 characters
    const expected = bytes('\x93NUMPY\x01\x00', [118, 0], dict, ' '.repeat(60), '\n', [0x00, 0x00, 0x80, 0x3f], [0x00, 0x00, 0x00, 0xc0]);
    assert.equal(expected.length, 128 + 8);
    assert.deepEqual(encodeNpy(fromArray([2], [1, -2])), expected);
  });

  test('2-D and 0-D headers are also 64-byte aligned and end in a newline', () => {
    for (const shape of [[2, 3], [], [0], [1, 768, 2304], [123456789012]]) {
      const h = encodeNpyHeader(shape);
      assert.equal(h.length % 64, 0, `shape ${shape}`);
      assert.equal(h[h.length - 1], 0x0a);
      assert.deepEqual(parseNpyHeader(h, 'x.npy', h.length + 4 * shape.reduce((a, b) => a * b, 1)).shape, shape);
    }
  });

  test('rejects invalid shapes', () => {
    throwsMessage(() => encodeNpyHeader([-1]), /invalid shape \[-1\]/);
  });
});

describe('npy reader on hand-built files', () => {
  test('v1.0 <f4', () => {
    const f = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", f32(1, 2, 3, -0));
    const { header, tensor: t } = decodeNpy(f, 'a.npy');
    assert.equal(header.version, '1.0');
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual([...t.data], [1, 2, 3, -0]);
    assert.ok(Object.is(t.data[3], -0));
  });

  test('v2.0 <f8 is rounded to float32, v3.0 <f2 converted exactly, double quotes and no trailing comma accepted', () => {
    const f8 = [...new Uint8Array(Float64Array.from([0.1, -1e300]).buffer)];
    const a = decodeNpy(npyFile(2, '{"descr": "<f8", "fortran_order": False, "shape": (2,)}\n', f8), 'b.npy');
    assert.equal(a.header.version, '2.0');
    assert.deepEqual([...a.tensor.data], [Math.fround(0.1), -Infinity]);
    // float16: 1.0, -2.0, the smallest subnormal 2^-24, the largest 65504, -0
    const f2 = [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b, 0x00, 0x80];
    const b = decodeNpy(npyFile(3, "{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }\n", f2), 'c.npy');
    assert.equal(b.header.version, '3.0');
    assert.deepEqual([...b.tensor.data], [1, -2, 2 ** -24, 65504, -0]);
    assert.ok(Object.is(b.tensor.data[4], -0));
  });

  test('big-endian >f4, |u1 and <i2, and an old Python 2 "L" suffix', () => {
    const be = decodeNpy(npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1L,), }\n", [0x3f, 0x80, 0x00, 0x00]), 'be.npy');
    assert.deepEqual([...be.tensor.data], [1]);
    const u1 = decodeNpy(npyFile(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n", [0, 7, 255]), 'u.npy');
    assert.deepEqual([...u1.tensor.data], [0, 7, 255]);
    const i2 = decodeNpy(npyFile(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }\n", [0xff, 0xff, 0x00, 0x80]), 'i.npy');
    assert.deepEqual([...i2.tensor.data], [-1, -32768]);
  });

  test('fortran_order True is transposed into row-major order', () => {
    // The 2x3 matrix [[1,2,3],[4,5,6]] stored column-major: 1,4,2,5,3,6.
    const f = npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", f32(1, 4, 2, 5, 3, 6));
    assert.deepEqual([...decodeNpy(f, 'f.npy').tensor.data], [1, 2, 3, 4, 5, 6]);
    // 2x2x2: element (i,j,k) at column-major offset i + 2j + 4k holds 100i + 10j + k.
    const col: number[] = [];
    for (let k = 0; k < 2; k++) for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) col.push(100 * i + 10 * j + k);
    const g = npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }\n", f32(...col));
    assert.deepEqual([...decodeNpy(g, 'g.npy').tensor.data], [0, 1, 10, 11, 100, 101, 110, 111]);
  });

  test('the data of an aligned <f4 array is a view of the input (no copy)', () => {
    const f = encodeNpy(fromArray([3], [1, 2, 3]));
    assert.equal(decodeNpy(f, 'v.npy').tensor.data.buffer, f.buffer);
  });
});

describe('npy reader errors name the file and the problem', () => {
  const good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /^e\.npy: not a \.npy file: only 0 bytes$/],
    ['bad magic', bytes('\x93NUMPX\x01\x00', [4, 0], '{}  ', f32(1)), /^e\.npy: not a \.npy file: bad magic/],
    ['unknown version', bytes('\x93NUMPY\x04\x00', [4, 0], '{}  '), /^e\.npy: unsupported \.npy version 4\.0/],
    ['header past the end', bytes('\x93NUMPY\x01\x00', [0xff, 0x00], '{}'), /^e\.npy: \.npy header length 255 runs past the end of the file \(12 bytes\)$/],
    ['truncated data', npyFile(1, good, f32(1)), /^e\.npy: truncated data: shape \[2\] of '<f4' needs 8 bytes, only 4 follow the header$/],
    ['header lying about size (too many bytes)', npyFile(1, good, f32(1, 2, 3)), /^e\.npy: 4 unexpected bytes after the data of shape \[2\] '<f4'/],
    ['unsupported dtype', npyFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n", f32(1, 2, 3, 4)), /^e\.npy: unsupported dtype '<c8'/],
    ['64-bit integers', npyFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n", f32(1, 2)), /^e\.npy: unsupported dtype '<i8'/],
    ['structured dtype', npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", f32(1)), /^e\.npy: unsupported dtype \[\["a","<f4"\]\]/],
    ['missing key', npyFile(1, "{'descr': '<f4', 'shape': (2,), }\n", f32(1, 2)), /^e\.npy: \.npy header has no 'fortran_order'$/],
    ['extra key', npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", f32(1, 2)), /^e\.npy: \.npy header has an unexpected key 'x'$/],
    ['negative dimension', npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n", []), /^e\.npy: \.npy header 'shape' must be a tuple of non-negative integers$/],
    ['not a dict', npyFile(1, "descr = '<f4'\n", []), /^e\.npy: bad \.npy header: expected '\{' at character 0/],
    ['unterminated string', npyFile(1, "{'descr: 1}\n", []), /^e\.npy: bad \.npy header: unterminated string/],
    ['duplicate key', npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", f32(1)), /^e\.npy: bad \.npy header: duplicate key 'descr'/],
  ];
  for (const [what, file, message] of cases) {
    test(what, () => throwsMessage(() => decodeNpy(file, 'e.npy'), message));
  }

  test('every error is one line', () => {
    for (const [, file] of cases) {
      try {
        decodeNpy(file, 'e.npy');
        assert.fail('no error');
      } catch (e) {
        assert.ok(!(e as Error).message.includes('\n'), (e as Error).message);
      }
    }
  });
});

describe('npy properties', () => {
  // Invariant: for every shape and every float32 bit pattern (NaN payloads, -0,
  // subnormals, infinities included), decode(encode(t)) has the same shape and the same bits.
  test('encode then decode is bit-identical', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }).chain((shape) =>
          fc.tuple(fc.constant(shape), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })),
        ),
        ([shape, words]) => {
          const data = new Float32Array(Uint32Array.from(words).buffer);
          const back = decodeNpy(encodeNpy(tensor(shape, data)), 'p.npy').tensor;
          assert.deepEqual(back.shape, shape);
          assert.deepEqual(bits(back.data), words);
        },
      ),
      { numRuns: 200 },
    );
  });

  // Invariant: every float16 bit pattern that is not NaN converts to the float32 with
  // the same value, and back through Math.fround unchanged (float16 ⊂ float32).
  test('float16 conversion is exact', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = float16ToNumber(h);
      if (((h >> 10) & 0x1f) === 0x1f && (h & 0x3ff) !== 0) assert.ok(Number.isNaN(x));
      else assert.ok(Object.is(Math.fround(x), x));
    }
    assert.equal(float16ToNumber(0x7c00), Infinity);
    assert.equal(float16ToNumber(0x3555), 0.333251953125);
  });
});

describe('npy files', () => {
  test('readNpy and readNpyHeader name the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt1-npy-'));
    try {
      const p = join(dir, 'x.npy');
      writeFileSync(p, encodeNpy(fromArray([2, 2], [1, 2, 3, 4])));
      assert.deepEqual([...readNpy(p).tensor.data], [1, 2, 3, 4]);
      assert.deepEqual(readNpyHeader(p).shape, [2, 2]);
      assert.equal(readNpyHeader(p).dataOffset, 128);
      writeFileSync(p, readFileSync(p).subarray(0, 130));
      throwsMessage(() => readNpyHeader(p), new RegExp(`^${p}: truncated data`));
      throwsMessage(() => readNpy(join(dir, 'none.npy')), /none\.npy: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npy interoperability with numpy', { skip: hasNumpy ? false : 'python3 with numpy not available' }, () => {
  test('numpy.save writes the bytes we write, and numpy reads ours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt1-npy-'));
    try {
      const shapes = [[], [0], [5], [2, 3], [1, 4, 3], [12, 1]];
      shapes.forEach((shape, i) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const t = tensor(shape, Float32Array.from({ length: n }, (_, k) => (k - 3) / 7));
        writeFileSync(join(dir, `ours${i}.npy`), encodeNpy(t));
      });
      const out = python(`
import numpy as np, sys
d = ${JSON.stringify(dir)}
shapes = ${JSON.stringify(shapes)}
for i, s in enumerate(shapes):
    n = int(np.prod(s))
    a = ((np.arange(n, dtype=np.float64) - 3) / 7).astype(np.float32).reshape(s)
    np.save(f"{d}/numpy{i}.npy", a)
    b = np.load(f"{d}/ours{i}.npy")
    assert b.dtype == np.float32 and b.shape == tuple(s) and np.array_equal(a, b), i
np.save(f"{d}/f8.npy", np.array([[0.1, 2], [3, 4]], dtype=np.float64))
np.save(f"{d}/f2.npy", np.array([1, 2**-24, 65504], dtype=np.float16))
np.save(f"{d}/fortran.npy", np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)))
np.save(f"{d}/be.npy", np.arange(4, dtype='>f4'))
print("ok")
`);
      assert.equal(out.trim(), 'ok');
      shapes.forEach((_, i) => assert.deepEqual(readFileSync(join(dir, `ours${i}.npy`)), readFileSync(join(dir, `numpy${i}.npy`)), `shape ${i}`));
      assert.deepEqual([...readNpy(join(dir, 'f8.npy')).tensor.data], [Math.fround(0.1), 2, 3, 4]);
      assert.deepEqual([...readNpy(join(dir, 'f2.npy')).tensor.data], [1, 2 ** -24, 65504]);
      const fo = readNpy(join(dir, 'fortran.npy'));
      assert.equal(fo.header.fortranOrder, true);
      assert.deepEqual([...fo.tensor.data], Array.from({ length: 24 }, (_, k) => k));
      assert.deepEqual([...readNpy(join(dir, 'be.npy')).tensor.data], [0, 1, 2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
