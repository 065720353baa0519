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
import type { Command } from './main.ts';
import { type ParsedFlags, UsageError } from './args.ts';
import { generate } from '../generate.ts';
import { validateIds } from '../model/embedding.ts';
import { MODEL_FLAGS, type VocabLookup, applyBackendFlag, encodeText, findVocab, loadModel, num, parseIds, progress, requireVocab, seconds, seedFlag, str, streamDecoder } from './common.ts';

async function run(flags: ParsedFlags): Promise<number> {
  applyBackendFlag(flags);
  const prompt = str(flags, 'prompt');
  const idsFlag = str(flags, 'ids');
  if ((prompt === undefined) === (idsFlag === undefined)) throw new UsageError('gpt1 generate: give exactly one of --prompt or --ids (see gpt1 generate --help)');
  const idsGiven = idsFlag === undefined ? undefined : parseIds('generate', idsFlag);
  const maxTokens = num(flags, 'max-tokens') as number;
  const temperature = num(flags, 'temperature') as number;
  const topK = num(flags, 'top-k');
  const seed = seedFlag(flags, 'generate') as number;
  if (maxTokens < 1) throw new UsageError(`gpt1 generate: --max-tokens must be ≥ 1, got ${maxTokens}`);
  if (!(temperature > 0)) throw new UsageError(`gpt1 generate: --temperature must be > 0, got ${temperature}`);
  if (topK !== undefined && topK < 1) throw new UsageError(`gpt1 generate: --top-k must be ≥ 1, got ${topK}`);
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
  const ids = idsGiven ?? encodeText(enc!, prompt as string, Boolean(flags['allow-unk']));
  validateIds(config, ids);
  // The last generated token is never fed back, so it needs no position: n_ctx − T + 1 fit.
  const room = config.n_ctx - ids.length + 1;
  if (maxTokens > room) p.note(`note: the context of n_ctx = ${config.n_ctx} leaves room for ${room} tokens after the ${ids.length}-token prompt`);

  const useCache = !flags['no-cache'];
  const options = { maxTokens, greedy: Boolean(flags.greedy), temperature, topK, seed, useCache };
  p.note(`generating up to ${Math.min(maxTokens, room)} tokens (${flags.greedy ? 'greedy' : `temperature ${temperature}${topK !== undefined ? `, top-k ${topK}` : ''}, seed ${seed}`}; ${useCache ? 'key/value cache' : 'no cache'})`);
  // A reader that goes away (`gpt1 generate … | head`) ends the process quietly: see exitQuietlyOnClosedPipe.
  const write = (s: string): void => {
    if (s !== '') process.stdout.write(s);
  };
  const dec = enc ? streamDecoder(enc) : undefined;
  write(dec ? dec.push(...ids) : ids.join(' '));
  const generated: number[] = [];
  const t0 = Date.now();
  for await (const id of generate(params, config, ids, options)) {
    generated.push(id);
    write(dec ? dec.push(id) : ` ${id}`);
  }
  write(dec ? dec.flush() : '');
  write('\n');
  const secs = (Date.now() - t0) / 1000;
  p.note(`${generated.length} tokens in ${seconds(t0)} (${(generated.length / Math.max(secs, 1e-9)).toFixed(1)} tokens/s)`);
  if (flags['print-ids']) process.stderr.write(`ids: ${JSON.stringify(generated)}\n`);
  return 0;
}

export const command: Command = {
  spec: {
    name: 'generate',
    summary: 'continue a prompt, streaming the text as it is produced (key/value cache)',
    examples: [
      'gpt1 generate --checkpoint model/ --prompt "the president is" --greedy --max-tokens 17',
      'gpt1 generate --checkpoint model/ --prompt "once upon a time" --temperature 0.8 --top-k 40 --seed 1',
    ],
    flags: {
      ...MODEL_FLAGS,
      prompt: { kind: 'string', help: 'text to continue' },
      ids: { kind: 'string', help: 'prompt as token ids instead of text, e.g. 481,4735,544' },
      'max-tokens': { kind: 'int', default: 40, help: 'tokens to generate (fewer if the context fills up)' },
      temperature: { kind: 'number', default: 1, help: 'softmax temperature > 0' },
      'top-k': { kind: 'int', help: 'sample among the k most probable tokens only' },
      seed: { kind: 'int', default: 0, help: 'seed of the sampler' },
      greedy: { kind: 'boolean', help: 'always take the most probable token (ignores temperature, top-k, seed)' },
      'no-cache': { kind: 'boolean', help: 'recompute the whole sequence at every step instead of using the key/value cache' },
      'allow-unk': { kind: 'boolean', help: 'map prompt pieces missing from the vocabulary to id 0 instead of failing' },
      'print-ids': { kind: 'boolean', help: 'print the generated ids as a JSON array on stderr at the end' },
    },
  },
  run,
};
