/**
 * JSON Lines files of labelled examples: the documented input formats of
 * `gpt1 finetune`. One JSON object per line, UTF-8, `\n` line ends:
 *
 * ```text
 * {"text":"Life Insurance - Why Pay More?\nSave up to 70% ...","label":1}          classification
 * {"context":"hand, deal","choices":["...","...","...","the cards held ..."],"label":3}   multiple choice
 * ```
 *
 * `label` is an integer: the class for classification, the index into `choices` for
 * multiple choice. Blank lines are ignored when reading.
 *
 * @module
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClassificationExample, DemoData, MultipleChoiceExample } from './demo-data.ts';
import { LINE_END } from '../io/files.ts';


/** An example of either format. */
export type Example = ClassificationExample | MultipleChoiceExample;

/** Whether an example is a multiple-choice one. */
export function isMultipleChoice(e: Example): e is MultipleChoiceExample {
  return 'choices' in e;
}

/** One example as one JSON line (keys in the documented order, no trailing newline). */
export function exampleToJson(e: Example): string {
  return isMultipleChoice(e)
    ? JSON.stringify({ context: e.context, choices: e.choices, label: e.label })
    : JSON.stringify({ text: e.text, label: e.label });
}

/** Examples as a JSONL text: one line each, every line ending in `\n`. */
export function toJsonl(examples: readonly Example[]): string {
  return examples.map((e) => `${exampleToJson(e)}\n`).join('');
}

/**
 * Parses and validates a JSONL text of examples: every line must be a classification
 * example (`text` string, non-negative integer `label`) or a multiple-choice example
 * (`context` string, `choices` array of ≥ 2 strings, integer `label` indexing it), and
 * all lines must have the same format.
 * @throws with the 1-based line number on the first invalid line.
 */
export function parseJsonl(text: string): Example[] {
  const out: Example[] = [];
  let format: 'classification' | 'multiple-choice' | null = null;
  text.split(LINE_END).forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0) return;
    const where = `line ${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: expected a JSON object`);
    const o = v as Record<string, unknown>;
    const label = o.label;
    if (typeof label !== 'number' || !Number.isInteger(label) || label < 0) throw new Error(`${where}: "label" must be a non-negative integer`);
    let example: Example;
    if ('choices' in o) {
      const choices = o.choices;
      if (typeof o.context !== 'string') throw new Error(`${where}: "context" must be a string`);
      if (!Array.isArray(choices) || choices.length < 2 || !choices.every((c) => typeof c === 'string')) {
        throw new Error(`${where}: "choices" must be an array of at least 2 strings`);
      }
      if (label >= choices.length) throw new Error(`${where}: "label" ${label} does not index one of ${choices.length} choices`);
      example = { context: o.context, choices: choices as string[], label };
    } else {
      if (typeof o.text !== 'string') throw new Error(`${where}: "text" must be a string (or give "context" and "choices")`);
      example = { text: o.text, label: label as 0 | 1 };
    }
    const f = isMultipleChoice(example) ? 'multiple-choice' : 'classification';
    if (format !== null && f !== format) throw new Error(`${where}: ${f} example in a ${format} file`);
    format = f;
    out.push(example);
  });
  return out;
}

/** Writes examples to `path` as JSONL. */
export function writeJsonl(path: string, examples: readonly Example[]): void {
  writeFileSync(path, toJsonl(examples), 'utf8');
}

/**
 * Writes a prepared data set to `dir` (created if needed): `train.jsonl`,
 * `valid.jsonl`, `test.jsonl`, `pretrain.jsonl` (one `{"text": ...}` line per
 * pre-training document) and `stats.json`.
 * @returns the paths written.
 */
export function writeDemoData(dir: string, data: DemoData<Example>): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['train.jsonl', toJsonl(data.train)],
    ['valid.jsonl', toJsonl(data.valid)],
    ['test.jsonl', toJsonl(data.test)],
    ['pretrain.jsonl', data.pretrainText.map((t) => `${JSON.stringify({ text: t })}\n`).join('')],
    ['stats.json', `${JSON.stringify(data.stats, null, 2)}\n`],
  ];
  return files.map(([name, body]) => {
    const path = join(dir, name);
    writeFileSync(path, body, 'utf8');
    return path;
  });
}
