/**
 * Byte-pair encoding of one token, `text_utils.py: TextEncoder.bpe`.
 *
 * A token (one lower-cased spaCy token) is written as a tuple of symbols, one per
 * character, with `</w>` glued to the last one; then, as long as some adjacent
 * pair of symbols appears in the merges file, the pair with the lowest rank
 * (earliest line) is merged everywhere in the word, left to right. The result is
 * the symbols joined with spaces:
 *
 * ```python
 * def bpe(self, token):
 *     word = tuple(token[:-1]) + ( token[-1] + '</w>',)
 *     if token in self.cache:
 *         return self.cache[token]
 *     pairs = get_pairs(word)
 *     if not pairs:
 *         return token+'</w>'
 *     while True:
 *         bigram = min(pairs, key = lambda pair: self.bpe_ranks.get(pair, float('inf')))
 *         if bigram not in self.bpe_ranks:
 *             break
 *         first, second = bigram
 *         new_word = []
 *         i = 0
 *         while i < len(word):
 *             try:
 *                 j = word.index(first, i)
 *                 new_word.extend(word[i:j])
 *                 i = j
 *             except:
 *                 new_word.extend(word[i:])
 *                 break
 *             if word[i] == first and i < len(word)-1 and word[i+1] == second:
 *                 new_word.append(first+second)
 *                 i += 2
 *             else:
 *                 new_word.append(word[i])
 *                 i += 1
 *         new_word = tuple(new_word)
 *         word = new_word
 *         if len(word) == 1:
 *             break
 *         else:
 *             pairs = get_pairs(word)
 *     word = ' '.join(word)
 *     if word == '\n  </w>':
 *         word = '\n</w>'
 *     self.cache[token] = word
 *     return word
 * ```
 *
 * {@link bpeReference} is that loop, transcribed. It costs O(n²) on a word of n
 * characters, so {@link bpeRanked} computes the same result with a priority queue
 * in O(n log n); see {@link isWellOrdered} for why the results agree.
 *
 * @module
 */

import { PY_WS, pySplit } from './python.ts';

/** Python whitespace other than the plain space. */
const OTHER_WS = new RegExp(`[${PY_WS.replace(' ', '')}]`);

/**
 * Merge ranks: the pair `(a, b)` is stored under the key `a + ' ' + b`, with its
 * 0-based line number in the merges file after the `#version` line.
 *
 * The key is unambiguous because symbols in a merges file never contain
 * whitespace (each line is split on whitespace): a key with exactly one space
 * names exactly one pair, and a pair with a space inside a symbol (possible only
 * for the whitespace token `'\n '`) is never found.
 */
export type BpeRanks = ReadonlyMap<string, number>;

/** The map key of the pair `(a, b)`. */
export function pairKey(a: string, b: string): string {
  return `${a} ${b}`;
}

/**
 * `text_utils.py: get_pairs`: the set of adjacent symbol pairs of a word, e.g.
 * `['t', 'h', 'e</w>']` → `[['t', 'h'], ['h', 'e</w>']]` (each pair once).
 */
export function getPairs(word: readonly string[]): [string, string][] {
  const seen = new Set<string>();
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < word.length; i++) {
    const key = pairKey(word[i], word[i + 1]);
    if (!seen.has(key)) {
      seen.add(key);
      pairs.push([word[i], word[i + 1]]);
    }
  }
  return pairs;
}

/**
 * Parses a merges file (`vocab_40000.bpe`, `merges.txt`) the way `TextEncoder.__init__`
 * does:
 *
 * ```python
 * merges = open(bpe_path).read().split('\n')[1:-1]
 * merges = [tuple(merge.split()) for merge in merges]
 * self.bpe_ranks = dict(zip(merges, range(len(merges))))
 * ```
 *
 * The first line (`#version: 0.2`) and everything after the last newline are
 * dropped; a pair listed twice keeps its later rank. Python's universal-newline
 * reading is reproduced (`\r\n` and `\r` count as `\n`). Unlike the original, a
 * file that does not start with `#version` or has a line that is not exactly two
 * symbols is rejected with a one-line error naming `source`.
 */
export function parseMerges(text: string, source = 'merges'): Map<string, number> {
  const lines = text.replace(/^\ufeff/, '').replace(/\r\n?/g, '\n').split('\n');
  if (!lines[0].startsWith('#version')) {
    throw new Error(`${source}: not a BPE merges file: the first line must be a "#version" header, found ${JSON.stringify(lines[0].slice(0, 40))}`);
  }
  const ranks = new Map<string, number>();
  const body = lines.slice(1, -1);
  body.forEach((line, rank) => {
    const sp = line.indexOf(' ');
    const parts = sp > 0 && line.indexOf(' ', sp + 1) === -1 && sp < line.length - 1 && !OTHER_WS.test(line)
      ? [line.slice(0, sp), line.slice(sp + 1)] // the usual "a b" line, without the general split
      : pySplit(line);
    if (parts.length !== 2) {
      throw new Error(`${source}: line ${rank + 2} should be two symbols separated by a space, found ${JSON.stringify(line.slice(0, 60))}`);
    }
    ranks.set(pairKey(parts[0], parts[1]), rank);
  });
  return ranks;
}

/**
 * True when every merge's two symbols were produced (if at all) only by merges of
 * lower rank — true of any merges file that BPE learning wrote, including the
 * GPT-1 release (checked in the tests). Then merging one occurrence of the
 * current best pair never creates a pair that ranks lower still, so merging
 * occurrences one at a time in (rank, position) order — what {@link bpeRanked}
 * does — performs exactly the merges of the original loop, which merges every
 * occurrence of the best pair left to right before looking again.
 */
export function isWellOrdered(ranks: BpeRanks): boolean {
  const producedAt = new Map<string, number>();
  for (const [key, rank] of ranks) {
    const sp = key.indexOf(' ');
    const product = key.slice(0, sp) + key.slice(sp + 1);
    producedAt.set(product, Math.max(rank, producedAt.get(product) ?? -1));
  }
  for (const [key, rank] of ranks) {
    const sp = key.indexOf(' ');
    const a = producedAt.get(key.slice(0, sp));
    const b = producedAt.get(key.slice(sp + 1));
    if ((a !== undefined && a >= rank) || (b !== undefined && b >= rank)) return false;
  }
  return true;
}

/** The initial symbols of a token: its code points, `</w>` glued to the last. */
function initialWord(token: string): string[] {
  if (token === '') throw new Error('bpe: empty token (the original raises IndexError on token[-1])');
  const word = Array.from(token);
  word[word.length - 1] += '</w>';
  return word;
}

/** The final step of `TextEncoder.bpe`: join, and the newline special case. */
function finish(word: readonly string[]): string {
  const joined = word.join(' ');
  return joined === '\n  </w>' ? '\n</w>' : joined;
}

/** `TextEncoder.bpe`, transcribed loop for loop (without the cache). O(n²) per word. */
export function bpeReference(ranks: BpeRanks, token: string): string {
  let word = initialWord(token);
  let pairs = getPairs(word);
  if (pairs.length === 0) return token + '</w>';
  for (;;) {
    let bigram: [string, string] | undefined;
    let best = Infinity;
    for (const [a, b] of pairs) {
      const r = ranks.get(pairKey(a, b)) ?? Infinity;
      if (r < best) { best = r; bigram = [a, b]; }
    }
    if (bigram === undefined) break;
    const [first, second] = bigram;
    const newWord: string[] = [];
    let i = 0;
    while (i < word.length) {
      const j = word.indexOf(first, i);
      if (j === -1) {
        newWord.push(...word.slice(i));
        break;
      }
      newWord.push(...word.slice(i, j));
      i = j;
      if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
        newWord.push(first + second);
        i += 2;
      } else {
        newWord.push(word[i]);
        i += 1;
      }
    }
    word = newWord;
    if (word.length === 1) break;
    pairs = getPairs(word);
  }
  return finish(word);
}

/**
 * `TextEncoder.bpe` in O(n log n): the symbols form a linked list, and a binary
 * heap holds candidate merges keyed by (rank, position). Popping the smallest,
 * checking it is still current, merging, and queueing the two new neighbour
 * pairs gives the same result as {@link bpeReference} whenever the merges are
 * {@link isWellOrdered}; otherwise this falls back to the reference loop.
 */
export function bpeRanked(ranks: BpeRanks, token: string, wellOrdered: boolean): string {
  const word = initialWord(token);
  const n = word.length;
  if (n === 1) return token + '</w>';
  if (!wellOrdered || n <= 3) return bpeReference(ranks, token);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
  const heap: number[] = []; // keys rank * n + position, a min-heap
  const push = (key: number) => {
    heap.push(key);
    for (let c = heap.length - 1; c > 0;) {
      const p = (c - 1) >> 1;
      if (heap[p] <= heap[c]) break;
      [heap[p], heap[c]] = [heap[c], heap[p]];
      c = p;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let p = 0; ;) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < heap.length && heap[l] < heap[m]) m = l;
        if (r < heap.length && heap[r] < heap[m]) m = r;
        if (m === p) break;
        [heap[p], heap[m]] = [heap[m], heap[p]];
        p = m;
      }
    }
    return top;
  };
  const queue = (i: number) => {
    const j = next[i];
    if (i < 0 || j < 0) return;
    const r = ranks.get(pairKey(word[i], word[j]));
    if (r !== undefined) push(r * n + i);
  };
  for (let i = 0; i + 1 < n; i++) queue(i);
  while (heap.length > 0) {
    const key = pop();
    const i = key % n;
    const rank = (key - i) / n;
    const j = next[i];
    if (!alive[i] || j < 0 || ranks.get(pairKey(word[i], word[j])) !== rank) continue; // stale entry
    word[i] += word[j];
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    queue(prev[i]);
    queue(i);
  }
  const out: string[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(word[i]);
  return finish(out);
}
