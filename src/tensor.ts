/**
 * The one data type of the project: an immutable n-dimensional array of float32.
 *
 * A tensor is a plain readonly record `{ shape, data }` stored row-major (C order,
 * the last axis contiguous), exactly like a float32 `.npy` array or a safetensors
 * tensor, so a porter can map it one-to-one onto NumPy, PyTorch or a C array.
 *
 * Nothing in `src/` writes into the `data` of a tensor it was given: every function
 * returns fresh tensors. TypeScript cannot make a `Float32Array` deeply readonly, so
 * this is a convention that the purity tests in `spec/` check on every module.
 *
 * @module
 */

/** Row-major float32 array with its shape, e.g. `[T, n_embd]`. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Number of elements of a shape: the product of its dimensions (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Formats a shape the way the errors and docs write it: `[3, 768]`. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Wraps `data` (not copied) as a tensor of `shape`.
 * @throws if the data length does not match the shape.
 */
export function tensor(shape: readonly number[], data: Float32Array): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape ${showShape(shape)}: dimensions must be non-negative integers`);
  }
  if (data.length !== numel(shape)) {
    throw new Error(`shape ${showShape(shape)} needs ${numel(shape)} numbers, got ${data.length}`);
  }
  return Object.freeze({ shape: Object.freeze([...shape]), data });
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  return tensor(shape, new Float32Array(numel(shape)));
}

/** A tensor filled with one value. */
export function full(shape: readonly number[], value: number): Tensor {
  return tensor(shape, new Float32Array(numel(shape)).fill(value));
}

/** A tensor from a plain array of numbers (rounded to float32). */
export function fromArray(shape: readonly number[], values: ArrayLike<number>): Tensor {
  return tensor(shape, Float32Array.from(values));
}

/** Same data, another shape with the same number of elements (no copy). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== t.data.length) {
    throw new Error(`cannot reshape ${showShape(t.shape)} to ${showShape(shape)}`);
  }
  return tensor(shape, t.data);
}

/**
 * Throws a one-line error unless `t` has exactly `expected` shape.
 * `what` names the tensor in the message, e.g. `h.0.attn.c_attn.weight`.
 */
export function assertShape(t: Tensor, expected: readonly number[], what: string): void {
  const ok = t.shape.length === expected.length && t.shape.every((d, i) => d === expected[i]);
  if (!ok) throw new Error(`${what} has shape ${showShape(t.shape)}, expected ${showShape(expected)}`);
}

/**
 * Rows `[start, end)` along the first axis, copied into a fresh tensor.
 * For a `[R, C]` matrix this is `t[start:end, :]`.
 */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const rows = t.shape[0];
  if (start < 0 || end > rows || start > end) throw new Error(`row slice [${start}, ${end}) out of range for ${showShape(t.shape)}`);
  const inner = rows === 0 ? 0 : t.data.length / rows;
  return tensor([end - start, ...t.shape.slice(1)], t.data.slice(start * inner, end * inner));
}

/** Concatenates tensors along the first axis (all other dimensions must agree). */
export function concatRows(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new Error('concatRows needs at least one tensor');
  const rest = parts[0].shape.slice(1);
  for (const p of parts) {
    if (p.shape.length !== rest.length + 1 || p.shape.slice(1).some((d, i) => d !== rest[i])) {
      throw new Error(`concatRows: ${showShape(p.shape)} does not match [*, ${rest.join(', ')}]`);
    }
  }
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return tensor([parts.reduce((n, p) => n + p.shape[0], 0), ...rest], out);
}

/** Element-wise `a + b` of two tensors of the same shape (the residual connection). */
export function add(a: Tensor, b: Tensor): Tensor {
  assertShape(b, a.shape, 'add: right operand');
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] + b.data[i];
  return tensor(a.shape, out);
}

/** Element-wise `s * a`. */
export function scale(a: Tensor, s: number): Tensor {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = s * a.data[i];
  return tensor(a.shape, out);
}

/** Maps every element through `f` into a fresh tensor of the same shape. */
export function map(a: Tensor, f: (x: number, i: number) => number): Tensor {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i], i);
  return tensor(a.shape, out);
}

/** True when both tensors have the same shape and bit-identical data. */
export function equal(a: Tensor, b: Tensor): boolean {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  for (let i = 0; i < a.data.length; i++) {
    if (!Object.is(a.data[i], b.data[i])) return false;
  }
  return true;
}
