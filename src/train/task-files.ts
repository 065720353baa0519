/**
 * Reading fine-tuning data: one JSON object per line (JSONL) for every task kind, and
 * the ROCStories Story Cloze CSV read as distributed.
 *
 * | task | one line of JSONL |
 * |---|---|
 * | classification | `{"text": "...", "label": 1}` |
 * | entailment | `{"premise": "...", "hypothesis": "...", "label": "entailment"}` |
 * | similarity | `{"text1": "...", "text2": "...", "label": 1}` (`sentence1`/`sentence2` also accepted) |
 * | multiple-choice | `{"context": "...", "choices": ["...", "..."], "label": 0}` |
 *
 * A class label (classification, entailment, similarity) is a number or a string;
 * the set of labels seen in the training file, sorted (numbers ascending, then strings),
 * defines the classifier's outputs, and is saved with the classifier. For a regression
 * task (similarity scores, as STS-B) the label is the real-valued target. A
 * multiple-choice label is the 0-based index of the right choice. Blank lines are skipped.
 *
 * ROCStories (Story Cloze Test) CSV, as `datasets.py` reads it: header row, then
 * `InputStoryid, InputSentence1..4, RandomFifthSentenceQuiz1, RandomFifthSentenceQuiz2,
 * AnswerRightEnding`; the context is the four sentences joined by one space, the
 * choices are the two endings, and the label is `AnswerRightEnding − 1`
 * (original: `s = ' '.join(line[1:5])`, `y.append(int(line[-1])-1)`).
 *
 * @module
 */
import { LINE_END, readRegularText } from '../io/files.ts';
import { type SpecialTokens, type TaskInput, type TaskKind, type TokenExample, transformExample } from './transforms.ts';

/** A class label as it appears in the data. */
export type Label = string | number;

/** An example as text, before tokenization. */
export type TextExample =
  | { readonly kind: 'classification'; readonly text: string; readonly label: Label }
  | { readonly kind: 'entailment'; readonly premise: string; readonly hypothesis: string; readonly label: Label }
  | { readonly kind: 'similarity'; readonly text1: string; readonly text2: string; readonly label: Label }
  | { readonly kind: 'multiple-choice'; readonly context: string; readonly choices: readonly string[]; readonly label: number };

/** An example ready for the model: its transformed input and the index of the right class or choice. */
export interface LabeledInput {
  readonly input: TaskInput;
  /** Class index into the label list, the right choice for multiple choice, or the target of a regression. */
  readonly label: number;
}

function str(obj: Record<string, unknown>, keys: readonly string[], where: string): string {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string') return v;
    if (v !== undefined) throw new Error(`${where}: "${k}" must be a string`);
  }
  throw new Error(`${where}: missing "${keys[0]}"`);
}

function classLabel(obj: Record<string, unknown>, where: string): Label {
  const v = obj.label;
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (v === undefined) throw new Error(`${where}: missing "label"`);
  if (typeof v === 'number') throw new Error(`${where}: "label" must be a finite number or a string, got ${v} (a number too large for a double)`);
  throw new Error(`${where}: "label" must be a number or a string, got ${JSON.stringify(v)}`);
}

/** One parsed JSONL object as an example of `kind`. */
export function exampleFromJson(kind: TaskKind, obj: unknown, where: string): TextExample {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${where}: expected a JSON object`);
  const o = obj as Record<string, unknown>;
  switch (kind) {
    case 'classification':
      return { kind, text: str(o, ['text'], where), label: classLabel(o, where) };
    case 'entailment':
      return { kind, premise: str(o, ['premise', 'sentence1'], where), hypothesis: str(o, ['hypothesis', 'sentence2'], where), label: classLabel(o, where) };
    case 'similarity':
      return { kind, text1: str(o, ['text1', 'sentence1'], where), text2: str(o, ['text2', 'sentence2'], where), label: classLabel(o, where) };
    case 'multiple-choice': {
      const context = str(o, ['context'], where);
      const choices = o.choices;
      if (!Array.isArray(choices) || choices.length < 2 || !choices.every((c) => typeof c === 'string')) {
        throw new Error(`${where}: "choices" must be an array of at least 2 strings`);
      }
      const label = o.label;
      if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= choices.length) {
        throw new Error(`${where}: "label" must be the index of the right choice, 0..${choices.length - 1}, got ${typeof label === 'number' ? String(label) : JSON.stringify(label)}`);
      }
      return { kind, context, choices: choices as string[], label };
    }
  }
}

/**
 * Examples of `kind` from JSONL text.
 * @param file the file name, for error messages (`file:line: problem`)
 */
export function parseTaskJsonl(kind: TaskKind, text: string, file: string): TextExample[] {
  const out: TextExample[] = [];
  const lines = text.split(LINE_END);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
    }
    out.push(exampleFromJson(kind, obj, where));
  }
  return out;
}

/** Rows of a CSV text (RFC 4180: quoted fields may hold commas, line breaks and doubled quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // skip a byte-order mark
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** The ROCStories columns `datasets.py` reads, by header name. */
export const ROCSTORIES_COLUMNS: readonly string[] = Object.freeze([
  'InputStoryid', 'InputSentence1', 'InputSentence2', 'InputSentence3', 'InputSentence4',
  'RandomFifthSentenceQuiz1', 'RandomFifthSentenceQuiz2', 'AnswerRightEnding',
]);

/**
 * Multiple-choice examples from a ROCStories (Story Cloze) CSV.
 * @throws a one-line error naming a missing column or a bad AnswerRightEnding.
 */
export function parseRocStoriesCsv(text: string, file: string): TextExample[] {
  const rows = parseCsv(text);
  if (rows.length === 0) throw new Error(`${file}: empty CSV`);
  const header = rows[0].map((h) => h.trim());
  const col = (name: string): number => {
    const j = header.indexOf(name);
    if (j < 0) throw new Error(`${file}: not a ROCStories CSV: no column ${name} (columns: ${ROCSTORIES_COLUMNS.join(', ')})`);
    return j;
  };
  const sentences = [1, 2, 3, 4].map((k) => col(`InputSentence${k}`));
  const q1 = col('RandomFifthSentenceQuiz1');
  const q2 = col('RandomFifthSentenceQuiz2');
  const answer = col('AnswerRightEnding');
  return rows.slice(1).map((r, i) => {
    const where = `${file}:${i + 2}`;
    if (r.length < header.length) throw new Error(`${where}: ${r.length} columns, the header has ${header.length}`);
    const y = Number(r[answer]);
    if (y !== 1 && y !== 2) throw new Error(`${where}: AnswerRightEnding must be 1 or 2, got '${r[answer]}'`);
    return { kind: 'multiple-choice' as const, context: sentences.map((j) => r[j]).join(' '), choices: [r[q1], r[q2]], label: y - 1 };
  });
}

/**
 * Reads a task file: a `.csv` file is read as ROCStories (multiple choice only),
 * anything else as JSONL.
 */
export function readTaskFile(kind: TaskKind, path: string): TextExample[] {
  let text: string;
  try {
    text = readRegularText(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code !== undefined ? `cannot read ${path}: ${code}` : (e as Error).message);
  }
  let examples: TextExample[];
  if (path.toLowerCase().endsWith('.csv')) {
    if (kind !== 'multiple-choice') throw new Error(`${path}: a .csv file is read as ROCStories, which is a multiple-choice task (got --task ${kind})`);
    examples = parseRocStoriesCsv(text, path);
  } else examples = parseTaskJsonl(kind, text, path);
  if (examples.length === 0) throw new Error(`${path}: no examples`);
  return examples;
}

/**
 * The sorted set of class labels of some examples: integers ascending, then strings. Empty for multiple choice.
 * @throws when the same label is written both as a number and as a string (`1` and `"1"`),
 *   which would otherwise become two classes; `file` names the data in the message.
 */
export function labelList(examples: readonly TextExample[], file = 'the data'): Label[] {
  const seen = new Map<string, Label>();
  for (const ex of examples) {
    if (ex.kind === 'multiple-choice') continue;
    seen.set(`${typeof ex.label}:${ex.label}`, ex.label);
    const twin = typeof ex.label === 'number' ? `string:${ex.label}` : `number:${ex.label}`;
    if (seen.has(twin)) throw new Error(`${file}: the label ${ex.label} is written both as a number and as a string ("${ex.label}"); write every label the same way`);
  }
  return [...seen.values()].sort((a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'number') return -1;
    if (typeof b === 'number') return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** Tokenized fields of a text example. */
export function tokenizeExample(ex: TextExample, tokenize: (text: string) => readonly number[]): TokenExample {
  switch (ex.kind) {
    case 'classification':
      return { kind: ex.kind, text: tokenize(ex.text) };
    case 'entailment':
      return { kind: ex.kind, premise: tokenize(ex.premise), hypothesis: tokenize(ex.hypothesis) };
    case 'similarity':
      return { kind: ex.kind, text1: tokenize(ex.text1), text2: tokenize(ex.text2) };
    case 'multiple-choice':
      return { kind: ex.kind, context: tokenize(ex.context), choices: ex.choices.map((c) => tokenize(c)) };
  }
}

/**
 * Tokenizes, transforms (Figure 1) and labels examples.
 * @param labels the label list of the classifier (from the training data); a label not in it is an error
 * @param opts `regression`: labels are real-valued targets, kept as they are (`labels` is ignored)
 * @returns the model inputs and how many examples were truncated
 */
export function prepareExamples(
  examples: readonly TextExample[],
  tokenize: (text: string) => readonly number[],
  sp: SpecialTokens,
  nCtx: number,
  labels: readonly Label[],
  opts: { readonly regression?: boolean } = {},
): { data: LabeledInput[]; truncated: number } {
  const index = new Map(labels.map((l, i) => [`${typeof l}:${l}`, i]));
  let truncated = 0;
  const data = examples.map((ex, i) => {
    const input = transformExample(tokenizeExample(ex, tokenize), sp, nCtx);
    if (input.truncated) truncated++;
    let label: number;
    if (ex.kind === 'multiple-choice') label = ex.label;
    else if (opts.regression) {
      if (typeof ex.label !== 'number') throw new Error(`example ${i + 1}: a regression target must be a number, got ${JSON.stringify(ex.label)}`);
      label = ex.label;
    } else {
      const j = index.get(`${typeof ex.label}:${ex.label}`);
      if (j === undefined) throw new Error(`example ${i + 1}: label ${JSON.stringify(ex.label)} is not one of the classifier's labels (${labels.map((l) => JSON.stringify(l)).join(', ')})`);
      label = j;
    }
    return { input, label };
  });
  return { data, truncated };
}
