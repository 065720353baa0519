/**
 * `ftfy.fix_text`, the first step of the original `TextEncoder.encode`:
 *
 * ```python
 * text = self.nlp(text_standardize(ftfy.fix_text(text)))
 * ```
 *
 * This is a port of the parts of ftfy 5 (the version current when GPT-1 was
 * trained, 2018) that can change English text, with ftfy 5's defaults:
 *
 * - `fix_text` splits the text into lines and fixes each line with
 *   `fix_text_segment`, which repeats these steps until nothing changes:
 *   `remove_terminal_escapes`, `fix_encoding`, `unescape_html`,
 *   `fix_latin_ligatures`, `fix_character_width`, `uncurl_quotes`,
 *   `fix_line_breaks`, `fix_surrogates`, `remove_control_chars`, NFC normalisation.
 * - `fix_encoding` undoes UTF-8 text that was decoded as Latin-1 or Windows-1252
 *   ("mojibake": `â€™` → `’`, `Ã©` → `é`), decides with ftfy's own cost function
 *   (`badness.text_cost`: length plus twice the count of unlikely character
 *   sequences) whether the re-decoded text is better, and also fixes the
 *   `â€…` punctuation sequences found inside otherwise correct text.
 *
 * Deliberate differences from ftfy 5 (also listed in `docs/tokenizer.md`):
 * `fix_encoding` only tries the two encodings that matter for English text,
 * Latin-1 and Windows-1252 (ftfy also tries Windows-1250/1251, ISO-8859-2, MacRoman
 * and CP437, which only fixes mojibake of Central European, Cyrillic and DOS text);
 * character classes come from the JavaScript engine's Unicode tables (ftfy: its
 * `char_classes.dat`, Unicode 11), with "Latin letter" taken from a table of the
 * letters whose Unicode name starts with `LATIN`, as ftfy's `build_data.py` does.
 *
 * Every function here is pure: a string in, a new string out.
 *
 * @module
 */

import { decodeHTMLStrict } from 'entities';
import { pyLen } from './python.ts';

// ---------------------------------------------------------------------------
// Single-byte codecs: Latin-1, Windows-1252 and ftfy's "sloppy-windows-1252".
// Bytes are carried as "byte strings": JS strings whose code units are 0..255,
// so that ftfy's byte regexes can be written as ordinary regexes.
// ---------------------------------------------------------------------------

/** Windows-1252 bytes 0x80..0x9F; -1 marks the five bytes Windows leaves undefined. */
const CP1252_HIGH = [
  0x20ac, -1, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, -1, 0x017d, -1,
  -1, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, -1, 0x017e, 0x0178,
];

/**
 * ftfy `bad_codecs/sloppy.py`: "sloppy-windows-1252" decodes the undefined bytes to
 * the Latin-1 control characters of the same value instead of failing, and uses
 * byte 0x1A for U+FFFD (so that lossy mojibake can still be re-encoded).
 */
function sloppy1252Char(byte: number): number {
  if (byte === 0x1a) return 0xfffd;
  if (byte >= 0x80 && byte < 0xa0) return CP1252_HIGH[byte - 0x80] === -1 ? byte : CP1252_HIGH[byte - 0x80];
  return byte;
}

const SLOPPY_1252_ENCODE: ReadonlyMap<number, number> = new Map(
  Array.from({ length: 256 }, (_, b) => [sloppy1252Char(b), b] as [number, number]),
);

type SingleByteEncoding = 'latin-1' | 'sloppy-windows-1252';

/**
 * `text.encode(encoding)` for a single-byte encoding, as a byte string, or `null`
 * where a character has no byte (`possible_encoding(text, encoding)` is false).
 */
function encodeSingleByte(text: string, encoding: SingleByteEncoding): string | null {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (encoding === 'latin-1') {
      if (c > 0xff) return null;
      continue; // Latin-1 bytes are the code units themselves
    }
    const b = SLOPPY_1252_ENCODE.get(c);
    if (b === undefined) return null;
    out += String.fromCharCode(b);
  }
  return encoding === 'latin-1' ? text : out;
}

/** Python `bytes.decode('windows-1252')` (strict): `null` on an undefined byte. */
function decodeStrict1252(bytes: string): string | null {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    if (b >= 0x80 && b < 0xa0) {
      const c = CP1252_HIGH[b - 0x80];
      if (c === -1) return null;
      out += String.fromCharCode(c);
    } else {
      out += bytes[i];
    }
  }
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Python `bytes.decode('utf-8')` (strict; keeps a BOM): `null` on invalid UTF-8. */
function decodeUtf8Strict(bytes: string): string | null {
  const arr = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) arr[i] = bytes.charCodeAt(i);
  try {
    return UTF8.decode(arr);
  } catch {
    return null;
  }
}

/** A CESU-8 surrogate pair, or Java's two-byte NUL. */
const UTF8_VARIANT_RE = /\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]|\xc0\x80/g;

/**
 * ftfy's `utf-8-variants` codec (`bad_codecs/utf8_variants.py`): UTF-8, plus
 * CESU-8 (astral characters written as two 3-byte surrogates) and Java's
 * `C0 80` for U+0000. `null` where it is not valid in that sense.
 */
function decodeUtf8Variants(bytes: string): string | null {
  let out = '';
  let last = 0;
  for (const m of bytes.matchAll(UTF8_VARIANT_RE)) {
    const at = m.index!;
    const part = decodeUtf8Strict(bytes.slice(last, at));
    if (part === null) return null;
    out += part;
    if (m[0] === '\xc0\x80') {
      out += '\u0000';
    } else {
      const hi = 0xd000 | ((m[0].charCodeAt(1) & 0x3f) << 6) | (m[0].charCodeAt(2) & 0x3f);
      const lo = 0xd000 | ((m[0].charCodeAt(4) & 0x3f) << 6) | (m[0].charCodeAt(5) & 0x3f);
      out += String.fromCharCode(hi, lo);
    }
    last = at + m[0].length;
  }
  const rest = decodeUtf8Strict(bytes.slice(last));
  return rest === null ? null : out + rest;
}

/**
 * ftfy `chardata.ALTERED_UTF8_RE`: UTF-8 sequences that would be valid if a
 * program had not turned byte 0xA0 (no-break space in Windows-1252) into 0x20.
 */
const ALTERED_UTF8_SRC =
  '[\\xc2\\xc3\\xc5\\xce\\xd0][ ]' +
  '|[\\xe0-\\xef][ ][\\x80-\\xbf]' +
  '|[\\xe0-\\xef][\\x80-\\xbf][ ]' +
  '|[\\xf0-\\xf4][ ][\\x80-\\xbf][\\x80-\\xbf]' +
  '|[\\xf0-\\xf4][\\x80-\\xbf][ ][\\x80-\\xbf]' +
  '|[\\xf0-\\xf4][\\x80-\\xbf][\\x80-\\xbf][ ]';
const ALTERED_UTF8_TEST = new RegExp(ALTERED_UTF8_SRC);
const ALTERED_UTF8_ALL = new RegExp(ALTERED_UTF8_SRC, 'g');

/** ftfy `fixes.restore_byte_a0`: puts the 0xA0 back inside those sequences. */
function restoreByteA0(bytes: string): string {
  return bytes.replace(ALTERED_UTF8_ALL, (m) => m.replace(/ /g, '\xa0'));
}

/**
 * ftfy `chardata.LOSSY_UTF8_RE`: UTF-8 sequences with a continuation byte replaced
 * by 0x1A (where a sloppy codec met U+FFFD), and 0x1A itself.
 */
const LOSSY_UTF8_RE = new RegExp(
  '[\\xc2-\\xdf][\\x1a]' +
    '|\\xed[\\xa0-\\xaf][\\x1a]\\xed[\\xb0-\\xbf][\\x1a\\x80-\\xbf]' +
    '|\\xed[\\xa0-\\xaf][\\x1a\\x80-\\xbf]\\xed[\\xb0-\\xbf][\\x1a]' +
    '|[\\xe0-\\xef][\\x1a][\\x1a\\x80-\\xbf]' +
    '|[\\xe0-\\xef][\\x1a\\x80-\\xbf][\\x1a]' +
    '|[\\xf0-\\xf4][\\x1a][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf]' +
    '|[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a][\\x1a\\x80-\\xbf]' +
    '|[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf][\\x1a]' +
    '|\\x1a',
  'g',
);

/** ftfy `fixes.replace_lossy_sequences`: those sequences become the UTF-8 bytes of U+FFFD. */
function replaceLossySequences(bytes: string): string {
  return bytes.replace(LOSSY_UTF8_RE, '\xef\xbf\xbd');
}

/**
 * ftfy `chardata.PARTIAL_UTF8_PUNCT_RE`: `â€` followed by the Windows-1252 reading
 * of a continuation byte, i.e. a General Punctuation character U+2000–U+203F
 * (’ “ ” – — … •) encoded in UTF-8 and decoded as Windows-1252.
 */
const CONTINUATION_1252 = Array.from({ length: 0x40 }, (_, i) => String.fromCharCode(sloppy1252Char(0x80 + i))).join('');
const PARTIAL_UTF8_PUNCT_SRC = `â€[${CONTINUATION_1252.replace(/[\\\]^-]/g, '\\$&')}]`;
const PARTIAL_UTF8_PUNCT_TEST = new RegExp(PARTIAL_UTF8_PUNCT_SRC);
const PARTIAL_UTF8_PUNCT_ALL = new RegExp(PARTIAL_UTF8_PUNCT_SRC, 'g');

/** ftfy `fixes.fix_partial_utf8_punct_in_1252`. */
function fixPartialUtf8PunctIn1252(text: string): string {
  return text.replace(PARTIAL_UTF8_PUNCT_ALL, (m) => decodeUtf8Strict(encodeSingleByte(m, 'sloppy-windows-1252')!)!);
}

// ---------------------------------------------------------------------------
// ftfy `badness.py`: the cost that decides whether a re-decoding is an improvement.
// ---------------------------------------------------------------------------

/**
 * Code points that are letters whose Unicode name starts with `LATIN` (outside the
 * IPA block, which ftfy classes separately), from Python 3.11's `unicodedata`.
 */
const LATIN_NAMED_LETTER_RANGES: readonly (readonly [number, number])[] = [
  [0x41, 0x5a], [0x61, 0x7a], [0xc0, 0xd6], [0xd8, 0xf6], [0xf8, 0x24f], [0x1d00, 0x1d25], [0x1d62, 0x1d65],
  [0x1d6b, 0x1d77], [0x1d79, 0x1d9a], [0x1e00, 0x1eff], [0x2090, 0x209c], [0x2184, 0x2184], [0x2c60, 0x2c7c],
  [0x2c7e, 0x2c7f], [0xa722, 0xa76f], [0xa771, 0xa787], [0xa78b, 0xa7ca], [0xa7d0, 0xa7d1], [0xa7d3, 0xa7d3],
  [0xa7d5, 0xa7d9], [0xa7f5, 0xa7f7], [0xa7fa, 0xa7ff], [0xab30, 0xab5a], [0xab60, 0xab64], [0xab66, 0xab68],
  [0xfb00, 0xfb06], [0x1df00, 0x1df1e],
];

function isLatinNamed(cp: number): boolean {
  return LATIN_NAMED_LETTER_RANGES.some(([a, b]) => cp >= a && cp <= b);
}

const CATEGORY = {
  L: /\p{L}/u, Lu: /\p{Lu}/u, Lt: /\p{Lt}/u, Ll: /\p{Ll}/u, Lo: /\p{Lo}/u, Lm: /\p{Lm}/u,
  M: /\p{M}/u, No: /\p{No}/u, SmSc: /[\p{Sm}\p{Sc}]/u, Sk: /\p{Sk}/u, So: /\p{So}/u,
  Cc: /\p{Cc}/u, Cs: /\p{Cs}/u, Co: /\p{Co}/u, Z: /\p{Z}/u, Cn: /\p{Cn}/u,
};

/**
 * The one-letter class of a code point, as ftfy's `build_data.py` assigns them:
 * `L`/`l` Latin upper/lower, `A`/`a` other cased letters, `C` uncased letter,
 * `m` letter modifier, `i` IPA, `M` mark, `N` other number, `1` math or currency
 * symbol, `2` modifier symbol, `3` other symbol, `X` control, `S` surrogate,
 * `P` private use, `_` unassigned, space for whitespace, `o` anything else.
 */
function charClass(cp: number): string {
  if (cp === 9 || cp === 10 || cp === 12 || cp === 13) return ' ';
  if ('^~`´˝＾｀'.includes(String.fromCodePoint(cp))) return 'o';
  if (cp >= 0x250 && cp < 0x300 && cp !== 0x259) return 'i';
  const ch = String.fromCodePoint(cp);
  if (CATEGORY.L.test(ch)) {
    if (isLatinNamed(cp)) return CATEGORY.Lu.test(ch) ? 'L' : 'l';
    if (CATEGORY.Lu.test(ch) || CATEGORY.Lt.test(ch)) return 'A';
    if (CATEGORY.Ll.test(ch)) return 'a';
    if (CATEGORY.Lo.test(ch)) return 'C';
    return 'm';
  }
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x1f3fb && cp <= 0x1f3ff)) return '3';
  if (CATEGORY.M.test(ch)) return 'M';
  if (CATEGORY.No.test(ch)) return 'N';
  if (CATEGORY.SmSc.test(ch)) return '1';
  if (CATEGORY.Sk.test(ch)) return '2';
  if (CATEGORY.So.test(ch)) return '3';
  if (CATEGORY.Cc.test(ch)) return 'X';
  if (CATEGORY.Cs.test(ch)) return 'S';
  if (CATEGORY.Co.test(ch)) return 'P';
  if (CATEGORY.Z.test(ch)) return ' ';
  if (cp >= 0x1f000 && cp <= 0x1ffff) return '3';
  if (CATEGORY.Cn.test(ch)) return '_';
  return 'o';
}

/** ftfy `chardata.chars_to_classes`. ASCII is looked up in a precomputed table. */
const ASCII_CLASSES = Array.from({ length: 128 }, (_, i) => charClass(i)).join('');
function charsToClasses(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out += cp < 128 ? ASCII_CLASSES[cp] : charClass(cp);
  }
  return out;
}

/** ftfy `badness.WEIRDNESS_RE`, over the class string. */
const WEIRDNESS_RE = new RegExp(
  [
    'lA', // lowercase letter followed by a non-ASCII uppercase letter
    '[^CM]M', // a combining mark on anything but an uncased letter or another mark
    '[Ll][AaC]', // Latin next to non-Latin
    '[AaC][Ll]',
    '[LA]i', // IPA letters next to capitals
    'i[LA]',
    '2', // a lone modifier symbol such as ¨
    'X', // C1 controls
    'P', // private use
    '_', // unassigned
    'M[mN13]', // adjacent characters from two different of these categories
    'm[MN13]',
    'N[Mm13]',
    '1[MmN3]',
    '3[MmN1]',
  ].map((g) => `(${g})`).join('|'),
  'g',
);

/** ftfy `badness.COMMON_SYMBOL_RE`: characters that are common on their own. */
const COMMON_SYMBOL_RE = /[…—–‘“’”¡¿°™®‹›«»\u00a0´×ß\ufeff]/g;

/** ftfy `badness.sequence_weirdness`: 2 × weird sequences − common symbols, on the NFC form. */
export function sequenceWeirdness(text: string): number {
  const nfc = text.normalize('NFC');
  const weird = charsToClasses(nfc).match(WEIRDNESS_RE)?.length ?? 0;
  const common = nfc.match(COMMON_SYMBOL_RE)?.length ?? 0;
  return weird * 2 - common;
}

/** ftfy `badness.text_cost`: weirdness plus length in code points. */
export function textCost(text: string): number {
  return sequenceWeirdness(text) + pyLen(text);
}

// ---------------------------------------------------------------------------
// ftfy `fixes.py`
// ---------------------------------------------------------------------------

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * ftfy `fixes.fix_one_step_and_explain`: one re-decoding step, and the cost of the
 * steps it took (`ENCODING_COSTS` are 0 for Latin-1 and sloppy Windows-1252).
 */
function fixOneStep(text: string): [string, number] {
  if (text === '' || isAscii(text)) return [text, 0];
  const possible: SingleByteEncoding[] = [];
  for (const encoding of ['latin-1', 'sloppy-windows-1252'] as const) {
    const encoded = encodeSingleByte(text, encoding);
    if (encoded === null) continue;
    let bytes = encoded;
    let cost = 0;
    if (ALTERED_UTF8_TEST.test(bytes)) {
      bytes = restoreByteA0(bytes);
      cost += (bytes.match(/\xa0/g)?.length ?? 0) * 2;
    }
    if (encoding === 'sloppy-windows-1252' && bytes.includes('\x1a')) bytes = replaceLossySequences(bytes);
    const fixed = bytes.includes('\xed') || bytes.includes('\xc0') ? decodeUtf8Variants(bytes) : decodeUtf8Strict(bytes);
    if (fixed !== null) return [fixed, cost];
    possible.push(encoding);
  }
  if (PARTIAL_UTF8_PUNCT_TEST.test(text)) return [fixPartialUtf8PunctIn1252(text), 1];
  // ftfy then checks `'windows-1252' in possible_1byte_encodings`, which never holds
  // (the list names 'sloppy-windows-1252'), so Latin-1 text is always re-read as
  // strict Windows-1252: C1 controls become the characters Windows puts there.
  if (possible.includes('latin-1')) {
    const fixed = decodeStrict1252(text);
    if (fixed !== null) return [fixed, fixed !== text ? 1 : 0];
  }
  return [text, 0];
}

/**
 * ftfy `fixes.fix_encoding` (`fix_encoding_and_explain`): repeat re-decoding steps
 * until the text stops changing, and keep the version of least `text_cost`
 * (counting the cost of the steps that led to it).
 *
 * @example fixEncoding('Ãºnico') === 'único'
 * @example fixEncoding('This â€” should be an em dash') === 'This — should be an em dash'
 */
export function fixEncoding(text: string): string {
  if (isAscii(text)) return text;
  let best = text;
  let bestCost = textCost(text);
  let planCost = 0;
  let current = text;
  for (;;) {
    const [next, stepCost] = fixOneStep(current);
    planCost += stepCost;
    const cost = textCost(next) + planCost;
    if (cost < bestCost) {
      best = next;
      bestCost = cost;
    }
    if (next === current) return best;
    current = next;
  }
}

/** Python `int(s, base)` for the strings `\w{0,8}` can capture; `null` for ValueError. */
function pyInt(s: string, base: 10 | 16): number | null {
  let body = s;
  if (base === 16 && /^0[xX]/.test(body)) body = body.slice(2).replace(/^_/, '');
  if (body === '' || body.startsWith('_') || body.endsWith('_') || body.includes('__')) return null;
  let n = 0;
  for (const ch of body) {
    if (ch === '_') continue;
    let d: number;
    if (base === 16 && /[a-fA-F]/.test(ch)) d = parseInt(ch, 16);
    else if (/\p{Nd}/u.test(ch)) d = decimalDigitValue(ch.codePointAt(0)!);
    else return null;
    n = n * base + d;
  }
  return n;
}

/** The value of a decimal digit (category Nd): Unicode puts each 0–9 run contiguously. */
function decimalDigitValue(cp: number): number {
  let start = cp;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

const HTML_ENTITY_RE = /&#?[\p{L}\p{N}_]{0,8};/gu;

/**
 * ftfy `fixes.unescape_html`: decodes `&name;`, `&#123;` and `&#x7b;` references
 * (names from the HTML5 list, through the `entities` package; numeric references 0x80–0x9F read as Windows-1252,
 * as browsers do). Anything it cannot decode is left as it is.
 *
 * @example unescapeHtml('&lt;tag&gt;') === '<tag>'
 */
export function unescapeHtml(text: string): string {
  return text.replace(HTML_ENTITY_RE, (m) => {
    if (m.startsWith('&#')) {
      const codept = m.startsWith('&#x') ? pyInt(m.slice(3, -1), 16) : pyInt(m.slice(2, -1), 10);
      // Python: ValueError, left as is. (From 2**31 on, Python's chr() raises
      // OverflowError, which ftfy does not catch; here those are left as is too.)
      if (codept === null || codept > 0x10ffff) return m;
      if (codept >= 0x80 && codept < 0xa0) return String.fromCodePoint(sloppy1252Char(codept));
      return String.fromCodePoint(codept);
    }
    // A named reference `&name;`: the WHATWG list of HTML5 names (the `entities`
    // package; the same list as Python's html.entities.html5 that ftfy uses). Strict
    // mode decodes only a whole name followed by its `;` (`&ampx;` stays as it is).
    return decodeHTMLStrict(m);
  });
}

/** ftfy `fixes.remove_terminal_escapes`: strips ANSI escape sequences like `\x1b[36;44m`. */
export function removeTerminalEscapes(text: string): string {
  return text.replace(/\x1b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu, '');
}

/**
 * ftfy `chardata.LIGATURES`: single-character Latin ligatures and digraphs,
 * expanded (`ﬁ` → `fi`). Note `ﬅ` becomes `ſt` (long s), as in ftfy.
 */
const LIGATURES: Readonly<Record<string, string>> = Object.freeze({
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn', 'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž',
  'Ǉ': 'LJ', 'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj',
  'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st',
});
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g');

/** ftfy `fixes.fix_latin_ligatures`. @example fixLatinLigatures('ﬂuﬃeﬆ') === 'fluffiest' */
export function fixLatinLigatures(text: string): string {
  return text.replace(LIGATURE_RE, (c) => LIGATURES[c]);
}

/**
 * ftfy `chardata.WIDTH_MAP`: U+3000 IDEOGRAPHIC SPACE → space, and every
 * character of U+FF01–U+FFEF (full-width ASCII, half-width katakana and Hangul,
 * full-width signs) → its NFKC form.
 */
const WIDTH_MAP: ReadonlyMap<string, string> = new Map([
  ['\u3000', ' '],
  ...Array.from({ length: 0xfff0 - 0xff01 }, (_, k) => String.fromCharCode(0xff01 + k))
    .map((c) => [c, c.normalize('NFKC')] as [string, string])
    .filter(([c, n]) => c !== n),
]);

/** ftfy `fixes.fix_character_width`. @example fixCharacterWidth('ＬＯＵＤ　ＮＯＩＳＥＳ') === 'LOUD NOISES' */
export function fixCharacterWidth(text: string): string {
  return text.replace(/[\u3000\uff01-\uffef]/g, (c) => WIDTH_MAP.get(c) ?? c);
}

/** ftfy `fixes.uncurl_quotes`: `ʼ ‘ ’ ‚ ‛` → `'` and `“ ” „ ‟` → `"`. */
export function uncurlQuotes(text: string): string {
  return text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'");
}

/** ftfy `fixes.fix_line_breaks`: CRLF, CR, U+2028, U+2029 and U+0085 → `\n`. */
export function fixLineBreaks(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/[\r\u2028\u2029\u0085]/g, '\n');
}

/**
 * ftfy `fixes.fix_surrogates`: a lone UTF-16 surrogate becomes U+FFFD. (A JS
 * string already reads a valid surrogate pair as the character it encodes.)
 */
export function fixSurrogates(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/**
 * ftfy `fixes.remove_control_chars`: U+0000–U+0008, U+000B, U+000E–U+001F,
 * U+007F, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFC, U+1D173–U+1D17A and
 * U+E0000–U+E007F. Tab, LF, FF, CR and the C1 controls are kept.
 */
export function removeControlChars(text: string): string {
  return text.replace(/[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}]/gu, '');
}

/** Options of {@link fixTextSegment}: which ftfy steps run. */
export interface FixSegmentOptions {
  /** `'auto'` decodes HTML entities unless the segment contains both `<` and `>`. */
  readonly fixEntities: 'auto' | boolean;
  readonly fixEncoding: boolean;
}

/**
 * ftfy `fix_text_segment` with ftfy 5's defaults: apply every fix, in ftfy's
 * order, until the text no longer changes.
 */
export function fixTextSegment(segment: string, opts: FixSegmentOptions = { fixEntities: 'auto', fixEncoding: true }): string {
  const entities = opts.fixEntities === 'auto' ? !(segment.includes('<') && segment.includes('>')) : opts.fixEntities;
  let text = segment;
  // ftfy loops until a fixed point; every step only removes or shortens, so a
  // handful of rounds suffice. The cap only guards against an unforeseen cycle.
  for (let round = 0; round < 64; round++) {
    const orig = text;
    text = removeTerminalEscapes(text);
    if (opts.fixEncoding) text = fixEncoding(text);
    if (entities) text = unescapeHtml(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === orig) break;
  }
  return text;
}

/** ftfy's `max_decode_length`: longer lines skip `fix_encoding`. */
const MAX_DECODE_LENGTH = 1_000_000;

/**
 * `ftfy.fix_text(text)` with ftfy 5's defaults. The text is fixed line by line
 * (each line keeps its `\n`); once a line contains both `<` and `>` the text is
 * taken to be HTML and entities are left alone from that line on, as in ftfy.
 *
 * @example fixText('â€œquotedâ€\x9d') === '"quoted"'
 * @example fixText('ﬁsh &amp; chips') === 'fish & chips'
 */
export function fixText(text: string): string {
  let fixEntities: 'auto' | false = 'auto';
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    let textbreak = text.indexOf('\n', pos) + 1;
    if (textbreak === 0) textbreak = text.length;
    const segment = text.slice(pos, textbreak);
    if (fixEntities === 'auto' && segment.includes('<') && segment.includes('>')) fixEntities = false;
    out.push(fixTextSegment(segment, { fixEntities, fixEncoding: pyLen(segment) <= MAX_DECODE_LENGTH }));
    pos = textbreak;
  }
  return out.join('');
}
