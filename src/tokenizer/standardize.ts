/**
 * `text_standardize` from the original `text_utils.py`, the second step of
 * `TextEncoder.encode`:
 *
 * ```python
 * def text_standardize(text):
 *     """
 *     fixes some issues the spacy tokenizer had on books corpus
 *     also does some whitespace standardization
 *     """
 *     text = text.replace('—', '-')
 *     text = text.replace('–', '-')
 *     text = text.replace('―', '-')
 *     text = text.replace('…', '...')
 *     text = text.replace('´', "'")
 *     text = re.sub('''(-+|~+|!+|"+|;+|\?+|\++|,+|\)+|\(+|\\+|\/+|\*+|\[+|\]+|}+|{+|\|+|_+)''', r' \1 ', text)
 *     text = re.sub('\s*\n\s*', ' \n ', text)
 *     text = re.sub('[^\S\n]+', ' ', text)
 *     return text.strip()
 * ```
 *
 * **The backslash.** The pattern is a plain (not raw) triple-quoted string, so
 * Python turns its `\\+` into `\+` before `re` sees it: that alternative matches a
 * literal `+` (already covered by `\++`), and **backslashes are not padded with
 * spaces** in the original. Later copies (e.g. Hugging Face's
 * `OpenAIGPTTokenizer`) use a raw string `r'''...'''` and do pad backslashes.
 * This module follows the original GPT-1 code; {@link textStandardizeRaw} is the
 * raw-string variant for comparison.
 *
 * @module
 */

import { PY_WS, pyStrip } from './python.ts';

/** The punctuation runs of the original (non-raw) pattern, as `re` compiled it. */
const PUNCT_RUNS = /(-+|~+|!+|"+|;+|\?+|\++|,+|\)+|\(+|\+|\/+|\*+|\[+|\]+|\}+|\{+|\|+|_+)/g;

/** The same pattern written as a raw string (Hugging Face's copy): backslash runs included. */
const PUNCT_RUNS_RAW = /(-+|~+|!+|"+|;+|\?+|\++|,+|\)+|\(+|\\+|\/+|\*+|\[+|\]+|\}+|\{+|\|+|_+)/g;

/** Maximal runs of Python whitespace (`\s`). */
const WS_RUNS = new RegExp(`[${PY_WS}]+`, 'g');

/**
 * The two whitespace substitutions of the original in one linear pass:
 *
 *     text = re.sub('\s*\n\s*', ' \n ', text)
 *     text = re.sub('[^\S\n]+', ' ', text)
 *
 * The first replaces every maximal whitespace run that holds a newline with `' \n '`
 * (its greedy `\s*` takes the whole run, backs off to the run's last newline, and the
 * second `\s*` takes the rest); the second replaces every other run with one space
 * (the `' \n '` the first wrote is such a run on each side of the newline, and stays
 * as it is). So each maximal run becomes `' \n '` or `' '`. Written as the two
 * regexes, the first is quadratic in JavaScript on a run of spaces with no newline
 * (it retries from every space of the run), as it is in Python: 100,000 spaces took
 * 10 s. This pass takes each run once.
 */
function collapseWhitespace(t: string): string {
  return t.replace(WS_RUNS, (run) => (run.includes('\n') ? ' \n ' : ' '));
}

function standardize(text: string, punctRuns: RegExp): string {
  let t = text
    .replaceAll('—', '-')
    .replaceAll('–', '-')
    .replaceAll('―', '-')
    .replaceAll('…', '...')
    .replaceAll('´', "'");
  t = t.replace(punctRuns, ' $1 ');
  return pyStrip(collapseWhitespace(t));
}

/**
 * `text_utils.py: text_standardize`, exactly as the original ran it (backslashes
 * are not padded; see the module notes).
 *
 * After it, the only whitespace left is single spaces and newlines written as
 * `' \n '`, and the text neither starts nor ends with whitespace.
 *
 * @example textStandardize('Hello—world…') === 'Hello - world...'
 * @example textStandardize('"Hi,"  she said.\n\n  Bye') === '" Hi , " she said. \n Bye'
 */
export function textStandardize(text: string): string {
  return standardize(text, PUNCT_RUNS);
}

/** `text_standardize` as written with a raw-string pattern (pads backslash runs too). */
export function textStandardizeRaw(text: string): string {
  return standardize(text, PUNCT_RUNS_RAW);
}
