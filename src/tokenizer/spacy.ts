/**
 * spaCy 2's English tokenizer, the third step of the original `TextEncoder.encode`:
 *
 * ```python
 * self.nlp = spacy.load('en', disable=['parser', 'tagger', 'ner', 'textcat'])
 * text = self.nlp(text_standardize(ftfy.fix_text(text)))
 * for token in text: ... token.text.lower() ...
 * ```
 *
 * With every pipeline component disabled, `nlp(text)` is just `Tokenizer.__call__`
 * (`spacy/tokenizer.pyx`), driven by English's rules. This module ports that
 * algorithm line by line and the spaCy 2.0 rule set:
 *
 * 1. **Split on spaces** (`Tokenizer.__call__`): the text is cut into alternating
 *    runs of whitespace and non-whitespace; a single `' '` after a word is dropped
 *    (it is the word's trailing space), any other whitespace run becomes a token.
 *    So after `text_standardize`, whose only newlines are written `' \n '`, each
 *    newline yields the whitespace token `'\n '` (newline plus the following
 *    space) — the token that `TextEncoder.bpe` special-cases to `'\n</w>'`.
 * 2. **Special cases** (`spacy-exceptions.ts`): a run that is an exception (`don't`,
 *    `Mr.`, `:)`) is split as the table says.
 * 3. **Affixes** (`_split_affixes`): repeatedly strip one prefix (`find_prefix`:
 *    the first matching rule at the start) and one suffix (`find_suffix`: the
 *    longest suffix any rule matches), stopping early at a special case or a URL.
 * 4. **Infixes** (`_attach_tokens`): split what remains at infix matches (`...`
 *    and symbols anywhere; `-`, `,`, `:`, `/` between letters; `+ - * ^` between
 *    digits), unless it is a special case or a URL.
 *
 * Rules are spaCy 2.0's `spacy/lang/punctuation.py` and `char_classes.py`; URLs are
 * recognised with 2.0's `TOKEN_MATCH` (`spacy/lang/tokenizer_exceptions.py`).
 *
 * @module
 */

import { isPySpace, PY_WS } from './python.ts';
import { MAX_SPECIAL_LENGTH, SPECIAL_CASES } from './spacy-exceptions.ts';

// ---------------------------------------------------------------------------
// spacy/lang/char_classes.py (2.0). spaCy compiles these with the `regex`
// module (VERSION1 set operations); JavaScript's `v` flag has the same `&&`
// and nested classes.
// ---------------------------------------------------------------------------

const LATIN_LOWER = '[\\p{Ll}&&\\p{Script=Latin}]';
const LATIN_UPPER = '[\\p{Lu}&&\\p{Script=Latin}]';
const UNCASED = '[\\p{L}&&[\\p{Script=Bengali}\\p{Script=Hebrew}\\p{Script=Arabic}\\p{Script=Sinhala}]]';
const LOWER = [LATIN_LOWER, '[ёа-я]', '[әөүҗңһ]', '[α-ωάέίόώήύ]'];
const UPPER = [LATIN_UPPER, '[ЁА-Я]', '[ӘӨҮҖҢҺ]', '[Α-ΩΆΈΊΌΏΉΎ]'];

/** `ALPHA`, `ALPHA_LOWER`, `ALPHA_UPPER`: `merge_char_classes(...)`, as class bodies. */
const ALPHA = [...UPPER, ...LOWER, UNCASED].join('');
const ALPHA_LOWER = [...LOWER, UNCASED].join('');
const ALPHA_UPPER = [...UPPER, UNCASED].join('');

const UNITS_LIST = (
  'km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft ' +
  'kg g mg µg t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb ' +
  'TB T G M K % км км² км³ м м² м³ дм дм² дм³ см см² см³ мм мм² мм³ нм ' +
  'кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тб' + // (sic: no space, as in spaCy)
  'كم كم² كم³ م م² م³ سم سم² سم³ مم مم² مم³ كم غرام جرام جم كغ ملغ كوب اكواب'
).split(' ');
const CURRENCY_LIST = ['$', '£', '€', '¥', '฿', 'US$', 'C$', 'A$', '₽', '﷼'];
const PUNCT_LIST = ['…', '……', ',', ':', ';', '!', '?', '¿', '؟', '¡', '(', ')', '[', ']', '{', '}', '<', '>', '_', '#', '*', '&', '。', '？', '！', '，', '、', '；', '：', '～', '·', '।', '،', '؛', '٪'];
const QUOTES_LIST = ["'", "''", '"', '”', '“', '``', '`', '‘', '´', '‘‘', '’’', '‚', ',', '„', '»', '«', '「', '」', '『', '』', '（', '）', '〔', '〕', '【', '】', '《', '》', '〈', '〉'];
const HYPHENS_LIST = ['-', '–', '—', '--', '---', '——', '~'];

/** Escapes a literal for a `v`-flag regex, outside a character class. */
function lit(s: string): string {
  return s.replace(/[()[\]{}/\\|^$.*+?]/g, '\\$&');
}
/** Escapes characters for the inside of a `v`-flag character class. */
function litClass(s: string): string {
  return s.replace(/[()[\]{}/\-\\|&!#%,:;<=>@`~^$.*+?]/g, '\\$&');
}
const alt = (xs: readonly string[]) => xs.map(lit).join('|');

const ELLIPSES = ['\\.\\.+', '…'];
const ICONS = ['[\\p{So}]'];

/**
 * `TOKENIZER_PREFIXES`: `['§', '%', '=', r'\+'] + LIST_PUNCT + LIST_ELLIPSES +
 * LIST_QUOTES + LIST_CURRENCY + LIST_ICONS`, compiled as `^a|^b|...`: the first
 * rule that matches at the start wins.
 */
const PREFIX_RE = new RegExp(
  `^(?:${[lit('§'), lit('%'), lit('='), '\\+', ...PUNCT_LIST.map(lit), ...ELLIPSES, ...QUOTES_LIST.map(lit), ...CURRENCY_LIST.map(lit), ...ICONS].join('|')})`,
  'v',
);

/**
 * `TOKENIZER_SUFFIXES`, compiled as `a$|b$|...` and applied with `re.search`:
 * the match that starts leftmost wins, i.e. the longest suffix.
 * The period rule's class is spaCy's `[0-9{ALPHA_LOWER}%²\-\)\]\+(?:{QUOTES})]`,
 * in which `(?:` and the `|` between quotes are literal characters.
 */
const PERIOD_AFTER = `[0-9${ALPHA_LOWER}${litClass('%²-)]+(?:|')}${[...new Set(QUOTES_LIST.join(''))].map(litClass).join('')}]`;
const SUFFIX_RULES = [
  ...PUNCT_LIST.map(lit), ...ELLIPSES, ...QUOTES_LIST.map(lit), ...ICONS,
  lit("'s"), lit("'S"), lit('’s'), lit('’S'),
  '(?<=[0-9])\\+',
  '(?<=°[FfCcKk])\\.',
  `(?<=[0-9])(?:${alt(CURRENCY_LIST)})`,
  `(?<=[0-9])(?:${alt(UNITS_LIST)})`,
  `(?<=${PERIOD_AFTER})\\.`,
  `(?<=[${ALPHA_UPPER}][${ALPHA_UPPER}])\\.`,
];
const SUFFIX_RE = new RegExp(SUFFIX_RULES.map((r) => `(?:${r})$`).join('|'), 'gv');

/** Longest match of any bounded suffix rule (all but `\.\.+`), in UTF-16 units. */
const MAX_BOUNDED_SUFFIX = Math.max(2, ...[...PUNCT_LIST, ...QUOTES_LIST, ...CURRENCY_LIST, ...UNITS_LIST].map((s) => s.length));

/** `TOKENIZER_INFIXES`, applied with `re.finditer`. */
const INFIX_RE = new RegExp(
  [
    ...ELLIPSES,
    ...ICONS,
    `(?<=[0-9])[${litClass('+-*^')}](?=[0-9\\-])`,
    `(?<=[${ALPHA_LOWER}])\\.(?=[${ALPHA_UPPER}])`,
    `(?<=[${ALPHA}]),(?=[${ALPHA}])`,
    `(?<=[${ALPHA}])[${litClass('?";:=,.')}]*(?:${alt(HYPHENS_LIST)})(?=[${ALPHA}])`,
    `(?<=[${ALPHA}"])[${litClass(':<>=/')}](?=[${ALPHA}])`,
  ].join('|'),
  'gv',
);

/** `Tokenizer.find_prefix`: length of the prefix to split off, 0 if none. */
export function findPrefix(s: string): number {
  const m = PREFIX_RE.exec(s);
  return m === null ? 0 : m[0].length;
}

/**
 * `Tokenizer.find_suffix`: length of the suffix to split off, 0 if none.
 * Same result as searching the whole string, but only looks at its end: every
 * rule except `\.\.+` matches at most `MAX_BOUNDED_SUFFIX` units, and a
 * trailing run of two or more dots can only be matched by `\.\.+` from its first
 * dot. This keeps very long tokens linear.
 */
export function findSuffix(s: string): number {
  let dots = 0;
  while (dots < s.length && s.charCodeAt(s.length - 1 - dots) === 0x2e) dots++;
  if (dots >= 2) return dots;
  SUFFIX_RE.lastIndex = Math.max(0, s.length - MAX_BOUNDED_SUFFIX);
  const m = SUFFIX_RE.exec(s);
  return m === null ? 0 : s.length - m.index;
}

const SUFFIX_SEARCH = new RegExp(SUFFIX_RE.source, 'v');

/** `find_suffix` exactly as spaCy runs it, searching the whole string: the reference for {@link findSuffix}. */
export function findSuffixReference(s: string): number {
  const m = SUFFIX_SEARCH.exec(s);
  return m === null ? 0 : s.length - m.index;
}

/** `Tokenizer.find_infix`: the infix matches, as `[start, end)` pairs. */
export function findInfixes(s: string): [number, number][] {
  return [...s.matchAll(INFIX_RE)].map((m) => [m.index!, m.index! + m[0].length]);
}

// ---------------------------------------------------------------------------
// TOKEN_MATCH: spaCy 2.0's URL pattern.
// ---------------------------------------------------------------------------

const W = '[\\p{L}\\p{N}_]'; // Python's \w on str
const D = '\\p{Nd}'; // Python's \d on str
const S = `[^${PY_WS}]`; // Python's \S on str

/** The IP-address alternative of `URL_PATTERN`. */
const URL_IP =
  `(?!(?:10|127)(?:\\.${D}{1,3}){3})` +
  `(?!(?:169\\.254|192\\.168)(?:\\.${D}{1,3}){2})` +
  `(?!172\\.(?:1[6-9]|2${D}|3[0-1])(?:\\.${D}{1,3}){2})` +
  `(?:[1-9]${D}?|1${D}${D}|2[01]${D}|22[0-3])` +
  `(?:\\.(?:1?${D}{1,2}|2[0-4]${D}|25[0-5])){2}` +
  `(?:\\.(?:[1-9]${D}?|1${D}${D}|2[0-4]${D}|25[0-4]))`;

/**
 * spaCy 2.0's `URL_PATTERN`, transcribed literally (used `re.match`, case-sensitive):
 *
 * ```
 * ^(?=[\w])(?:(?:https?|ftp|mailto)://)?(?:\S+(?::\S*)?@)?
 * (?:IP|(?:(?:[a-z0-9\-]*)?[a-z0-9]+)(?:\.(?:[a-z0-9\-])*[a-z0-9]+)*(?:\.(?:[a-z]{2,})))
 * (?::\d{2,5})?(?:/\S*)?\??(:?\S*)?(?<=[\w/])$
 * ```
 *
 * Its nested quantifiers backtrack quadratically on long words, so the
 * tokenizer uses the equivalent {@link urlTokenMatch}; this literal form is kept
 * to test that equivalence.
 */
export const URL_PATTERN_LITERAL = new RegExp(
  `^(?=${W})(?:(?:https?|ftp|mailto)://)?(?:${S}+(?::${S}*)?@)?` +
    `(?:${URL_IP}|(?:(?:[a-z0-9\\-]*)?[a-z0-9]+)(?:\\.(?:[a-z0-9\\-])*[a-z0-9]+)*(?:\\.(?:[a-z]{2,})))` +
    `(?::${D}{2,5})?(?:/${S}*)?\\??(:?${S}*)?(?<=[\\p{L}\\p{N}_/])$`,
  'u',
);

/** The host (or IP) that must start right after the optional scheme and `user@`. */
const URL_HOST_AT = new RegExp(`${URL_IP}|[a-z0-9\\-]*[a-z0-9](?:\\.[a-z0-9\\-]*[a-z0-9])*\\.[a-z]{2}`, 'uy');
const FIRST_W = new RegExp(`^${W}`, 'u');
const LAST_W_OR_SLASH = /[\p{L}\p{N}_/]$/u;
const HAS_WS = new RegExp(`[${PY_WS}]`);

/**
 * `TOKEN_MATCH` (spaCy 2.0), in linear time. Equivalent to
 * {@link URL_PATTERN_LITERAL} because:
 * - the tail `(?::\d{2,5})?(?:/\S*)?\??(:?\S*)?` matches exactly the strings of
 *   non-space characters (its last part alone, `(:?\S*)?`, matches any of them);
 * - `\S+(?::\S*)?@` matches exactly the non-space strings of length ≥ 2 ending in `@`;
 * - `(?:[a-z0-9\-]*)?[a-z0-9]+` and `(?:[a-z0-9\-])*[a-z0-9]+` both mean "one or
 *   more of `[a-z0-9-]`, ending in `[a-z0-9]`", and `[a-z]{2,}` followed by any
 *   non-space string is `[a-z]{2}` followed by any non-space string.
 * So the string matches iff it has no whitespace, starts with `\w`, ends with
 * `\w` or `/`, and after an optional scheme and an optional `...@` an IP address
 * or `label(.label)*.tld` starts.
 */
export function urlTokenMatch(s: string): boolean {
  if (s === '' || !s.includes('.') || !FIRST_W.test(s) || !LAST_W_OR_SLASH.test(s) || HAS_WS.test(s)) return false;
  const schemeEnds = [0];
  for (const scheme of ['http://', 'https://', 'ftp://', 'mailto://']) {
    if (s.startsWith(scheme)) schemeEnds.push(scheme.length);
  }
  for (const p of schemeEnds) {
    const starts = [p];
    for (let k = s.indexOf('@', p + 1); k !== -1; k = s.indexOf('@', k + 1)) starts.push(k + 1);
    for (const start of starts) {
      URL_HOST_AT.lastIndex = start;
      if (URL_HOST_AT.test(s)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// The tokenizer proper: spacy/tokenizer.pyx
// ---------------------------------------------------------------------------

function special(s: string): readonly string[] | undefined {
  return s.length <= MAX_SPECIAL_LENGTH ? SPECIAL_CASES.get(s) : undefined;
}

/**
 * `Tokenizer._tokenize` of one run of non-space (or of whitespace) characters:
 * `_split_affixes` then `_attach_tokens`.
 */
export function tokenizeSpan(span: string): string[] {
  const whole = special(span);
  if (whole !== undefined) return [...whole];

  // _split_affixes
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  let s = span;
  let lastSize = -1;
  while (s !== '' && s.length !== lastSize) {
    if (urlTokenMatch(s)) break;
    lastSize = s.length;
    const preLen = findPrefix(s);
    if (preLen !== 0) {
      const minusPre = s.slice(preLen);
      if (minusPre !== '' && special(minusPre) !== undefined) {
        prefixes.push(s.slice(0, preLen));
        s = minusPre;
        break;
      }
    }
    const sufLen = findSuffix(s);
    if (sufLen !== 0) {
      const minusSuf = s.slice(0, s.length - sufLen);
      if (minusSuf !== '' && special(minusSuf) !== undefined) {
        suffixes.push(s.slice(s.length - sufLen));
        s = minusSuf;
        break;
      }
    }
    if (preLen !== 0 && sufLen !== 0 && preLen + sufLen <= s.length) {
      prefixes.push(s.slice(0, preLen));
      suffixes.push(s.slice(s.length - sufLen));
      s = s.slice(preLen, s.length - sufLen);
    } else if (preLen !== 0) {
      prefixes.push(s.slice(0, preLen));
      s = s.slice(preLen);
    } else if (sufLen !== 0) {
      suffixes.push(s.slice(s.length - sufLen));
      s = s.slice(0, s.length - sufLen);
    }
    if (s !== '' && special(s) !== undefined) break;
  }

  // _attach_tokens
  const tokens = prefixes;
  if (s !== '') {
    const sp = special(s);
    if (sp !== undefined) {
      tokens.push(...sp);
    } else if (urlTokenMatch(s)) {
      tokens.push(s);
    } else {
      let start = 0;
      for (const [infixStart, infixEnd] of findInfixes(s)) {
        if (infixStart === 0) continue; // `if infix_start == start_before_infixes: continue`
        if (infixStart !== start) tokens.push(s.slice(start, infixStart));
        if (infixStart !== infixEnd) tokens.push(s.slice(infixStart, infixEnd));
        start = infixEnd;
      }
      if (start < s.length) tokens.push(s.slice(start));
    }
  }
  for (let i = suffixes.length - 1; i >= 0; i--) tokens.push(suffixes[i]);
  return tokens;
}

/**
 * Internal memo of {@link tokenizeSpan}, the counterpart of spaCy's own
 * `Tokenizer._cache`. `tokenizeSpan` is a pure function of its argument, so the
 * memo cannot change a result; it is emptied when it grows large.
 */
const spanMemo = new Map<string, readonly string[]>();
const SPAN_MEMO_LIMIT = 100_000;

function tokenizeSpanMemo(span: string): readonly string[] {
  let tokens = spanMemo.get(span);
  if (tokens === undefined) {
    tokens = tokenizeSpan(span);
    if (spanMemo.size >= SPAN_MEMO_LIMIT) spanMemo.clear();
    if (span.length <= 64) spanMemo.set(span, tokens);
  }
  return tokens;
}

/**
 * `Tokenizer.__call__` of spaCy 2's English tokenizer: the texts of the tokens
 * of `text`, in order. Case is preserved (the caller lower-cases afterwards).
 *
 * @example spacyTokenize("I'm sure, Mr. Smith.") // ['I', "'m", 'sure', ',', 'Mr.', 'Smith', '.']
 * @example spacyTokenize('a " \n " b') // ['a', '"', '\n ', '"', 'b']
 */
export function spacyTokenize(text: string): string[] {
  const out: string[] = [];
  if (text === '') return out;
  let start = 0;
  let inWs = isPySpace(text[0]);
  // Whitespace characters are all in the BMP, so stepping by UTF-16 unit is
  // the same as stepping by code point here.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ws = c === 0x20 || (c <= 0x3000 && (c < 0x21 || c >= 0x7f) && isPySpace(text[i]));
    if (ws !== inWs) {
      if (start < i) out.push(...tokenizeSpanMemo(text.slice(start, i)));
      start = c === 0x20 ? i + 1 : i;
      inWs = !inWs;
    }
  }
  if (start < text.length) out.push(...tokenizeSpanMemo(text.slice(start)));
  return out;
}
