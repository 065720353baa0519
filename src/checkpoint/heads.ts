/**
 * Fine-tuned heads in the names Hugging Face transformers loads.
 *
 * The paper's task head is one linear layer W_y on the final state of the classify
 * token (§3.2: P(y|x¹…xᵐ) = softmax(h_l^m W_y)); the original calls it `clf` with a
 * weight [n_embd, n_out] and a bias [n_out]. transformers has two classes for it:
 *
 * | task | transformers class | head tensors | config.json |
 * |---|---|---|---|
 * | multiple choice | `OpenAIGPTDoubleHeadsModel` | `multiple_choice_head.summary.weight` [1, n_embd], `multiple_choice_head.summary.bias` [1] | `summary_type: "cls_index"`, `summary_use_proj: true`, `summary_proj_to_labels: true`, `summary_activation: null`, one label |
 * | classification, entailment, similarity | `OpenAIGPTForSequenceClassification` | `score.weight` [n_out, n_embd] | `id2label`/`label2id` (n_out labels), `problem_type` |
 *
 * Both keep the language model under `transformer.` (their `base_model_prefix`), and
 * `config.json`'s `architectures` names the class. transformers' `Linear` stores
 * [out, in], the transpose of ours.
 *
 * What does not carry over to transformers:
 * - the classifier **bias** for classification: `OpenAIGPTForSequenceClassification`'s
 *   `score` has none. The file keeps it as `score.bias` (so that gpt1-ts reads back
 *   the exact model); transformers warns that it is unused and drops it, which shifts
 *   each class's logit by a constant;
 * - **where the head reads**: transformers' sequence classifier reads the last
 *   non-padding token, which is the classify token of our input transformation; the
 *   double-heads model reads the token at `mc_token_ids`, which the caller passes (the
 *   position of `_classify_` in each choice);
 * - the **special tokens** (`_start_`, `_delimiter_`, `_classify_`) are rows appended
 *   to `tokens_embed` (ids n_vocab … n_vocab + 2; `vocab_size` counts them, `n_special`
 *   says how many); `vocab.json` does not list them, so a transformers tokenizer must
 *   be told with `add_special_tokens` in the same order;
 * - the task's **input transformation** (§3.3) and its labels' meaning (`task.json`).
 *
 * @module
 */
import { type Tensor, tensor } from '../tensor.ts';

/** `OpenAIGPTDoubleHeadsModel`'s multiple-choice head. */
export const MC_WEIGHT = 'multiple_choice_head.summary.weight';
export const MC_BIAS = 'multiple_choice_head.summary.bias';
/** `OpenAIGPTForSequenceClassification`'s head (no bias in transformers; ours is kept beside it). */
export const SCORE_WEIGHT = 'score.weight';
export const SCORE_BIAS = 'score.bias';

/**
 * The head tensors that `config.json` announces: those of the transformers classes
 * in its `architectures` (none for a language model, whose file must hold no head).
 */
export function announcedHeadTensors(configJson: unknown): string[] {
  const arch = (configJson as { architectures?: unknown } | null)?.architectures;
  const names = Array.isArray(arch) ? arch : [];
  return [
    ...(names.includes(hfArchitecture(true)) ? [MC_WEIGHT, MC_BIAS] : []),
    ...(names.includes(hfArchitecture(false)) ? [SCORE_WEIGHT, SCORE_BIAS] : []),
  ];
}

/** The transformers class of each task kind (multiple choice, or one of the sequence tasks). */
export function hfArchitecture(multipleChoice: boolean): string {
  return multipleChoice ? 'OpenAIGPTDoubleHeadsModel' : 'OpenAIGPTForSequenceClassification';
}

/** [rows, cols] → [cols, rows]. */
function transpose(t: Tensor): Tensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return tensor([c, r], out);
}

/** A head as ours: `weight` [n_embd, n_out], `bias` [n_out]. */
export interface LinearHead {
  readonly weight: Tensor;
  readonly bias: Tensor;
}

/** What a task says about its head: multiple choice or not, label names, regression. */
export interface HeadTask {
  readonly multipleChoice: boolean;
  readonly labels: readonly (string | number)[];
  readonly regression?: boolean;
}

/** The head's tensors under transformers' names (weights transposed to [out, in]). */
export function hfHeadTensors(task: HeadTask, head: LinearHead): [string, Tensor][] {
  const w = transpose(head.weight);
  return task.multipleChoice ? [[MC_WEIGHT, w], [MC_BIAS, head.bias]] : [[SCORE_WEIGHT, w], [SCORE_BIAS, head.bias]];
}

/** Our head from the tensors of a file (by transformers' names). @throws naming the missing tensor. */
export function headFromHF(task: HeadTask, get: (name: string) => Tensor | undefined, where: string): LinearHead {
  const [wName, bName] = task.multipleChoice ? [MC_WEIGHT, MC_BIAS] : [SCORE_WEIGHT, SCORE_BIAS];
  const w = get(wName);
  const b = get(bName);
  if (w === undefined) throw new Error(`${where}: missing tensor ${wName}`);
  if (w.shape.length !== 2) throw new Error(`${where}: ${wName} must be [n_out, n_embd]`);
  return { weight: transpose(w), bias: b ?? tensor([w.shape[0]], new Float32Array(w.shape[0])) };
}

/** The `config.json` fields of a fine-tuned model (merged over the language model's). */
export function hfHeadConfig(task: HeadTask, nOut: number): Record<string, unknown> {
  if (task.multipleChoice) {
    return {
      architectures: [hfArchitecture(true)],
      summary_type: 'cls_index',
      summary_use_proj: true,
      summary_proj_to_labels: true,
      summary_activation: null,
      id2label: { 0: 'LABEL_0' },
      label2id: { LABEL_0: 0 },
    };
  }
  const names = Array.from({ length: nOut }, (_, i) => (task.regression ? 'LABEL_0' : String(task.labels[i] ?? `LABEL_${i}`)));
  return {
    architectures: [hfArchitecture(false)],
    id2label: Object.fromEntries(names.map((n, i) => [i, n])),
    label2id: Object.fromEntries(names.map((n, i) => [n, i])),
    problem_type: task.regression ? 'regression' : 'single_label_classification',
  };
}
