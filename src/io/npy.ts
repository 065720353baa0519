/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), read and written exactly.
 *
 * The format (numpy/lib/format.py, NEP 1):
 *
 * | bytes | content |
 * |---|---|
 * | 0–5 | magic `\x93NUMPY` |
 * | 6–7 | major, minor version: 1.0, 2.0 or 3.0 |
 * | 8–9 (v1) / 8–11 (v2, v3) | little-endian u16 / u32 `HEADER_LEN` |
 * | next `HEADER_LEN` bytes | a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, padded with spaces and ended by `\n` (latin-1 in v1/v2, UTF-8 in v3) |
 * | rest | the raw array data, `numel · itemsize` bytes, nothing after it |
 *
 * Reading: `descr` may be a float (`f2`, `f4`, `f8`) or small integer
 * (`i1`, `u1`, `i2`, `u2`, `i4`, `u4`) type in either byte order; everything is
 * converted to float32, the one dtype of this project. The conversion is exact for
 * `f2`, `f4`, `i1`, `u1`, `i2` and `u2`; `f8` and 32-bit integers are rounded to
 * the nearest float32 (an `f8` beyond ±3.4e38 becomes ±Infinity). `fortran_order:
 * True` is handled: the data is transposed into row-major order. Structured dtypes,
 * objects, 64-bit integers, booleans and complex numbers are rejected.
 *
 * Writing: always version 1.0, `<f4`, C order, with exactly the bytes
 * `numpy.save` writes (numpy ≥ 1.24: the dict keys sorted, 21 − digits(shape[0]) spare spaces
 * for in-place growth, then space padding so that the data starts at a multiple
 * of 64 bytes, then `\n`).
 *
 * Every error is one line that starts with the file name and says what is wrong.
 *
 * @module
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { openRegularFile, readRegularFile } from './files.ts';
import { type Tensor, numel, showShape, tensor } from '../tensor.ts';

/** True on little-endian hosts (all usual ones); big-endian hosts take the slow, byte-swapping paths. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy's `ARRAY_ALIGN`: the data of a file numpy writes starts at a multiple of 64 bytes. */
const ARRAY_ALIGN = 64;
/** numpy's `GROWTH_AXIS_MAX_DIGITS`: spare header room so the first axis can grow in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** Longest header we parse (numpy itself refuses more than 10,000 bytes by default). */
const MAX_HEADER_LEN = 1 << 20;
/** Deepest nesting of tuples and lists in a header (a shape is one tuple deep). */
const MAX_HEADER_DEPTH = 16;
/**
 * Most numbers in one array this project reads: 2³⁰ (4 GiB as float32, Node's
 * largest buffer). A header promising more fails before anything is allocated.
 */
export const MAX_ELEMENTS = 2 ** 30;

/** The parsed preamble and header dict of a `.npy` file. */
export interface NpyHeader {
  /** Format version as written in bytes 6–7. */
  readonly version: '1.0' | '2.0' | '3.0';
  /** The dtype string, e.g. `<f4`. */
  readonly descr: string;
  /** True when the data is stored column-major (the first axis varies fastest). */
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Byte offset where the data begins (the magic, version, length field and header). */
  readonly dataOffset: number;
  /** Bytes per element of `descr`. */
  readonly itemsize: number;
  /** Bytes of data the header promises: `numel(shape) · itemsize`. */
  readonly dataBytes: number;
}

/** A decoded `.npy` array: its header and the data as a row-major float32 tensor. */
export interface NpyArray {
  readonly header: NpyHeader;
  readonly tensor: Tensor;
}

interface Dtype {
  readonly kind: 'f' | 'i' | 'u';
  readonly size: number;
  readonly little: boolean;
}

/** Parses a dtype string like `<f4` or `|u1`; `undefined` when it is not one we read. */
function parseDescr(descr: string): Dtype | undefined {
  const m = /^([<>|=])([fiu])([1248])$/.exec(descr);
  if (!m) return undefined;
  const kind = m[2] as Dtype['kind'];
  const size = Number(m[3]);
  if (kind === 'f' && size === 1) return undefined;
  if (kind !== 'f' && size === 8) return undefined; // 64-bit integers do not fit a float32 exactly enough to be trusted
  if (m[1] === '|' && size !== 1) return undefined; // numpy writes '|' only for byte-sized types
  const little = m[1] === '<' || (m[1] === '=' && HOST_LITTLE_ENDIAN) || m[1] === '|';
  return { kind, size, little };
}

// ---------------------------------------------------------------------------
// The header dict: a tiny parser for the Python literals numpy writes.

type PyValue = string | boolean | null | number | PyValue[];

/**
 * Parses the Python dict literal of a `.npy` header: string keys, and values that are
 * strings, `True`/`False`/`None`, integers (an old `L` suffix is accepted) or tuples/lists of those.
 */
function parsePyDict(text: string, file: string): Map<string, PyValue> {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${file}: bad .npy header: ${what} at character ${i} of ${JSON.stringify(text.trim().slice(0, 120))}`);
  };
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const q = text[i++];
    let out = '';
    while (i < text.length && text[i] !== q) {
      if (text[i] === '\\') i++;
      out += text[i++];
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return out;
  };
  const value = (depth: number): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') return str();
    if (c === '(' || c === '[') {
      if (depth >= MAX_HEADER_DEPTH) fail(`tuples nested more than ${MAX_HEADER_DEPTH} deep`);
      const close = c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          return items;
        }
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace('L', ''));
  };
  const out = new Map<string, PyValue>();
  ws();
  if (text[i] !== '{') fail("expected '{'");
  i++;
  for (;;) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    if (text[i] !== "'" && text[i] !== '"') fail('expected a string key');
    const key = str();
    ws();
    if (text[i] !== ':') fail("expected ':'");
    i++;
    if (out.has(key)) fail(`duplicate key '${key}'`);
    out.set(key, value(0));
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail("expected ',' or '}'");
  }
  ws();
  if (i !== text.length) fail('text after the dict');
  return out;
}

// ---------------------------------------------------------------------------
// Reading.

/**
 * Reads the fixed preamble: checks the magic and version and returns the version and
 * where the header text begins and ends. `fileSize` is the size of the whole file,
 * which may be more than `bytes` when only a prefix was read.
 */
function preamble(bytes: Uint8Array, file: string, fileSize: number): { version: NpyHeader['version']; start: number; end: number } {
  if (fileSize < 10 || bytes.length < 8) throw new Error(`${file}: not a .npy file: only ${fileSize} bytes`);
  if (MAGIC.some((b, k) => bytes[k] !== b)) throw new Error(`${file}: not a .npy file: bad magic (expected \\x93NUMPY)`);
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw new Error(`${file}: unsupported .npy version ${major}.${minor} (only 1.0, 2.0 and 3.0 exist)`);
  }
  const version = `${major}.0` as NpyHeader['version'];
  const lenBytes = major === 1 ? 2 : 4;
  if (fileSize < 8 + lenBytes || bytes.length < 8 + lenBytes) throw new Error(`${file}: truncated .npy preamble: ${fileSize} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  const end = start + headerLen;
  if (headerLen > MAX_HEADER_LEN) throw new Error(`${file}: .npy header length ${headerLen} is not sane (more than ${MAX_HEADER_LEN} bytes)`);
  if (end > fileSize) throw new Error(`${file}: .npy header length ${headerLen} runs past the end of the file (${fileSize} bytes)`);
  return { version, start, end };
}

/** Bytes of preamble plus header, from the first 12 bytes of a file (see {@link parseNpyHeader}). */
export function npyHeaderEnd(first: Uint8Array, file: string, fileSize: number): number {
  return preamble(first, file, fileSize).end;
}

/**
 * Parses and checks the preamble and header dict of a `.npy` file.
 *
 * `bytes` must hold at least the whole header (use {@link npyHeaderEnd} on the first
 * 12 bytes to know how many); `fileSize` is the size of the whole file and defaults to
 * `bytes.length`. The data size the header promises must be exactly what follows it.
 *
 * @throws a one-line error starting with `file`: bad magic, unknown version, header
 *   past the end of the file, unreadable dict, missing or extra keys, unsupported
 *   dtype, invalid shape, truncated data or trailing bytes.
 */
export function parseNpyHeader(bytes: Uint8Array, file: string, fileSize = bytes.length): NpyHeader {
  const { version, start, end } = preamble(bytes, file, fileSize);
  if (bytes.length < end) throw new Error(`${file}: parseNpyHeader needs the first ${end} bytes, got ${bytes.length}`);
  const raw = bytes.subarray(start, end);
  let text = '';
  if (version === '3.0') text = new TextDecoder('utf-8').decode(raw);
  else for (const b of raw) text += String.fromCharCode(b); // latin-1: one character per byte
  const dict = parsePyDict(text, file);
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!dict.has(key)) throw new Error(`${file}: .npy header has no '${key}'`);
  }
  for (const key of dict.keys()) {
    if (!['descr', 'fortran_order', 'shape'].includes(key)) throw new Error(`${file}: .npy header has an unexpected key '${key}'`);
  }
  const descr = dict.get('descr');
  const fortranOrder = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw new Error(`${file}: unsupported dtype ${JSON.stringify(descr)} (structured arrays are not read)`);
  const dtype = parseDescr(descr);
  if (!dtype) throw new Error(`${file}: unsupported dtype '${descr}' (read: f2, f4, f8, i1, u1, i2, u2, i4, u4)`);
  if (typeof fortranOrder !== 'boolean') throw new Error(`${file}: .npy header 'fortran_order' must be True or False`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${file}: .npy header 'shape' must be a tuple of non-negative integers`);
  }
  const dims = shape as number[];
  const dataBytes = numel(dims) * dtype.size;
  const available = fileSize - end;
  if (!Number.isSafeInteger(dataBytes) || dataBytes > available) {
    throw new Error(`${file}: truncated data: shape ${showShape(dims)} of '${descr}' needs ${dataBytes} bytes, only ${available} follow the header`);
  }
  if (dataBytes < available) {
    throw new Error(`${file}: ${available - dataBytes} unexpected bytes after the data of shape ${showShape(dims)} '${descr}' (header and size disagree)`);
  }
  return Object.freeze({ version, descr, fortranOrder, shape: Object.freeze([...dims]), dataOffset: end, itemsize: dtype.size, dataBytes });
}

/** Row-major data from column-major data of `shape` (a general transpose). */
function fortranToC(src: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length <= 1) return src;
  const n = src.length;
  const out = new Float32Array(n);
  // Strides of the column-major source: the first axis is contiguous.
  const fstride: number[] = [];
  let s = 1;
  for (const d of shape) {
    fstride.push(s);
    s *= d;
  }
  const idx = new Array<number>(shape.length).fill(0);
  let srcPos = 0;
  for (let k = 0; k < n; k++) {
    out[k] = src[srcPos];
    // Advance the row-major multi-index (last axis fastest) and its column-major offset.
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a]++;
      srcPos += fstride[a];
      if (idx[a] < shape[a]) break;
      srcPos -= fstride[a] * shape[a];
      idx[a] = 0;
    }
  }
  return out;
}

/** A float16 bit pattern as a number (exact: every float16 is a float32). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The data bytes of a `.npy` array (exactly `header.dataBytes` of them, starting at
 * `header.dataOffset` of the file) as row-major float32.
 *
 * For `<f4` in C order on a little-endian host with a 4-byte-aligned `data`, the result
 * is a view of `data` (no copy); otherwise it is a fresh, converted array.
 */
export function decodeNpyData(data: Uint8Array, header: NpyHeader, file: string): Float32Array {
  if (data.length !== header.dataBytes) throw new Error(`${file}: expected ${header.dataBytes} data bytes, got ${data.length}`);
  const dtype = parseDescr(header.descr);
  if (!dtype) throw new Error(`${file}: unsupported dtype '${header.descr}'`);
  const n = header.dataBytes / dtype.size;
  if (n > MAX_ELEMENTS) throw new Error(`${file}: shape ${showShape(header.shape)} has ${n} elements, more than the ${MAX_ELEMENTS} this reader accepts`);
  let flat: Float32Array;
  if (dtype.kind === 'f' && dtype.size === 4 && dtype.little && HOST_LITTLE_ENDIAN && data.byteOffset % 4 === 0) {
    flat = new Float32Array(data.buffer, data.byteOffset, n);
  } else {
    flat = new Float32Array(n);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const le = dtype.little;
    const get: (k: number) => number =
      dtype.kind === 'f'
        ? dtype.size === 2 ? (k) => float16ToNumber(v.getUint16(2 * k, le)) : dtype.size === 4 ? (k) => v.getFloat32(4 * k, le) : (k) => v.getFloat64(8 * k, le)
        : dtype.kind === 'i'
          ? dtype.size === 1 ? (k) => v.getInt8(k) : dtype.size === 2 ? (k) => v.getInt16(2 * k, le) : (k) => v.getInt32(4 * k, le)
          : dtype.size === 1 ? (k) => v.getUint8(k) : dtype.size === 2 ? (k) => v.getUint16(2 * k, le) : (k) => v.getUint32(4 * k, le);
    if (dtype.kind === 'f' && dtype.size === 4) {
      // Copy the bits, not the values, so NaN payloads survive.
      const bits = new Uint32Array(flat.buffer);
      for (let k = 0; k < n; k++) bits[k] = v.getUint32(4 * k, le);
    } else {
      for (let k = 0; k < n; k++) flat[k] = get(k);
    }
  }
  return header.fortranOrder ? fortranToC(flat, header.shape) : flat;
}

/**
 * Decodes a whole `.npy` file held in memory. `file` names it in errors.
 * The tensor may be a view of `bytes` (see {@link decodeNpyData}).
 */
export function decodeNpy(bytes: Uint8Array, file: string): NpyArray {
  const header = parseNpyHeader(bytes, file);
  const data = decodeNpyData(bytes.subarray(header.dataOffset, header.dataOffset + header.dataBytes), header, file);
  return Object.freeze({ header, tensor: tensor(header.shape, data) });
}

/** Reads and decodes a `.npy` file. */
export function readNpy(path: string): NpyArray {
  return decodeNpy(readRegularFile(path), path);
}

/**
 * Reads exactly `into.length` bytes of file `fd` at `position`.
 * @throws `path: truncated: …` on a short file, `path: cannot read: …` on an I/O error.
 */
export function readExactly(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    let got: number;
    try {
      got = readSync(fd, into, done, into.length - done, position + done);
    } catch (e) {
      throw new Error(`${path}: cannot read: ${(e as Error).message}`);
    }
    if (got === 0) throw new Error(`${path}: truncated: ended after ${position + done} bytes`);
    done += got;
  }
}

/**
 * Reads only the header of a `.npy` file (two small reads), e.g. to size a buffer
 * before reading the data of many files into it.
 */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openRegularFile(path);
  try {
    const size = fstatSync(fd).size;
    const first = new Uint8Array(Math.min(12, size));
    readExactly(fd, first, 0, path);
    const end = npyHeaderEnd(first, path, size);
    const head = new Uint8Array(end);
    readExactly(fd, head, 0, path);
    return parseNpyHeader(head, path, size);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------
// Writing.

/**
 * The preamble and header numpy writes for a C-order `<f4` array of `shape`
 * (version 1.0; the data then starts at a multiple of 64 bytes).
 */
export function encodeNpyHeader(shape: readonly number[]): Uint8Array {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`invalid shape ${showShape(shape)}: dimensions must be non-negative integers`);
  }
  const pyShape = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${pyShape}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = dict.length + 1; // + '\n'
  const pad = ARRAY_ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ARRAY_ALIGN);
  const total = 10 + hlen + pad;
  if (hlen + pad > 0xffff) throw new Error(`shape ${showShape(shape)} needs a .npy header too long for version 1.0`);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, hlen + pad, true);
  for (let k = 0; k < dict.length; k++) out[10 + k] = dict.charCodeAt(k);
  out.fill(0x20, 10 + dict.length, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

/**
 * The little-endian bytes of float32 data: a view on little-endian hosts (no copy),
 * a byte-swapped copy elsewhere.
 */
export function float32LEBytes(data: Float32Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const v = new DataView(out.buffer);
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let k = 0; k < data.length; k++) v.setUint32(4 * k, bits[k], true);
  return out;
}

/**
 * A `.npy` file of `t` as chunks to write one after the other: the header, then the
 * data as a view of `t.data` (no copy on little-endian hosts).
 */
export function encodeNpyChunks(t: Tensor): Uint8Array[] {
  return [encodeNpyHeader(t.shape), float32LEBytes(t.data)];
}

/** A `.npy` file of `t` (version 1.0, `<f4`, C order), byte for byte what `numpy.save` writes. */
export function encodeNpy(t: Tensor): Uint8Array {
  const [head, data] = encodeNpyChunks(t);
  const out = new Uint8Array(head.length + data.length);
  out.set(head, 0);
  out.set(data, head.length);
  return out;
}
