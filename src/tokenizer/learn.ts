/**
 * Learning a BPE vocabulary in the format of the GPT-1 release.
 *
 * OpenAI did not publish how `encoder_bpe_40000.json` and `vocab_40000.bpe` were
 * made, but the files say a lot: the merges file has subword-nmt's
 * `#version: 0.2` header and its `</w>` end-of-word convention (Sennrich et al.
 * 2016, `learn_bpe.py`), and the encoder lists, in this order,
 *
 * 1. `<unk>` (id 0, what unknown pieces map to);
 * 2. the base characters — in the order in which they first occur when the
 *    vocabulary is read from the most frequent word down (`.` `,` from the
 *    punctuation tokens, then `t h e` from "the", `"`, `o` from "to", `a n d`, ...);
 * 3. the same characters with `</w>`, in the same order;
 * 4. the product of every merge, in merge order (id = 2·#chars + 1 + rank);
 * 5. `\n</w>`, the newline token that `TextEncoder.bpe` special-cases.
 *
 * {@link learnBpe} reproduces that layout. Learning is subword-nmt's algorithm on
 * the words produced by the GPT-1 pre-tokenization (`fixText`, `textStandardize`,
 * spaCy's tokenizer, lower-case): each word is a sequence of symbols, one per
 * character, `</w>` glued to the last; repeatedly, the most frequent adjacent
 * pair (counted over all word occurrences) is merged everywhere, left to right.
 * Pair counts are kept up to date incrementally — only the words that contain
 * the merged pair are revisited — and the best pair is found with a lazy
 * max-heap, so each merge costs time proportional to what it changes.
 *
 * **Tie-break.** Among pairs of equal count, the largest pair `(first, second)`
 * in Python's tuple order (code point by code point) wins — subword-nmt's
 * `max(stats, key=lambda x: (stats[x], x))`. The result is deterministic and
 * independent of iteration order.
 *
 * @module
 */

import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.ts';
import { join } from 'node:path';
import { pairKey } from './bpe.ts';
import { pretokenize } from './encoder.ts';
import { isPySpace, pyComparePair } from './python.ts';

/** Options of {@link learnBpe}. */
export interface LearnBpeOptions {
  /** Stop early when the best pair occurs fewer times than this (subword-nmt's default: 2). */
  readonly minFrequency?: number;
}

/** A learned vocabulary: the two files of a vocabulary directory, as data. */
export interface LearnedVocab {
  /** Piece → id, in the release's layout (see the module notes). */
  readonly encoder: Readonly<Record<string, number>>;
  /** The merges in order: `merges[r]` has rank `r`. */
  readonly merges: readonly (readonly [string, string])[];
}

/**
 * Word frequencies of a corpus under the GPT-1 pre-tokenization, most frequent
 * first (ties: first occurrence first). Whitespace tokens (the newline token
 * `'\n '`) are not words and are left out.
 */
export function wordCounts(texts: Iterable<string>): [string, number][] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const token of pretokenize(text)) {
      if ([...token].some(isPySpace)) continue;
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
  }
  // Array.prototype.sort is stable: equal counts keep first-occurrence order.
  return [...counts].sort((a, b) => b[1] - a[1]);
}

interface Candidate {
  readonly count: number;
  readonly first: string;
  readonly second: string;
}

/** Max-heap order: higher count first, then the larger pair in Python order. */
function better(x: Candidate, y: Candidate): boolean {
  return x.count !== y.count ? x.count > y.count : pyComparePair(x.first, x.second, y.first, y.second) > 0;
}

/** Pushes onto a binary max-heap of candidates (stale entries are skipped on pop). */
function heapPush(heap: Candidate[], c: Candidate): void {
  heap.push(c);
  for (let i = heap.length - 1; i > 0;) {
    const p = (i - 1) >> 1;
    if (!better(heap[i], heap[p])) break;
    [heap[i], heap[p]] = [heap[p], heap[i]];
    i = p;
  }
}

/** Removes and returns the best candidate of a non-empty heap. */
function heapPop(heap: Candidate[]): Candidate {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && better(heap[l], heap[m])) m = l;
      if (r < heap.length && better(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
  return top;
}

/** Merges every occurrence of `(first, second)` in a word, left to right (as `TextEncoder.bpe`). */
function mergeWord(word: readonly string[], first: string, second: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) {
    if (word[i] === first && i + 1 < word.length && word[i + 1] === second) {
      out.push(first + second);
      i++;
    } else {
      out.push(word[i]);
    }
  }
  return out;
}

/** Adjacent-pair occurrence counts of one word (not weighted by its frequency). */
function pairCounts(word: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + 1 < word.length; i++) {
    const k = pairKey(word[i], word[i + 1]);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/**
 * Learns up to `numMerges` BPE merges from `texts` and returns the vocabulary in
 * the GPT-1 release's layout. Deterministic: the same texts in the same order
 * give the same vocabulary.
 *
 * @example
 * const vocab = learnBpe(['the cat sat on the mat.'], 10);
 * writeVocab('out/my-vocab', vocab);
 * const enc = loadEncoder('out/my-vocab');
 */
export function learnBpe(texts: Iterable<string>, numMerges: number, opts: LearnBpeOptions = {}): LearnedVocab {
  if (!Number.isInteger(numMerges) || numMerges < 0) throw new Error(`learnBpe: numMerges must be a non-negative integer, got ${numMerges}`);
  const minFrequency = opts.minFrequency ?? 2;
  const vocab = wordCounts(texts);

  const words: string[][] = vocab.map(([w]) => {
    const symbols = Array.from(w);
    symbols[symbols.length - 1] += '</w>';
    return symbols;
  });
  const freq = vocab.map(([, c]) => c);

  // Pair statistics: total count, and which words contain the pair.
  const stats = new Map<string, number>();
  const where = new Map<string, Set<number>>();
  words.forEach((word, w) => {
    for (const [k, n] of pairCounts(word)) {
      stats.set(k, (stats.get(k) ?? 0) + n * freq[w]);
      let set = where.get(k);
      if (set === undefined) where.set(k, (set = new Set()));
      set.add(w);
    }
  });
  const heap: Candidate[] = [];
  const offer = (k: string) => {
    const count = stats.get(k) ?? 0;
    if (count <= 0) return;
    const sp = k.indexOf(' ');
    heapPush(heap, { count, first: k.slice(0, sp), second: k.slice(sp + 1) });
  };
  for (const k of stats.keys()) offer(k);

  const merges: [string, string][] = [];
  while (merges.length < numMerges && heap.length > 0) {
    const best = heapPop(heap);
    const key = pairKey(best.first, best.second);
    if (stats.get(key) !== best.count) continue; // stale
    if (best.count < minFrequency) break;
    merges.push([best.first, best.second]);
    const changed = new Set<string>();
    for (const w of [...(where.get(key) ?? [])].sort((a, b) => a - b)) {
      const before = pairCounts(words[w]);
      const merged = mergeWord(words[w], best.first, best.second);
      const after = pairCounts(merged);
      words[w] = merged;
      for (const [k, n] of before) {
        stats.set(k, stats.get(k)! - n * freq[w]);
        changed.add(k);
        if (!after.has(k)) where.get(k)!.delete(w);
      }
      for (const [k, n] of after) {
        stats.set(k, (stats.get(k) ?? 0) + n * freq[w]);
        changed.add(k);
        let set = where.get(k);
        if (set === undefined) where.set(k, (set = new Set()));
        set.add(w);
      }
    }
    for (const k of changed) {
      if (stats.get(k) === 0) { stats.delete(k); where.delete(k); } else offer(k);
    }
  }

  // The encoder, in the release's layout.
  const encoder: Record<string, number> = Object.create(null);
  let nextId = 0;
  const add = (piece: string) => {
    if (!(piece in encoder)) encoder[piece] = nextId++;
  };
  add('<unk>');
  const chars: string[] = [];
  const seen = new Set<string>();
  for (const [w] of vocab) {
    for (const c of w) {
      if (!seen.has(c)) { seen.add(c); chars.push(c); }
    }
  }
  chars.forEach(add);
  chars.forEach((c) => add(`${c}</w>`));
  for (const [a, b] of merges) add(a + b); // a product seen before keeps its first id
  add('\n</w>');
  return Object.freeze({ encoder: Object.freeze(encoder), merges: Object.freeze(merges.map((m) => Object.freeze(m))) });
}

/** The merges file text: `#version: 0.2`, one `first second` line per merge, final newline. */
export function mergesText(merges: readonly (readonly [string, string])[]): string {
  return ['#version: 0.2\n', ...merges.map(([a, b]) => `${a} ${b}\n`)].join('');
}

/** The encoder file text: a JSON object written in id order, like the release's. */
export function encoderJson(encoder: Readonly<Record<string, number>>): string {
  const entries = Object.entries(encoder).sort((x, y) => x[1] - y[1]);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`;
}

/**
 * Writes a vocabulary directory: `encoder.json` and `merges.txt`
 * (first line `#version: 0.2`). `loadEncoder(dir)` reads it back. Each file is
 * written atomically (`writeFileAtomic`), so a crash never leaves a partial one.
 */
export function writeVocab(dir: string, vocab: LearnedVocab): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'encoder.json'), encoderJson(vocab.encoder));
  writeFileAtomic(join(dir, 'merges.txt'), mergesText(vocab.merges));
}
