import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  decodeSafetensors, encodeSafetensors, parseSafetensorsHeader, readSafetensors,
  readSafetensorsElements, readSafetensorsHeader, readSafetensorsTensor,
} from '../src/io/safetensors.ts';
import { type Tensor, fromArray, tensor } from '../src/tensor.ts';
import { throwsMessage } from './helpers.ts';


const u64le = (n: number): number[] => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return [...b];
};
const ascii = (s: string): number[] => [...new TextEncoder().encode(s)];
const f32 = (...xs: number[]): number[] => [...new Uint8Array(Float32Array.from(xs).buffer)];
const u16 = (...xs: number[]): number[] => xs.flatMap((x) => [x & 0xff, x >> 8]);

/** A safetensors file by hand: u64 length (default: the header's), header text, data bytes. */
function stFile(header: string, data: number[], length = ascii(header).length): Uint8Array {
  return Uint8Array.from([...u64le(length), ...ascii(header), ...data]);
}

const bitsOf = (t: Tensor): number[] => [...new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)];

describe('safetensors on hand-built bytes', () => {
  test('the writer writes exactly these bytes for one F32 tensor (header padded with spaces to 8)', () => {
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes -> 56
    const expected = Uint8Array.from([...u64le(56), ...ascii(header), 0x20, 0x20, ...f32(1, -2)]);
    assert.deepEqual(encodeSafetensors({ a: fromArray([2], [1, -2]) }), expected);
  });

  test('metadata comes first and tensors follow in the order given', () => {
    const header = '{"__metadata__":{"format":"pt"},"z":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[4,8]}}';
    const pad = (8 - (header.length % 8)) % 8;
    const expected = Uint8Array.from([...u64le(header.length + pad), ...ascii(header), ...Array(pad).fill(0x20), ...f32(3, 4)]);
    assert.deepEqual(encodeSafetensors([['z', fromArray([], [3])], ['a', fromArray([1, 1], [4])]], { format: 'pt' }), expected);
  });

  test('reads F32, F16 and BF16 (converted exactly) and the metadata', () => {
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      w: { dtype: 'F32', shape: [2, 1], data_offsets: [0, 8] },
      h: { dtype: 'F16', shape: [4], data_offsets: [8, 16] },
      b: { dtype: 'BF16', shape: [3], data_offsets: [16, 22] },
    });
    // F16: 1, -2, 2^-24 (smallest subnormal), 65504. BF16: 1, -2, -0.
    const file = stFile(header, [...f32(0.5, -0), ...u16(0x3c00, 0xc000, 0x0001, 0x7bff), ...u16(0x3f80, 0xc000, 0x8000)]);
    const { tensors, metadata } = decodeSafetensors(file, 'x.safetensors');
    assert.deepEqual(metadata, { format: 'pt' });
    assert.deepEqual(tensors.w.shape, [2, 1]);
    assert.deepEqual([...tensors.w.data], [0.5, -0]);
    assert.ok(Object.is(tensors.w.data[1], -0));
    assert.deepEqual([...tensors.h.data], [1, -2, 2 ** -24, 65504]);
    assert.deepEqual([...tensors.b.data], [1, -2, -0]);
    assert.ok(Object.is(tensors.b.data[2], -0));
  });

  test('entries may be listed in any order; they are checked by offset', () => {
    const header = '{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const { header: h, tensors } = decodeSafetensors(stFile(header, f32(1, 2)), 'x');
    assert.deepEqual(h.entries.map((e) => e.name), ['a', 'b']);
    assert.deepEqual([tensors.a.data[0], tensors.b.data[0]], [1, 2]);
  });

  test('a tensor named __proto__ is an ordinary own entry', () => {
    const file = encodeSafetensors([['__proto__', fromArray([1], [7])]]);
    const { tensors } = decodeSafetensors(file, 'x');
    assert.ok(Object.hasOwn(tensors, '__proto__'));
    assert.equal(Object.getPrototypeOf(tensors), Object.prototype);
  });
});

describe('safetensors errors name the file, the tensor and the problem', () => {
  const t = (dtype: string, shape: number[], begin: number, end: number): string => `{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`;
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', Uint8Array.from([1, 2, 3]), /^f: not a safetensors file: only 3 bytes$/],
    ['header length past the end', stFile('{}', [], 1000), /^f: safetensors header length 1000 runs past the end of the file \(10 bytes\)$/],
    ['absurd header length', Uint8Array.from([...u64le(2 ** 53), ...ascii('{}')]), /^f: safetensors header length 9007199254740992 runs past the end/],
    ['header length too short', stFile('{}', [], 1), /^f: safetensors header length 1 is too short/],
    ['not JSON', stFile('{"a": ', []), /^f: safetensors header is not JSON: /],
    ['not an object', stFile('[1, 2]', []), /^f: safetensors header does not start with '\{'$/],
    ['invalid UTF-8', Uint8Array.from([...u64le(4), 0x7b, 0xff, 0xfe, 0x7d]), /^f: safetensors header is not valid UTF-8$/],
    ['entry without data_offsets', stFile('{"a":{"dtype":"F32","shape":[1]}}', f32(1)), /^f: tensor a: entry must have exactly dtype, shape and data_offsets, has dtype,shape$/],
    ['unknown dtype', stFile(`{"a":${t('F33', [1], 0, 4)}}`, f32(1)), /^f: tensor a: unknown dtype "F33"$/],
    ['dtype from the prototype', stFile(`{"a":${t('toString', [1], 0, 4)}}`, f32(1)), /^f: tensor a: unknown dtype "toString"$/],
    ['negative dimension', stFile(`{"a":${t('F32', [-1], 0, 4)}}`, f32(1)), /^f: tensor a: shape must be an array of non-negative integers, got \[-1\]$/],
    ['offsets reversed', stFile(`{"a":${t('F32', [1], 4, 0)}}`, f32(1)), /^f: tensor a: data_offsets must be \[begin, end\] with 0 <= begin <= end, got \[4,0\]$/],
    ['size lies about the shape', stFile(`{"a":${t('F32', [2], 0, 4)}}`, f32(1)), /^f: tensor a: data_offsets \[0, 4\] hold 4 bytes but shape \[2\] of F32 needs 8$/],
    ['overlap', stFile(`{"a":${t('F32', [2], 0, 8)},"b":${t('F32', [1], 4, 8)}}`, f32(1, 2)), /^f: tensor b overlaps tensor a/],
    ['gap', stFile(`{"a":${t('F32', [1], 0, 4)},"b":${t('F32', [1], 8, 12)}}`, f32(1, 2, 3)), /^f: 4 bytes at data offset 4, before tensor b, belong to no tensor$/],
    ['truncated data', stFile(`{"a":${t('F32', [3], 0, 12)}}`, f32(1, 2)), /^f: truncated: the tensors need 12 data bytes, the file has 8 after the header$/],
    ['trailing bytes no tensor covers', stFile(`{"a":${t('F32', [1], 0, 4)}}`, f32(1, 2)), /^f: 4 bytes after the last tensor belong to no tensor/],
    ['metadata not strings', stFile('{"__metadata__":{"format":1}}', []), /^f: __metadata__\.format must be a string, got 1$/],
    ['NaN in a tensor', stFile(`{"w":${t('F32', [3], 0, 12)}}`, f32(1, NaN, 2)), /^f: tensor w contains NaN at element 1$/],
    ['Infinity in a tensor', stFile(`{"w":${t('F32', [2], 0, 8)}}`, f32(1, -Infinity)), /^f: tensor w contains -Infinity at element 1$/],
    ['F16 infinity', stFile(`{"w":${t('F16', [1], 0, 2)}}`, u16(0x7c00)), /^f: tensor w contains Infinity at element 0$/],
    ['unsupported dtype when read', stFile(`{"i":${t('I64', [1], 0, 8)}}`, [1, 0, 0, 0, 0, 0, 0, 0]), /^f: tensor i has dtype I64; only F32, F16, BF16 are read$/],
  ];
  for (const [what, file, message] of cases) test(what, () => throwsMessage(() => decodeSafetensors(file, 'f'), message));

  test('non-finite values are accepted when asked, bits intact', () => {
    const file = stFile(`{"w":${t('F32', [2], 0, 8)}}`, [0x01, 0x00, 0xc0, 0x7f, ...f32(Infinity)]);
    const { tensors } = decodeSafetensors(file, 'f', { allowNonFinite: true });
    assert.deepEqual(bitsOf(tensors.w), [0x7fc00001, 0x7f800000]);
  });

  test('the writer refuses duplicate and reserved names', () => {
    throwsMessage(() => encodeSafetensors([['a', fromArray([1], [1])], ['a', fromArray([1], [2])]]), /^duplicate safetensors tensor name a$/);
    throwsMessage(() => encodeSafetensors([['__metadata__', fromArray([1], [1])]]), /^invalid safetensors tensor name "__metadata__"$/);
  });
});

describe('safetensors properties', () => {
  // A float32 that is finite: any bit pattern whose exponent is not all ones
  // (so -0, subnormals and the extremes all occur).
  const finiteBits = fc.integer({ min: 0, max: 0xffffffff }).filter((w) => ((w >>> 23) & 0xff) !== 0xff);
  const namedTensor = fc.tuple(
    fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__'),
    fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  ).chain(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.tuple(fc.constant(name), fc.constant(shape), fc.array(finiteBits, { minLength: n, maxLength: n }));
  });

  // Invariant: for any list of uniquely named F32 tensors of any shape (zero-sized
  // included) with any finite values, decode(encode(list, metadata)) gives back every
  // tensor with the same name, shape and bits, and the same metadata.
  test('encode then decode is bit-identical', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(namedTensor, { selector: ([name]) => name, maxLength: 5 }),
        fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })),
        (list, metadata) => {
          const tensors = list.map(([name, shape, words]) => [name, tensor(shape, new Float32Array(Uint32Array.from(words).buffer))] as const);
          const file = encodeSafetensors(tensors, metadata);
          const back = decodeSafetensors(file, 'p');
          assert.deepEqual({ ...back.metadata }, { ...metadata });
          assert.equal(Object.keys(back.tensors).length, tensors.length);
          for (const [name, t] of tensors) {
            assert.deepEqual(back.tensors[name].shape, t.shape);
            assert.deepEqual(bitsOf(back.tensors[name]), bitsOf(t));
          }
          // The header is padded to a multiple of 8 bytes, so F32 data is 4-byte aligned.
          assert.equal(back.header.dataStart % 8, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  // Invariant: any prefix of a valid file (shorter than the whole) is rejected with a
  // one-line error naming the file; no prefix is silently read as a smaller file.
  test('every truncation is an error', () => {
    const file = encodeSafetensors({ a: fromArray([3], [1, 2, 3]), b: fromArray([2, 2], [4, 5, 6, 7]) }, { format: 'pt' });
    for (let n = 0; n < file.length; n++) throwsMessage(() => decodeSafetensors(file.subarray(0, n), 'cut'), /^cut: /);
  });
});

describe('safetensors files', () => {
  test('readSafetensors, single tensors and element ranges read straight from the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt1-st-'));
    try {
      const p = join(dir, 'm.safetensors');
      writeFileSync(p, encodeSafetensors({ a: fromArray([2, 3], [1, 2, 3, 4, 5, 6]), b: fromArray([1], [9]) }, { format: 'pt' }));
      const all = readSafetensors(p);
      assert.deepEqual([...all.tensors.a.data], [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(Object.keys(readSafetensors(p, { only: (n) => n === 'b' }).tensors), ['b']);
      const h = readSafetensorsHeader(p);
      assert.deepEqual([...readSafetensorsElements(p, h, 'a', 2, 5)], [3, 4, 5]);
      assert.deepEqual(readSafetensorsTensor(p, h, 'b').shape, [1]);
      throwsMessage(() => readSafetensorsTensor(p, h, 'c'), new RegExp(`^${p}: no tensor c$`));
      throwsMessage(() => readSafetensorsElements(p, h, 'a', 4, 7), /element range \[4, 7\) out of range for tensor a of 6 elements$/);
      writeFileSync(p, encodeSafetensors({ a: fromArray([2], [1, 2]) }));
      throwsMessage(() => readSafetensorsTensor(p, h, 'a'), /file changed size since its header was read$/);
      throwsMessage(() => readSafetensorsHeader(join(dir, 'none')), /none: cannot open/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('parseSafetensorsHeader works from a prefix given the file size', () => {
    const file = encodeSafetensors({ a: fromArray([4], [1, 2, 3, 4]) });
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    const h = parseSafetensorsHeader(file.subarray(0, 8 + n), 'x', file.length);
    assert.equal(h.dataStart, 8 + n);
    assert.deepEqual(h.entries[0], { name: 'a', dtype: 'F32', shape: [4], begin: 0, end: 16 });
  });
});
