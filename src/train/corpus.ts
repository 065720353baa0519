/**
 * Reading pre-training text for `gpt1 pretrain --data FILE|DIR`.
 *
 * | `--data` | documents |
 * |---|---|
 * | a `.jsonl` file | one per line: the `"text"` field of each JSON object (the `pretrain.jsonl` of `prepareDemoData`) |
 * | any other file | the whole file, one document (UTF-8 text) |
 * | a directory with `pretrain.jsonl` | that file only (so the labelled `train/valid/test.jsonl` beside it never leak into pre-training) |
 * | any other directory | every `*.txt` file in it, in name order, one document each |
 *
 * The documents are tokenized one by one and their token ids concatenated into one
 * stream, from which the pre-training loop samples contiguous windows (the paper's
 * "randomly sampled, contiguous sequences"). GPT-1 has no end-of-document token, so
 * nothing is inserted between documents.
 *
 * @module
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { LINE_END, readRegularText } from '../io/files.ts';
import { join } from 'node:path';

/** The pre-training documents at `path` (see the module comment). @throws a one-line error. */
export function readCorpus(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new Error(`${path}: no such file or directory`);
  }
  if (isDir) {
    const jsonl = join(path, 'pretrain.jsonl');
    if (existsSync(jsonl)) return readCorpus(jsonl);
    const files = readdirSync(path).filter((f) => f.endsWith('.txt')).sort();
    if (files.length === 0) throw new Error(`${path}: no pretrain.jsonl and no .txt files`);
    return files.map((f) => readRegularText(join(path, f)));
  }
  const text = readRegularText(path);
  if (!path.toLowerCase().endsWith('.jsonl')) {
    if (text.trim() === '') throw new Error(`${path}: empty`);
    return [text];
  }
  const docs: string[] = [];
  text.split(LINE_END).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
    }
    const t = (obj as { text?: unknown } | null)?.text;
    if (typeof t !== 'string') throw new Error(`${path}:${i + 1}: expected an object with a "text" string`);
    docs.push(t);
  });
  if (docs.length === 0) throw new Error(`${path}: no documents`);
  return docs;
}
