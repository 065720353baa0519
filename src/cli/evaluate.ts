/**
 * `gpt1 evaluate`: the metrics of a fine-tuned checkpoint on labelled examples, or the
 * language-model loss and perplexity of any checkpoint on text.
 *
 * ```text
 * gpt1 evaluate --checkpoint runs/clf/checkpoint --data test.jsonl
 * gpt1 evaluate --checkpoint runs/lm/checkpoint --task lm --data heldout.txt
 * ```
 *
 * With a fine-tuned checkpoint (it has `task.json` and its head) the
 * task comes from it (`--task`, if given, must agree); the data are read as for
 * `gpt1 finetune`. With `--task lm` (the default for a checkpoint without a
 * classifier) the text is read as for `gpt1 pretrain`, tokenized, cut into consecutive
 * windows of `--ctx` tokens (default n_ctx; the last, shorter one is kept when it has
 * at least 2 tokens) and scored without dropout.
 *
 * Prints one line of metrics on stdout, or a JSON object with `--json` (snake_case
 * keys such as `clf_loss` and `lm_loss`, as in every JSON output).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './args.ts';
import { type Command, BACKEND_FLAG, QUIET_FLAG, applyBackendFlag, findVocab, formatMetrics, num, requireVocab, str } from './common.ts';
import { loadCheckpoint } from '../checkpoint/index.ts';
import { resolveDirAtomic } from '../io/atomic.ts';
import { encode } from '../tokenizer/index.ts';
import { snakeCaseKeys } from '../report/json.ts';
import { readCorpus } from '../train/corpus.ts';
import { evaluate, evaluateLm } from '../train/evaluate.ts';
import { TASK_FILE, hasClassifier, loadClassifier } from '../train/state.ts';
import { prepareExamples, readTaskFile } from '../train/task-files.ts';
import { TASK_KINDS, type TaskKind, specialTokens } from '../train/transforms.ts';

/** A run directory (`OUT` of pretrain/finetune) stands for its `checkpoint/`. */
export function checkpointDir(dir: string): string {
  const inner = join(dir, 'checkpoint');
  return !existsSync(join(dir, 'model.safetensors')) && !existsSync(join(dir, 'params_shapes.json')) && existsSync(inner) ? inner : dir;
}

export const command: Command = {
  spec: {
    name: 'evaluate',
    summary: 'metrics of a fine-tuned checkpoint on labelled examples (accuracy, F1, MCC, losses; Pearson/Spearman for a regression), or LM loss and perplexity on text',
    examples: [
      'gpt1 evaluate --checkpoint runs/clf/checkpoint --data test.jsonl',
      'gpt1 evaluate --checkpoint runs/roc --task multiple-choice --data cloze_test_test.csv --json',
      'gpt1 evaluate --checkpoint runs/lm/checkpoint --task lm --data heldout.txt',
    ],
    flags: {
      checkpoint: { kind: 'string', required: true, help: 'checkpoint directory (or a run directory holding checkpoint/)' },
      data: { kind: 'string', required: true, help: 'labelled examples (JSONL or ROCStories .csv), or text for --task lm' },
      task: { kind: 'string', choices: [...TASK_KINDS, 'lm'], help: 'default: the fine-tuned task of the checkpoint, else lm' },
      ctx: { kind: 'int', help: '--task lm: tokens per window (default n_ctx)' },
      'n-head': { kind: 'int', help: 'attention heads of an original-layout checkpoint (default 12)' },
      vocab: { kind: 'string', help: 'BPE vocabulary directory (default: the checkpoint\'s, else the bundled GPT-1 vocabulary)' },
      json: { kind: 'boolean', help: 'print the metrics as one JSON object' },
      backend: BACKEND_FLAG,
      quiet: QUIET_FLAG,
    },
  },
  async run(flags) {
    applyBackendFlag(flags);
    const dir = checkpointDir(str(flags, 'checkpoint') as string);
    const nHead = num(flags, 'n-head');
    const { config, params } = loadCheckpoint(dir, nHead === undefined ? {} : { n_head: nHead });
    const enc = requireVocab(findVocab(str(flags, 'vocab'), resolveDirAtomic(dir), config), config, 'evaluation');
    const fineTuned = hasClassifier(dir);
    const taskFlag = str(flags, 'task') as TaskKind | 'lm' | undefined;
    const data = str(flags, 'data') as string;
    const json = flags.json === true;

    if (taskFlag === 'lm' || (taskFlag === undefined && !fineTuned)) {
      const ctx = num(flags, 'ctx') ?? config.n_ctx;
      if (!(Number.isInteger(ctx) && ctx >= 2 && ctx <= config.n_ctx)) throw new UsageError(`gpt1 evaluate: --ctx must be an integer in [2, ${config.n_ctx}], got ${ctx}`);
      const ids = readCorpus(data).flatMap((d) => encode(enc, d));
      const windows: number[][] = [];
      for (let i = 0; i + 1 < ids.length; i += ctx) windows.push(ids.slice(i, i + ctx));
      if (windows.length > 1 && windows[windows.length - 1].length < 2) windows.pop();
      if (windows.length === 0) throw new Error(`${data}: fewer than 2 tokens`);
      const r = await evaluateLm(params, config, windows);
      if (json) console.log(JSON.stringify({ task: 'lm', loss: r.loss, perplexity: r.perplexity, predictions: r.tokens, windows: windows.length }));
      else console.log(`LM loss ${r.loss.toFixed(4)} nats/token | perplexity ${r.perplexity.toFixed(2)} | ${r.tokens} predictions in ${windows.length} window(s) of ≤ ${ctx} tokens`);
      return 0;
    }

    if (!fineTuned) throw new Error(`${dir}: no fine-tuned classifier (${TASK_FILE}); use --task lm or a checkpoint from gpt1 finetune`);
    const { head, task } = loadClassifier(dir, config.n_embd);
    if (taskFlag !== undefined && taskFlag !== task.task) throw new UsageError(`gpt1 evaluate: the checkpoint was fine-tuned for ${task.task}, not ${taskFlag}`);
    const examples = readTaskFile(task.task, data);
    const regression = task.regression === true;
    const prepared = prepareExamples(examples, (t) => encode(enc, t), specialTokens(config), config.n_ctx, task.labels, { regression });
    const quiet = flags.quiet === true;
    if (prepared.truncated > 0 && !quiet) process.stderr.write(`note: ${prepared.truncated} of ${prepared.data.length} examples were truncated to fit n_ctx = ${config.n_ctx}\n`);
    const m = await evaluate({
      params, config, head, task: task.task, data: prepared.data, regression,
      onProgress: quiet ? undefined : (done, total) => { if (process.stderr.isTTY) process.stderr.write(`\revaluating ${done}/${total}\x1b[K${done === total ? '\n' : ''}`); },
    });
    if (json) {
      const { predictions, ...rest } = m;
      console.log(JSON.stringify(snakeCaseKeys({ task: task.task, ...(regression ? { regression } : { labels: task.labels }), ...rest, accuracy: regression ? null : rest.accuracy, predictions })));
    } else console.log(`${task.task}: ${formatMetrics(m)}`);
    return 0;
  },
};
