/**
 * `npm run evolution [-- --preset quick|full|tiny --task spam|wordnet --seed N --out DIR]`:
 * GPT-1 against each later change, `modern` and `moe`, with the scaling and length
 * studies (`experiment.ts`). Writes `runs/evolution-<preset>/`.
 *
 * @module
 */
import { type CommandSpec, UsageError, helpText, parseFlags } from '../cli/args.ts';
import { backend } from '../kernels/backend.ts';
import { runEvolution } from './experiment.ts';
import { EVOLUTION_PRESETS } from './presets.ts';

const SPEC: CommandSpec = {
  name: 'evolution',
  summary: 'pre-train and fine-tune GPT-1, each later change (RoPE, RMSNorm, Pre-LN, SwiGLU), modern and moe on the main job\'s data; scaling and length studies',
  examples: ['npm run evolution', 'npm run evolution -- --preset full', 'npm run evolution -- --task wordnet'],
  flags: {
    preset: { kind: 'string', choices: Object.keys(EVOLUTION_PRESETS), default: 'quick', help: 'sizes: quick ≈ 10 minutes on an idle 2-core machine; full is larger; tiny is for tests' },
    task: { kind: 'string', choices: ['spam', 'wordnet'], default: 'spam', help: 'the main job\'s task (npm start)' },
    seed: { kind: 'int', default: 42, help: 'seed of every random choice' },
    out: { kind: 'string', help: 'output folder (default runs/evolution-<preset>)' },
  },
};

/** Runs the experiment with `argv`; resolves to the exit status. */
export async function evolution(argv: readonly string[]): Promise<number> {
  try {
    const { flags, help } = parseFlags(SPEC, argv);
    if (help) {
      console.log(helpText(SPEC).replace('gpt1 evolution', 'npm run evolution --'));
      return 0;
    }
    const presetName = String(flags.preset) as keyof typeof EVOLUTION_PRESETS;
    const out = typeof flags.out === 'string' ? flags.out : `runs/evolution-${presetName}`;
    const be = await backend();
    console.log(`gpt1-ts evolution: preset ${presetName}, task ${flags.task}, seed ${flags.seed}, gpu.js backend ${be.name}`);
    await runEvolution({ task: flags.task as 'spam' | 'wordnet', presetName, preset: EVOLUTION_PRESETS[presetName], seed: Number(flags.seed), out });
    return 0;
  } catch (e) {
    console.error(e instanceof UsageError ? e.message : `npm run evolution: ${(e as Error).message.split('\n')[0]}`);
    if (process.env.GPT1_DEBUG) console.error((e as Error).stack);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(await evolution(process.argv.slice(2)));
