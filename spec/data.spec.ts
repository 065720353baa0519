/**
 * Tests of the data layer: WordNet parsing (against hand-checked lines of the real
 * files), SpamAssassin cleaning, the demo tasks' splits (disjoint, no leakage into the
 * pre-training text, deterministic, valid labels) and the JSONL formats.
 *
 * The two corpora are loaded once for the whole file (≈ 1–2 s each); the property
 * tests build tasks with a small pre-training budget to keep the file well under 20 s.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';

import {
  LEXNAMES,
  loadWordNet,
  parseSynsetLine,
  splitGloss,
  synsetKey,
  wordToLemma,
  type Synset,
} from '../src/data/wordnet.ts';
import {
  cleanLines,
  decodeBase64,
  decodeCharset,
  decodeEncodedWords,
  decodeEntities,
  decodeQuotedPrintable,
  emailText,
  htmlToText,
  loadSpamAssassin,
  parseEmail,
  type Email,
} from '../src/data/spam.ts';
import { collapseWhitespace, nearDuplicateIndex, shingles, toAscii, truncate } from '../src/data/text.ts';
import {
  buildSpamTask,
  buildWordNetTask,
  formatGloss,
  lexicalOverlapAccuracy,
  prepareDemoData,
  type ClassificationExample,
  type DemoData,
  type MultipleChoiceExample,
} from '../src/data/demo-data.ts';
import { parseJsonl, toJsonl, writeDemoData } from '../src/data/jsonl.ts';
import { parseTaskJsonl } from '../src/train/task-files.ts';

// Loaded once, on first use.
let wordnetCache: Synset[] | undefined;
let emailCache: Email[] | undefined;
const wordnet = (): Synset[] => (wordnetCache ??= loadWordNet());
const emails = (): Email[] => (emailCache ??= loadSpamAssassin());

const SMALL = { nTrain: 40, nValid: 40, nTest: 80, pretrainChars: 150_000 } as const;

// Builds with the SMALL sizes, shared by the tests that only read them.
const smallCache = new Map<string, unknown>();
const smallSpam = (seed: number): DemoData<ClassificationExample> =>
  smallCache.get(`spam${seed}`) as DemoData<ClassificationExample> | undefined ??
  (smallCache.set(`spam${seed}`, buildSpamTask(emails(), { seed, ...SMALL })).get(`spam${seed}`) as DemoData<ClassificationExample>);
const smallWordNet = (seed: number): DemoData<MultipleChoiceExample> =>
  smallCache.get(`wn${seed}`) as DemoData<MultipleChoiceExample> | undefined ??
  (smallCache.set(`wn${seed}`, buildWordNetTask(wordnet(), { seed, ...SMALL })).get(`wn${seed}`) as DemoData<MultipleChoiceExample>);

// ---------------------------------------------------------------------------
// WordNet
// ---------------------------------------------------------------------------

describe('wordnet: parsing hand-checked lines', () => {
  it('parses an adjective with four example sentences and a backquoted word in the definition', () => {
    const line =
      "00001740 00 a 01 able 0 005 = 05207437 n 0000 = 05624029 n 0000 + 05624029 n 0101 + 05207437 n 0101 ! 00002098 a 0101 | (usually followed by `to') having the necessary means or skill or know-how or authority to do something; \"able to swim\"; \"she was able to program her computer\"; \"we were at last able to buy a car\"; \"able to get a grant for the project\"  ";
    assert.deepEqual(parseSynsetLine(line, 'adj'), {
      offset: 1740,
      pos: 'adj',
      lexname: 'adj.all',
      lemmas: ['able'],
      definition: "(usually followed by `to') having the necessary means or skill or know-how or authority to do something",
      examples: ['able to swim', 'she was able to program her computer', 'we were at last able to buy a car', 'able to get a grant for the project'],
    });
  });

  it('strips adjective position markers such as (ip) from a satellite adjective', () => {
    const line = '00014377 00 s 02 abounding 0 galore(ip) 0 001 & 00013906 a 0000 | existing in abundance; "abounding confidence"; "whiskey galore"  ';
    const s = parseSynsetLine(line, 'adj');
    assert.deepEqual(s?.lemmas, ['abounding', 'galore']);
    assert.equal(s?.definition, 'existing in abundance');
    assert.deepEqual(s?.examples, ['abounding confidence', 'whiskey galore']);
  });

  it('keeps a quotation that is part of the definition in the definition', () => {
    const line =
      '01222212 04 n 01 carrot 0 001 @ 01222041 n 0000 | promise of reward as in "carrot and stick"; "used the carrot of subsidized housing for the workers to get their vote"  ';
    const s = parseSynsetLine(line, 'noun');
    assert.equal(s?.lexname, 'noun.act');
    assert.equal(s?.definition, 'promise of reward as in "carrot and stick"');
    assert.deepEqual(s?.examples, ['used the carrot of subsidized housing for the workers to get their vote']);
  });

  it('parses an adverb with no pointers', () => {
    const line = '00513282 02 r 01 very 1 000 | precisely so; "on the very next page"; "he expected the very opposite"  ';
    assert.deepEqual(parseSynsetLine(line, 'adv'), {
      offset: 513282,
      pos: 'adv',
      lexname: 'adv.all',
      lemmas: ['very'],
      definition: 'precisely so',
      examples: ['on the very next page', 'he expected the very opposite'],
    });
  });

  it('returns null for licence header lines and blank lines, throws on garbage', () => {
    assert.equal(parseSynsetLine('  1 This software and database is being provided to you, the LICENSEE, by  ', 'noun'), null);
    assert.equal(parseSynsetLine('', 'noun'), null);
    assert.throws(() => parseSynsetLine('hello world', 'noun'), /malformed/);
  });

  it('splits glosses: attributions dropped, ";" inside the definition kept', () => {
    assert.deepEqual(splitGloss(' an essential and distinguishing attribute of something or someone; "the quality of mercy is not strained"--Shakespeare  '), {
      definition: 'an essential and distinguishing attribute of something or someone',
      examples: ['the quality of mercy is not strained'],
    });
    assert.deepEqual(splitGloss('a; b; "c"; "d" - X; "e"'), { definition: 'a; b', examples: ['c', 'd', 'e'] });
    assert.deepEqual(splitGloss('no examples here'), { definition: 'no examples here', examples: [] });
    assert.equal(wordToLemma('ready_to_hand(p)'), 'ready to hand');
  });
});

describe('wordnet: the installed database', () => {
  it('loads all 117,791 synsets of WordNet 3.1 with consistent lexnames', () => {
    const all = wordnet();
    const count = (pos: string) => all.filter((s) => s.pos === pos).length;
    assert.deepEqual([count('noun'), count('verb'), count('adj'), count('adv')], [82192, 13789, 18185, 3625]);
    assert.equal(new Set(all.map((s) => s.lexname)).size, LEXNAMES.length);
    const prefix = { noun: 'noun.', verb: 'verb.', adj: 'adj.', adv: 'adv.' } as const;
    for (const s of all) {
      assert.ok(s.lexname.startsWith(prefix[s.pos]), `${synsetKey(s)} ${s.lexname}`);
      assert.ok(s.lemmas.length > 0 && s.lemmas.every((l) => l.length > 0 && !l.includes('_')), synsetKey(s));
    }
    assert.equal(new Set(all.map(synsetKey)).size, all.length);
  });

  it('finds dog (noun 02086723) and breathe (verb 00001740, with verb frames) as in the files', () => {
    const byKey = new Map(wordnet().map((s) => [synsetKey(s), s]));
    assert.deepEqual(byKey.get('noun:02086723'), {
      offset: 2086723,
      pos: 'noun',
      lexname: 'noun.animal',
      lemmas: ['dog', 'domestic dog', 'Canis familiaris'],
      definition:
        'a member of the genus Canis (probably descended from the common wolf) that has been domesticated by man since prehistoric times; occurs in many breeds',
      examples: ['the dog barked all night'],
    });
    const breathe = byKey.get('verb:00001740');
    assert.deepEqual(breathe?.lemmas, ['breathe', 'take a breath', 'respire', 'suspire']);
    assert.equal(breathe?.lexname, 'verb.body');
    assert.equal(breathe?.definition, 'draw air into, and expel out of, the lungs');
    assert.deepEqual(breathe?.examples, ['I can breathe better when the air is clean', 'The patient is respiring']);
    assert.equal(byKey.get('noun:04731092')?.examples[0], 'the quality of mercy is not strained');
  });
});

// ---------------------------------------------------------------------------
// SpamAssassin
// ---------------------------------------------------------------------------

describe('spam: decoding and cleaning', () => {
  it('decodes quoted-printable, base64, charsets, encoded-words and entities', () => {
    assert.equal(decodeQuotedPrintable('caf=E9 =3D soft=\nbreak'), 'caf\xe9 = softbreak');
    assert.equal(decodeBase64(Buffer.from('hello, world').toString('base64')), 'hello, world');
    assert.equal(decodeCharset(Buffer.from('café', 'utf8').toString('latin1'), 'UTF-8'), 'café');
    assert.equal(decodeCharset('\x93quoted\x94', 'windows-1252'), '\u201cquoted\u201d');
    assert.equal(decodeCharset('a\xb0\xa1b', 'gb2312'), 'a b');
    assert.equal(decodeEncodedWords('=?iso-8859-1?Q?caf=E9_au_lait?= =?utf-8?B?IQ==?='), 'café au lait!');
    assert.equal(decodeEntities('AT&T &amp; &#8220;x&#8221; &nbsp;&bogus;'), 'AT&T & \u201cx\u201d  ');
  });

  it('turns HTML into text and drops quoted lines, attributions and PGP armour', () => {
    assert.equal(
      collapseWhitespace(htmlToText('<html><head><title>t</title><style>p{}</style></head><body><p>Hello<br>there &amp; <b>you</b></p><!-- c --><script>x()</script></body></html>')),
      'Hello there & you',
    );
    const text = 'On Mon, Bob wrote:\n> old text\nmy reply http://www.Example.com/a/b?c=d\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----';
    assert.equal(collapseWhitespace(cleanLines(text)), 'my reply http://www.example.com');
  });

  it('parses a MIME message: plain part preferred, headers dropped, base64 text part decoded, ASCII output', () => {
    const raw = [
      'From x@y  Thu Aug 22 13:17:22 2002',
      'Subject: =?utf-8?Q?Caf=C3=A9?= offer',
      'X-Spam-Status: Yes, hits=12.3',
      'Content-Type: multipart/mixed;',
      '\tboundary="OUTER"',
      '',
      'preamble',
      '--OUTER',
      'Content-Type: multipart/alternative; boundary="ALT"',
      '',
      '--ALT',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Cr=E8me br=FBl=E9e for=',
      ' you.',
      '--ALT',
      'Content-Type: text/html',
      '',
      '<p>HTML version</p>',
      '--ALT--',
      '--OUTER',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('Second part \u2014 na\u00efve.', 'utf8').toString('base64'),
      '--OUTER',
      'Content-Type: image/gif',
      'Content-Transfer-Encoding: base64',
      '',
      'R0lGODlhAQABAAAAACw=',
      '--OUTER--',
    ].join('\n');
    const e = parseEmail(raw, 'spam-1/99999', 'spam-1');
    assert.equal(e.label, 1);
    assert.equal(e.subject, 'Cafe offer');
    assert.equal(e.body, 'Creme brulee for you. Second part - naive.');
    assert.equal(emailText(e, 1000), 'Cafe offer\nCreme brulee for you. Second part - naive.');
  });

  it('loads the 6,046 messages with the right groups and labels, cleanly', () => {
    const all = emails();
    assert.equal(all.length, 6046);
    const groups = new Map<string, number>();
    for (const e of all) groups.set(e.group, (groups.get(e.group) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(groups), { 'easy-ham-1': 2500, 'easy-ham-2': 1400, 'hard-ham-1': 250, 'spam-1': 500, 'spam-2': 1396 });
    for (const e of all) {
      assert.equal(e.label, e.group.startsWith('spam') ? 1 : 0);
      assert.ok(/^[\x20-\x7e]*$/.test(e.body) && /^[\x20-\x7e]*$/.test(e.subject), e.id);
      assert.ok(e.body.length <= 4000 && !/=3D|=20$|<\/?(?:td|tr|table|font|div)\b/i.test(e.body), e.id);
    }
    const first = all.find((e) => e.id === 'spam-1/00001');
    assert.equal(first?.subject, 'Life Insurance - Why Pay More?');
    assert.ok(first?.body.startsWith('Save up to 70% on Life Insurance. Why Spend More Than You Have To?'), first?.body.slice(0, 80));
  });
});

// ---------------------------------------------------------------------------
// text utilities
// ---------------------------------------------------------------------------

describe('text utilities', () => {
  it('toAscii gives printable ASCII; truncate gives a prefix within the limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 1, max: 80 }), (s, n) => {
        assert.match(toAscii(s), /^[\x20-\x7e]*$/);
        const t = truncate(s, n);
        assert.ok(t.length <= n && s.startsWith(t));
      }),
      { numRuns: 200 },
    );
  });

  it('nearDuplicateIndex finds a text embedded in a longer one, and not an unrelated one', () => {
    const word = fc.stringMatching(/^[a-z]{1,6}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 12 }), fc.array(word, { maxLength: 20 }), fc.array(word, { maxLength: 20 }), (a, b, c) => {
        const index = nearDuplicateIndex(5, 1);
        index.add(a.join(' '));
        assert.ok(index.matches([...b, ...a, ...c].join(' ')));
        assert.ok(!index.matches(a.map((w) => `${w}zz9`).join(' ')));
      }),
      { numRuns: 100 },
    );
    assert.equal(shingles('One two, THREE', 5).size, 1);
  });
});

// ---------------------------------------------------------------------------
// tasks
// ---------------------------------------------------------------------------

/**
 * The first of `needles` that occurs in `corpus`, or null. Anchors every needle by its
 * first K characters and scans the corpus once (String.includes per needle is too slow
 * for thousands of needles on 1.5 MB).
 */
function findAny(corpus: string, needles: readonly string[]): string | null {
  const present = needles.filter((n) => n.length > 0);
  if (present.length === 0) return null;
  const k = Math.min(12, ...present.map((n) => n.length));
  const anchors = new Map<string, string[]>();
  for (const n of present) {
    const a = n.slice(0, k);
    const list = anchors.get(a);
    if (list === undefined) anchors.set(a, [n]);
    else list.push(n);
  }
  for (let i = 0; i + k <= corpus.length; i++) {
    const list = anchors.get(corpus.slice(i, i + k));
    if (list !== undefined) for (const n of list) if (corpus.startsWith(n, i)) return n;
  }
  return null;
}

/** Asserts the split rules common to both tasks; `key` names an example, `held` lists held-out strings that must not occur in the pre-training text. */
function assertLeakFree<E>(data: DemoData<E>, key: (e: E) => string, held: (e: E) => readonly string[]): void {
  const splits = [data.train, data.valid, data.test];
  const keys = splits.flat().map(key);
  assert.equal(new Set(keys).size, keys.length, 'an example occurs twice (within or across splits)');
  const leaked = findAny(data.pretrainText.join('\n\u0000\n'), splits.flat().flatMap(held));
  assert.equal(leaked, null, 'held-out text in the pre-training text');
  assert.ok(data.stats.pretrain.chars > 0);
}

function assertSpamTask(data: DemoData<ClassificationExample>, sizes: { nTrain: number; nValid: number; nTest: number }, textChars = 512): void {
  assert.deepEqual(data.stats.sizes, { train: sizes.nTrain, valid: sizes.nValid, test: sizes.nTest });
  assert.deepEqual([data.train.length, data.valid.length, data.test.length], [sizes.nTrain, sizes.nValid, sizes.nTest]);
  for (const e of [...data.train, ...data.valid, ...data.test]) {
    assert.ok(e.label === 0 || e.label === 1);
    assert.ok(e.text.length > 0 && e.text.length <= textChars);
  }
  assertLeakFree(data, (e) => e.text, (e) => [e.text]);
}

function assertWordNetTask(data: DemoData<MultipleChoiceExample>, synsets: readonly Synset[], nChoices = 4): void {
  const byDefinition = new Map<string, Synset>();
  for (const s of synsets) byDefinition.set(s.definition, s);
  const contextLemmas = new Set<string>();
  for (const e of [...data.train, ...data.valid, ...data.test]) {
    assert.equal(e.choices.length, nChoices);
    assert.equal(new Set(e.choices).size, nChoices);
    assert.ok(Number.isInteger(e.label) && e.label >= 0 && e.label < nChoices);
    const answer = byDefinition.get(e.choices[e.label]);
    assert.ok(answer !== undefined, 'the labelled choice is a WordNet definition');
    assert.equal(answer.lemmas.slice(0, 3).join(', '), e.context, 'the label indexes the definition of the context word');
    const lemmas = new Set(answer.lemmas.map((l) => l.toLowerCase()));
    for (const l of lemmas) contextLemmas.add(l);
    e.choices.forEach((c, i) => {
      if (i === e.label) return;
      const d = byDefinition.get(c);
      assert.ok(d !== undefined && d.lexname === answer.lexname, 'distractors come from the same lexicographer file');
      assert.ok(!d.lemmas.some((l) => lemmas.has(l.toLowerCase())), 'no distractor is another sense of the context word');
    });
  }
  // Every definition (right or wrong) is used once; no pre-training document's headword list holds a labelled word.
  const defs = [...data.train, ...data.valid, ...data.test].flatMap((e) => e.choices);
  assert.equal(new Set(defs).size, defs.length, 'a definition occurs in two examples');
  for (const doc of data.pretrainText) {
    const head = doc.slice(0, doc.indexOf(': '));
    assert.ok(!head.split(', ').some((l) => contextLemmas.has(l.toLowerCase())), `pre-training gloss of a labelled word: ${head}`);
  }
  assertLeakFree(data, (e) => e.context, (e) => e.choices);
}

describe('tasks: spam', () => {
  it('builds the quick preset: 200/200/400, balanced, disjoint, nothing held out in the pre-training text', () => {
    const data = buildSpamTask(emails(), { seed: 1 });
    assertSpamTask(data, { nTrain: 200, nValid: 200, nTest: 400 });
    assert.deepEqual(data.stats.labelCounts, { train: [100, 100], valid: [100, 100], test: [200, 200] });
    assert.ok(data.stats.pretrain.chars <= 1_500_000 && data.stats.pretrain.chars > 1_400_000, String(data.stats.pretrain.chars));
    // No pre-training document comes from a held-out e-mail: re-derive each e-mail's texts.
    const held = new Set([...data.train, ...data.valid, ...data.test].map((e) => e.text));
    const pre = new Set(data.pretrainText);
    for (const e of emails()) if (held.has(emailText(e, 512))) assert.ok(!pre.has(emailText(e, 2000)), e.id);
  });

  it('is deterministic; another seed gives another split; the test split ignores nTrain', () => {
    const a = smallSpam(7);
    assert.deepEqual(buildSpamTask(emails(), { seed: 7, ...SMALL }), a);
    const b = buildSpamTask(emails(), { seed: 8, ...SMALL });
    assert.notDeepEqual(b.test, a.test);
    assert.notDeepEqual(b.train, a.train);
    assert.deepEqual(buildSpamTask(emails(), { seed: 7, ...SMALL, nTrain: 10 }).test, a.test);
  });

  it('for any seed and sizes, splits are disjoint and leak-free (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 60 }), (seed, nTrain, nTest) => {
        const sizes = { nTrain, nValid: 20, nTest };
        const data = buildSpamTask(emails(), { seed, ...sizes, pretrainChars: 100_000 });
        assertSpamTask(data, sizes);
        const [ham, spam] = data.stats.labelCounts.test;
        assert.ok(spam === Math.floor(nTest / 2) && ham === nTest - spam);
      }),
      { numRuns: 3 },
    );
  });

  it('keeps the corpus ratio when not balanced, and refuses impossible sizes', () => {
    const data = buildSpamTask(emails(), { seed: 3, nTrain: 0, nValid: 0, nTest: 600, pretrainChars: 20_000, balanced: false });
    const share = data.stats.labelCounts.test[1] / 600;
    assert.ok(share > 0.2 && share < 0.4, String(share));
    assert.throws(() => buildSpamTask(emails(), { seed: 1, nTest: 4000, pretrainChars: 0 }), /not enough/);
  });
});

describe('tasks: wordnet', () => {
  it('builds the quick preset: definitions of the right word, same-lexname distractors, leak-free', () => {
    const data = buildWordNetTask(wordnet(), { seed: 1 });
    assert.deepEqual(data.stats.sizes, { train: 200, valid: 200, test: 400 });
    assertWordNetTask(data, wordnet());
    assert.ok(data.stats.pretrain.chars <= 1_500_000 && data.stats.pretrain.chars > 1_400_000);
    // Answer positions are shuffled: every position is used.
    assert.ok(data.stats.labelCounts.test.every((c) => c > 50), String(data.stats.labelCounts.test));
    assert.equal(data.stats.baselines.lexicalOverlap, lexicalOverlapAccuracy(data.test));
  });

  it('is deterministic; another seed gives another split; the test split ignores nTrain', () => {
    const a = smallWordNet(7);
    assert.deepEqual(buildWordNetTask(wordnet(), { seed: 7, ...SMALL }), a);
    assert.notDeepEqual(buildWordNetTask(wordnet(), { seed: 8, ...SMALL }).test, a.test);
    assert.deepEqual(buildWordNetTask(wordnet(), { seed: 7, ...SMALL, nTrain: 5 }).test, a.test);
  });

  it('for any seed and number of choices, labels index the right definition and nothing leaks (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 6 }), (seed, nChoices) => {
        const data = buildWordNetTask(wordnet(), { seed, nChoices, nTrain: 30, nValid: 30, nTest: 60, pretrainChars: 100_000 });
        assertWordNetTask(data, wordnet(), nChoices);
      }),
      { numRuns: 3 },
    );
  });

  it('formats pre-training glosses as "lemma, lemma: definition; \\"example\\""', () => {
    const dog = wordnet().find((s) => synsetKey(s) === 'noun:02086723');
    assert.ok(dog !== undefined);
    assert.equal(
      formatGloss(dog),
      'dog, domestic dog, Canis familiaris: a member of the genus Canis (probably descended from the common wolf) that has been domesticated by man since prehistoric times; occurs in many breeds; "the dog barked all night"',
    );
  });
});

describe('prepareDemoData and JSONL', () => {
  it('loads from the packages and equals the pure builders on the loaded data', () => {
    assert.deepEqual(prepareDemoData({ task: 'spam', seed: 7, ...SMALL }), smallSpam(7));
    assert.deepEqual(prepareDemoData({ task: 'wordnet', seed: 7, ...SMALL }), smallWordNet(7));
  });

  it('round-trips both formats through JSONL, readable by the fine-tuning reader', () => {
    const spam = smallSpam(7);
    const wn = smallWordNet(7);
    assert.deepEqual(parseJsonl(toJsonl(spam.test)), spam.test);
    assert.deepEqual(parseJsonl(toJsonl(wn.test)), wn.test);
    assert.match(toJsonl(wn.test.slice(0, 1)), /^\{"context":".*","choices":\[.*\],"label":\d\}\n$/);
    const read = parseTaskJsonl('classification', toJsonl(spam.train), 'train.jsonl');
    assert.deepEqual(read.map((e) => (e.kind === 'classification' ? [e.text, e.label] : null)), spam.train.map((e) => [e.text, e.label]));
    const mc = parseTaskJsonl('multiple-choice', toJsonl(wn.valid), 'valid.jsonl');
    assert.deepEqual(mc.map((e) => (e.kind === 'multiple-choice' ? { context: e.context, choices: e.choices, label: e.label } : null)), wn.valid);
  });

  it('rejects malformed JSONL with the line number', () => {
    assert.throws(() => parseJsonl('{"text":"a","label":0}\n{oops'), /line 2: not JSON/);
    assert.throws(() => parseJsonl('{"context":"c","choices":["a","b"],"label":2}'), /line 1: "label" 2 does not index/);
    assert.throws(() => parseJsonl('{"text":"a","label":0}\n\n{"context":"c","choices":["a","b"],"label":1}'), /line 3: multiple-choice example in a classification file/);
    assert.throws(() => parseJsonl('{"text":"a","label":-1}'), /non-negative integer/);
  });

  it('writes a data set to a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt1-data-'));
    try {
      const data = smallWordNet(7);
      const files = writeDemoData(dir, data);
      assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['train.jsonl', 'valid.jsonl', 'test.jsonl', 'pretrain.jsonl', 'stats.json']);
      assert.deepEqual(parseJsonl(readFileSync(join(dir, 'test.jsonl'), 'utf8')), data.test);
      const pre = readFileSync(join(dir, 'pretrain.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
      assert.deepEqual(pre, data.pretrainText);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')), data.stats);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
