/**
 * The GPT-1 text encoder: `text_utils.py: TextEncoder` plus the special tokens
 * that `train.py` appends, as plain readonly data and pure functions.
 *
 * ```python
 * class TextEncoder(object):
 *     def __init__(self, encoder_path, bpe_path):
 *         self.nlp = spacy.load('en', disable=['parser', 'tagger', 'ner', 'textcat'])
 *         self.encoder = json.load(open(encoder_path))
 *         self.decoder = {v:k for k,v in self.encoder.items()}
 *         ...
 *     def encode(self, texts, verbose=True):
 *         for text in texts:
 *             text = self.nlp(text_standardize(ftfy.fix_text(text)))
 *             text_tokens = []
 *             for token in text:
 *                 text_tokens.extend([self.encoder.get(t, 0) for t in self.bpe(token.text.lower()).split(' ')])
 *             texts_tokens.append(text_tokens)
 *
 * # train.py
 * encoder['_start_'] = len(encoder)
 * encoder['_delimiter_'] = len(encoder)
 * encoder['_classify_'] = len(encoder)
 * ```
 *
 * With the released vocabulary `len(encoder)` is 40478, so the special tokens are
 * 40478, 40479 and 40480 and the model's token embedding has 40481 rows (plus 512
 * positions). Id 0 is `<unk>`, which every unknown BPE piece maps to; id 40477 is
 * `"\n</w>"`, the newline token.
 *
 * This module holds the pure part (building an encoder from the files' contents,
 * encoding, decoding) and imports nothing Node-only, so a web page can use it;
 * `encoder.ts` adds the loading from a directory.
 *
 * @module
 */

import { bpeRanked, type BpeRanks, isWellOrdered, parseMerges } from './bpe.ts';
import { fixText } from './ftfy.ts';
import { pyStrip } from './python.ts';
import { spacyTokenize } from './spacy.ts';
import { textStandardize } from './standardize.ts';

/** The fine-tuning tokens of `train.py`, in the order their ids are assigned. */
export const SPECIAL_TOKENS = ['_start_', '_delimiter_', '_classify_'] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

/**
 * Everything `TextEncoder` holds, as readonly data. Nothing in this module
 * mutates one; the `Map`s are typed readonly by convention, as `Tensor.data` is.
 */
export interface GptTextEncoder {
  /** `self.encoder`: BPE piece → id, exactly the vocabulary file (40478 entries). */
  readonly encoder: ReadonlyMap<string, number>;
  /** `self.decoder` and the special tokens: id → piece, for ids 0 … vocabSize-1. */
  readonly decoder: readonly string[];
  /** `self.bpe_ranks`, keyed `first + ' ' + second` (see `bpe.ts`). */
  readonly bpeRanks: BpeRanks;
  /** `n_vocab` in `train.py`: `len(encoder)` before the special tokens (40478). */
  readonly nVocab: number;
  /** Ids of `_start_`, `_delimiter_`, `_classify_`: `nVocab`, `nVocab + 1`, `nVocab + 2`. */
  readonly specialTokens: Readonly<Record<SpecialToken, number>>;
  /** `nVocab + 3`: rows of the token embedding used for fine-tuning (40481). */
  readonly vocabSize: number;
  /** Whether the merges allow the fast BPE (`isWellOrdered`); results never depend on it. */
  readonly wellOrdered: boolean;
  /** Where it was loaded from, for messages. */
  readonly source: string;
}

/**
 * File names a vocabulary directory may use, tried in this order: the original
 * release (`encoder_bpe_40000.json` + `vocab_40000.bpe`), this project's
 * `writeVocab` output (`encoder.json` + `merges.txt`), Hugging Face
 * (`vocab.json` + `merges.txt`) and the GPT-2 naming (`encoder.json` + `vocab.bpe`).
 */
export const VOCAB_FILE_NAMES: readonly (readonly [encoder: string, merges: string])[] = [
  ['encoder_bpe_40000.json', 'vocab_40000.bpe'],
  ['encoder.json', 'merges.txt'],
  ['vocab.json', 'merges.txt'],
  ['encoder.json', 'vocab.bpe'],
];

/** The original's naming for a vocabulary of N merges: `encoder_bpe_<N>.json` + `vocab_<N>.bpe` (the release has N = 40000). */
export function originalVocabNames(merges: number): readonly [encoder: string, merges: string] {
  return [`encoder_bpe_${merges}.json`, `vocab_${merges}.bpe`];
}

/**
 * The vocabulary file pair among `files`: the first of {@link VOCAB_FILE_NAMES} present,
 * else the original's naming with any merge count (`encoder_bpe_1000.json` +
 * `vocab_1000.bpe`, as `gpt1 bpe learn` writes it).
 */
export function findVocabNames(files: ReadonlySet<string>): readonly [string, string] | undefined {
  const fixed = VOCAB_FILE_NAMES.find(([e, m]) => files.has(e) && files.has(m));
  if (fixed !== undefined) return fixed;
  for (const f of [...files].sort()) {
    const n = /^encoder_bpe_(\d+)\.json$/.exec(f)?.[1];
    if (n !== undefined && files.has(`vocab_${n}.bpe`)) return [f, `vocab_${n}.bpe`];
  }
  return undefined;
}

/**
 * Builds a text encoder from the contents of the two files: the JSON object
 * `piece → id` and the merges text. Special tokens get ids `len(encoder) + k` as in
 * `train.py`. Throws a one-line error, naming `source` (the encoder) or
 * `mergesSource`, if the data is malformed.
 */
export function textEncoderFromData(vocab: unknown, mergesText: string, source = 'vocabulary', mergesSource = source): GptTextEncoder {
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw new Error(`${source}: the encoder must be a JSON object mapping BPE pieces to ids`);
  }
  const encoder = new Map<string, number>();
  const decoder: string[] = [];
  for (const [piece, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`${source}: id of ${JSON.stringify(piece)} must be a non-negative integer, got ${JSON.stringify(id)}`);
    }
    if (decoder[id] !== undefined) {
      throw new Error(`${source}: id ${id} is used by both ${JSON.stringify(decoder[id])} and ${JSON.stringify(piece)}`);
    }
    encoder.set(piece, id);
    decoder[id] = piece;
  }
  const nVocab = encoder.size;
  const specialTokens = {} as Record<SpecialToken, number>;
  SPECIAL_TOKENS.forEach((tok, k) => {
    const id = nVocab + k;
    if (decoder[id] !== undefined) {
      throw new Error(`${source}: special token ${tok} would get id ${id} (len(encoder) + ${k}), which ${JSON.stringify(decoder[id])} already has`);
    }
    decoder[id] = tok;
    specialTokens[tok] = id;
  });
  const bpeRanks = parseMerges(mergesText, mergesSource);
  return Object.freeze({
    encoder,
    decoder: Object.freeze(decoder),
    bpeRanks,
    nVocab,
    specialTokens: Object.freeze(specialTokens),
    vocabSize: nVocab + SPECIAL_TOKENS.length,
    wellOrdered: isWellOrdered(bpeRanks),
    source,
  });
}

/**
 * The pre-tokenization of `TextEncoder.encode`: `ftfy.fix_text`, `text_standardize`,
 * spaCy's tokenizer, then `token.text.lower()` of every token.
 *
 * @example pretokenize("I'm sure, Mr. Smith.") // ['i', "'m", 'sure', ',', 'mr.', 'smith', '.']
 */
export function pretokenize(text: string): string[] {
  return spacyTokenize(textStandardize(fixText(text))).map((t) => t.toLowerCase());
}

/**
 * Internal memo for {@link bpe}, one per encoder, the counterpart of
 * `TextEncoder.cache`. `bpeUncached` is a pure function of (encoder, token), so
 * the memo cannot change a result (a property test checks this); it is emptied
 * when it grows large.
 */
const bpeMemo = new WeakMap<GptTextEncoder, Map<string, string>>();
const BPE_MEMO_LIMIT = 200_000;

/** `TextEncoder.bpe` without any cache. */
export function bpeUncached(enc: GptTextEncoder, token: string): string {
  return bpeRanked(enc.bpeRanks, token, enc.wellOrdered);
}

/**
 * `TextEncoder.bpe(token)`: the BPE pieces of one (lower-cased) token, joined
 * with spaces; the last piece ends in `</w>`.
 *
 * @example bpe(enc, 'president') === 'president</w>'
 * @example bpe(enc, '\n ') === '\n</w>'
 */
export function bpe(enc: GptTextEncoder, token: string): string {
  let memo = bpeMemo.get(enc);
  if (memo === undefined) {
    memo = new Map();
    bpeMemo.set(enc, memo);
  }
  let out = memo.get(token);
  if (out === undefined) {
    out = bpeUncached(enc, token);
    if (memo.size >= BPE_MEMO_LIMIT) memo.clear();
    memo.set(token, out);
  }
  return out;
}

/**
 * The BPE pieces of one text, in order: `self.bpe(token.text.lower()).split(' ')`
 * for every token of {@link pretokenize}. {@link encode} looks each one up in the
 * vocabulary; a caller that must show the pieces, or refuse unknown ones, starts here.
 *
 * @example bpePieces(enc, 'the president is') // ['the</w>', 'president</w>', 'is</w>']
 */
export function bpePieces(enc: GptTextEncoder, text: string): string[] {
  const pieces: string[] = [];
  for (const token of pretokenize(text)) {
    for (const piece of bpe(enc, token).split(' ')) pieces.push(piece);
  }
  return pieces;
}

/**
 * `TextEncoder.encode([text])[0]`: the token ids of one text. Pieces missing from
 * the vocabulary become 0 (`<unk>`), as `self.encoder.get(t, 0)` does.
 *
 * @example encode(enc, 'the president is') // [481, 4735, 544]
 */
export function encode(enc: GptTextEncoder, text: string): number[] {
  return bpePieces(enc, text).map((piece) => enc.encoder.get(piece) ?? 0);
}

/** `TextEncoder.encode(texts)`: one id list per text. */
export function encodeBatch(enc: GptTextEncoder, texts: Iterable<string>): number[][] {
  return Array.from(texts, (t) => encode(enc, t));
}

/** The piece of every id (`self.decoder[id]`, or the special token's name). */
export function idsToTokens(enc: GptTextEncoder, ids: Iterable<number>): string[] {
  return Array.from(ids, (id) => {
    const piece = Number.isInteger(id) ? enc.decoder[id] : undefined;
    if (piece === undefined) throw new Error(`decode: unknown token id ${id} (vocabulary has ids 0..${enc.vocabSize - 1})`);
    return piece;
  });
}

/**
 * Hugging Face's `clean_up_tokenization`: glue punctuation and contractions back
 * onto the previous word (`" ."` → `"."`, `" n't"` → `"n't"`, ...).
 */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Options of {@link decode}. */
export interface DecodeOptions {
  /** Only join the pieces and turn `</w>` into a space: no strip, no clean-up. */
  readonly raw?: boolean;
}

/**
 * Ids back to text. The original repository has no decoder; this is the usual
 * one (Hugging Face `OpenAIGPTTokenizer.decode`): join the pieces, `</w>` → space,
 * strip, then {@link cleanUpTokenization}. It cannot restore case or the exact
 * spacing, so it is not an inverse of {@link encode} (see `docs/tokenizer.md`).
 *
 * @example decode(enc, [481, 4735, 544]) === 'the president is'
 */
export function decode(enc: GptTextEncoder, ids: Iterable<number>, opts: DecodeOptions = {}): string {
  const text = idsToTokens(enc, ids).join('').replaceAll('</w>', ' ');
  return opts.raw ? text : cleanUpTokenization(pyStrip(text));
}
