/**
 * safetensors files (huggingface/safetensors), read and written exactly and defensively.
 *
 * The format:
 *
 * | bytes | content |
 * |---|---|
 * | 0–7 | `N`, the header length, a little-endian u64 |
 * | 8 … 8+N | a UTF-8 JSON object: `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …, "__metadata__": {"key": "value"}}`, possibly padded with spaces |
 * | 8+N … end | the data buffer; `data_offsets` are relative to its start, row-major, little-endian |
 *
 * What is checked (each failure is a one-line error starting with the file name and,
 * where there is one, naming the tensor): the header length is sane (at most 100 MB,
 * as the reference implementation allows) and inside the file; the header is UTF-8 JSON
 * object text starting with `{`; every entry has exactly `dtype`, `shape`,
 * `data_offsets`; the dtype is a safetensors dtype; `end − begin = numel · itemsize`;
 * the tensors, sorted by offset, tile the data buffer exactly (no gap, no overlap, no
 * uncovered tail, nothing past the end of the file); `__metadata__` maps strings to
 * strings; and, unless asked not to, that the loaded values are finite (no NaN or ±Inf).
 *
 * Reading converts F32, F16 and BF16 to float32 (exactly: every float16 and bfloat16
 * is a float32). Writing always writes F32, in the order given, with the header padded
 * with spaces to a multiple of 8 bytes as the reference writer does.
 *
 * @module
 */
import { closeSync, fstatSync } from 'node:fs';
import { openRegularFile } from './files.ts';
import { type Tensor, numel, showShape, tensor } from '../tensor.ts';
import { HOST_LITTLE_ENDIAN, MAX_ELEMENTS, float16ToNumber, float32LEBytes, readExactly } from './npy.ts';

/** Bytes per element of every safetensors dtype. */
const ITEMSIZE: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
});

/** The dtypes this module reads (converted to float32). */
export const READABLE_DTYPES: readonly string[] = Object.freeze(['F32', 'F16', 'BF16']);

/** Longest header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's entry in the header. `begin`/`end` are relative to the data buffer. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A parsed and checked header. */
export interface SafetensorsHeader {
  /** The tensors in file order (by offset). */
  readonly entries: readonly SafetensorsEntry[];
  /** The `__metadata__` map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte offset of the data buffer in the file: 8 + N. */
  readonly dataStart: number;
  /** Size of the whole file the header was checked against. */
  readonly fileSize: number;
}

/** Options of the readers. */
export interface ReadOptions {
  /** Accept NaN and ±Infinity in the data (default false: they are an error naming the tensor). */
  readonly allowNonFinite?: boolean;
}

/** A decoded file. */
export interface SafetensorsFile {
  readonly header: SafetensorsHeader;
  readonly tensors: Readonly<Record<string, Tensor>>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Sets an own enumerable property, even for a hostile name like `__proto__`. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The header length `N` from the first 8 bytes, checked against the file size. */
function headerLength(first: Uint8Array, file: string, fileSize: number): number {
  if (fileSize < 8 || first.length < 8) throw new Error(`${file}: not a safetensors file: only ${fileSize} bytes`);
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) throw new Error(`${file}: safetensors header length ${n} runs past the end of the file (${fileSize} bytes)`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new Error(`${file}: safetensors header length ${n} is not sane (more than ${MAX_HEADER_BYTES} bytes)`);
  if (n < 2n) throw new Error(`${file}: safetensors header length ${n} is too short for a JSON object`);
  return Number(n);
}

/** Bytes of the length field plus header, from the first 8 bytes of a file. */
export function safetensorsHeaderEnd(first: Uint8Array, file: string, fileSize: number): number {
  return 8 + headerLength(first, file, fileSize);
}

/**
 * Parses and checks a safetensors header.
 *
 * `bytes` must hold at least the length field and the header (see
 * {@link safetensorsHeaderEnd}); `fileSize` is the size of the whole file and defaults
 * to `bytes.length`.
 * @throws a one-line error starting with `file` (see the module description for the checks).
 */
export function parseSafetensorsHeader(bytes: Uint8Array, file: string, fileSize = bytes.length): SafetensorsHeader {
  const n = headerLength(bytes, file, fileSize);
  if (bytes.length < 8 + n) throw new Error(`${file}: parseSafetensorsHeader needs the first ${8 + n} bytes, got ${bytes.length}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new Error(`${file}: safetensors header is not valid UTF-8`);
  }
  if (!text.startsWith('{')) throw new Error(`${file}: safetensors header does not start with '{'`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: safetensors header is not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isPlainObject(json)) throw new Error(`${file}: safetensors header is not a JSON object`);

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(value)) throw new Error(`${file}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new Error(`${file}: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    const what = `${file}: tensor ${name}`;
    if (!isPlainObject(value)) throw new Error(`${what}: entry must be an object`);
    const keys = Object.keys(value).sort().join(',');
    if (keys !== 'data_offsets,dtype,shape') throw new Error(`${what}: entry must have exactly dtype, shape and data_offsets, has ${keys || 'nothing'}`);
    const { dtype, shape, data_offsets: offsets } = value as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !Object.hasOwn(ITEMSIZE, dtype)) throw new Error(`${what}: unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) || offsets[0] > offsets[1]) {
      throw new Error(`${what}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = numel(shape);
    if (count > MAX_ELEMENTS) throw new Error(`${what}: shape ${showShape(shape)} has ${count} elements, more than the ${MAX_ELEMENTS} this reader accepts`);
    const need = count * ITEMSIZE[dtype];
    if (end - begin !== need) {
      throw new Error(`${what}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${showShape(shape)} of ${dtype} needs ${need}`);
    }
    entries.push(Object.freeze({ name, dtype, shape: Object.freeze([...shape]), begin, end }));
  }

  // The tensors must tile the data buffer: sorted by offset, each starts where the previous ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + n;
  const dataBytes = fileSize - dataStart;
  let pos = 0;
  let prev = '';
  for (const e of entries) {
    if (e.begin < pos) throw new Error(`${file}: tensor ${e.name} overlaps tensor ${prev} (data_offsets ${e.begin} < ${pos})`);
    if (e.begin > pos) throw new Error(`${file}: ${e.begin - pos} bytes at data offset ${pos}, before tensor ${e.name}, belong to no tensor`);
    pos = e.end;
    prev = e.name;
  }
  if (pos > dataBytes) throw new Error(`${file}: truncated: the tensors need ${pos} data bytes, the file has ${dataBytes} after the header`);
  if (pos < dataBytes) throw new Error(`${file}: ${dataBytes - pos} bytes after the last tensor belong to no tensor (header and file size disagree)`);
  return Object.freeze({ entries: Object.freeze(entries), metadata: Object.freeze(metadata), dataStart, fileSize });
}

/** The entry of tensor `name`. @throws if the header has no such tensor. */
export function findEntry(header: SafetensorsHeader, name: string, file: string): SafetensorsEntry {
  const e = header.entries.find((x) => x.name === name);
  if (!e) throw new Error(`${file}: no tensor ${name}`);
  return e;
}

/**
 * Throws unless every value is finite.
 * @throws `file: tensor NAME contains NaN at element 17` (or Infinity / -Infinity).
 */
export function assertFinite(data: Float32Array, name: string, file: string): void {
  const k = firstNonFinite(data);
  if (k >= 0) throw new Error(`${file}: tensor ${name} contains ${data[k]} at element ${k}`);
}

/** Index of the first NaN or ±Infinity in `data`, or -1 when every value is finite. */
export function firstNonFinite(data: Float32Array): number {
  for (let k = 0; k < data.length; k++) {
    const x = data[k];
    if (x - x !== 0) return k; // NaN - NaN and Inf - Inf are NaN
  }
  return -1;
}

/**
 * The elements of dtype `dtype` in `bytes` (little-endian) as float32.
 * F32 from 4-byte-aligned bytes on a little-endian host is a view (no copy).
 * @throws `what has dtype …` for a dtype other than F32, F16 and BF16.
 */
export function toFloat32(bytes: Uint8Array, dtype: string, what: string): Float32Array {
  if (dtype === 'F32') {
    const n = bytes.length / 4;
    if (HOST_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    const out = new Float32Array(n);
    const bits = new Uint32Array(out.buffer);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < n; k++) bits[k] = v.getUint32(4 * k, true); // bits, so NaN payloads survive
    return out;
  }
  if (dtype === 'F16' || dtype === 'BF16') {
    const n = bytes.length / 2;
    const out = new Float32Array(n);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (dtype === 'F16') {
      for (let k = 0; k < n; k++) out[k] = float16ToNumber(v.getUint16(2 * k, true));
    } else {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(out.buffer);
      for (let k = 0; k < n; k++) bits[k] = v.getUint16(2 * k, true) << 16;
    }
    return out;
  }
  throw new Error(`${what} has dtype ${dtype}; only ${READABLE_DTYPES.join(', ')} are read`);
}

/**
 * Decodes a whole safetensors file held in memory; tensors may be views of `bytes`.
 * @throws one-line errors as described in the module description.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string, opts: ReadOptions = {}): SafetensorsFile {
  const header = parseSafetensorsHeader(bytes, file);
  const tensors: Record<string, Tensor> = {};
  for (const e of header.entries) {
    const data = toFloat32(bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end), e.dtype, `${file}: tensor ${e.name}`);
    if (!opts.allowNonFinite) assertFinite(data, e.name, file);
    setOwn(tensors, e.name, tensor(e.shape, data));
  }
  return Object.freeze({ header, tensors: Object.freeze(tensors), metadata: header.metadata });
}

/** Opens a regular file (never blocks on a FIFO; see `io/files.ts`). */
const openFile = (path: string): number => openRegularFile(path);

/** Reads and checks only the header of a safetensors file (two small reads). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openFile(path);
  try {
    const size = fstatSync(fd).size;
    const first = new Uint8Array(Math.min(8, size));
    readExactly(fd, first, 0, path);
    const end = safetensorsHeaderEnd(first, path, size);
    const head = new Uint8Array(end);
    readExactly(fd, head, 0, path);
    return parseSafetensorsHeader(head, path, size);
  } finally {
    closeSync(fd);
  }
}

/**
 * Elements `[start, end)` (in row-major order) of tensor `name`, read straight from the
 * file as float32: for F32 the bytes are read into the result's own buffer, so there is
 * no intermediate copy. Lets a caller stream a large tensor in chunks.
 */
export function readSafetensorsElements(path: string, header: SafetensorsHeader, name: string, start: number, end: number, opts: ReadOptions = {}): Float32Array {
  const e = findEntry(header, name, path);
  const total = numel(e.shape);
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= total)) {
    throw new Error(`${path}: element range [${start}, ${end}) out of range for tensor ${name} of ${total} elements`);
  }
  const item = ITEMSIZE[e.dtype];
  if (!READABLE_DTYPES.includes(e.dtype)) throw new Error(`${path}: tensor ${name} has dtype ${e.dtype}; only ${READABLE_DTYPES.join(', ')} are read`);
  const fd = openFile(path);
  try {
    if (fstatSync(fd).size !== header.fileSize) throw new Error(`${path}: file changed size since its header was read`);
    const bytes = new Uint8Array((end - start) * item); // a fresh, aligned buffer
    readExactly(fd, bytes, header.dataStart + e.begin + start * item, path);
    const data = toFloat32(bytes, e.dtype, `${path}: tensor ${name}`);
    if (!opts.allowNonFinite) assertFinite(data, name, path);
    return data;
  } finally {
    closeSync(fd);
  }
}

/** Tensor `name` read from the file (see {@link readSafetensorsElements}). */
export function readSafetensorsTensor(path: string, header: SafetensorsHeader, name: string, opts: ReadOptions = {}): Tensor {
  const e = findEntry(header, name, path);
  return tensor(e.shape, readSafetensorsElements(path, header, name, 0, numel(e.shape), opts));
}

/**
 * Reads a whole safetensors file, each tensor into its own buffer (no copy of the
 * file). `only` selects the tensors to load; the others are still checked in the
 * header but their data is not read.
 */
export function readSafetensors(path: string, opts: ReadOptions & { only?: (name: string) => boolean } = {}): SafetensorsFile {
  const header = readSafetensorsHeader(path);
  const tensors: Record<string, Tensor> = {};
  for (const e of header.entries) {
    if (opts.only && !opts.only(e.name)) continue;
    setOwn(tensors, e.name, readSafetensorsTensor(path, header, e.name, opts));
  }
  return Object.freeze({ header, tensors: Object.freeze(tensors), metadata: header.metadata });
}

// ---------------------------------------------------------------------------
// Writing.

/**
 * A safetensors file as chunks to write one after the other: the length field and
 * header, then each tensor's data as a view (no copy on little-endian hosts).
 * Tensors are written as F32 in the order given; `metadata` (if any) comes first in the header.
 */
export function encodeSafetensorsChunks(tensors: Readonly<Record<string, Tensor>> | readonly (readonly [string, Tensor])[], metadata?: Readonly<Record<string, string>>): Uint8Array[] {
  const list = Array.isArray(tensors) ? (tensors as readonly (readonly [string, Tensor])[]) : Object.entries(tensors as Record<string, Tensor>);
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors metadata ${k} must be a string`);
    }
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) setOwn(meta, k, v);
    header.__metadata__ = meta;
  }
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '' || name === '__metadata__') throw new Error(`invalid safetensors tensor name ${JSON.stringify(name)}`);
    if (Object.prototype.hasOwnProperty.call(header, name)) throw new Error(`duplicate safetensors tensor name ${name}`);
    if (t.data.length !== numel(t.shape)) throw new Error(`tensor ${name}: shape ${showShape(t.shape)} does not match its ${t.data.length} numbers`);
    setOwn(header, name, { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] });
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const head = new Uint8Array(8 + padded).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return [head, ...list.map(([, t]) => float32LEBytes(t.data))];
}

/** A safetensors file of `tensors` (all F32) in one buffer. */
export function encodeSafetensors(tensors: Readonly<Record<string, Tensor>> | readonly (readonly [string, Tensor])[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const chunks = encodeSafetensorsChunks(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
