/**
 * The `gpt1` commands (src/cli/*): info, convert, dump, generate, verify, bpe learn.
 *
 * Commands run in-process through `main([...])` with stdout/stderr captured, plus a
 * few through `node bin/gpt1.mjs` as a user runs them. The models are tiny random
 * ones written in both layouts; one has n_vocab = 40478 so that the bundled GPT-1
 * vocabulary applies (text input, the tokenizer checks of verify), one has a small
 * vocabulary plus the three special tokens.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { GPT1, type GPTConfig, makeConfig, nTokenRows } from '../src/config.ts';
import { main } from '../src/cli/main.ts';
import { parseIds, streamDecoder } from '../src/cli/common.ts';
import { writeTreeAtomic } from '../src/io/atomic.ts';
import { memoryEstimate } from '../src/cli/info.ts';
import { RELEASE, type ReleaseFacts, verifyChecks } from '../src/cli/verify.ts';
import { saveCheckpoint } from '../src/checkpoint/index.ts';
import { backend } from '../src/kernels/backend.ts';
import { readNpy } from '../src/io/npy.ts';
import { forward, lmLossAndGrads } from '../src/model/gpt.ts';
import { lmLoss } from '../src/model/objectives.ts';
import { type Params, countParams, paramShapes } from '../src/params.ts';
import { generateIds } from '../src/generate.ts';
import { decode, encode, loadEncoder } from '../src/tokenizer/encoder.ts';
import { captureRun, destroyAfterTests, randomParams } from './helpers.ts';

const be = await backend();
destroyAfterTests(be.gpu);

const ROOT = join(import.meta.dirname, '..');
const TMP = mkdtempSync(join(tmpdir(), 'gpt1-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** n_vocab of the release, so the bundled vocabulary fits; small otherwise. n_ctx ≥ 20 for the greedy check. */
const A: GPTConfig = makeConfig({ n_vocab: 40478, n_ctx: 24, n_embd: 16, n_head: 2, n_layer: 2 });
/** A small vocabulary with the three fine-tuning tokens. */
const B: GPTConfig = makeConfig({ n_vocab: 50, n_special: 3, n_ctx: 12, n_embd: 12, n_head: 3, n_layer: 2, n_inner: 20 });
let PA: Params;
let PB: Params;
const dirs = { aOrig: join(TMP, 'a-orig'), aHF: join(TMP, 'a-hf'), bOrig: join(TMP, 'b-orig') };
const enc = loadEncoder();

before(() => {
  PA = randomParams(A, 11, 0.1, 0.05, 0.1);
  PB = randomParams(B, 12, 0.3, 0.1, 0.3);
  saveCheckpoint(dirs.aOrig, 'original', A, PA);
  saveCheckpoint(dirs.aHF, 'hf', A, PA);
  saveCheckpoint(dirs.bOrig, 'original', B, PB);
});

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * `main(argv)` in this process, with what it writes as text to stdout and stderr
 * captured (binary writes, e.g. the test runner's own, pass through).
 */
async function gpt1(...argv: string[]): Promise<Run> {
  return captureRun(main, argv);
}

/** Asserts exit status `code` and exactly one line on stderr containing `parts`. */
function assertOneLineFailure(r: Run, code: number, parts: readonly string[]): void {
  assert.equal(r.code, code, `exit status ${r.code}, expected ${code}; stderr: ${r.err}`);
  const lines = r.err.split('\n').filter((l) => l !== '' && !l.endsWith('done (0.0 s)') && !/… (done \(.*\)|failed)$/.test(l));
  assert.equal(lines.length, 1, `expected one error line, got ${JSON.stringify(r.err)}`);
  for (const p of parts) assert.ok(lines[0].includes(p), `${JSON.stringify(lines[0])} does not mention ${JSON.stringify(p)}`);
}

const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
const bytes = (path: string): Buffer => readFileSync(path);

describe('gpt1 (dispatch and errors)', () => {
  test('no command: usage, exit 2; --help: exit 0 listing every command', async () => {
    const none = await gpt1();
    assert.equal(none.code, 2);
    const help = await gpt1('--help');
    assert.equal(help.code, 0);
    for (const c of ['info', 'convert', 'dump', 'generate', 'verify', 'bpe learn']) assert.ok(help.out.includes(c), c);
  });

  test('every command has --help (exit 0, names its flags)', async () => {
    for (const [cmd, flag] of [['info', '--checkpoint'], ['convert', '--to'], ['dump', '--grads'], ['generate', '--top-k'], ['verify', '--backend'], ['bpe learn', '--merges']] as const) {
      const r = await gpt1(...cmd.split(' '), '--help');
      assert.equal(r.code, 0, cmd);
      assert.ok(r.out.includes(flag), `${cmd} --help mentions ${flag}`);
    }
  });

  test('bad flags exit 2 with one line; a missing or unreadable checkpoint exits 1 with one line', async () => {
    assertOneLineFailure(await gpt1('frobnicate'), 2, ["unknown command 'frobnicate'"]);
    assertOneLineFailure(await gpt1('info', '--checkpoint', dirs.aOrig, '--bogus'), 2, ['unknown flag --bogus']);
    assertOneLineFailure(await gpt1('info'), 2, ['--checkpoint is required']);
    assertOneLineFailure(await gpt1('convert', '--checkpoint', dirs.aOrig, '--to', 'onnx', '--out', join(TMP, 'x')), 2, ['--to must be one of hf, original']);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.aOrig, '--out', join(TMP, 'x')), 2, ['exactly one of --ids or --text']);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.aOrig, '--ids', '1,2', '--text', 'a', '--out', join(TMP, 'x')), 2, ['exactly one of --ids or --text']);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.aOrig, '--ids', '1,two', '--out', join(TMP, 'x')), 2, ["'two' is not a token id"]);
    assertOneLineFailure(await gpt1('generate', '--checkpoint', dirs.aOrig, '--ids', '1', '--temperature', '0'), 2, ['--temperature must be > 0']);
    assertOneLineFailure(await gpt1('generate', '--checkpoint', dirs.aOrig, '--ids', '1', '--max-tokens', '2.5'), 2, ['--max-tokens needs a whole number']);
    assertOneLineFailure(await gpt1('verify', '--checkpoint', dirs.aOrig, '--backend', 'quantum'), 2, ['--backend must be one of']);
    for (const cmd of ['info', 'verify', 'generate']) {
      const extra = cmd === 'generate' ? ['--ids', '1'] : [];
      assertOneLineFailure(await gpt1(cmd, '--checkpoint', join(TMP, 'no-such-dir'), ...extra), 1, [`gpt1 ${cmd}:`, 'no such checkpoint directory']);
    }
    const broken = join(TMP, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'params_shapes.json'), '[[1, 2], oops');
    assertOneLineFailure(await gpt1('info', '--checkpoint', broken), 1, ['params_shapes.json', 'not JSON']);
    assertOneLineFailure(await gpt1('verify', '--checkpoint', broken, '--quiet'), 1, ['params_shapes.json', 'not JSON']);
  });

  test('parseIds accepts commas, spaces and brackets', () => {
    assert.deepEqual(parseIds('t', '1,2,3'), [1, 2, 3]);
    assert.deepEqual(parseIds('t', ' [481, 4735 544] '), [481, 4735, 544]);
    assert.throws(() => parseIds('t', ''), /is empty/);
    assert.throws(() => parseIds('t', '1,-2'), /'-2' is not a token id/);
  });
});

describe('gpt1 info', () => {
  test('both layouts: format, config, parameter count, memory, vocabulary (bundled for n_vocab 40478)', async () => {
    for (const [dir, format] of [[dirs.aOrig, 'original'], [dirs.aHF, 'hf']] as const) {
      const r = await gpt1('info', '--checkpoint', dir, '--json');
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.equal(j.format, format);
      assert.deepEqual(j.config, { ...A });
      assert.equal(j.parameters, countParams(A));
      assert.equal(j.tensors, 2 + 12 * A.n_layer);
      assert.equal(j.memory_bytes.weights, 4 * countParams(A));
      assert.deepEqual(j.memory_bytes, { ...memoryEstimate(A) });
      assert.equal(j.vocabulary.found, true);
      assert.equal(j.vocabulary.source, 'bundled');
      assert.equal(j.vocabulary.fits, true);
      const text = await gpt1('info', '--checkpoint', dir);
      assert.match(text.out, new RegExp(`parameters +${countParams(A).toLocaleString('en-US')} in 26 tensors`));
      assert.match(text.out, /format +(original|hf)/);
    }
  });

  test('a small vocabulary: not found; the release memory estimate', async () => {
    const r = await gpt1('info', '--checkpoint', dirs.bOrig, '--json');
    const j = JSON.parse(r.out);
    assert.equal(j.config.n_special, 3);
    assert.equal(j.vocabulary.found, false);
    assert.match(j.vocabulary.reason, /give --vocab DIR/);
    const m = memoryEstimate(GPT1);
    assert.equal(m.weights, 466_139_136);
    assert.ok(m.forward > 4e8 && m.forward < 8e8, `forward estimate ${m.forward}`);
  });
});

describe('gpt1 convert', () => {
  test('original → hf → original and hf → original → hf: byte-identical files', async () => {
    const hf = join(TMP, 'conv', 'hf');
    const orig = join(TMP, 'conv', 'orig');
    let r = await gpt1('convert', '--checkpoint', dirs.aOrig, '--to', 'hf', '--out', hf, '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /bit-identical/);
    r = await gpt1('convert', '--checkpoint', hf, '--to', 'original', '--out', orig, '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(files(orig), files(dirs.aOrig));
    for (const f of files(dirs.aOrig)) assert.ok(bytes(join(orig, f)).equals(bytes(join(dirs.aOrig, f))), f);
    const hf2 = join(TMP, 'conv', 'hf2');
    r = await gpt1('convert', '--checkpoint', orig, '--to', 'hf', '--out', hf2, '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(files(hf2), files(dirs.aHF));
    for (const f of files(dirs.aHF)) assert.ok(bytes(join(hf2, f)).equals(bytes(join(dirs.aHF, f))), f);
  });

  test('refuses to overwrite a non-empty directory without --force, and the source itself', async () => {
    const out = join(TMP, 'conv', 'busy');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'keep.txt'), 'mine');
    assertOneLineFailure(await gpt1('convert', '--checkpoint', dirs.aOrig, '--to', 'hf', '--out', out), 2, ['not empty', '--force']);
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
    assertOneLineFailure(await gpt1('convert', '--checkpoint', dirs.aOrig, '--to', 'hf', '--out', dirs.aOrig), 2, ['must differ']);
    const r = await gpt1('convert', '--checkpoint', dirs.aOrig, '--to', 'hf', '--out', out, '--force', '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(files(out), ['config.json', 'model.safetensors']);
  });
});

describe('gpt1 dump', () => {
  const ids = [481, 4735, 544, 246, 963, 870];
  const outO = join(TMP, 'dump-orig');
  const outH = join(TMP, 'dump-hf');

  test('original and Hugging Face layouts of one model give byte-identical dumps', async () => {
    const a = await gpt1('dump', '--checkpoint', dirs.aOrig, '--ids', ids.join(','), '--out', outO, '--quiet', '--grads');
    assert.equal(a.code, 0, a.err);
    const b = await gpt1('dump', '--checkpoint', dirs.aHF, '--ids', ids.join(','), '--out', outH, '--quiet', '--grads');
    assert.equal(b.code, 0, b.err);
    assert.deepEqual(files(outO), files(outH));
    for (const f of files(outO)) {
      if (f === 'dump.json') continue; // names the checkpoint and its layout
      assert.ok(bytes(join(outO, f)).equals(bytes(join(outH, f))), `${f} differs`);
    }
  });

  test('files, shapes and values: logits, hidden states, attentions, ids, loss', async () => {
    const T = ids.length;
    const fwd = await forward(PA, A, ids);
    const logits = readNpy(join(outO, 'logits.npy')).tensor;
    assert.deepEqual(logits.shape, [T, nTokenRows(A)]);
    assert.deepEqual(logits.data, fwd.logits.data);
    const hidden = readNpy(join(outO, 'hidden_states.npy')).tensor;
    assert.deepEqual(hidden.shape, [A.n_layer + 1, T, A.n_embd]);
    fwd.hiddenStates.forEach((h, l) => assert.deepEqual(hidden.data.subarray(l * T * A.n_embd, (l + 1) * T * A.n_embd), h.data));
    // h₀ is the embedding: W_e[id] + W_p[t].
    const d = A.n_embd;
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < d; c++) assert.equal(hidden.data[t * d + c], Math.fround(PA['tokens_embed.weight'].data[ids[t] * d + c] + PA['positions_embed.weight'].data[t * d + c]));
    }
    const att = readNpy(join(outO, 'attentions.npy')).tensor;
    assert.deepEqual(att.shape, [A.n_layer, A.n_head, T, T]);
    for (let m = 0; m < A.n_layer * A.n_head; m++) {
      for (let q = 0; q < T; q++) {
        let sum = 0;
        for (let k = 0; k < T; k++) {
          const v = att.data[(m * T + q) * T + k];
          if (k > q) assert.equal(v, 0, 'causal: no attention to later positions');
          sum += v;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `row sums to ${sum}`);
      }
    }
    assert.deepEqual(JSON.parse(readFileSync(join(outO, 'ids.json'), 'utf8')), ids);
    const loss = JSON.parse(readFileSync(join(outO, 'loss.json'), 'utf8'));
    assert.deepEqual(Object.keys(loss), ['lm_loss']);
    assert.equal(loss.lm_loss, lmLoss(fwd.logits, ids));
    const meta = JSON.parse(readFileSync(join(outO, 'dump.json'), 'utf8'));
    assert.equal(meta.format, 'original');
    assert.deepEqual(meta.tokens, ['the', 'president', 'is', 'a', 'very', 'good']);
    assert.deepEqual(meta.shapes['attentions.npy'], [A.n_layer, A.n_head, T, T]);
  });

  test('--grads: every parameter, its shape, finite, equal to lmLossAndGrads', async () => {
    const { loss, grads } = await lmLossAndGrads(PA, A, ids);
    assert.equal(JSON.parse(readFileSync(join(outO, 'loss.json'), 'utf8')).lm_loss, loss);
    const written = files(join(outO, 'grads'));
    assert.deepEqual(written, paramShapes(A).map(([n]) => `${n}.npy`).sort());
    for (const [name, shape] of paramShapes(A)) {
      const g = readNpy(join(outO, 'grads', `${name}.npy`)).tensor;
      assert.deepEqual(g.shape, shape, name);
      assert.ok(g.data.every(Number.isFinite), `${name} is finite`);
      assert.deepEqual(g.data, grads[name].data, name);
    }
    const tok = readNpy(join(outO, 'grads', 'tokens_embed.weight.npy')).tensor.data;
    assert.ok(tok.some((x) => x !== 0), 'some gradient is non-zero');
  });

  test('--text with the bundled vocabulary, --attention-svg; replacing a previous dump needs no --force', async () => {
    const text = 'The president is a very good man.';
    const r = await gpt1('dump', '--checkpoint', dirs.aOrig, '--text', text, '--out', outO, '--attention-svg', '--layer', '1', '--head', '1', '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(readFileSync(join(outO, 'ids.json'), 'utf8')), encode(enc, text));
    assert.ok(!existsSync(join(outO, 'grads')), 'the previous dump was replaced, not merged');
    const svg = readFileSync(join(outO, 'attention_layer1_head1.svg'), 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.includes('president'));
    assert.deepEqual(readdirSync(TMP).filter((f) => f.startsWith('.dump-orig')), [], 'no temporary siblings left');
  });

  test('special tokens: logits over all n_vocab + n_special rows; one token: lm_loss null', async () => {
    const out = join(TMP, 'dump-b');
    let r = await gpt1('dump', '--checkpoint', dirs.bOrig, '--ids', '50,3,51,7,52', '--out', out, '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readNpy(join(out, 'logits.npy')).tensor.shape, [5, B.n_vocab + B.n_special]);
    r = await gpt1('dump', '--checkpoint', dirs.bOrig, '--ids', '4', '--out', out, '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'loss.json'), 'utf8')), { lm_loss: null });
    assert.deepEqual(readNpy(join(out, 'attentions.npy')).tensor.shape, [B.n_layer, B.n_head, 1, 1]);
  });

  test('bad input: overlong sequence, id outside the vocabulary, unknown text, no vocabulary, --grads of one token, busy --out', async () => {
    const out = join(TMP, 'dump-bad');
    const long = Array.from({ length: B.n_ctx + 1 }, (_, i) => i % 50).join(',');
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.bOrig, '--ids', long, '--out', out, '--quiet'), 1, ['sequence too long', `n_ctx = ${B.n_ctx}`]);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.bOrig, '--ids', '1,53', '--out', out, '--quiet'), 1, ['token id 53', 'outside the vocabulary']);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.aOrig, '--text', 'hello 日本', '--out', out, '--quiet'), 1, ['not in the vocabulary', '--allow-unk']);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.bOrig, '--text', 'hello', '--out', out, '--quiet'), 1, ['needs a vocabulary']);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.bOrig, '--ids', '1', '--grads', '--out', out, '--quiet'), 1, ['--grads needs at least 2 tokens']);
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.bOrig, '--ids', '1,2', '--attention-svg', '--layer', '2', '--out', out, '--quiet'), 2, ['--layer 2']);
    assert.ok(!existsSync(out), 'nothing written on failure');
    const ok = await gpt1('dump', '--checkpoint', dirs.aOrig, '--text', 'hello 日本', '--allow-unk', '--out', out, '--quiet');
    assert.equal(ok.code, 0, ok.err);
    const busy = join(TMP, 'busy-dump');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'x');
    assertOneLineFailure(await gpt1('dump', '--checkpoint', dirs.bOrig, '--ids', '1,2', '--out', busy, '--quiet'), 2, ['not empty', '--force']);
  });
});

describe('gpt1 generate', () => {
  /** Runs generate and returns the text on stdout and the generated ids (from --print-ids). */
  async function gen(...args: string[]): Promise<{ text: string; ids: number[] }> {
    const r = await gpt1('generate', '--quiet', '--print-ids', ...args);
    assert.equal(r.code, 0, r.err);
    const m = /ids: (\[.*\])/.exec(r.err);
    assert.ok(m, `no ids on stderr: ${r.err}`);
    return { text: r.out, ids: JSON.parse(m[1]) };
  }

  test('greedy: the key/value cache gives the same tokens as recomputing, and the same as generateIds', async () => {
    const cached = await gen('--checkpoint', dirs.aOrig, '--prompt', 'the president is', '--greedy', '--max-tokens', '12');
    const plain = await gen('--checkpoint', dirs.aOrig, '--prompt', 'the president is', '--greedy', '--max-tokens', '12', '--no-cache');
    assert.equal(cached.ids.length, 12);
    assert.deepEqual(cached.ids, plain.ids);
    assert.equal(cached.text, plain.text);
    assert.deepEqual(cached.ids, await generateIds(PA, A, [481, 4735, 544], { greedy: true, maxTokens: 12 }));
    // The streamed text is the decoding of prompt + continuation.
    assert.equal(cached.text, `${decode(enc, [481, 4735, 544, ...cached.ids])}\n`);
  });

  test('sampling (temperature, top-k, seed): cache and no cache agree; the seed matters', async () => {
    const args = ['--checkpoint', dirs.bOrig, '--ids', '1,2,3', '--temperature', '0.7', '--top-k', '5', '--max-tokens', '6'];
    const a = await gen(...args, '--seed', '3');
    const b = await gen(...args, '--seed', '3', '--no-cache');
    assert.deepEqual(a.ids, b.ids);
    assert.ok(a.ids.every((id) => id >= 0 && id < B.n_vocab), 'special tokens are never generated');
    // Without a vocabulary the ids are printed.
    assert.equal(a.text, `${[1, 2, 3, ...a.ids].join(' ')}\n`);
    const seeds: string[] = [];
    for (const s of [4, 5, 6]) seeds.push((await gen(...args, '--seed', String(s))).ids.join(',')); // one at a time: output is captured per run
    assert.ok(new Set([a.ids.join(','), ...seeds]).size > 1, 'different seeds give different samples');
  });

  test('stops when the context is full; an overlong prompt is an error', async () => {
    const full = await gen('--checkpoint', dirs.bOrig, '--ids', '1,2,3,4,5,6,7,8,9,10', '--greedy', '--max-tokens', '50');
    assert.equal(full.ids.length, B.n_ctx - 10 + 1); // the last token is never fed back
    const long = Array.from({ length: B.n_ctx + 1 }, () => '1').join(',');
    assertOneLineFailure(await gpt1('generate', '--checkpoint', dirs.bOrig, '--ids', long, '--quiet'), 1, ['sequence too long']);
  });

  test('streamDecoder prints exactly decode(all ids), token by token', () => {
    const pieces = ["'</w>", "n't</w>", "'m</w>", "'s</w>", '.</w>', ',</w>', '!</w>', '?</w>', '\n</w>', '"</w>', 'the</w>', 'do</w>', 'a', "'", "'ve</w>"];
    const ids = pieces.map((p) => enc.encoder.get(p) as number);
    assert.ok(ids.every((id) => id !== undefined));
    const idArb = fc.oneof(fc.constantFrom(...ids), fc.integer({ min: 0, max: enc.nVocab - 1 }));
    fc.assert(
      fc.property(fc.array(idArb, { minLength: 1, maxLength: 14 }), fc.integer({ min: 0, max: 4 }), (seq, first) => {
        const d = streamDecoder(enc);
        let out = d.push(...seq.slice(0, first));
        for (const id of seq.slice(first)) out += d.push(id);
        out += d.flush();
        assert.equal(out, decode(enc, seq));
      }),
      { numRuns: 300 },
    );
    const d = streamDecoder(enc);
    const parts = RELEASE.decode.ids.map((id) => d.push(id));
    assert.equal(parts.join('') + d.flush(), RELEASE.decode.text);
  });
});

describe('gpt1 verify', () => {
  test("the release's shapes: paramShapes(GPT1) is the release params_shapes.json, 116,534,784 parameters", () => {
    const shipped = join(ROOT, 'vocab', 'params_shapes.json'); // a byte-for-byte copy of the release's file
    assert.equal(RELEASE.paramCount, countParams(GPT1));
    assert.equal(countParams(GPT1), 116_534_784);
    const release = JSON.parse(readFileSync(shipped, 'utf8')) as number[][];
    const ours = paramShapes(GPT1).map(([name, s]) => (/\.(c_attn|c_proj|c_fc)\.weight$/.test(name) ? [1, ...s] : s));
    assert.deepEqual(ours, release);
  });

  test('a small model with the release vocabulary: release-only checks n/a, the others pass, exit 0', async () => {
    for (const dir of [dirs.aOrig, dirs.aHF]) {
      const r = await gpt1('verify', '--checkpoint', dir, '--quiet');
      assert.equal(r.code, 0, r.out + r.err);
      const lines = r.out.split('\n');
      const status = (name: string) => lines.find((l) => l.includes(`: ${name}:`))?.split(':')[0];
      for (const n of ['parameter count', 'parameter shapes', 'greedy generation']) assert.equal(status(n), 'n/a', n);
      for (const n of ['vocabulary fits the model', 'tokenizer encode', 'tokenizer decode', 'tokenizer round trip', 'forward pass and cache']) assert.equal(status(n), 'pass', n);
      assert.ok(lines.some((l) => l.startsWith('n/a: greedy generation: ') && l.includes("not GPT-1's architecture")));
      assert.ok(r.out.includes('5 passed, 0 failed, 3 not applicable'));
    }
  });

  test('a model whose n_vocab is not the vocabulary size fails the vocabulary check, exit 1', async () => {
    const r = await gpt1('verify', '--checkpoint', dirs.bOrig, '--quiet');
    assert.equal(r.code, 1);
    assert.match(r.out, /^FAIL: vocabulary fits the model: .*40,478 tokens, the model's n_vocab is 50$/m);
    assert.match(r.out, /^pass: tokenizer encode: "the president is" → \[481, 4735, 544\]$/m);
    // A vocabulary that is not the release's: the tokenizer facts do not apply.
    const vdir = join(TMP, 'vocab-b');
    const learned = await gpt1('bpe', 'learn', '--data', join(ROOT, 'README.md'), '--merges', '5', '--out', vdir, '--quiet');
    assert.equal(learned.code, 0, learned.err);
    const r2 = await gpt1('verify', '--checkpoint', dirs.bOrig, '--vocab', vdir, '--quiet');
    assert.match(r2.out, /^n\/a: tokenizer encode: the vocabulary has \d+ tokens, not the release's 40478$/m);
  });

  test('verifyChecks against given facts: the greedy check passes on the expected output and fails otherwise', async () => {
    const want = [...RELEASE.greedy.prompt, ...(await generateIds(PA, A, RELEASE.greedy.prompt, { greedy: true, maxTokens: 17 }))];
    const facts: ReleaseFacts = { ...RELEASE, config: A, paramCount: countParams(A), greedy: { prompt: RELEASE.greedy.prompt, ids: want } };
    const input = { config: A, params: PA, enc, vocabWhere: 'bundled' };
    const ok = await verifyChecks(input, facts);
    assert.deepEqual(ok.map((c) => c.status), ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass'], JSON.stringify(ok));
    const wrong = [...want];
    wrong[7] = (wrong[7] + 1) % A.n_vocab;
    const bad = await verifyChecks(input, { ...facts, greedy: { prompt: facts.greedy.prompt, ids: wrong } });
    const g = bad.find((c) => c.name === 'greedy generation');
    assert.equal(g?.status, 'fail');
    assert.match(g?.detail ?? '', /at position 7/);
    // Same architecture, other shapes (n_ctx): count and shapes fail, greedy is n/a.
    const other = await verifyChecks(input, { ...facts, config: makeConfig({ ...A, n_ctx: 32 }), paramCount: countParams(makeConfig({ ...A, n_ctx: 32 })) });
    assert.deepEqual(other.filter((c) => c.status !== 'pass').map((c) => [c.name, c.status]), [['parameter count', 'fail'], ['parameter shapes', 'fail'], ['greedy generation', 'n/a']]);
    assert.match(other[1].detail, /positions_embed\.weight is \[24, 16\], expected \[32, 16\]/);
  });
});

describe('gpt1 bpe learn', () => {
  test('learns a vocabulary that loadEncoder reads; a missing corpus is one line', async () => {
    const corpus = join(TMP, 'corpus');
    mkdirSync(join(corpus, 'sub'), { recursive: true });
    writeFileSync(join(corpus, 'a.txt'), 'the cat sat on the mat.\nthe dog sat on the log.\n');
    writeFileSync(join(corpus, 'sub', 'b.txt'), 'the cat and the dog.\n');
    writeFileSync(join(corpus, '.hidden'), 'zzzz zzzz zzzz\n');
    const out = join(TMP, 'learned');
    const r = await gpt1('bpe', 'learn', '--data', corpus, '--merges', '8', '--out', out, '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /8 merges/);
    // The names of a checkpoint, and the original's naming with the true merge count (not 40000).
    assert.deepEqual(readdirSync(out).sort(), ['encoder_bpe_8.json', 'merges.txt', 'vocab.json', 'vocab_8.bpe']);
    assert.deepEqual(readFileSync(join(out, 'encoder_bpe_8.json')), readFileSync(join(out, 'vocab.json')));
    assert.deepEqual(readFileSync(join(out, 'vocab_8.bpe')), readFileSync(join(out, 'merges.txt')));
    const learned = loadEncoder(out);
    assert.equal(learned.bpeRanks.size, 8);
    assert.ok(!learned.encoder.has('z'), 'hidden files are skipped');
    assert.deepEqual(decode(learned, encode(learned, 'the cat')), 'the cat');
    assertOneLineFailure(await gpt1('bpe', 'learn', '--data', join(TMP, 'nothing'), '--merges', '8', '--out', out), 1, ['no such file or directory']);
    assertOneLineFailure(await gpt1('bpe', 'learn', '--data', corpus, '--merges', '-1', '--out', out), 2, ['--merges must be ≥ 0']);
  });
});

describe('writeTreeAtomic', () => {
  test('replaces the whole directory, with sub-directories, leaving no temporary siblings; rejects escaping names', () => {
    const d = join(TMP, 'tree', 'out');
    writeTreeAtomic(d, { 'a.txt': 'one', 'sub/b.bin': new Uint8Array([1, 2]) });
    assert.deepEqual(files(d), ['a.txt', 'sub/b.bin']);
    writeTreeAtomic(d, { 'c.txt': ['x', 'y'].map((s) => new TextEncoder().encode(s)) });
    assert.deepEqual(files(d), ['c.txt']);
    assert.equal(readFileSync(join(d, 'c.txt'), 'utf8'), 'xy');
    assert.deepEqual(readdirSync(join(TMP, 'tree')), ['out']);
    for (const bad of ['../x', '/abs', 'a//b', 'a/./b', '']) assert.throws(() => writeTreeAtomic(d, { [bad]: 'x' }), /invalid file name/, bad);
  });
});

describe('bin/gpt1.mjs (a separate process, as a user runs it)', () => {
  const bin = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'gpt1.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

  test('info prints the report and exits 0; a missing checkpoint exits 1 with one line on stderr', () => {
    const ok = bin('info', '--checkpoint', dirs.aHF);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^format +hf/m);
    const bad = bin('verify', '--checkpoint', join(TMP, 'absent'));
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^gpt1 verify: .*no such checkpoint directory/);
  });

  test('dump --backend cpu runs on the forced backend', () => {
    const out = join(TMP, 'dump-cpu');
    const r = bin('dump', '--checkpoint', dirs.bOrig, '--ids', '1,2,3', '--out', out, '--backend', 'cpu');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /forward pass over 3 tokens/);
    assert.equal(JSON.parse(readFileSync(join(out, 'dump.json'), 'utf8')).backend, 'cpu');
  });
});
