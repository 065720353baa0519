/**
 * `gpt1 generate`: continues a prompt, streaming the text to stdout as each token is
 * produced (see `src/generate.ts` for sampling and the key/value cache).
 *
 * stdout gets the decoded text of prompt + continuation, written incrementally: after
 * each token only the part of the text that became final is printed (the last word
 * is held back because the decoder's clean-up may still glue punctuation to it; see
 * `streamDecoder`). Without a vocabulary (a model whose n_vocab is not the bundled
 * vocabulary's and no `--vocab`), the ids are printed instead, space-separated.
 * stderr gets progress and, at the end, the speed; `--print-ids` adds the generated
 * ids as a JSON array on stderr.
 *
 * @module
 */
import { type ParsedFlags, UsageError } from './args.ts';
import { type GenerateOptions, endsWithStop, generateTokens } from '../generate.ts';
import { validateIds } from '../model/embedding.ts';
import type { GptTextEncoder } from '../tokenizer/encoder.ts';
import { decode } from '../tokenizer/encoder.ts';
import { type Command, MODEL_FLAGS, type VocabLookup, applyBackendFlag, encodeText, findVocab, loadModel, num, parseIds, progress, requireVocab, seconds, seedFlag, str, streamDecoder } from './common.ts';

/** Why a sequence ended (as in OpenAI's and Hugging Face's APIs): its length limit, a stop sequence or string, or a full context. */
export type FinishReason = 'length' | 'stop' | 'context';

/** One generated sequence, as `--json` prints it. */
export interface GeneratedSequence {
  /** The generated ids (the prompt excluded). */
  readonly ids: number[];
  /** Prompt + continuation, decoded (cut right after a stop string); absent without a vocabulary. */
  readonly text?: string;
  /** log P(id | sequence so far) of each generated id under the model (natural log). */
  readonly token_logprobs: number[];
  readonly finish_reason: FinishReason;
}

/**
 * `--stop` values: `ids:1,2,3` is a sequence of token ids, anything else a string.
 * @returns the id sequences and the strings.
 */
export function parseStops(values: readonly string[]): { ids: number[][]; strings: string[] } {
  const ids: number[][] = [];
  const strings: string[] = [];
  for (const v of values) {
    if (v.startsWith('ids:')) ids.push(parseIds('generate', v.slice(4), '--stop ids:'));
    else if (v === '') throw new UsageError('gpt1 generate: --stop is empty: give a string, or ids:1,2,3');
    else strings.push(v);
  }
  return { ids, strings };
}

/**
 * Where the first stop string ends in `text` at or after `from`, or -1.
 * The earliest end wins when several stop strings occur.
 */
export function stopStringEnd(text: string, strings: readonly string[], from: number): number {
  let end = -1;
  for (const s of strings) {
    const i = text.indexOf(s, from);
    if (i >= 0 && (end < 0 || i + s.length < end)) end = i + s.length;
  }
  return end;
}

async function run(flags: ParsedFlags): Promise<number> {
  applyBackendFlag(flags);
  const prompt = str(flags, 'prompt');
  const idsFlag = str(flags, 'ids');
  if ((prompt === undefined) === (idsFlag === undefined)) throw new UsageError('gpt1 generate: give exactly one of --prompt or --ids (see gpt1 generate --help)');
  const idsGiven = idsFlag === undefined ? undefined : parseIds('generate', idsFlag);
  const maxTokens = num(flags, 'max-new-tokens') as number;
  const temperature = num(flags, 'temperature') as number;
  const topK = num(flags, 'top-k');
  const topP = num(flags, 'top-p') as number;
  const penalty = num(flags, 'repetition-penalty') as number;
  const nSeq = num(flags, 'num-return-sequences') as number;
  const seed = seedFlag(flags, 'generate') as number;
  const json = Boolean(flags.json);
  if (flags.greedy && flags['do-sample']) throw new UsageError('gpt1 generate: --greedy and --do-sample contradict each other');
  const greedy = Boolean(flags.greedy);
  if (maxTokens < 1) throw new UsageError(`gpt1 generate: --max-new-tokens must be ≥ 1, got ${maxTokens}`);
  if (!(temperature > 0)) throw new UsageError(`gpt1 generate: --temperature must be > 0, got ${temperature}`);
  if (topK !== undefined && topK < 0) throw new UsageError(`gpt1 generate: --top-k must be ≥ 0 (0: all tokens), got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`gpt1 generate: --top-p must be in (0, 1], got ${topP}`);
  if (!(penalty > 0)) throw new UsageError(`gpt1 generate: --repetition-penalty must be > 0, got ${penalty}`);
  if (nSeq < 1) throw new UsageError(`gpt1 generate: --num-return-sequences must be ≥ 1, got ${nSeq}`);
  if (greedy && nSeq > 1) throw new UsageError('gpt1 generate: --num-return-sequences > 1 needs sampling: greedy decoding gives the same sequence every time');
  const stops = parseStops((flags.stop as readonly string[] | undefined) ?? []);
  const p = progress(Boolean(flags.quiet));

  const model = await loadModel('generate', flags, p);
  const { config, params } = model;
  let vocab: VocabLookup;
  try {
    vocab = findVocab(str(flags, 'vocab'), model.dir, config);
  } catch (e) {
    if (prompt !== undefined || str(flags, 'vocab') !== undefined) throw e;
    vocab = { found: false, reason: (e as Error).message };
  }
  const enc = prompt !== undefined ? requireVocab(vocab, config, '--prompt') : vocab.found && vocab.enc.nVocab === config.n_vocab ? vocab.enc : undefined;
  if (enc === undefined && stops.strings.length > 0) throw new Error('--stop with a string needs a vocabulary (pass --vocab, or use --stop ids:…)');
  const ids = idsGiven ?? encodeText(enc!, prompt as string, Boolean(flags['allow-unk']));
  validateIds(config, ids);
  // The last generated token is never fed back, so it needs no position: n_ctx − T + 1 fit.
  const room = config.n_ctx - ids.length + 1;
  if (maxTokens > room) p.note(`note: the context of n_ctx = ${config.n_ctx} leaves room for ${room} tokens after the ${ids.length}-token prompt`);

  const useCache = !flags['no-cache'];
  const base: GenerateOptions = { maxTokens, greedy, temperature, topK, topP, repetitionPenalty: penalty, stopSequences: stops.ids, seed, useCache };
  const how = greedy ? 'greedy' : `temperature ${temperature}${topK ? `, top-k ${topK}` : ''}${topP < 1 ? `, top-p ${topP}` : ''}, seed ${seed}`;
  p.note(`generating up to ${Math.min(maxTokens, room)} tokens (${how}${penalty !== 1 ? `, repetition penalty ${penalty}` : ''}${nSeq > 1 ? `, ${nSeq} sequences` : ''}; ${useCache ? 'key/value cache' : 'no cache'})`);
  // A reader that goes away (`gpt1 generate … | head`) ends the process quietly: the
  // EPIPE handler every command gets (`exitQuietlyOnClosedPipe`, installed by the executable).
  const write = (s: string): void => {
    if (s !== '') process.stdout.write(s);
  };
  const sequences: GeneratedSequence[] = [];
  const t0 = Date.now();
  let total = 0;
  for (let k = 0; k < nSeq; k++) {
    if (nSeq > 1) p.note(`sequence ${k + 1}/${nSeq} (seed ${seed + k})`);
    const seq = await generateOne(params, config, ids, { ...base, seed: seed + k }, enc, stops.strings, json ? () => {} : write);
    total += seq.ids.length;
    sequences.push(seq);
  }
  const secs = (Date.now() - t0) / 1000;
  p.note(`${total} tokens in ${seconds(t0)} (${(total / Math.max(secs, 1e-9)).toFixed(1)} tokens/s)`);
  if (json) {
    const options = { max_new_tokens: maxTokens, do_sample: !greedy, temperature, top_k: topK ?? 0, top_p: topP, repetition_penalty: penalty, stop: (flags.stop as readonly string[]) ?? [], num_return_sequences: nSeq, seed };
    write(`${JSON.stringify({ prompt: prompt ?? null, prompt_ids: ids, options, sequences }, null, 2)}\n`);
  }
  if (flags['print-ids']) process.stderr.write(`ids: ${JSON.stringify(nSeq === 1 ? sequences[0].ids : sequences.map((x) => x.ids))}\n`);
  return 0;
}

/**
 * Generates one sequence, streaming its text through `write` (the prompt first), and
 * stops at a stop string, cutting the text right after it.
 */
async function generateOne(
  params: Parameters<typeof generateTokens>[0], config: Parameters<typeof generateTokens>[1], ids: readonly number[], options: GenerateOptions,
  enc: GptTextEncoder | undefined, stopStrings: readonly string[], write: (s: string) => void,
): Promise<GeneratedSequence> {
  const dec = enc ? streamDecoder(enc) : undefined;
  let shown = dec ? dec.push(...ids) : ids.join(' ');
  write(shown);
  const promptText = enc ? decode(enc, [...ids]) : '';
  const generated: number[] = [];
  const logprobs: number[] = [];
  let finish: FinishReason = 'length';
  let cut = -1;
  for await (const t of generateTokens(params, config, ids, options)) {
    generated.push(t.id);
    logprobs.push(t.logprob);
    if (enc && stopStrings.length > 0) {
      cut = stopStringEnd(decode(enc, [...ids, ...generated]), stopStrings, promptText.length);
      if (cut >= 0) {
        finish = 'stop';
        break;
      }
    }
    const delta = dec ? dec.push(t.id) : ` ${t.id}`;
    shown += delta;
    write(delta);
  }
  const all = [...ids, ...generated];
  if (finish === 'length' && endsWithStop(generated, options.stopSequences ?? [])) finish = 'stop';
  else if (finish === 'length' && generated.length < options.maxTokens && all.length > config.n_ctx) finish = 'context';
  let text: string | undefined;
  if (enc) {
    const full = decode(enc, all);
    text = cut >= 0 ? full.slice(0, cut) : full;
    write(text.startsWith(shown) ? text.slice(shown.length) : dec!.flush());
  }
  write('\n');
  return { ids: generated, ...(text !== undefined ? { text } : {}), token_logprobs: logprobs, finish_reason: finish };
}

export const command: Command = {
  spec: {
    name: 'generate',
    summary: 'continue a prompt, streaming the text as it is produced (key/value cache); the flags follow Hugging Face transformers\' generate()',
    examples: [
      'gpt1 generate --checkpoint model/ --prompt "the president is" --greedy --max-new-tokens 17',
      'gpt1 generate --checkpoint model/ --prompt "once upon a time" --temperature 0.8 --top-p 0.9 --seed 1',
      'gpt1 generate --checkpoint model/ --prompt "dear friend," --num-return-sequences 3 --stop . --json',
    ],
    flags: {
      ...MODEL_FLAGS,
      prompt: { kind: 'string', help: 'text to continue' },
      ids: { kind: 'string', help: 'prompt as token ids instead of text, e.g. 481,4735,544' },
      'max-new-tokens': { kind: 'int', default: 40, aliases: ['max-tokens'], help: 'tokens to generate (fewer if the context fills up or a stop sequence comes)' },
      'do-sample': { kind: 'boolean', help: 'sample from the distribution (the default here; Hugging Face defaults to greedy)' },
      greedy: { kind: 'boolean', help: 'always take the most probable token (ignores temperature, top-k, top-p, seed)' },
      temperature: { kind: 'number', default: 1, help: 'softmax temperature > 0' },
      'top-k': { kind: 'int', help: 'sample among the k most probable tokens only (0 or absent: all)' },
      'top-p': { kind: 'number', default: 1, help: 'sample among the smallest set of most probable tokens whose probability reaches p (1: all)' },
      'repetition-penalty': { kind: 'number', default: 1, help: 'divide positive logits (multiply negative ones) of tokens already in the sequence by this (1: none)' },
      stop: { kind: 'strings', help: 'stop right after this string, or after the token ids ids:1,2,3 (kept in the output)' },
      'num-return-sequences': { kind: 'int', default: 1, help: 'how many sequences to sample (sequence i uses seed + i)' },
      seed: { kind: 'int', default: 0, help: 'seed of the sampler' },
      json: { kind: 'boolean', help: 'print one JSON object at the end (ids, text and per-token log-probabilities of each sequence) instead of streaming text' },
      'no-cache': { kind: 'boolean', help: 'recompute the whole sequence at every step instead of using the key/value cache' },
      'allow-unk': { kind: 'boolean', help: 'map prompt pieces missing from the vocabulary to id 0 instead of failing' },
      'print-ids': { kind: 'boolean', help: 'print the generated ids as a JSON array on stderr at the end' },
    },
  },
  run,
};
