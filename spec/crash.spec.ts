/**
 * Crash safety: `gpt1 pretrain`, `gpt1 finetune` and `gpt1 convert` killed with
 * SIGKILL (kill -9) in the middle of writing, and a disk that fills up.
 *
 * The kill comes from the process itself at a chosen point of the atomic writers
 * (`GPT1_FAULT`, see `src/io/atomic.ts`): in the middle of a file of a checkpoint
 * (`write:n`, the n-th chunk written) and right after each rename of the directory
 * swap (`S1`, `S2`: the moment when the directory itself is missing and only its
 * `.new`/`.old` siblings exist). Each case asserts:
 * - the output is complete or absent: what a reader finds loads, every number checked;
 * - the inputs are untouched;
 * - for training, `--resume` after the crash ends bit-identical to a run that never
 *   stopped (model, optimizer state and trainer state, byte for byte);
 * - the next successful write leaves no `.tmp-*`, `.new` or `.old` sibling behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { resolveDirAtomic } from '../src/io/atomic.ts';
import { loadTrainingCheckpoint } from '../src/train/state.ts';
import { backend } from '../src/kernels/backend.ts';
import { assertCliFailure, destroyAfterTests, runCli } from './helpers.ts';

const be = await backend();
destroyAfterTests(be.gpu);

const ROOT = join(import.meta.dirname, '..');
const TMP = mkdtempSync(join(tmpdir(), 'gpt1-crash-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const corpus = join(TMP, 'corpus.txt');
const trainFile = join(TMP, 'train.jsonl');
/** 6 updates, a checkpoint every 2: saves at updates 2, 4 and 6. */
const PRETRAIN = ['--data', corpus, '--steps', '6', '--batch', '2', '--ctx', '8', '--lr', '0.01', '--merges', '30', '--save-every', '2', '--quiet'];
/** 3 epochs of 2 updates, a checkpoint every 2: saves at updates 2, 4 and 6. */
const finetuneArgs = (ckpt: string): string[] => ['--checkpoint', ckpt, '--task', 'classification', '--train', trainFile, '--epochs', '3', '--batch', '4', '--save-every', '2', '--quiet'];
const STATE_FILES = ['model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'config.json'];

/** `gpt1 args` in a child process with `GPT1_FAULT=fault`; asserts that it was killed by SIGKILL. */
function crash(fault: string, args: readonly string[]): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gpt1.mjs'), ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, GPT1_FAULT: fault } });
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.signal, 'SIGKILL', `GPT1_FAULT=${fault} gpt1 ${args.join(' ')}: expected a kill, got status ${r.status}: ${r.stderr}`);
}

/** The siblings an atomic write of `dir` may leave (`.D.tmp-*`, `.D.new`, `.D.old`). */
function leftovers(dir: string): string[] {
  const name = basename(dir);
  return readdirSync(dirname(dir)).filter((f) => f.startsWith(`.${name}.`));
}

const same = (a: string, b: string, file: string): boolean => readFileSync(join(a, file)).equals(readFileSync(join(b, file)));

let REF_PRE = '';
let REF_FT = '';

before(async () => {
  writeFileSync(corpus, 'the cat sat on the mat. the dog sat on the log. '.repeat(10));
  writeFileSync(trainFile, ['{"text":"the cat sat","label":"cat"}', '{"text":"the dog sat","label":"dog"}'].join('\n').concat('\n').repeat(4));
  REF_PRE = join(TMP, 'ref-pre');
  const p = await runCli('pretrain', ...PRETRAIN, '--out', REF_PRE);
  assert.equal(p.code, 0, p.err);
  REF_FT = join(TMP, 'ref-ft');
  const f = await runCli('finetune', ...finetuneArgs(join(REF_PRE, 'checkpoint')), '--out', REF_FT);
  assert.equal(f.code, 0, f.err);
});

describe('kill -9 while writing a checkpoint, then --resume', () => {
  // write:n counts chunks: the learned vocabulary (2), then about 85 per checkpoint, so
  // write:120 is inside the checkpoint of update 4; S2:1 is the replacement of update 2's by update 4's.
  for (const fault of ['write:120', 'S1:2', 'S2:1']) {
    test(`pretrain killed at ${fault}: a complete checkpoint is found, and the resumed run is bit-identical`, async () => {
      const out = join(TMP, `pre-${fault.replace(':', '-')}`);
      crash(fault, ['pretrain', ...PRETRAIN, '--out', out]);
      const found = loadTrainingCheckpoint(join(out, 'checkpoint')); // complete: every file and number checked
      assert.ok([2, 4].includes(found.state.step), `found update ${found.state.step}`);
      const r = await runCli('pretrain', '--data', corpus, '--out', out, '--resume', '--quiet');
      assert.equal(r.code, 0, r.err);
      for (const f of STATE_FILES) assert.ok(same(join(out, 'checkpoint'), join(REF_PRE, 'checkpoint'), f), `${f} differs from the uninterrupted run`);
      assert.deepEqual(leftovers(join(out, 'checkpoint')), []);
    });
  }

  for (const fault of ['write:100', 'S2:1']) {
    test(`finetune killed at ${fault}: a complete checkpoint is found, and the resumed run is bit-identical`, async () => {
      const out = join(TMP, `ft-${fault.replace(':', '-')}`);
      crash(fault, ['finetune', ...finetuneArgs(join(REF_PRE, 'checkpoint')), '--out', out]);
      const found = loadTrainingCheckpoint(join(out, 'checkpoint'));
      assert.ok([2, 4].includes(found.state.step), `found update ${found.state.step}`);
      const r = await runCli('finetune', '--task', 'classification', '--train', trainFile, '--out', out, '--resume', '--quiet');
      assert.equal(r.code, 0, r.err);
      for (const f of readdirSync(join(REF_FT, 'checkpoint'))) assert.ok(same(join(out, 'checkpoint'), join(REF_FT, 'checkpoint'), f), `${f} differs from the uninterrupted run`);
      assert.deepEqual(leftovers(join(out, 'checkpoint')), []);
    });
  }
});

describe('kill -9 while converting', () => {
  for (const fault of ['write:6', 'S1:1', 'S2:1']) {
    test(`convert killed at ${fault}: the output is complete or absent, the source untouched, and a rerun succeeds`, async () => {
      const src = join(REF_PRE, 'checkpoint');
      const before = readFileSync(join(src, 'model.safetensors'));
      const out = join(TMP, `conv-${fault.replace(':', '-')}`);
      if (fault.startsWith('S2')) cpSync(join(REF_PRE, 'checkpoint'), out, { recursive: true }); // an older output to replace (S2 needs one)
      crash(fault, ['convert', '--checkpoint', src, '--to', 'original', '--out', out, '--force', '--quiet']);
      const real = resolveDirAtomic(out);
      if (existsSync(real)) {
        const got = loadCheckpoint(out); // complete: the converted model, or the older output it was replacing
        const want = loadCheckpoint(src);
        assert.deepEqual(got.config, want.config);
        for (const [name, t] of Object.entries(want.params)) assert.ok(Buffer.from(got.params[name].data.buffer, got.params[name].data.byteOffset, got.params[name].data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), name);
      }
      assert.ok(readFileSync(join(src, 'model.safetensors')).equals(before), 'the source changed');
      const r = await runCli('convert', '--checkpoint', src, '--to', 'original', '--out', out, '--force', '--quiet');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /every tensor bit-identical/);
      assert.deepEqual(leftovers(out), []);
    });
  }
});

describe('a full disk', () => {
  test('pretrain: the save that fails (ENOSPC) is one line, exit 1, and the previous checkpoint is kept whole', async () => {
    const out = join(TMP, 'full');
    process.env.GPT1_FAULT = 'full:120'; // inside the checkpoint of update 4
    let r;
    try {
      r = await runCli('pretrain', ...PRETRAIN, '--out', out);
    } finally {
      delete process.env.GPT1_FAULT;
    }
    assertCliFailure(r, 1, [join(out, 'checkpoint'), 'cannot write', 'ENOSPC']);
    const kept = loadTrainingCheckpoint(join(out, 'checkpoint'));
    assert.equal(kept.state.step, 2);
    assert.deepEqual(leftovers(join(out, 'checkpoint')), []);
    const resumed = await runCli('pretrain', '--data', corpus, '--out', out, '--resume', '--quiet');
    assert.equal(resumed.code, 0, resumed.err);
    for (const f of STATE_FILES) assert.ok(same(join(out, 'checkpoint'), join(REF_PRE, 'checkpoint'), f), f);
  });
});
