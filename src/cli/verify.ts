/**
 * `gpt1 verify --checkpoint DIR`: the checks to run after downloading the real GPT-1
 * weights. Each check prints one line, `pass: …`, `FAIL: …` or `n/a: …` (a check that
 * does not apply to this checkpoint, with the reason); the exit status is 1 if any
 * check fails.
 *
 * | check | applies to |
 * |---|---|
 * | parameter count is 116,534,784 | a checkpoint of GPT-1's architecture (12 layers × 768) |
 * | every shape equals the release's `params_shapes.json` | same |
 * | the vocabulary fits the model (its size is n_vocab) | every checkpoint |
 * | `"the president is"` encodes to [481, 4735, 544] | the release vocabulary (40478 tokens) |
 * | 20 published ids decode to the published text | same |
 * | that text encodes back to the 20 ids | same |
 * | the forward pass gives finite logits, and the key/value cache the same logits | every checkpoint |
 * | greedy generation from [481, 4735, 544] gives the published 20 ids | a checkpoint with exactly the release's shapes |
 *
 * The vocabulary is the checkpoint's (`encoder_bpe_40000.json` + `vocab_40000.bpe`,
 * or `vocab.json` + `merges.txt`), else `--vocab DIR`, else the bundled release
 * vocabulary in `vocab/`.
 *
 * The expected values are {@link RELEASE}; {@link verifyChecks} takes them as an
 * argument so the tests can exercise pass and fail on a small model.
 *
 * @module
 */
import type { ParsedFlags } from './args.ts';
import { type GPTConfig, GPT1 } from '../config.ts';
import { forward } from '../model/gpt.ts';
import { generateIds } from '../generate.ts';
import { type Params, countParams, paramShapes } from '../params.ts';
import { showShape } from '../tensor.ts';
import { type GptTextEncoder, decode, encode } from '../tokenizer/encoder.ts';
import { type Command, MODEL_FLAGS, type Progress, applyBackendFlag, commas, describeVocab, findVocab, vocabLocation, loadModel, progress, str } from './common.ts';

/** What is known about the released GPT-1, from the release and its published output. */
export interface ReleaseFacts {
  /** The release's config: its shapes are `paramShapes(config)`. */
  readonly config: GPTConfig;
  /** Total parameters (116,534,784). */
  readonly paramCount: number;
  /** The tokenizer facts: a text and its ids; ids and their decoded text. */
  readonly encode: { readonly text: string; readonly ids: readonly number[] };
  readonly decode: { readonly ids: readonly number[]; readonly text: string };
  /** Greedy generation: the prompt ids and the whole published sequence (prompt included). */
  readonly greedy: { readonly prompt: readonly number[]; readonly ids: readonly number[] };
}

const PUBLISHED_20 = Object.freeze([481, 4735, 544, 246, 963, 870, 762, 239, 244, 40477, 244, 249, 719, 881, 487, 544, 240, 244, 603, 481]);

/** GPT-1 as released (openai/finetune-transformer-lm) and its published greedy output. */
export const RELEASE: ReleaseFacts = Object.freeze({
  config: GPT1,
  paramCount: 116_534_784,
  encode: { text: 'the president is', ids: [481, 4735, 544] },
  decode: { ids: PUBLISHED_20, text: 'the president is a very good man. " \n " i\'m sure he is, " said the' },
  greedy: { prompt: [481, 4735, 544], ids: PUBLISHED_20 },
});

export type CheckStatus = 'pass' | 'fail' | 'n/a';

/** One check: its name, outcome and a detail (the reason, for n/a). */
export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

/** The line printed for a check. */
export function checkLine(c: CheckResult): string {
  return `${c.status === 'fail' ? 'FAIL' : c.status}: ${c.name}: ${c.detail}`;
}

const showIds = (ids: readonly number[]): string => `[${ids.join(', ')}]`;
const sameIds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Index of the first difference of two id lists (or the shorter length). */
function firstDiff(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Largest |a − b| / max |b| over two arrays (normwise relative difference). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  if (Number.isNaN(num)) return Infinity;
  return den === 0 ? num : num / den;
}

/** The model and vocabulary to check. */
export interface VerifyInput {
  readonly config: GPTConfig;
  readonly params: Params;
  /** The vocabulary (undefined: none found; the tokenizer checks are then n/a). */
  readonly enc?: GptTextEncoder;
  /** Where the vocabulary came from, for the lines. */
  readonly vocabWhere?: string;
}

/** Tolerance of the cache check: the same computation in another order, normwise relative. */
export const CACHE_TOL = 1e-4;

/**
 * Runs the checks of `gpt1 verify` against `facts` (default {@link RELEASE}), calling
 * `report` as each finishes. Never throws for a failing check: an exception inside a
 * check is that check's failure.
 */
export async function verifyChecks(input: VerifyInput, facts: ReleaseFacts = RELEASE, report: (c: CheckResult) => void = () => {}, p?: Progress): Promise<CheckResult[]> {
  const { config, params, enc } = input;
  const results: CheckResult[] = [];
  const check = async (name: string, fn: () => Promise<[CheckStatus, string]> | [CheckStatus, string]): Promise<CheckStatus> => {
    let status: CheckStatus;
    let detail: string;
    try {
      [status, detail] = await fn();
    } catch (e) {
      [status, detail] = ['fail', `error: ${(e as Error).message.split('\n')[0]}`];
    }
    const r = { name, status, detail };
    results.push(r);
    report(r);
    return status;
  };
  const R = facts.config;

  // Shapes and count: only for a checkpoint of the release's architecture.
  const sameArch = config.n_layer === R.n_layer && config.n_embd === R.n_embd;
  const archNote = `not GPT-1's architecture (n_layer ${config.n_layer}, n_embd ${config.n_embd}; the release is ${R.n_layer} × ${R.n_embd})`;
  const count = countParams(config);
  const countStatus = await check('parameter count', () =>
    !sameArch ? ['n/a', archNote] : count === facts.paramCount ? ['pass', commas(count)] : ['fail', `${commas(count)}, the release has ${commas(facts.paramCount)}`],
  );
  const expected = paramShapes(R);
  const actual = paramShapes(config);
  const shapeStatus = await check('parameter shapes', () => {
    if (!sameArch) return ['n/a', archNote];
    const bad: string[] = [];
    expected.forEach(([name, shape], i) => {
      const got = params[name]?.shape;
      if (got === undefined) bad.push(`${name} missing`);
      else if (got.length !== shape.length || got.some((d, j) => d !== shape[j])) bad.push(`${name} is ${showShape(got)}, expected ${showShape(shape)}`);
      else if (actual[i]?.[0] !== name) bad.push(`${name} out of order`);
    });
    if (actual.length !== expected.length) bad.push(`${actual.length} tensors, expected ${expected.length}`);
    return bad.length === 0 ? ['pass', `all ${expected.length} tensors as in the release's params_shapes.json`] : ['fail', `${bad.length} differ: ${bad.slice(0, 3).join('; ')}${bad.length > 3 ? '; …' : ''}`];
  });

  // Vocabulary and tokenizer.
  await check('vocabulary fits the model', () => {
    if (!enc) return ['fail', `no vocabulary found${input.vocabWhere ? `: ${input.vocabWhere}` : ''}`];
    return enc.nVocab === config.n_vocab
      ? ['pass', `${commas(enc.nVocab)} tokens = n_vocab (${input.vocabWhere ?? enc.source})`]
      : ['fail', `the vocabulary (${input.vocabWhere ?? enc.source}) has ${commas(enc.nVocab)} tokens, the model's n_vocab is ${commas(config.n_vocab)}`];
  });
  const releaseVocab = enc !== undefined && enc.nVocab === R.n_vocab;
  const vocabNote = enc === undefined ? 'no vocabulary found' : `the vocabulary has ${enc.nVocab} tokens, not the release's ${R.n_vocab}`;
  await check('tokenizer encode', () => {
    if (!releaseVocab) return ['n/a', vocabNote];
    const got = encode(enc, facts.encode.text);
    return sameIds(got, facts.encode.ids)
      ? ['pass', `${JSON.stringify(facts.encode.text)} → ${showIds(got)}`]
      : ['fail', `${JSON.stringify(facts.encode.text)} → ${showIds(got)}, expected ${showIds(facts.encode.ids)}`];
  });
  await check('tokenizer decode', () => {
    if (!releaseVocab) return ['n/a', vocabNote];
    const got = decode(enc, facts.decode.ids);
    return got === facts.decode.text
      ? ['pass', `${facts.decode.ids.length} ids → ${JSON.stringify(got)}`]
      : ['fail', `${facts.decode.ids.length} ids → ${JSON.stringify(got)}, expected ${JSON.stringify(facts.decode.text)}`];
  });
  await check('tokenizer round trip', () => {
    if (!releaseVocab) return ['n/a', vocabNote];
    const got = encode(enc, facts.decode.text);
    if (sameIds(got, facts.decode.ids)) return ['pass', `the decoded text encodes back to the ${got.length} ids`];
    const i = firstDiff(got, facts.decode.ids);
    return ['fail', `encodes to ${got.length} ids, differing at position ${i} (${got[i]} instead of ${facts.decode.ids[i]})`];
  });

  // The model runs, and the key/value cache agrees with a full pass.
  await check('forward pass and cache', async () => {
    const prompt = facts.greedy.prompt.map((id) => id % config.n_vocab).slice(0, Math.max(2, Math.min(facts.greedy.prompt.length, config.n_ctx)));
    if (prompt.length < 2 || prompt.length > config.n_ctx) return ['n/a', `n_ctx ${config.n_ctx} is too short for a test sequence`];
    const run = async () => {
      const full = await forward(params, config, prompt);
      const head = await forward(params, config, prompt.slice(0, -1));
      const tail = await forward(params, config, prompt.slice(-1), { past: head.present });
      return { full, tail };
    };
    const { full, tail } = p ? await p.task(`forward passes over ${prompt.length} tokens`, run) : await run();
    const V = full.logits.shape[1];
    const firstBad = full.logits.data.findIndex((x) => !Number.isFinite(x));
    if (firstBad >= 0) return ['fail', `logit ${firstBad} is ${full.logits.data[firstBad]}`];
    const d = relDiff(tail.logits.data, full.logits.data.subarray((prompt.length - 1) * V));
    return d <= CACHE_TOL
      ? ['pass', `finite logits for ${showIds(prompt)}; with the key/value cache the last row agrees to ${d.toExponential(1)} (≤ ${CACHE_TOL})`]
      : ['fail', `the last row of logits with the key/value cache differs by ${d.toExponential(2)} (normwise relative) from the full pass`];
  });

  // Greedy generation: only the release's weights give the published output.
  await check('greedy generation', async () => {
    if (!sameArch) return ['n/a', archNote];
    if (countStatus !== 'pass' || shapeStatus !== 'pass') return ['n/a', 'the shapes are not the release\'s, so its published output does not apply'];
    const want = facts.greedy.ids;
    const n = want.length - facts.greedy.prompt.length;
    const gen = () => generateIds(params, config, facts.greedy.prompt, { greedy: true, maxTokens: n });
    const got = [...facts.greedy.prompt, ...(p ? await p.task(`greedy generation of ${n} tokens`, gen) : await gen())];
    const text = releaseVocab ? ` ${JSON.stringify(decode(enc, got))}` : '';
    if (sameIds(got, want)) return ['pass', `${showIds(facts.greedy.prompt)} → ${showIds(got)}${text}, as published`];
    const i = firstDiff(got, want);
    return ['fail', `${showIds(got)}${text}; differs from the published ${showIds(want)} at position ${i}`];
  });
  return results;
}

async function run(flags: ParsedFlags): Promise<number> {
  applyBackendFlag(flags);
  const p = progress(Boolean(flags.quiet));
  const model = await loadModel('verify', flags, p);
  const vocab = findVocab(str(flags, 'vocab'), model.dir, model.config, true);
  const c = model.config;
  console.log(`gpt1 verify: ${model.path} (${model.format}; ${c.n_layer} layers × ${c.n_embd}, ${c.n_head} heads, n_ctx ${c.n_ctx}, n_vocab ${c.n_vocab}${c.n_special ? ` + ${c.n_special} special` : ''}; ${commas(countParams(c))} parameters)`);
  console.log(`vocabulary: ${describeVocab(vocab)}`);
  const results = await verifyChecks(
    { config: c, params: model.params, enc: vocab.found ? vocab.enc : undefined, vocabWhere: vocab.found ? vocabLocation(vocab) : vocab.reason },
    RELEASE,
    (r) => console.log(checkLine(r)),
    p,
  );
  const n = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  console.log(`${n('pass')} passed, ${n('fail')} failed, ${n('n/a')} not applicable`);
  return n('fail') > 0 ? 1 : 0;
}

export const command: Command = {
  spec: {
    name: 'verify',
    summary: 'check a downloaded GPT-1 checkpoint: parameter count and shapes, tokenizer, forward pass, the published greedy output',
    examples: ['gpt1 verify --checkpoint model/', 'gpt1 verify --checkpoint gpt1-hf/ --backend cpu'],
    flags: { ...MODEL_FLAGS },
  },
  run,
};
