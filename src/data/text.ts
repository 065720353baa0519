/**
 * Small text utilities shared by the data loaders: ASCII folding, whitespace
 * collapsing, truncation at a word boundary, and a word-shingle index that finds
 * near-duplicates, used to keep held-out examples out of the pre-training text.
 *
 * @module
 */

const PUNCTUATION: Readonly<Record<string, string>> = Object.freeze({
  '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'",
  '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u201f': '"', '\u2033': '"',
  '\u00ab': '"', '\u00bb': '"', '\u2039': "'", '\u203a': "'",
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-',
  '\u2026': '...', '\u2022': '*', '\u00b7': '*', '\u00a0': ' ', '\u00ad': '',
  '\u00a9': '(c)', '\u00ae': '(R)', '\u2122': '(TM)', '\u00a3': 'GBP', '\u20ac': 'EUR',
  '\u00d7': 'x', '\u00f7': '/', '\u00bd': '1/2', '\u00bc': '1/4', '\u00be': '3/4', '\u00b0': ' deg',
});

/**
 * Folds text to printable ASCII: typographic quotes and dashes become their ASCII
 * forms, accented letters lose their accents (NFKD then combining marks dropped),
 * tabs and line breaks become spaces, and every other non-ASCII or control character
 * is dropped.
 */
export function toAscii(text: string): string {
  const mapped = text.replace(/[^\x00-\x7f]/g, (c) => PUNCTUATION[c] ?? c.normalize('NFKD'));
  return mapped.replace(/[\t\n\r\f\v]/g, ' ').replace(/[^\x20-\x7e]/g, '');
}

/** Collapses every run of whitespace to one space and trims the ends. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The first `maxChars` characters of `text`, cut back to the last space if one lies in
 * the final fifth (so that a word is not split), without trailing whitespace: always a
 * prefix of `text`.
 */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return (space >= maxChars * 0.8 ? cut.slice(0, space) : cut).trimEnd();
}

/** Lower-case alphanumeric words of `text`: the unit of {@link shingles}. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/**
 * The set of word `n`-grams of `text` (lower-cased alphanumeric words joined by
 * spaces). A text of fewer than `n` words (but at least one) has one shingle: all of it.
 */
export function shingles(text: string, n: number): Set<string> {
  const w = words(text);
  const out = new Set<string>();
  if (w.length === 0) return out;
  if (w.length < n) {
    out.add(w.join(' '));
    return out;
  }
  for (let i = 0; i + n <= w.length; i++) out.add(w.slice(i, i + n).join(' '));
  return out;
}

/**
 * A near-duplicate detector over a growing collection of texts, by word-shingle
 * containment: a query *matches* when it holds at least `threshold` of the shingles
 * of some indexed text, or when some indexed text holds at least `threshold` of the
 * query's shingles. With threshold 1 this is (word-level) containment either way;
 * the default 0.5 also catches templated spam that differs in a name or a number.
 *
 * This is a local accumulator: {@link NearDuplicateIndex.add} changes the index. The
 * functions of this project that use one create it themselves and never return it or
 * keep it past their own call, so no state outlives a call.
 */
export interface NearDuplicateIndex {
  /** Word n-gram length. */
  readonly n: number;
  /** Fraction of shingles that must be shared for a match. */
  readonly threshold: number;
  /** Number of texts indexed so far. */
  size(): number;
  /** Indexes `text` (in place). */
  add(text: string): void;
  /** Whether `text` is a near-duplicate of (contains, or is contained in) some indexed text. */
  matches(text: string): boolean;
}

/** A new, empty {@link NearDuplicateIndex}. Defaults: 5-word shingles, threshold 0.5. */
export function nearDuplicateIndex(n = 5, threshold = 0.5): NearDuplicateIndex {
  const postings = new Map<string, number[]>();
  const sizes: number[] = [];
  /** Lengths below `n` of indexed texts: a query must offer k-grams of these lengths too. */
  const shortLengths = new Set<number>();
  return {
    n,
    threshold,
    size: () => sizes.length,
    add(text: string): void {
      const own = shingles(text, n);
      const id = sizes.length;
      sizes.push(own.size);
      const len = words(text).length;
      if (len > 0 && len < n) shortLengths.add(len);
      for (const s of own) {
        const list = postings.get(s);
        if (list === undefined) postings.set(s, [id]);
        else list.push(id);
      }
    },
    matches(text: string): boolean {
      if (sizes.length === 0) return false;
      const w = words(text);
      const own = shingles(text, n);
      // The query covers an indexed text: count, per indexed text, the shingles of it the query holds.
      const hits = new Map<number, number>();
      const count = (s: string): void => {
        for (const id of postings.get(s) ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
      };
      for (const s of own) count(s);
      for (const k of shortLengths) {
        if (k >= w.length) continue; // a text this short is its own single shingle, counted above
        const seen = new Set<string>();
        for (let i = 0; i + k <= w.length; i++) seen.add(w.slice(i, i + k).join(' '));
        for (const s of seen) count(s);
      }
      for (const [id, h] of hits) if (sizes[id] > 0 && h >= threshold * sizes[id]) return true;
      // An indexed text covers the query: the query's own shingles found in one indexed text.
      // Every indexed text sharing a shingle with the query was counted in `hits`, but
      // short-length k-grams there are not the query's own shingles, so count again.
      if (own.size === 0) return false;
      const back = new Map<number, number>();
      for (const s of own) for (const id of postings.get(s) ?? []) back.set(id, (back.get(id) ?? 0) + 1);
      for (const h of back.values()) if (h >= threshold * own.size) return true;
      return false;
    },
  };
}
