/**
 * ftfy's `unescape_html` on named references (src/tokenizer/ftfy.ts, which looks
 * them up through the `entities` package), checked against an independent oracle:
 * Python's `html.entities.html5`, the WHATWG list ftfy looks names up in.
 *
 * ftfy matches `&#?\w{0,8};`, so a named reference decodes exactly when its name has
 * at most 8 characters and `name;` is in the list; everything else stays as it is.
 * Needs `python3` (CI has it: the notebooks run on it); skipped with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { unescapeHtml } from '../src/tokenizer/ftfy.ts';
import { requireOrSkip } from './browser/harness.ts';

const PY = `import html.entities, json, sys
json.dump({k: v for k, v in html.entities.html5.items()}, sys.stdout)`;
const py = spawnSync('python3', ['-c', PY], { encoding: 'utf8' });
const skip = requireOrSkip(py.status === 0 ? undefined : `python3 is not available (${py.error?.message ?? py.stderr})`, 'apt-get install -y python3');
const HTML5: Record<string, string> = py.status === 0 ? JSON.parse(py.stdout) : {};
/** Names (without `;`) that ftfy can match: in the list with their `;`, at most 8 characters. */
const matchable = Object.keys(HTML5).filter((k) => k.endsWith(';') && k.length <= 9).map((k) => k.slice(0, -1));

describe('unescapeHtml: named references as ftfy decodes them', () => {
  test("every HTML5 name of at most 8 characters decodes to Python's html.entities.html5 value", { skip }, () => {
    assert.ok(matchable.length > 1700, `only ${matchable.length} names from Python`);
    for (const name of matchable) assert.equal(unescapeHtml(`&${name};`), HTML5[`${name};`], `&${name};`);
    // In running text, between other characters, too.
    for (const name of matchable) assert.equal(unescapeHtml(`a&${name};b`), `a${HTML5[`${name};`]}b`, `a&${name};b`);
  });

  test('longer names, names without their semicolon, and unknown names stay as they are', { skip }, () => {
    const long = Object.keys(HTML5).filter((k) => k.endsWith(';') && k.length > 9);
    assert.ok(long.length > 0);
    for (const k of long) assert.equal(unescapeHtml(`&${k}`), `&${k}`, `&${k} (more than 8 characters: ftfy's pattern cannot match it)`);
    for (const k of ['&amp', '&ampx;', '&noti;', '&AMp;', '&;']) assert.equal(unescapeHtml(k), k, k);
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9]{1,8}$/), (name) => {
      const want = Object.hasOwn(HTML5, `${name};`) ? HTML5[`${name};`] : `&${name};`;
      assert.equal(unescapeHtml(`&${name};`), want);
    }));
  });

  test('numeric references decode as in ftfy (decimal, hex, the Windows-1252 range)', () => {
    assert.equal(unescapeHtml('&#60;&#x3e;&#x3E;'), '<>>');
    assert.equal(unescapeHtml('&#150;'), '\u2013');
    assert.equal(unescapeHtml('&#xZZ;'), '&#xZZ;');
  });
});
