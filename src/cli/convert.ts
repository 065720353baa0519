/**
 * `gpt1 convert --checkpoint DIR --to hf|original --out DIR2`: rewrites a checkpoint
 * in the other layout (or the same one), losslessly.
 *
 * The numbers are copied as float32 bits (`convertCheckpoint`); afterwards the output
 * is loaded again and compared bit for bit with the input (skip with `--no-check`),
 * so a conversion that printed `bit-identical` can be trusted. The vocabulary files,
 * if the checkpoint has them, are copied and renamed for the target layout. The
 * output directory is written atomically; an existing non-empty one is replaced only
 * with `--force`.
 *
 * @module
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ParsedFlags } from './args.ts';
import { type CheckpointFormat, convertCheckpoint, loadCheckpoint } from '../checkpoint/index.ts';
import { type Params, countParams, paramShapes } from '../params.ts';
import { type Command, CHECKPOINT_FLAG, N_HEAD_FLAG, QUIET_FLAG, commas, guardOut, locateCheckpoint, nHeadFlag, progress, str } from './common.ts';

/**
 * The first parameter whose bits differ between `a` and `b` (same config), or
 * undefined when every float32 is bit-identical (NaN payloads and −0 included).
 */
export function firstBitDifference(a: Params, b: Params, names: readonly string[]): string | undefined {
  for (const name of names) {
    const x = a[name];
    const y = b[name];
    if (x === undefined || y === undefined) return `${name}: missing`;
    if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) return `${name}: shapes differ`;
    const u = new Uint32Array(x.data.buffer, x.data.byteOffset, x.data.length);
    const v = new Uint32Array(y.data.buffer, y.data.byteOffset, y.data.length);
    for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return `${name}: element ${i} differs`;
  }
  return undefined;
}

async function run(flags: ParsedFlags): Promise<number> {
  const src = str(flags, 'checkpoint') as string;
  const to = str(flags, 'to') as CheckpointFormat;
  const out = str(flags, 'out') as string;
  const p = progress(Boolean(flags.quiet));
  const nHead = nHeadFlag('convert', flags);
  const opts = nHead === undefined ? {} : { n_head: nHead };
  guardOut('convert', out, [['--checkpoint', src]], { force: Boolean(flags.force) });
  const { format } = locateCheckpoint(src);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  const ckpt = await p.task(`converting ${src} (${format}) to ${to} in ${out}`, () => convertCheckpoint(src, to, out, opts));
  const names = paramShapes(ckpt.config).map(([n]) => n);
  let checked = '';
  if (!flags['no-check']) {
    // A written checkpoint that does not load back bit for bit is removed: output complete or absent.
    let diff: string | undefined;
    try {
      const back = await p.task(`reloading ${out} to compare`, () => loadCheckpoint(out, opts));
      diff = firstBitDifference(ckpt.params, back.params, names);
    } catch (e) {
      diff = (e as Error).message.split('\n')[0];
    }
    if (diff !== undefined) {
      rmSync(out, { recursive: true, force: true });
      throw new Error(`the written checkpoint ${out} did not reload bit for bit (${diff}); it was removed`);
    }
    checked = '; reloaded: every tensor bit-identical';
  }
  console.log(`wrote ${out} (${to}) from ${src} (${format}): ${commas(countParams(ckpt.config))} parameters in ${names.length} tensors${checked}`);
  return 0;
}

export const command: Command = {
  spec: {
    name: 'convert',
    summary: 'rewrite a checkpoint in the original or the Hugging Face layout, bit for bit',
    examples: [
      'gpt1 convert --checkpoint model/ --to hf --out gpt1-hf/',
      'gpt1 convert --checkpoint gpt1-hf/ --to original --out model-again/',
    ],
    flags: {
      checkpoint: CHECKPOINT_FLAG,
      to: { kind: 'string', choices: ['hf', 'original'], required: true, help: 'layout to write' },
      out: { kind: 'string', required: true, help: 'output directory (written atomically; parents are created)' },
      force: { kind: 'boolean', help: 'replace --out even if it exists and is not empty' },
      'no-check': { kind: 'boolean', help: 'do not reload the output to compare it bit for bit' },
      'n-head': N_HEAD_FLAG,
      quiet: QUIET_FLAG,
    },
  },
  run,
};
