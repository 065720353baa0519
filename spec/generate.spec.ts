/**
 * Generation as Hugging Face's `generate` does it (src/generate.ts, src/cli/generate.ts):
 * top-k, top-p, repetition penalty, stop sequences and strings, several sequences,
 * JSON output with log-probabilities.
 *
 * Invariants, derived by hand:
 * - top-p = 1 and top-k = 0 switch their filters off: every draw is the one made
 *   without them (same logits, same generator state);
 * - the nucleus of top-p is the smallest prefix of the probabilities in decreasing
 *   order whose sum reaches p: the sum of its n tokens is ≥ p and of its first n − 1 < p;
 *   a draw never leaves it;
 * - a repetition penalty θ = 1 is the identity; θ > 1 never raises a logit and
 *   changes only the logits of tokens already seen;
 * - with stop sequences, the output is the unstopped output cut right after the first
 *   place where it ends with a stop sequence (the draws before it do not depend on the
 *   stop sequences).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { makeConfig } from '../src/config.ts';
import { saveCheckpoint } from '../src/checkpoint/index.ts';
import { main } from '../src/cli/main.ts';
import { parseStops, stopStringEnd } from '../src/cli/generate.ts';
import { applyRepetitionPenalty, endsWithStop, generateIds, generateTokens, nucleusSize, pickToken } from '../src/generate.ts';
import { backend } from '../src/kernels/backend.ts';
import { forward } from '../src/model/gpt.ts';
import { rng } from '../src/random.ts';
import { decode, encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { captureRun, destroyAfterTests, randomParams } from './helpers.ts';

const be = await backend();
destroyAfterTests(be.gpu);

const TMP = mkdtempSync(join(tmpdir(), 'gpt1-generate-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** Logits: a few distinct values with ties, so that ordering by id matters too. */
const logitsArb = fc.array(fc.oneof(fc.float({ min: -8, max: 8, noNaN: true }), fc.constantFrom(0, 1, -1)), { minLength: 1, maxLength: 40 }).map((a) => Float32Array.from(a));

describe('pickToken: top-k, top-p, repetition penalty', () => {
  test('top-p = 1 and top-k = 0 leave every draw unchanged (sampling and greedy)', () => {
    fc.assert(fc.property(logitsArb, fc.nat(), fc.double({ min: 0.05, max: 3, noNaN: true }), fc.boolean(), (logits, seed, temperature, greedy) => {
      const g = rng(seed);
      const plain = pickToken(logits, { maxTokens: 1, temperature, greedy }, g);
      assert.deepEqual(pickToken(logits, { maxTokens: 1, temperature, greedy, topP: 1 }, g), plain);
      assert.deepEqual(pickToken(logits, { maxTokens: 1, temperature, greedy, topK: 0 }, g), plain);
      assert.deepEqual(pickToken(logits, { maxTokens: 1, temperature, greedy, topK: 0, topP: 1, repetitionPenalty: 1 }, g, [0, 1, 2]), plain);
    }));
  });

  test('the nucleus is the smallest set of most probable tokens reaching p', () => {
    const probsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }).filter((a) => a.some((x) => x > 0)).map((a) => {
      const total = a.reduce((s, x) => s + x, 0);
      return a.map((x) => x / total).sort((x, y) => y - x);
    });
    fc.assert(fc.property(probsArb, fc.double({ min: 1e-6, max: 1, maxExcluded: true, noNaN: true }), (probs, p) => {
      assert.equal(nucleusSize(probs, 1), probs.length, 'p = 1 keeps every token');
      const n = nucleusSize(probs, p);
      assert.ok(n >= 1 && n <= probs.length);
      const sum = (k: number) => probs.slice(0, k).reduce((s, x) => s + x, 0);
      if (n < probs.length) assert.ok(sum(n) >= p, `the ${n} kept reach ${sum(n)} < p = ${p}`);
      assert.ok(sum(n - 1) < p, `${n - 1} tokens already reach p = ${p}: not the smallest set`);
    }));
  });

  test('a top-p draw stays in the nucleus of softmax(logits/τ), and a top-k draw in the k largest', () => {
    fc.assert(fc.property(logitsArb, fc.nat(), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer({ min: 1, max: 5 }), (logits, seed, p, k) => {
      const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
      const max = logits[order[0]];
      const w = order.map((v) => Math.exp(logits[v] - max));
      const total = w.reduce((s, x) => s + x, 0);
      const n = nucleusSize(w.map((x) => x / total), p);
      const [id] = pickToken(logits, { maxTokens: 1, topP: p }, rng(seed));
      assert.ok(order.slice(0, n).includes(id), `drew ${id} outside the nucleus ${order.slice(0, n)}`);
      const [idk] = pickToken(logits, { maxTokens: 1, topK: k }, rng(seed));
      assert.ok(order.slice(0, k).includes(idk), `drew ${idk} outside the top ${k}`);
    }));
  });

  test('repetition penalty: θ = 1 is the identity; θ > 1 lowers exactly the seen tokens (s/θ if s > 0, s·θ otherwise)', () => {
    fc.assert(fc.property(logitsArb, fc.array(fc.nat(60)), fc.double({ min: 1, max: 5, noNaN: true }), (logits, seen, theta) => {
      assert.deepEqual(applyRepetitionPenalty(logits, seen, 1), logits);
      const out = applyRepetitionPenalty(logits, seen, theta);
      for (let v = 0; v < logits.length; v++) {
        const s = logits[v];
        const want = seen.includes(v) ? Math.fround(s > 0 ? s / theta : s * theta) : s;
        assert.equal(out[v], want, `token ${v}`);
        assert.ok(out[v] <= s);
      }
    }));
  });

  test('greedy with a repetition penalty avoids a repeated arg-max when the penalty makes another larger', () => {
    const logits = Float32Array.from([2, 1.5, 0]);
    assert.equal(pickToken(logits, { maxTokens: 1, greedy: true }, rng(0), [0])[0], 0);
    assert.equal(pickToken(logits, { maxTokens: 1, greedy: true, repetitionPenalty: 2 }, rng(0), [0])[0], 1);
  });

  test('bad settings are errors', () => {
    const l = Float32Array.from([1, 2]);
    assert.throws(() => pickToken(l, { maxTokens: 1, topP: 0 }, rng(0)), /top-p must be in \(0, 1\]/);
    assert.throws(() => pickToken(l, { maxTokens: 1, topP: 1.5 }, rng(0)), /top-p must be in \(0, 1\]/);
    assert.throws(() => pickToken(l, { maxTokens: 1, repetitionPenalty: 0 }, rng(0), [0]), /repetition penalty must be > 0/);
    assert.throws(() => pickToken(l, { maxTokens: 1, topK: -1 }, rng(0)), /top-k must be ≥ 0/);
  });
});

describe('generation with stop sequences', () => {
  const config = makeConfig({ n_vocab: 6, n_ctx: 24, n_embd: 8, n_head: 2, n_layer: 1 });
  const params = randomParams(config, 3, 0.5, 0.1, 0.3);

  test('stops right after the first occurrence of a stop sequence, which is kept; the draws before it are unchanged', async () => {
    await fc.assert(fc.asyncProperty(fc.nat(1000), fc.boolean(), fc.nat(15), fc.integer({ min: 1, max: 3 }), async (seed, greedy, at, len) => {
      const opts = { maxTokens: 16, greedy, temperature: 1.5, seed };
      const full = await generateIds(params, config, [1, 2], opts);
      const end = Math.min(at, full.length - 1);
      const stop = full.slice(Math.max(0, end - len + 1), end + 1);
      const other = [5, 5, 5, 5, 5, 5, 5]; // may or may not occur: the rule is the same
      const stopped = await generateIds(params, config, [1, 2], { ...opts, stopSequences: [stop, other] });
      let first = 0;
      while (!endsWithStop(full.slice(0, first + 1), [stop, other])) first++;
      assert.deepEqual(stopped, full.slice(0, first + 1));
      assert.ok(first <= end);
    }), { numRuns: 20 });
  });

  test('each token comes with log P(token | prefix) under the model', async () => {
    const prompt = [1, 2, 3];
    const got: { id: number; logprob: number }[] = [];
    for await (const t of generateTokens(params, config, prompt, { maxTokens: 3, seed: 4 })) got.push(t);
    const ids = [...prompt, ...got.map((t) => t.id)];
    const out = await forward(params, config, ids.slice(0, -1));
    const V = out.logits.shape[1];
    for (const [k, t] of got.entries()) {
      const row = Array.from(out.logits.data.subarray((prompt.length - 1 + k) * V, (prompt.length - 1 + k) * V + config.n_vocab));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
      assert.ok(Math.abs(t.logprob - (row[t.id] - lse)) < 1e-5, `token ${k}: ${t.logprob} vs ${row[t.id] - lse}`);
      assert.ok(t.logprob <= 0);
    }
  });

  test('stop strings: the earliest end wins; ids: sequences parse', () => {
    assert.equal(stopStringEnd('abc. def! ghi', ['!', '.'], 0), 4);
    assert.equal(stopStringEnd('abc. def! ghi', ['!', '.'], 5), 9);
    assert.equal(stopStringEnd('abc', ['x'], 0), -1);
    assert.deepEqual(parseStops(['ids:1,2', '.', 'ids:7']), { ids: [[1, 2], [7]], strings: ['.'] });
    assert.throws(() => parseStops(['']), /--stop is empty/);
  });
});

describe('gpt1 generate (HF flags)', () => {
  const config = makeConfig({ n_vocab: 40478, n_ctx: 24, n_embd: 8, n_head: 2, n_layer: 1 });
  const params = randomParams(config, 9, 0.5, 0.1, 0.3);
  const dir = join(TMP, 'model');
  const enc = loadEncoder();
  before(() => saveCheckpoint(dir, 'hf', config, params));

  const gpt1 = (...argv: string[]) => captureRun(main, ['generate', '--checkpoint', dir, '--quiet', ...argv]);

  test('--json: ids, text and log-probabilities of each of --num-return-sequences, sequence i with seed + i', async () => {
    const r = await gpt1('--prompt', 'the president is', '--max-new-tokens', '5', '--num-return-sequences', '3', '--seed', '7', '--top-k', '50', '--top-p', '0.9', '--repetition-penalty', '1.3', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const prompt = encode(enc, 'the president is');
    assert.deepEqual(j.prompt_ids, prompt);
    assert.equal(j.options.max_new_tokens, 5);
    assert.equal(j.options.top_p, 0.9);
    assert.equal(j.sequences.length, 3);
    for (const [i, s] of j.sequences.entries()) {
      const want = await generateIds(params, config, prompt, { maxTokens: 5, seed: 7 + i, topK: 50, topP: 0.9, repetitionPenalty: 1.3 });
      assert.deepEqual(s.ids, want);
      assert.equal(s.text, decode(enc, [...prompt, ...want]));
      assert.equal(s.token_logprobs.length, 5);
      assert.ok(s.token_logprobs.every((x: number) => Number.isFinite(x) && x <= 0));
      assert.equal(s.finish_reason, 'length');
    }
  });

  test('--max-tokens is --max-new-tokens; --do-sample is the default; --greedy with --do-sample is a usage error', async () => {
    const a = await gpt1('--ids', '481,4735', '--max-tokens', '4', '--seed', '2', '--json');
    const b = await gpt1('--ids', '481,4735', '--max-new-tokens', '4', '--seed', '2', '--do-sample', '--json');
    assert.equal(a.code, 0, a.err);
    assert.deepEqual(JSON.parse(a.out).sequences, JSON.parse(b.out).sequences);
    const c = await gpt1('--ids', '1', '--greedy', '--do-sample');
    assert.equal(c.code, 2);
    assert.match(c.err, /--greedy and --do-sample contradict/);
    for (const [flag, v, msg] of [['--top-p', '0', /--top-p must be in/], ['--top-p', '1.1', /--top-p must be in/], ['--repetition-penalty', '0', /--repetition-penalty must be > 0/], ['--top-k', '-1', /--top-k must be ≥ 0/], ['--num-return-sequences', '0', /must be ≥ 1/]] as const) {
      const e = await gpt1('--ids', '1', flag, v);
      assert.equal(e.code, 2, `${flag} ${v}`);
      assert.match(e.err, msg);
    }
  });

  test('--stop: a string cuts the text right after it; ids:… stops after those ids', async () => {
    const free = JSON.parse((await gpt1('--prompt', 'the president is', '--max-new-tokens', '12', '--seed', '3', '--json')).out).sequences[0];
    const tail = decode(enc, [...encode(enc, 'the president is'), ...free.ids]);
    // A stop string: the text of the 4th generated token's piece.
    const pieceId = free.ids[3];
    const piece = enc.decoder[pieceId].replace(/<\/w>$/, '');
    const r = await gpt1('--prompt', 'the president is', '--max-new-tokens', '12', '--seed', '3', '--stop', piece);
    assert.equal(r.code, 0, r.err);
    const from = 'the president is'.length;
    const cut = tail.indexOf(piece, from) + piece.length;
    assert.equal(r.out, `${tail.slice(0, cut)}\n`);
    const ids = JSON.parse((await gpt1('--prompt', 'the president is', '--max-new-tokens', '12', '--seed', '3', '--stop', `ids:${free.ids[1]},${free.ids[2]}`, '--json')).out).sequences[0];
    let k = 1;
    while (!(free.ids[k - 1] === free.ids[1] && free.ids[k] === free.ids[2])) k++;
    assert.deepEqual(ids.ids, free.ids.slice(0, k + 1));
    assert.equal(ids.finish_reason, 'stop');
  });
});
