/**
 * The demo's data: unlabelled pre-training text plus a small labelled task with
 * disjoint train / valid / test splits, built deterministically from a seed, in
 * the paper's semi-supervised setting (pre-train on unlabelled text, fine-tune on
 * few labelled examples).
 *
 * Two tasks, one per input format of `gpt1 finetune`:
 *
 * - `spam` (classification, {@link ClassificationExample}): SpamAssassin e-mails,
 *   label 0 = ham, 1 = spam. The labelled splits are class-balanced by default; the
 *   rest of the corpus, labels dropped, is the pre-training text.
 * - `wordnet` (multiple choice, {@link MultipleChoiceExample}, the ROCStories
 *   format): the context is a word (a synset's lemmas, e.g. `dog, domestic dog,
 *   Canis familiaris`), the choices are the true WordNet definition and
 *   `nChoices - 1` definitions of other synsets of the *same lexicographer file*
 *   (e.g. all `noun.animal`), so that the distractors have the same part of speech and
 *   topic and the style of the definition gives nothing away. The pre-training text is
 *   glosses of other synsets, written `lemma, lemma: definition; "example"`.
 *
 * Leakage rules, for both tasks:
 * - every source record (e-mail, synset) is used at most once: in one split, or in the
 *   pre-training text, or nowhere;
 * - exact duplicates (after cleaning) count as one record;
 * - a candidate for a labelled split that is a near-duplicate of an example already
 *   drawn (word-shingle containment, {@link nearDuplicateIndex}) is discarded, and so
 *   is every pre-training document that is a near-duplicate of any labelled example
 *   (all three splits, not only test);
 * - `wordnet` only: no synset that shares a lemma with a labelled example's word
 *   appears in the pre-training text (another sense of the same word would give its
 *   meaning away), and no two labelled examples share a lemma.
 *
 * The test split is drawn first, then valid, then train, so the test set depends only
 * on the seed, `nTest` and the task options, not on `nTrain` or `nValid`.
 *
 * @module
 */

import { fork, rng, shuffle, type Rng } from '../random.ts';
import { emailText, loadSpamAssassin, type Email, type SpamLabel } from './spam.ts';
import { nearDuplicateIndex, words } from './text.ts';
import { loadWordNet, type Synset } from './wordnet.ts';

/** A labelled example of a classification task (`{"text": ..., "label": ...}` in JSONL). */
export interface ClassificationExample {
  readonly text: string;
  /** 0 = ham, 1 = spam for the `spam` task. */
  readonly label: SpamLabel;
}

/** A labelled example of a multiple-choice task (`{"context": ..., "choices": [...], "label": ...}` in JSONL). */
export interface MultipleChoiceExample {
  readonly context: string;
  readonly choices: readonly string[];
  /** Index into `choices` of the right answer. */
  readonly label: number;
}

/** The demo tasks. */
export type TaskName = 'spam' | 'wordnet';

/** Counts describing a prepared data set; deterministic (no timings), so two runs with one seed give equal stats. */
export interface DataStats {
  readonly task: TaskName;
  readonly seed: number;
  readonly sizes: { readonly train: number; readonly valid: number; readonly test: number };
  /**
   * Examples per label value in each split: `[ham, spam]` for `spam`; for `wordnet`,
   * how often the right answer sits at each choice position.
   */
  readonly labelCounts: { readonly train: readonly number[]; readonly valid: readonly number[]; readonly test: readonly number[] };
  readonly pretrain: {
    readonly documents: number;
    readonly chars: number;
    /** Records left for pre-training after the splits were drawn (before the size budget). */
    readonly candidates: number;
    /** Pre-training documents dropped as near-duplicates of a labelled example. */
    readonly droppedNearDuplicates: number;
  };
  /** Task-specific counts about the source records (documented by each builder). */
  readonly source: Readonly<Record<string, number>>;
  /** Accuracies on the test split of trivial predictors, to read model results against. */
  readonly baselines: Readonly<Record<string, number>>;
}

/** A prepared data set: pre-training documents and the three labelled splits. */
export interface DemoData<E> {
  readonly task: TaskName;
  /** Unlabelled documents for language-model pre-training, each a self-contained text. */
  readonly pretrainText: readonly string[];
  readonly train: readonly E[];
  readonly valid: readonly E[];
  readonly test: readonly E[];
  readonly stats: DataStats;
}

/** Options shared by both tasks. */
export interface CommonTaskOptions {
  /** Seed of every random choice (split membership, order, distractors). */
  readonly seed: number;
  /** Labelled training examples (default 200: "few labels"). */
  readonly nTrain?: number;
  /** Validation examples (default 200). */
  readonly nValid?: number;
  /** Test examples (default 400). */
  readonly nTest?: number;
  /** Budget of the pre-training text in characters (default 1,500,000, ≈ 300-400k BPE tokens). */
  readonly pretrainChars?: number;
}

/** Sizes of the quick preset that `npm start` uses: a few minutes of training on two CPU cores. */
export const QUICK_PRESET = Object.freeze({ nTrain: 200, nValid: 200, nTest: 400, pretrainChars: 1_500_000 });

/** Options of the `spam` task. */
export interface SpamTaskOptions extends CommonTaskOptions {
  /** Length cap of an example's text (subject + body), in characters (default 512). */
  readonly textChars?: number;
  /** Length cap of one pre-training e-mail, in characters (default 2000). */
  readonly pretrainDocChars?: number;
  /** Whether each split has as many ham as spam examples (default true; otherwise the corpus ratio, about 31% spam). */
  readonly balanced?: boolean;
  /** E-mails whose cleaned body is shorter than this are not used at all (default 20). */
  readonly minBodyChars?: number;
}

/** Options of the `wordnet` task. */
export interface WordNetTaskOptions extends CommonTaskOptions {
  /** Choices per example, the right one included (default 4). */
  readonly nChoices?: number;
  /** Lemmas of a synset shown in a context or pre-training document, at most (default 3). */
  readonly maxLemmas?: number;
  /** Only definitions of at most this many characters are used as choices (default 160). */
  readonly maxDefinitionChars?: number;
  /** Only definitions of at least this many words are used as choices (default 3). */
  readonly minDefinitionWords?: number;
}

/** Options of {@link prepareDemoData}: a task name and its options. */
export type DemoDataOptions = ({ readonly task: 'spam' } & SpamTaskOptions) | ({ readonly task: 'wordnet' } & WordNetTaskOptions);

type Split = 'test' | 'valid' | 'train';
const SPLIT_ORDER: readonly Split[] = ['test', 'valid', 'train'];

function sizesOf(o: CommonTaskOptions): Record<Split, number> {
  const sizes = { train: o.nTrain ?? QUICK_PRESET.nTrain, valid: o.nValid ?? QUICK_PRESET.nValid, test: o.nTest ?? QUICK_PRESET.nTest };
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`n${k[0].toUpperCase()}${k.slice(1)} must be a non-negative integer, got ${v}`);
  }
  return sizes;
}

/** Counts of each value 0..n-1 in `labels`. */
function countLabels(labels: readonly number[], n: number): number[] {
  const out = new Array<number>(n).fill(0);
  for (const l of labels) out[l]++;
  return out;
}

/**
 * The part of {@link DataStats} that every task counts alike: the split sizes, each
 * split's label counts (`nLabels` values), and what became of the `candidates`
 * records left for pre-training.
 */
function splitStats(
  splits: Readonly<Record<Split, readonly { readonly label: number }[]>>,
  nLabels: number,
  pretrain: { readonly text: readonly string[]; readonly dropped: number },
  candidates: number,
): Pick<DataStats, 'sizes' | 'labelCounts' | 'pretrain'> {
  const counts = (xs: readonly { readonly label: number }[]): number[] => countLabels(xs.map((x) => x.label), nLabels);
  return {
    sizes: { train: splits.train.length, valid: splits.valid.length, test: splits.test.length },
    labelCounts: { train: counts(splits.train), valid: counts(splits.valid), test: counts(splits.test) },
    pretrain: {
      documents: pretrain.text.length,
      chars: pretrain.text.reduce((a, d) => a + d.length, 0),
      candidates,
      droppedNearDuplicates: pretrain.dropped,
    },
  };
}

/** Number of space-separated words of a single-spaced text (WordNet definitions are single-spaced). */
function wordCount(text: string): number {
  let n = text.length > 0 ? 1 : 0;
  for (let i = text.indexOf(' '); i >= 0; i = text.indexOf(' ', i + 1)) n++;
  return n;
}

/** Lower-cased alphanumeric key: texts equal under it are exact duplicates. */
function dedupeKey(text: string): string {
  return words(text).join(' ');
}

/**
 * Picks pre-training documents: in the given order, skipping near-duplicates of
 * labelled examples (`isLeak`), until `budget` characters; the last document is cut to
 * fit (at a space) when at least 200 characters of budget remain. Documents are made
 * by `toDoc` only when reached, so a small budget stays cheap on a large corpus.
 */
function fillPretrain<T>(
  records: readonly T[],
  toDoc: (record: T) => string,
  budget: number,
  isLeak: (doc: string) => boolean,
): { text: string[]; dropped: number } {
  const text: string[] = [];
  let used = 0;
  let dropped = 0;
  for (const record of records) {
    if (used >= budget) break;
    const doc = toDoc(record);
    if (doc.length === 0) continue;
    if (isLeak(doc)) {
      dropped++;
      continue;
    }
    const room = budget - used;
    if (doc.length <= room) {
      text.push(doc);
      used += doc.length;
    } else {
      const space = doc.lastIndexOf(' ', room);
      if (room >= 200) text.push(doc.slice(0, space > 0 ? space : room));
      break;
    }
  }
  return { text, dropped };
}

// ---------------------------------------------------------------------------
// spam
// ---------------------------------------------------------------------------

/**
 * Builds the `spam` task from loaded e-mails (pure: the same e-mails and options give
 * the same data).
 *
 * `stats.source`: `emails` (given), `tooShort` (body under `minBodyChars`),
 * `exactDuplicates` (dropped copies), `conflictingLabels` (texts seen both as ham and as
 * spam: kept out of the labelled splits), `rejectedNearDuplicates` (split candidates
 * discarded as near-duplicates of an example already drawn), `ham` / `spam` (distinct
 * usable e-mails per class), `pretrainSpamDocs` (pre-training documents that come from
 * spam, for the record: the labels are not part of the pre-training text).
 *
 * @throws if the corpus cannot supply the requested split sizes.
 */
export function buildSpamTask(emails: readonly Email[], options: SpamTaskOptions): DemoData<ClassificationExample> {
  const sizes = sizesOf(options);
  const textChars = options.textChars ?? 512;
  const docChars = options.pretrainDocChars ?? 2000;
  const balanced = options.balanced ?? true;
  const minBody = options.minBodyChars ?? 20;
  const root = rng(options.seed);

  // Usable, distinct e-mails in a seeded order.
  const usable = emails.filter((e) => e.body.length >= minBody);
  const [order] = shuffle(fork(root, 'spam:order'), usable);
  const byKey = new Map<string, { email: Email; labels: Set<SpamLabel> }>();
  for (const e of order) {
    const key = dedupeKey(emailText(e, textChars));
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, { email: e, labels: new Set([e.label]) });
    else seen.labels.add(e.label);
  }
  const distinct = [...byKey.values()];
  const labelled = distinct.filter((d) => d.labels.size === 1).map((d) => d.email);

  // Draw the splits: test first, each class (or the mixed pool) in seeded order.
  const pools: Email[][] = balanced ? [labelled.filter((e) => e.label === 0), labelled.filter((e) => e.label === 1)] : [labelled];
  const cursors = pools.map(() => 0);
  const index = nearDuplicateIndex(5, 0.5);
  const taken = new Set<string>();
  let rejected = 0;
  const draw = (pool: number, count: number): ClassificationExample[] => {
    const out: ClassificationExample[] = [];
    while (out.length < count) {
      const e = pools[pool][cursors[pool]++];
      if (e === undefined) {
        throw new Error(`spam: not enough distinct e-mails for ${sizes.test}/${sizes.valid}/${sizes.train} examples (ran out of ${balanced ? (pool === 0 ? 'ham' : 'spam') : 'e-mails'})`);
      }
      taken.add(e.id);
      const text = emailText(e, textChars);
      if (index.matches(text)) {
        rejected++;
        continue;
      }
      index.add(text);
      out.push({ text, label: e.label });
    }
    return out;
  };
  const splits = {} as Record<Split, ClassificationExample[]>;
  for (const split of SPLIT_ORDER) {
    const n = sizes[split];
    const drawn = balanced ? [...draw(1, Math.floor(n / 2)), ...draw(0, n - Math.floor(n / 2))] : draw(0, n);
    [splits[split]] = shuffle(fork(root, `spam:${split}`), drawn);
  }

  // Pre-training: every other distinct e-mail, labels dropped, longer cut.
  const rest = distinct.map((d) => d.email).filter((e) => !taken.has(e.id));
  const pretrain = fillPretrain(rest, (e) => emailText(e, docChars), options.pretrainChars ?? QUICK_PRESET.pretrainChars, (doc) => index.matches(doc));

  const pretrainSet = new Set(pretrain.text);
  const shared = splitStats(splits, 2, pretrain, rest.length);
  return {
    task: 'spam',
    pretrainText: pretrain.text,
    train: splits.train,
    valid: splits.valid,
    test: splits.test,
    stats: {
      task: 'spam',
      seed: options.seed,
      ...shared,
      source: {
        emails: emails.length,
        tooShort: emails.length - usable.length,
        exactDuplicates: usable.length - distinct.length,
        conflictingLabels: distinct.length - labelled.length,
        rejectedNearDuplicates: rejected,
        ham: labelled.filter((e) => e.label === 0).length,
        spam: labelled.filter((e) => e.label === 1).length,
        pretrainSpamDocs: rest.filter((e) => e.label === 1 && pretrainSet.has(emailText(e, docChars))).length,
      },
      baselines: { majority: splits.test.length === 0 ? 0 : Math.max(...shared.labelCounts.test) / splits.test.length },
    },
  };
}

// ---------------------------------------------------------------------------
// wordnet
// ---------------------------------------------------------------------------

/** A synset as a pre-training document: `dog, domestic dog, Canis familiaris: a member of ...; "the dog barked all night"`. */
export function formatGloss(s: Pick<Synset, 'lemmas' | 'definition' | 'examples'>, maxLemmas = 3): string {
  const head = s.lemmas.slice(0, maxLemmas).join(', ');
  const examples = s.examples.map((e) => `; "${e}"`).join('');
  return `${head}: ${s.definition}${examples}`;
}

/** Character 4-grams of a lower-cased text (for the lexical-overlap baseline). */
function charGrams(text: string): Set<string> {
  const t = ` ${text.toLowerCase()} `;
  const out = new Set<string>();
  for (let i = 0; i + 4 <= t.length; i++) out.add(t.slice(i, i + 4));
  return out;
}

/**
 * Accuracy of choosing the choice that shares the most character 4-grams with the
 * context (ties → first): how far surface form alone goes on a multiple-choice set.
 */
export function lexicalOverlapAccuracy(examples: readonly MultipleChoiceExample[]): number {
  if (examples.length === 0) return 0;
  let right = 0;
  for (const ex of examples) {
    const c = charGrams(ex.context);
    let best = -1;
    let bestScore = -1;
    ex.choices.forEach((choice, i) => {
      let score = 0;
      for (const g of charGrams(choice)) if (c.has(g)) score++;
      if (score > bestScore) [best, bestScore] = [i, score];
    });
    if (best === ex.label) right++;
  }
  return right / examples.length;
}

/**
 * Builds the `wordnet` task from loaded synsets (pure).
 *
 * A synset can be the answer or a distractor only if its definition is unique in
 * WordNet (≈ 580 definitions such as "a genus of bacteria" are shared), has at least
 * `minDefinitionWords` words and at most `maxDefinitionChars` characters.
 *
 * `stats.source`: `synsets` (given), `eligible` (usable as answer or distractor),
 * `skippedTargets` (answers passed over because their word was already used or their
 * lexicographer file had no distractors left), `excludedSharedLemma` (synsets kept out of
 * the pre-training text because they share a lemma with a labelled example's word),
 * `heldOutSynsets` (answers + distractors in the three splits).
 *
 * @throws if WordNet cannot supply the requested split sizes.
 */
export function buildWordNetTask(synsets: readonly Synset[], options: WordNetTaskOptions): DemoData<MultipleChoiceExample> {
  const sizes = sizesOf(options);
  const k = options.nChoices ?? 4;
  const maxLemmas = options.maxLemmas ?? 3;
  const maxDef = options.maxDefinitionChars ?? 160;
  const minWords = options.minDefinitionWords ?? 3;
  if (!Number.isInteger(k) || k < 2) throw new Error(`nChoices must be an integer >= 2, got ${k}`);
  const root = rng(options.seed);

  const defCount = new Map<string, number>();
  for (const s of synsets) defCount.set(s.definition, (defCount.get(s.definition) ?? 0) + 1);
  const eligible = synsets.filter((s) => s.definition.length <= maxDef && defCount.get(s.definition) === 1 && wordCount(s.definition) >= minWords);
  const [order] = shuffle(fork(root, 'wordnet:order'), eligible);

  const byLex = new Map<string, Synset[]>();
  for (const s of order) {
    const list = byLex.get(s.lexname);
    if (list === undefined) byLex.set(s.lexname, [s]);
    else list.push(s);
  }
  const lexCursor = new Map<string, number>();
  const used = new Set<Synset>();
  const usedLemmas = new Set<string>();
  const lowered = new Map<Synset, string[]>();
  const lower = (s: Synset): string[] => {
    let l = lowered.get(s);
    if (l === undefined) lowered.set(s, (l = s.lemmas.map((x) => x.toLowerCase())));
    return l;
  };
  let skipped = 0;
  let cursor = 0;
  let g: Rng = fork(root, 'wordnet:choices');

  /** Next `k - 1` distractors for `target` from its lexicographer file, or null. */
  const distractorsFor = (target: Synset): Synset[] | null => {
    const list = byLex.get(target.lexname) ?? [];
    const targetLemmas = new Set(lower(target));
    let start = lexCursor.get(target.lexname) ?? 0;
    while (start < list.length && used.has(list[start])) start++;
    lexCursor.set(target.lexname, start);
    const out: Synset[] = [];
    for (let i = start; i < list.length && out.length < k - 1; i++) {
      const s = list[i];
      if (s === target || used.has(s) || lower(s).some((l) => targetLemmas.has(l))) continue;
      out.push(s);
    }
    return out.length === k - 1 ? out : null;
  };

  const heldOut: Synset[] = [];
  const index = nearDuplicateIndex(3, 0.8);
  const draw = (count: number): MultipleChoiceExample[] => {
    const out: MultipleChoiceExample[] = [];
    while (out.length < count) {
      const target = order[cursor++];
      if (target === undefined) throw new Error(`wordnet: not enough eligible synsets for ${sizes.test}/${sizes.valid}/${sizes.train} examples`);
      if (used.has(target) || lower(target).some((l) => usedLemmas.has(l))) {
        skipped++;
        continue;
      }
      const distractors = distractorsFor(target);
      if (distractors === null) {
        skipped++;
        continue;
      }
      for (const s of [target, ...distractors]) {
        used.add(s);
        heldOut.push(s);
        index.add(s.definition);
      }
      for (const l of lower(target)) usedLemmas.add(l);
      let choices: Synset[];
      [choices, g] = shuffle(g, [target, ...distractors]);
      out.push({
        context: target.lemmas.slice(0, maxLemmas).join(', '),
        choices: choices.map((s) => s.definition),
        label: choices.indexOf(target),
      });
    }
    return out;
  };
  const splits = {} as Record<Split, MultipleChoiceExample[]>;
  for (const split of SPLIT_ORDER) splits[split] = draw(sizes[split]);

  // Pre-training: glosses of all other synsets that share no lemma with a labelled word.
  const heldDefinitions = [...new Set(SPLIT_ORDER.flatMap((split) => splits[split].flatMap((e) => e.choices)))];
  const notHeld = synsets.filter((s) => !used.has(s));
  const rest = notHeld.filter((s) => !s.lemmas.some((l) => usedLemmas.has(l.toLowerCase())));
  const [restOrder] = shuffle(fork(root, 'wordnet:pretrain'), rest);
  const pretrain = fillPretrain(
    restOrder,
    (s) => formatGloss(s, maxLemmas),
    options.pretrainChars ?? QUICK_PRESET.pretrainChars,
    // A short definition (three words, say) can stand verbatim inside another gloss
    // without being a near-duplicate of it: such documents are dropped too.
    (doc) => index.matches(doc) || heldDefinitions.some((d) => doc.includes(d)),
  );

  return {
    task: 'wordnet',
    pretrainText: pretrain.text,
    train: splits.train,
    valid: splits.valid,
    test: splits.test,
    stats: {
      task: 'wordnet',
      seed: options.seed,
      ...splitStats(splits, k, pretrain, rest.length),
      source: {
        synsets: synsets.length,
        eligible: eligible.length,
        skippedTargets: skipped,
        excludedSharedLemma: notHeld.length - rest.length,
        heldOutSynsets: heldOut.length,
      },
      baselines: { chance: 1 / k, lexicalOverlap: lexicalOverlapAccuracy(splits.test) },
    },
  };
}

// ---------------------------------------------------------------------------
// entry point
// ---------------------------------------------------------------------------

/**
 * Loads the source data from the installed packages (nothing is downloaded) and
 * builds the requested task. Reads the files on every call (≈ 1 s for either task).
 *
 * @example
 * const data = prepareDemoData({ task: 'spam', seed: 1 });
 * console.log(data.stats.sizes, data.stats.pretrain.chars);
 */
export function prepareDemoData(options: { readonly task: 'spam' } & SpamTaskOptions): DemoData<ClassificationExample>;
export function prepareDemoData(options: { readonly task: 'wordnet' } & WordNetTaskOptions): DemoData<MultipleChoiceExample>;
export function prepareDemoData(options: DemoDataOptions): DemoData<ClassificationExample> | DemoData<MultipleChoiceExample>;
export function prepareDemoData(options: DemoDataOptions): DemoData<ClassificationExample> | DemoData<MultipleChoiceExample> {
  if (options.task === 'spam') return buildSpamTask(loadSpamAssassin(), options);
  if (options.task === 'wordnet') return buildWordNetTask(loadWordNet(), options);
  throw new Error(`unknown task ${String((options as { task: unknown }).task)}: expected 'spam' or 'wordnet'`);
}
