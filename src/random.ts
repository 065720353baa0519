/**
 * A small seeded pseudo-random generator, so that initialisation, dropout, data
 * shuffling and sampling are reproducible bit for bit on every machine.
 *
 * The generator is splitmix32 (32-bit state, passes the usual statistical tests,
 * trivial to port). It is written functionally: a `Rng` is an immutable value and
 * every draw returns the value *and* the next generator, so no hidden state
 * moves behind a caller's back.
 *
 * @module
 */

/** Immutable generator state. */
export interface Rng {
  readonly state: number;
}

/** Largest seed: the generator's state has 32 bits, so seeds are integers in [0, 2³²). */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * Whether `seed` is a seed that {@link rng} tells apart from every other: an integer in
 * [0, {@link MAX_SEED}]. (`rng` keeps the low 32 bits, so 1e300 would be the same
 * stream as 0; the command line refuses such seeds with this check.)
 */
export function isSeed(seed: number): boolean {
  return Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;
}

/** A generator from an integer seed. */
export function rng(seed: number): Rng {
  return { state: (seed >>> 0) ^ 0x9e3779b9 };
}

/** One uniform draw in [0, 1) and the next generator (splitmix32). */
export function uniform(r: Rng): [number, Rng] {
  const state = (r.state + 0x9e3779b9) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return [z / 4294967296, { state }];
}

/** A generator derived from `r` and a label, for independent named streams (e.g. one per parameter). */
export function fork(r: Rng, label: string): Rng {
  let h = r.state ^ 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return { state: h >>> 0 };
}

/**
 * `n` draws from N(mean, std²) by the Box–Muller transform, as a Float32Array,
 * plus the next generator.
 */
export function normals(r: Rng, n: number, mean = 0, std = 1): [Float32Array, Rng] {
  const out = new Float32Array(n);
  let g = r;
  for (let i = 0; i < n; i += 2) {
    let u1: number, u2: number;
    [u1, g] = uniform(g);
    [u2, g] = uniform(g);
    const radius = Math.sqrt(-2 * Math.log(1 - u1)); // 1 - u1 is in (0, 1]: never log(0)
    out[i] = mean + std * radius * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = mean + std * radius * Math.sin(2 * Math.PI * u2);
  }
  return [out, g];
}

/** `n` uniform draws in [0, 1) as a Float32Array, plus the next generator. */
export function uniforms(r: Rng, n: number): [Float32Array, Rng] {
  const out = new Float32Array(n);
  let g = r;
  for (let i = 0; i < n; i++) {
    let u: number;
    [u, g] = uniform(g);
    out[i] = u;
  }
  return [out, g];
}

/** A uniformly random integer in [0, n) and the next generator. */
export function randint(r: Rng, n: number): [number, Rng] {
  const [u, g] = uniform(r);
  return [Math.floor(u * n), g];
}

/** A shuffled copy of `items` (Fisher–Yates) and the next generator. */
export function shuffle<T>(r: Rng, items: readonly T[]): [T[], Rng] {
  const out = [...items];
  let g = r;
  for (let i = out.length - 1; i > 0; i--) {
    let j: number;
    [j, g] = randint(g, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return [out, g];
}
