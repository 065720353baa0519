/**
 * Task-specific input transformations (paper §3.3 and Figure 1).
 *
 * > "we use a traversal-style approach, where we convert structured inputs into an
 * > ordered sequence that our pre-trained model can process. [...] All
 * > transformations include adding randomly initialized start and end tokens
 * > (⟨s⟩, ⟨e⟩)."
 *
 * With s = `_start_`, $ = `_delimiter_` and e = `_classify_` (the "extract" token,
 * ids n_vocab+0, n_vocab+1, n_vocab+2):
 *
 * | task | sequence(s) | classifier input |
 * |---|---|---|
 * | classification | `s text e` | h at e |
 * | entailment | `s premise $ hypothesis e` | h at e |
 * | similarity | `s a $ b e` and `s b $ a e` | h at e of the first + h at e of the second |
 * | multiple choice | `s context $ answer_k e` for each k | one score per k (h at e of sequence k), softmax over k |
 *
 * ## Truncation
 * As the original `train.py` (`max_len = n_ctx//2-2`, then `transform_roc`:
 * `x12 = [start]+x1[:max_len]+[delimiter]+x2[:max_len]+[clf_token]`), every field of
 * a two-field sequence (premise, hypothesis, the two similarity texts, context,
 * answers) is cut independently to its first `n_ctx//2 − 2` tokens: the tokens at the
 * end of an overlong field are dropped, the special tokens are always kept. The
 * longest result, 2·(n_ctx//2 − 2) + 3 tokens, always fits in n_ctx.
 *
 * The single field of a classification sequence (which the original code has no
 * transform for) is cut to its first `n_ctx − 2` tokens: the same rule, "keep the
 * beginning, drop the end, always keep ⟨s⟩ and ⟨e⟩", with the whole context available
 * to the one field.
 *
 * ## Mask
 * The LM mask M covers every token of a sequence, from ⟨s⟩ to ⟨e⟩ (the original sets
 * `mmb[i, k, :l] = 1` for the whole transformed sequence and 0 only on padding). Here
 * sequences are never padded, so the mask is all ones; it is kept so that the LM
 * auxiliary loss reads it exactly as the original's `M[:, 1:]`.
 *
 * @module
 */
import type { GPTConfig } from '../config.ts';

/** The four task families of the paper's Figure 1. */
export type TaskKind = 'classification' | 'entailment' | 'similarity' | 'multiple-choice';

/** Every task kind, in the order of Figure 1. */
export const TASK_KINDS: readonly TaskKind[] = Object.freeze(['classification', 'entailment', 'similarity', 'multiple-choice']);

/** Ids of the three special tokens appended after the vocabulary. */
export interface SpecialTokens {
  /** `_start_`, ⟨s⟩: id n_vocab. */
  readonly start: number;
  /** `_delimiter_`, $: id n_vocab + 1. */
  readonly delimiter: number;
  /** `_classify_`, ⟨e⟩ (the "extract" token): id n_vocab + 2. */
  readonly classify: number;
}

/**
 * The special-token ids of a model that has them (n_special ≥ 3), in the order the
 * original adds them to its encoder: `_start_`, `_delimiter_`, `_classify_`.
 * @throws if the model has no special tokens (see `addSpecialTokens` in `classifier.ts`).
 */
export function specialTokens(config: GPTConfig): SpecialTokens {
  if (config.n_special < 3) {
    throw new Error(`the model has ${config.n_special} special tokens; fine-tuning needs 3 (_start_, _delimiter_, _classify_)`);
  }
  const v = config.n_vocab;
  return Object.freeze({ start: v, delimiter: v + 1, classify: v + 2 });
}

/** One token sequence fed to the model. */
export interface Sequence {
  /** Token ids, ⟨s⟩ … ⟨e⟩. */
  readonly ids: readonly number[];
  /** The LM mask M, one entry per id (1 for every token of the transformed sequence). */
  readonly mask: readonly number[];
  /** Position of the ⟨e⟩ token whose final hidden state the classifier reads (the last one). */
  readonly pool: number;
}

/** One example after the transformation: the sequences the model runs on. */
export interface TaskInput {
  readonly kind: TaskKind;
  /** 1 sequence (classification, entailment), 2 (similarity, both orders) or k (multiple choice). */
  readonly sequences: readonly Sequence[];
  /** True when some field lost tokens to truncation. */
  readonly truncated: boolean;
}

/** An example as token ids, before the transformation. */
export type TokenExample =
  | { readonly kind: 'classification'; readonly text: readonly number[] }
  | { readonly kind: 'entailment'; readonly premise: readonly number[]; readonly hypothesis: readonly number[] }
  | { readonly kind: 'similarity'; readonly text1: readonly number[]; readonly text2: readonly number[] }
  | { readonly kind: 'multiple-choice'; readonly context: readonly number[]; readonly choices: readonly (readonly number[])[] };

/** Longest kept part of each field of a two-field sequence: the original's `max_len = n_ctx//2 − 2`. */
export function fieldMaxLen(nCtx: number): number {
  return Math.floor(nCtx / 2) - 2;
}

/** Longest kept part of a classification text: n_ctx − 2 (room for ⟨s⟩ and ⟨e⟩). */
export function textMaxLen(nCtx: number): number {
  return nCtx - 2;
}

function checkCtx(nCtx: number, min: number, kind: TaskKind): void {
  if (!Number.isInteger(nCtx) || nCtx < min) throw new Error(`${kind} inputs need n_ctx ≥ ${min}, got ${nCtx}`);
}

function seq(ids: number[]): Sequence {
  return Object.freeze({ ids: Object.freeze(ids), mask: Object.freeze(ids.map(() => 1)), pool: ids.length - 1 });
}

/** `x[:maxLen]`, and whether anything was dropped. */
function cut(x: readonly number[], maxLen: number): [number[], boolean] {
  return [x.slice(0, maxLen), x.length > maxLen];
}

/** `[s] + a[:L] + [$] + b[:L] + [e]`, L = n_ctx//2 − 2. */
function pair(a: readonly number[], b: readonly number[], sp: SpecialTokens, nCtx: number): [Sequence, boolean] {
  const L = fieldMaxLen(nCtx);
  const [a2, ta] = cut(a, L);
  const [b2, tb] = cut(b, L);
  return [seq([sp.start, ...a2, sp.delimiter, ...b2, sp.classify]), ta || tb];
}

/** Classification: `s text[:n_ctx−2] e`. */
export function classificationInput(text: readonly number[], sp: SpecialTokens, nCtx: number): TaskInput {
  checkCtx(nCtx, 3, 'classification');
  const [t, truncated] = cut(text, textMaxLen(nCtx));
  return Object.freeze({ kind: 'classification', sequences: Object.freeze([seq([sp.start, ...t, sp.classify])]), truncated });
}

/** Entailment: `s premise[:L] $ hypothesis[:L] e`, L = n_ctx//2 − 2. */
export function entailmentInput(premise: readonly number[], hypothesis: readonly number[], sp: SpecialTokens, nCtx: number): TaskInput {
  checkCtx(nCtx, 6, 'entailment');
  const [s, truncated] = pair(premise, hypothesis, sp, nCtx);
  return Object.freeze({ kind: 'entailment', sequences: Object.freeze([s]), truncated });
}

/**
 * Similarity: both orders, `s a[:L] $ b[:L] e` and `s b[:L] $ a[:L] e` (paper: "there
 * is no inherent ordering of the two sentences being compared. To reflect this, we
 * modify the input sequence to contain both possible sentence orderings").
 */
export function similarityInput(text1: readonly number[], text2: readonly number[], sp: SpecialTokens, nCtx: number): TaskInput {
  checkCtx(nCtx, 6, 'similarity');
  const [s12, t1] = pair(text1, text2, sp, nCtx);
  const [s21, t2] = pair(text2, text1, sp, nCtx);
  return Object.freeze({ kind: 'similarity', sequences: Object.freeze([s12, s21]), truncated: t1 || t2 });
}

/**
 * Multiple choice (ROCStories, RACE): one sequence per answer,
 * `s context[:L] $ answer_k[:L] e` (the original's `transform_roc`).
 */
export function multipleChoiceInput(context: readonly number[], choices: readonly (readonly number[])[], sp: SpecialTokens, nCtx: number): TaskInput {
  checkCtx(nCtx, 6, 'multiple-choice');
  if (choices.length < 2) throw new Error(`a multiple-choice example needs at least 2 choices, got ${choices.length}`);
  let truncated = false;
  const sequences = choices.map((answer) => {
    const [s, t] = pair(context, answer, sp, nCtx);
    truncated ||= t;
    return s;
  });
  return Object.freeze({ kind: 'multiple-choice', sequences: Object.freeze(sequences), truncated });
}

/** The transformation of Figure 1 for any task kind. */
export function transformExample(example: TokenExample, sp: SpecialTokens, nCtx: number): TaskInput {
  switch (example.kind) {
    case 'classification':
      return classificationInput(example.text, sp, nCtx);
    case 'entailment':
      return entailmentInput(example.premise, example.hypothesis, sp, nCtx);
    case 'similarity':
      return similarityInput(example.text1, example.text2, sp, nCtx);
    case 'multiple-choice':
      return multipleChoiceInput(example.context, example.choices, sp, nCtx);
  }
}
