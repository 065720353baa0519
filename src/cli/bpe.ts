/**
 * `gpt1 bpe learn --data FILE|DIR --merges N --out DIR`: learns a BPE vocabulary in
 * the layout of the GPT-1 release from a text corpus (`learnBpe` in
 * `src/tokenizer/learn.ts`: the GPT-1 pre-tokenization, then subword-nmt's merges).
 *
 * `--data` is one text file or a directory whose files (recursively, sorted by path,
 * hidden ones skipped) are read as UTF-8; each line is one text. The output
 * directory gets the vocabulary twice, written atomically: under the names of a
 * checkpoint (`vocab.json` + `merges.txt`, as Hugging Face names them) and under the
 * original's naming with the true merge count (`encoder_bpe_<N>.json` +
 * `vocab_<N>.bpe`; the release's N is 40000). It is then loaded back with
 * `loadEncoder` as a check; use it with `--vocab DIR` or copy it next to a checkpoint.
 *
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { readRegularText } from '../io/files.ts';
import { join } from 'node:path';
import { type ParsedFlags, UsageError } from './args.ts';
import { encoderJson, learnBpe, mergesText } from '../tokenizer/learn.ts';
import { loadEncoder, originalVocabNames } from '../tokenizer/encoder.ts';
import { type Command, QUIET_FLAG, commas, guardOut, megabytes, num, progress, str } from './common.ts';
import { writeTreeAtomic } from '../io/atomic.ts';

/** The files of `--data`: the file itself, or every non-hidden file under the directory, sorted by path. */
export function dataFiles(data: string): string[] {
  let st;
  try {
    st = statSync(data);
  } catch {
    throw new Error(`--data ${data}: no such file or directory`);
  }
  if (st.isFile()) return [data];
  if (!st.isDirectory()) throw new Error(`--data ${data}: not a file or directory`);
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(path);
    }
  };
  walk(data);
  if (out.length === 0) throw new Error(`--data ${data}: the directory has no files`);
  return out;
}

/** The lines of the files, one text each (read lazily, file by file). */
export function* corpusLines(files: readonly string[]): Generator<string> {
  for (const f of files) {
    let text: string;
    try {
      text = readRegularText(f);
    } catch (e) {
      throw new Error((e as Error).message.startsWith(f) ? (e as Error).message : `${f}: cannot read: ${(e as Error).message}`);
    }
    for (const line of text.split('\n')) if (line.trim() !== '') yield line;
  }
}

async function learn(flags: ParsedFlags): Promise<number> {
  const data = str(flags, 'data') as string;
  const out = str(flags, 'out') as string;
  const merges = num(flags, 'merges') as number;
  const minFrequency = num(flags, 'min-frequency') as number;
  if (merges < 0) throw new UsageError(`gpt1 bpe learn: --merges must be ≥ 0, got ${merges}`);
  if (minFrequency < 1) throw new UsageError(`gpt1 bpe learn: --min-frequency must be ≥ 1, got ${minFrequency}`);
  guardOut('bpe learn', out, [['--data', data]], { force: Boolean(flags.force), marker: 'merges.txt' });
  const p = progress(Boolean(flags.quiet));
  const files = dataFiles(data);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const vocab = await p.task(`learning up to ${commas(merges)} merges from ${files.length} file(s), ${megabytes(bytes)}`, () => learnBpe(corpusLines(files), merges, { minFrequency }));
  const [encoder, merged] = [encoderJson(vocab.encoder), mergesText(vocab.merges)];
  const [origEncoder, origMerges] = originalVocabNames(vocab.merges.length);
  writeTreeAtomic(out, { 'vocab.json': encoder, 'merges.txt': merged, [origEncoder]: encoder, [origMerges]: merged });
  const enc = loadEncoder(out);
  const n = vocab.merges.length;
  const stopped = n < merges ? ` (stopped early: no pair occurs ${minFrequency} or more times)` : '';
  console.log(`wrote ${out}: ${commas(n)} merges${stopped}, ${commas(enc.nVocab)} tokens (+ ${enc.vocabSize - enc.nVocab} special)`);
  return 0;
}

export const command: Command = {
  spec: {
    name: 'bpe learn',
    summary: 'learn a BPE vocabulary (GPT-1 release layout) from a text corpus',
    examples: ['gpt1 bpe learn --data corpus.txt --merges 1000 --out my-vocab/', 'gpt1 bpe learn --data texts/ --merges 40000 --out vocab40k/'],
    flags: {
      data: { kind: 'string', required: true, help: 'a text file, or a directory of text files (read recursively); each line is one text' },
      merges: { kind: 'int', required: true, help: 'number of merges to learn (the release has 40000)' },
      out: { kind: 'string', required: true, help: 'output directory for vocab.json + merges.txt and encoder_bpe_<N>.json + vocab_<N>.bpe (written atomically)' },
      'min-frequency': { kind: 'int', default: 2, help: 'stop when the best pair occurs fewer times' },
      force: { kind: 'boolean', help: 'replace --out even if it is a non-empty directory that is not a vocabulary' },
      quiet: QUIET_FLAG,
    },
  },
  run: learn,
};
