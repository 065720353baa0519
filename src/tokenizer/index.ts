/**
 * The GPT-1 tokenizer: the original `text_utils.py: TextEncoder` in TypeScript,
 * and BPE learning in the same format.
 *
 * ```ts
 * import { loadEncoder, encode, decode } from './tokenizer/index.ts';
 * const enc = loadEncoder();               // the released 40,000-merge vocabulary
 * encode(enc, 'the president is');         // [481, 4735, 544]
 * decode(enc, [481, 4735, 544]);           // 'the president is'
 * enc.specialTokens;                       // { _start_: 40478, _delimiter_: 40479, _classify_: 40480 }
 * ```
 *
 * The pipeline, one module per step (see `docs/tokenizer.md`):
 * `ftfy.ts` (`ftfy.fix_text`) → `standardize.ts` (`text_standardize`) →
 * `spacy.ts` (spaCy 2's English tokenizer) → lower-case → `bpe.ts`
 * (`TextEncoder.bpe`) → ids (`text-encoder.ts`; `encoder.ts` loads a vocabulary
 * directory). `learn.ts` learns new merges.
 *
 * @module
 */

export {
  type GptTextEncoder, type SpecialToken, type DecodeOptions, SPECIAL_TOKENS, DEFAULT_VOCAB_DIR, VOCAB_FILE_NAMES,
  loadEncoder, textEncoderFromData, pretokenize, bpe, bpeUncached, bpePieces, encode, encodeBatch,
  idsToTokens, decode, cleanUpTokenization,
} from './encoder.ts';
export { type BpeRanks, getPairs, parseMerges, isWellOrdered, bpeRanked, bpeReference } from './bpe.ts';
export { type FtfyScoring, fixText, fixTextSegment, fixEncoding, unescapeHtml, fixLatinLigatures, fixCharacterWidth, uncurlQuotes, fixLineBreaks, fixSurrogates, removeControlChars, removeTerminalEscapes, textCost } from './ftfy.ts';
export { textStandardize, textStandardizeRaw } from './standardize.ts';
export { spacyTokenize, tokenizeSpan, urlTokenMatch } from './spacy.ts';
export { SPECIAL_CASES } from './spacy-exceptions.ts';
export { type LearnBpeOptions, type LearnedVocab, learnBpe, wordCounts, writeVocab, mergesText, encoderJson } from './learn.ts';
