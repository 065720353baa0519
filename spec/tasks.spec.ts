/**
 * Task input transformations (paper §3.3, Figure 1), truncation as the original
 * `transform_roc`, the task data readers, and the special tokens.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { makeConfig } from '../src/config.ts';
import { initParams } from '../src/params.ts';
import { rng } from '../src/random.ts';
import {
  classificationInput, entailmentInput, fieldMaxLen, multipleChoiceInput, similarityInput, specialTokens, textMaxLen, transformExample,
} from '../src/train/transforms.ts';
import { labelList, parseCsv, parseRocStoriesCsv, parseTaskJsonl, prepareExamples, readTaskFile } from '../src/train/task-files.ts';
import { addSpecialTokens, initClassifier } from '../src/train/classifier.ts';
import { assertOneLineError, assertPure } from './helpers.ts';

// Special ids of a model with n_vocab = 100: _start_ 100, _delimiter_ 101, _classify_ 102.
const config = makeConfig({ n_vocab: 100, n_special: 3, n_ctx: 16, n_embd: 8, n_head: 2, n_layer: 1 });
const sp = specialTokens(config);
const [S, D, E] = [100, 101, 102];
const range = (a: number, n: number): number[] => Array.from({ length: n }, (_, i) => a + i);

describe('special tokens', () => {
  test('ids n_vocab + 0, 1, 2 in the order _start_, _delimiter_, _classify_', () => {
    assert.deepEqual(sp, { start: S, delimiter: D, classify: E });
  });
  test('a model without them cannot be fine-tuned until they are added', async () => {
    const base = makeConfig({ n_vocab: 20, n_ctx: 8, n_embd: 4, n_head: 1, n_layer: 1 });
    await assertOneLineError(() => specialTokens(base), ['0 special tokens', '_classify_']);
    const params = initParams(base, rng(1));
    const out = await assertPure('addSpecialTokens', [params, base], () => addSpecialTokens(params, base, rng(7)));
    assert.equal(out.config.n_special, 3);
    const we = out.params['tokens_embed.weight'];
    assert.deepEqual(we.shape, [23, 4]);
    // the vocabulary rows are unchanged, the three new rows are N(0, 0.02²) draws
    assert.deepEqual([...we.data.slice(0, 80)], [...params['tokens_embed.weight'].data]);
    const extra = [...we.data.slice(80)];
    assert.ok(extra.every((x) => Math.abs(x) < 0.12 && x !== 0), `special rows ${extra}`);
    // the same rng gives the same rows; a model that has them is returned unchanged
    assert.deepEqual([...addSpecialTokens(params, base, rng(7)).params['tokens_embed.weight'].data], [...we.data]);
    assert.equal(addSpecialTokens(out.params, out.config, rng(9)).params, out.params);
    await assertOneLineError(() => addSpecialTokens(params, { ...base, n_special: 2 }, rng(1)), ['2 special tokens']);
  });
  test('a fresh classifier: W ~ N(0, 0.02²) [d, n_out], b = 0', () => {
    const h = initClassifier(8, 3, rng(1));
    assert.deepEqual(h['clf.weight'].shape, [8, 3]);
    assert.deepEqual([...h['clf.bias'].data], [0, 0, 0]);
    const w = [...h['clf.weight'].data];
    const std = Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
    assert.ok(std > 0.005 && std < 0.05, `std ${std}`);
  });
});

describe('Figure 1 transformations (n_ctx = 16)', () => {
  test('classification: start text extract; pool at extract; mask over everything', () => {
    const x = classificationInput([5, 6, 7], sp, 16);
    assert.equal(x.kind, 'classification');
    assert.equal(x.sequences.length, 1);
    assert.deepEqual(x.sequences[0].ids, [S, 5, 6, 7, E]);
    assert.deepEqual(x.sequences[0].mask, [1, 1, 1, 1, 1]);
    assert.equal(x.sequences[0].pool, 4);
    assert.equal(x.truncated, false);
  });
  test('entailment: start premise delim hypothesis extract', () => {
    const x = entailmentInput([1, 2], [3], sp, 16);
    assert.deepEqual(x.sequences[0].ids, [S, 1, 2, D, 3, E]);
    assert.equal(x.sequences[0].pool, 5);
  });
  test('similarity: both orderings', () => {
    const x = similarityInput([1, 2], [3], sp, 16);
    assert.deepEqual(x.sequences.map((s) => s.ids), [[S, 1, 2, D, 3, E], [S, 3, D, 1, 2, E]]);
    assert.deepEqual(x.sequences.map((s) => s.pool), [5, 5]);
  });
  test('multiple choice: start context delim answer_k extract, one sequence per choice', () => {
    const x = multipleChoiceInput([1, 2], [[3], [4, 5], []], sp, 16);
    assert.deepEqual(x.sequences.map((s) => s.ids), [[S, 1, 2, D, 3, E], [S, 1, 2, D, 4, 5, E], [S, 1, 2, D, E]]);
    assert.deepEqual(x.sequences.map((s) => s.pool), [5, 6, 4]);
  });

  test('truncation: two-field inputs keep the first n_ctx//2 − 2 tokens of each field', () => {
    assert.equal(fieldMaxLen(16), 6);
    assert.equal(fieldMaxLen(17), 6);
    assert.equal(textMaxLen(16), 14);
    const long = range(1, 10); // 1..10
    const x = entailmentInput(long, range(11, 3), sp, 16);
    assert.deepEqual(x.sequences[0].ids, [S, 1, 2, 3, 4, 5, 6, D, 11, 12, 13, E]);
    assert.equal(x.truncated, true);
    const mc = multipleChoiceInput(range(1, 7), [range(20, 9), [30]], sp, 16);
    assert.deepEqual(mc.sequences[0].ids, [S, 1, 2, 3, 4, 5, 6, D, 20, 21, 22, 23, 24, 25, E]);
    assert.deepEqual(mc.sequences[1].ids, [S, 1, 2, 3, 4, 5, 6, D, 30, E]);
    const sim = similarityInput(range(1, 8), [40], sp, 16);
    assert.deepEqual(sim.sequences[1].ids, [S, 40, D, 1, 2, 3, 4, 5, 6, E]);
    // exactly max_len: nothing lost
    assert.equal(entailmentInput(range(1, 6), range(1, 6), sp, 16).truncated, false);
  });

  test('truncation: a classification text keeps its first n_ctx − 2 tokens', () => {
    const x = classificationInput(range(1, 20), sp, 16);
    assert.deepEqual(x.sequences[0].ids, [S, ...range(1, 14), E]);
    assert.equal(x.sequences[0].ids.length, 16);
    assert.equal(x.truncated, true);
    assert.equal(classificationInput(range(1, 14), sp, 16).truncated, false);
  });

  test('property: every transformed sequence fits n_ctx, starts with start, ends with extract, keeps field prefixes', () => {
    const field = fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 40 });
    fc.assert(fc.property(fc.integer({ min: 6, max: 64 }), field, field, fc.array(field, { minLength: 2, maxLength: 4 }), (nCtx, a, b, choices) => {
      const L = Math.floor(nCtx / 2) - 2;
      const inputs = [
        classificationInput(a, sp, nCtx), entailmentInput(a, b, sp, nCtx), similarityInput(a, b, sp, nCtx), multipleChoiceInput(a, choices, sp, nCtx),
      ];
      for (const x of inputs) {
        for (const s of x.sequences) {
          if (s.ids.length > nCtx || s.ids[0] !== S || s.ids[s.ids.length - 1] !== E || s.pool !== s.ids.length - 1) return false;
          if (s.mask.length !== s.ids.length || s.mask.some((m) => m !== 1)) return false;
          if (s.ids.filter((t) => t === S || t === E).length !== 2) return false;
        }
      }
      const ent = inputs[1].sequences[0].ids;
      const cut = (x: number[]): number[] => x.slice(0, L);
      if (JSON.stringify(ent) !== JSON.stringify([S, ...cut(a), D, ...cut(b), E])) return false;
      if (inputs[1].truncated !== (a.length > L || b.length > L)) return false;
      return inputs[0].sequences[0].ids.length === Math.min(a.length, nCtx - 2) + 2;
    }));
  });

  test('transformExample dispatches on the kind; too small contexts are one-line errors', async () => {
    assert.deepEqual(transformExample({ kind: 'similarity', text1: [1], text2: [2] }, sp, 16).sequences.length, 2);
    await assertOneLineError(() => entailmentInput([1], [2], sp, 5), ['n_ctx ≥ 6', '5']);
    await assertOneLineError(() => multipleChoiceInput([1], [[2]], sp, 16), ['at least 2 choices']);
  });
});

describe('task data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpt1-tasks-'));
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  test('JSONL for each task kind (with field aliases) and blank lines', () => {
    assert.deepEqual(parseTaskJsonl('classification', '{"text":"a b","label":1}\n\n{"text":"c","label":0}\n', 'f'), [
      { kind: 'classification', text: 'a b', label: 1 }, { kind: 'classification', text: 'c', label: 0 },
    ]);
    assert.deepEqual(parseTaskJsonl('entailment', '{"premise":"p","hypothesis":"h","label":"neutral"}', 'f'), [
      { kind: 'entailment', premise: 'p', hypothesis: 'h', label: 'neutral' },
    ]);
    assert.deepEqual(parseTaskJsonl('similarity', '{"sentence1":"a","sentence2":"b","label":1}', 'f'), [
      { kind: 'similarity', text1: 'a', text2: 'b', label: 1 },
    ]);
    assert.deepEqual(parseTaskJsonl('multiple-choice', '{"context":"c","choices":["x","y","z"],"label":2}', 'f'), [
      { kind: 'multiple-choice', context: 'c', choices: ['x', 'y', 'z'], label: 2 },
    ]);
  });

  test('bad lines are one-line errors naming file and line', async () => {
    await assertOneLineError(() => parseTaskJsonl('classification', '{"text":"a","label":1}\n{"text":1,"label":0}', 'd.jsonl'), ['d.jsonl:2', '"text"']);
    await assertOneLineError(() => parseTaskJsonl('classification', '{"text":"a"}', 'd.jsonl'), ['d.jsonl:1', 'missing "label"']);
    await assertOneLineError(() => parseTaskJsonl('classification', '{"text":"a","label":true}', 'd.jsonl'), ['number or a string']);
    assert.equal(parseTaskJsonl('similarity', '{"text1":"a","text2":"b","label":3.8}', 'd.jsonl')[0].label, 3.8); // an STS-B score
    await assertOneLineError(() => parseTaskJsonl('entailment', 'nope', 'e.jsonl'), ['e.jsonl:1', 'not valid JSON']);
    await assertOneLineError(() => parseTaskJsonl('multiple-choice', '{"context":"c","choices":["x","y"],"label":2}', 'm'), ['m:1', '0..1']);
    await assertOneLineError(() => parseTaskJsonl('multiple-choice', '{"context":"c","choices":["x"],"label":0}', 'm'), ['at least 2 strings']);
  });

  test('CSV: quoted fields with commas, quotes and line breaks; CRLF; BOM', () => {
    assert.deepEqual(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n"multi\nline",z'), [['a', 'b'], ['x, y', 'say "hi"'], ['multi\nline', 'z']]);
  });

  test('ROCStories CSV read as distributed: four sentences joined by a space, label = AnswerRightEnding − 1', () => {
    const csv = [
      'InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding',
      'id-1,Tom went out.,"He saw a dog, big.",It barked.,Tom ran.,Tom was happy.,Tom was scared.,2',
      'id-2,A.,B.,C.,D.,E1.,E2.,1',
    ].join('\n');
    assert.deepEqual(parseRocStoriesCsv(csv, 'roc.csv'), [
      { kind: 'multiple-choice', context: 'Tom went out. He saw a dog, big. It barked. Tom ran.', choices: ['Tom was happy.', 'Tom was scared.'], label: 1 },
      { kind: 'multiple-choice', context: 'A. B. C. D.', choices: ['E1.', 'E2.'], label: 0 },
    ]);
    const path = join(dir, 'cloze.csv');
    writeFileSync(path, csv);
    assert.equal(readTaskFile('multiple-choice', path).length, 2);
  });

  test('ROCStories errors: missing column, bad answer, wrong task', async () => {
    await assertOneLineError(() => parseRocStoriesCsv('InputStoryid,InputSentence1\nx,y', 'r.csv'), ['r.csv', 'InputSentence2']);
    const head = 'InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding';
    await assertOneLineError(() => parseRocStoriesCsv(`${head}\ni,a,b,c,d,e,f,3`, 'r.csv'), ['r.csv:2', 'AnswerRightEnding must be 1 or 2']);
    const path = join(dir, 'x.csv');
    writeFileSync(path, head);
    await assertOneLineError(() => readTaskFile('classification', path), ['ROCStories', 'multiple-choice']);
    await assertOneLineError(() => readTaskFile('classification', join(dir, 'missing.jsonl')), ['cannot read', 'ENOENT']);
    writeFileSync(join(dir, 'empty.jsonl'), '\n');
    await assertOneLineError(() => readTaskFile('classification', join(dir, 'empty.jsonl')), ['no examples']);
  });

  test('labels: integers ascending then strings; prepareExamples tokenizes, transforms and indexes', async () => {
    const ex = parseTaskJsonl('entailment', [
      '{"premise":"a b","hypothesis":"c","label":"neutral"}',
      '{"premise":"d","hypothesis":"e f","label":"contradiction"}',
      '{"premise":"g","hypothesis":"h","label":"entailment"}',
    ].join('\n'), 'f');
    const labels = labelList(ex);
    assert.deepEqual(labels, ['contradiction', 'entailment', 'neutral']);
    assert.deepEqual(labelList(parseTaskJsonl('classification', '{"text":"a","label":"z"}\n{"text":"a","label":10}\n{"text":"a","label":2}', 'f')), [2, 10, 'z']);
    const tokenize = (t: string): number[] => t.split(' ').map((w) => w.charCodeAt(0) - 96); // a → 1, b → 2, …
    const { data, truncated } = prepareExamples(ex, tokenize, sp, 16, labels);
    assert.equal(truncated, 0);
    assert.deepEqual(data.map((d) => d.label), [2, 0, 1]);
    assert.deepEqual(data[0].input.sequences[0].ids, [S, 1, 2, D, 3, E]);
    await assertOneLineError(() => prepareExamples(ex, tokenize, sp, 16, ['neutral']), ['example 2', '"contradiction"', 'not one of']);
    // regression: the targets are kept as they are; a string target is an error
    const sts = parseTaskJsonl('similarity', '{"text1":"a","text2":"b c","label":3.8}\n{"text1":"d","text2":"e","label":0}', 'f');
    assert.deepEqual(prepareExamples(sts, tokenize, sp, 16, [], { regression: true }).data.map((x) => x.label), [3.8, 0]);
    await assertOneLineError(() => prepareExamples(ex, tokenize, sp, 16, [], { regression: true }), ['example 1', 'regression target must be a number']);
  });
});
