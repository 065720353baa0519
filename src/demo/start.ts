/**
 * The command line of the main job (`npm start -- …`): flags, presets, overrides.
 *
 * @module
 */
import { type CommandSpec, type FlagSpec, UsageError, helpText, parseFlags } from '../cli/args.ts';
import { versionLine } from '../cli/version.ts';
import { backend } from '../kernels/backend.ts';
import { runDemo } from './pipeline.ts';
import { type DemoPreset, PRESETS } from './presets.ts';

/** Preset fields that can be overridden, with their flag names. */
const OVERRIDES: Readonly<Record<string, [keyof DemoPreset, string]>> = {
  'n-train': ['nTrain', 'labelled training examples'],
  'n-test': ['nTest', 'labelled test examples'],
  'pretrain-chars': ['pretrainChars', 'characters of pre-training text'],
  merges: ['merges', 'BPE merges to learn'],
  'n-embd': ['n_embd', 'model width'],
  'n-head': ['n_head', 'attention heads'],
  'n-layer': ['n_layer', 'transformer blocks'],
  'n-ctx': ['n_ctx', 'context length'],
  'pretrain-steps': ['pretrainSteps', 'pre-training updates'],
  'pretrain-batch': ['pretrainBatch', 'sequences per pre-training update'],
  'pretrain-lr': ['pretrainLr', 'pre-training peak learning rate'],
  epochs: ['epochs', 'fine-tuning epochs'],
  batch: ['batch', 'fine-tuning batch size'],
  lr: ['lr', 'fine-tuning peak learning rate'],
};

const SPEC: CommandSpec = {
  name: 'start',
  invocation: 'npm start --',
  summary: 'pre-train a small GPT-1 on real unlabelled text, fine-tune it three ways (Table 5 in miniature), and report',
  examples: ['npm start', 'npm start -- --task wordnet', 'npm start -- --preset full --out runs/full', 'npm start -- --pretrain-steps 300 --epochs 2'],
  flags: {
    task: { kind: 'string', choices: ['spam', 'wordnet'], default: 'spam', help: 'spam: classify e-mails (SpamAssassin); wordnet: pick the word a WordNet gloss defines (multiple choice)' },
    preset: { kind: 'string', choices: ['tiny', 'quick', 'full'], default: 'quick', help: 'sizes: quick ≈ 5 minutes on 2 cores; full is larger; tiny is for tests' },
    seed: { kind: 'int', default: 42, help: 'seed of every random choice' },
    out: { kind: 'string', help: 'output folder (default runs/<task>-<preset>)' },
    backend: { kind: 'string', choices: ['webgpu', 'headlessgl', 'webasm', 'cpu'], help: 'force a gpu.js backend (default: the fastest that starts)' },
    ...Object.fromEntries(Object.entries(OVERRIDES).map(([flag, [field, help]]): [string, FlagSpec] => [flag, { kind: field.endsWith('Lr') || field === 'lr' ? 'number' : 'int', help: `${help} (overrides the preset)` }])),
  },
};

/** Runs the main job with `argv` and resolves to the exit status. */
export async function start(argv: readonly string[]): Promise<number> {
  try {
    const { flags, help, version } = parseFlags(SPEC, argv);
    if (help) {
      console.log(helpText(SPEC));
      return 0;
    }
    if (version) {
      console.log(versionLine());
      return 0;
    }
    if (flags.backend !== undefined) process.env.GPT1_BACKEND = String(flags.backend);
    const presetName = String(flags.preset) as keyof typeof PRESETS;
    let preset: DemoPreset = PRESETS[presetName];
    for (const [flag, [field]] of Object.entries(OVERRIDES)) {
      const v = flags[flag];
      if (v === undefined) continue;
      if (!(typeof v === 'number' && v > 0)) throw new UsageError(`npm start: --${flag} must be positive, got ${String(v)}`);
      preset = { ...preset, [field]: v };
    }
    const task = String(flags.task) as 'spam' | 'wordnet';
    const out = typeof flags.out === 'string' ? flags.out : `runs/${task}-${presetName}`;
    const be = await backend();
    console.log(`gpt1-ts main job: task ${task}, preset ${presetName}, seed ${flags.seed}, gpu.js backend ${be.name} (${be.reason})`);
    await runDemo({ task, presetName, preset, seed: Number(flags.seed), out });
    return 0;
  } catch (e) {
    console.error(e instanceof UsageError ? e.message : `npm start: ${(e as Error).message.split('\n')[0]}`);
    if (process.env.GPT1_DEBUG) console.error((e as Error).stack);
    return e instanceof UsageError ? 2 : 1;
  }
}
