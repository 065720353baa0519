/**
 * Fine-tuned checkpoints in the names Hugging Face transformers loads
 * (src/checkpoint/heads.ts, src/train/state.ts).
 *
 * The expected names are transformers' own (modeling_openai.py): every class keeps the
 * language model under its `base_model_prefix` `transformer.`; `OpenAIGPTDoubleHeadsModel`
 * adds `multiple_choice_head.summary` = nn.Linear(n_embd, num_labels = 1) and the tied
 * `lm_head`; `OpenAIGPTForSequenceClassification` adds `score` = nn.Linear(n_embd,
 * num_labels, bias=False). nn.Linear stores its weight as [out_features, in_features].
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeConfig } from '../src/config.ts';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { writeDirAtomic } from '../src/io/atomic.ts';
import { encodeSafetensorsChunks, readSafetensorsHeader } from '../src/io/safetensors.ts';
import { initClassifier, CLF_BIAS, CLF_WEIGHT } from '../src/train/classifier.ts';
import { CLASSIFIER_FILE, TASK_FILE, type TaskInfo, hasClassifier, loadClassifier, modelFiles } from '../src/train/state.ts';
import { hfFiles } from '../src/checkpoint/hf.ts';
import { rng } from '../src/random.ts';
import { randomParams } from './helpers.ts';

const TMP = mkdtempSync(join(tmpdir(), 'gpt1-heads-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const config = makeConfig({ n_vocab: 30, n_special: 3, n_ctx: 8, n_embd: 8, n_head: 2, n_layer: 2 });
const params = randomParams(config, 1);

/** transformers' state-dict names of the language model inside a task model (OpenAIGPTModel under `transformer.`). */
function transformerNames(nLayer: number): string[] {
  const names = ['transformer.tokens_embed.weight', 'transformer.positions_embed.weight'];
  for (let i = 0; i < nLayer; i++) {
    for (const m of ['attn.c_attn', 'attn.c_proj', 'ln_1', 'mlp.c_fc', 'mlp.c_proj', 'ln_2']) names.push(`transformer.h.${i}.${m}.weight`, `transformer.h.${i}.${m}.bias`);
  }
  return names;
}

/** The names each transformers class loads; `lm_head.weight` is tied (transformers re-ties it when absent). */
const HF_CLASSES: Readonly<Record<string, { names: string[]; optional: string[]; ignored: string[] }>> = {
  OpenAIGPTDoubleHeadsModel: { names: [...transformerNames(2), 'multiple_choice_head.summary.weight', 'multiple_choice_head.summary.bias'], optional: ['lm_head.weight'], ignored: [] },
  OpenAIGPTForSequenceClassification: { names: [...transformerNames(2), 'score.weight'], optional: [], ignored: ['score.bias'] },
};

function save(dir: string, task: TaskInfo, nOut: number): ReturnType<typeof initClassifier> {
  const head = initClassifier(config.n_embd, nOut, rng(nOut));
  // A non-zero bias, so that losing it would show.
  const withBias = { ...head, [CLF_BIAS]: { shape: [nOut], data: Float32Array.from({ length: nOut }, (_, i) => 0.25 * (i + 1)) } };
  writeDirAtomic(dir, modelFiles(config, params, withBias, task));
  return withBias;
}

describe('fine-tuned checkpoints in transformers names', () => {
  const cases: [string, TaskInfo, number, string][] = [
    ['multiple choice', { task: 'multiple-choice', labels: [], n_out: 1 }, 1, 'OpenAIGPTDoubleHeadsModel'],
    ['classification', { task: 'classification', labels: ['ham', 'spam'], n_out: 2 }, 2, 'OpenAIGPTForSequenceClassification'],
    ['entailment', { task: 'entailment', labels: ['entailment', 'neutral', 'contradiction'], n_out: 3 }, 3, 'OpenAIGPTForSequenceClassification'],
    ['similarity (regression)', { task: 'similarity', labels: [], n_out: 1, regression: true }, 1, 'OpenAIGPTForSequenceClassification'],
  ];
  for (const [what, task, nOut, cls] of cases) {
    test(`${what}: ${cls}'s tensor names and shapes, config.json's architectures and labels; read back exactly`, () => {
      const dir = join(TMP, what.replace(/\W+/g, '-'));
      const head = save(dir, task, nOut);
      const header = readSafetensorsHeader(join(dir, 'model.safetensors'));
      const names = header.entries.map((e) => e.name);
      const want = HF_CLASSES[cls];
      for (const n of want.names) assert.ok(names.includes(n), `${n} missing`);
      for (const n of names) assert.ok(want.names.includes(n) || want.optional.includes(n) || want.ignored.includes(n), `${n} is not a name ${cls} loads`);
      const shape = (n: string) => header.entries.find((e) => e.name === n)?.shape;
      if (task.task === 'multiple-choice') {
        assert.deepEqual(shape('multiple_choice_head.summary.weight'), [1, config.n_embd]);
        assert.deepEqual(shape('multiple_choice_head.summary.bias'), [1]);
      } else assert.deepEqual(shape('score.weight'), [nOut, config.n_embd]);
      assert.deepEqual(shape('transformer.tokens_embed.weight'), [config.n_vocab + config.n_special, config.n_embd]);

      const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      assert.deepEqual(json.architectures, [cls]);
      assert.equal(json.model_type, 'openai-gpt');
      assert.equal(json.vocab_size, config.n_vocab + config.n_special);
      assert.equal(Object.keys(json.id2label).length, task.task === 'multiple-choice' ? 1 : nOut, 'num_labels = the rows of the head');
      if (task.task === 'multiple-choice') {
        assert.equal(json.summary_type, 'cls_index');
        assert.equal(json.summary_use_proj, true);
        assert.equal(json.summary_proj_to_labels, true);
        assert.equal(json.summary_activation, null);
      } else {
        assert.equal(json.problem_type, task.regression ? 'regression' : 'single_label_classification');
        if (!task.regression) assert.deepEqual(Object.values(json.id2label), task.labels);
      }

      // gpt1-ts reads the model (the head's tensors are skipped) and the head, bit for bit.
      const back = loadCheckpoint(dir);
      assert.deepEqual(back.config, config);
      for (const [n, t] of Object.entries(params)) assert.deepEqual(back.params[n].data, t.data, n);
      assert.ok(hasClassifier(dir));
      const got = loadClassifier(dir, config.n_embd);
      assert.deepEqual(got.head[CLF_WEIGHT].shape, [config.n_embd, nOut]);
      assert.deepEqual(got.head[CLF_WEIGHT].data, head[CLF_WEIGHT].data);
      assert.deepEqual(got.head[CLF_BIAS].data, head[CLF_BIAS].data);
      assert.equal(got.task.task, task.task);
    });
  }

  test('an older checkpoint (classifier.safetensors with clf.* names) is still read', () => {
    const dir = join(TMP, 'old');
    const head = initClassifier(config.n_embd, 2, rng(3));
    const task: TaskInfo = { task: 'classification', labels: [0, 1], n_out: 2 };
    writeDirAtomic(dir, {
      ...hfFiles(config, params),
      [CLASSIFIER_FILE]: encodeSafetensorsChunks([[CLF_WEIGHT, head[CLF_WEIGHT]], [CLF_BIAS, head[CLF_BIAS]]]),
      [TASK_FILE]: JSON.stringify(task),
    });
    const got = loadClassifier(dir, config.n_embd);
    assert.deepEqual(got.head[CLF_WEIGHT].data, head[CLF_WEIGHT].data);
    assert.equal(loadCheckpoint(dir).format, 'hf');
  });

  test('a language model alone keeps the names of OpenAIGPTModel (no prefix) and its architectures', () => {
    const dir = join(TMP, 'lm');
    writeDirAtomic(dir, modelFiles(config, params));
    const names = readSafetensorsHeader(join(dir, 'model.safetensors')).entries.map((e) => e.name);
    assert.deepEqual(names.sort(), transformerNames(2).map((n) => n.slice('transformer.'.length)).sort());
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures, ['OpenAIGPTLMHeadModel']);
    assert.ok(!hasClassifier(dir));
  });
});
