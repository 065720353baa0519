/**
 * The few Python string semantics that the original tokenizer depends on.
 *
 * `text_utils.py`, `utils.py`, ftfy and spaCy all run on Python 3 `str`, which
 * differs from a JavaScript string in three ways that change results:
 *
 * 1. **Whitespace.** Python's `str.isspace()`, `str.strip()`, `str.split()` and the
 *    `\s` of `re` all use one set of 29 code points; JavaScript's `\s` and `trim()`
 *    use a different one (it adds U+FEFF and lacks U+001C–U+001F and U+0085).
 * 2. **Length and indexing** count code points in Python, UTF-16 code units in
 *    JavaScript. `tuple(token)` in `TextEncoder.bpe` splits a token into code points.
 * 3. **Ordering.** Python compares strings by code point; JavaScript's `<` compares
 *    UTF-16 code units, which sorts U+E000–U+FFFF after astral characters.
 *
 * Lower-casing (`str.lower()` / `toLowerCase()`) agrees on every code point that both
 * Unicode databases know: the only differences are characters newer than the
 * Python that ran (checked against Python 3.11 / Unicode 14).
 *
 * @module
 */

/**
 * The body of a regex character class matching exactly Python's whitespace
 * (`str.isspace()`, and `\s` in a `re` str pattern): tab, LF, VT, FF, CR,
 * U+001C–U+001F, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000.
 */
export const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const IS_SPACE = new RegExp(`^[${PY_WS}]$`);
const WS_RUNS = new RegExp(`[${PY_WS}]+`);

/** Python `ch.isspace()` for a single character. */
export function isPySpace(ch: string): boolean {
  return IS_SPACE.test(ch);
}

/**
 * Python `s.strip()`: removes leading and trailing Python whitespace.
 *
 * Linear time: it walks inwards from both ends. (The regex `[\s]+$` would be
 * quadratic: it starts a match at every space of an inner run and fails at its end.)
 */
export function pyStrip(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && IS_SPACE.test(s[i])) i++;
  while (j > i && IS_SPACE.test(s[j - 1])) j--;
  return i === 0 && j === s.length ? s : s.slice(i, j);
}

/** Python `s.split()` without arguments: split on runs of whitespace, no empty fields. */
export function pySplit(s: string): string[] {
  const t = pyStrip(s);
  return t === '' ? [] : t.split(WS_RUNS);
}

/** Number of code points, Python's `len(s)`. */
export function pyLen(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n--; i++; }
    }
  }
  return n;
}

/**
 * Python's string comparison: lexicographic by code point. Returns a negative
 * number, zero or a positive number like `Array.prototype.sort` expects.
 */
export function pyCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j);
}

/**
 * The pairwise ordering of Python tuples of strings, `(a1, b1) < (a2, b2)`.
 */
export function pyComparePair(a1: string, b1: string, a2: string, b2: string): number {
  return pyCompare(a1, a2) || pyCompare(b1, b2);
}
