/**
 * `gpt1`: the command line. Each command lives in its own module under `src/cli/`
 * and exports a {@link Command} (declared in `common.ts`, with what the commands
 * share, so that no command imports this file or another command); this file only
 * dispatches and turns errors into one line on stderr with a non-zero status.
 *
 * @module
 */
import '../kernels/node.ts'; // Node's backend hooks: process.env, Dawn, headless-gl, worker threads
import { HELP_WIDTH, UsageError, helpText, parseFlags, wrap } from './args.ts';
import type { Command } from './common.ts';
import { versionLine } from './version.ts';

/**
 * Name → loader of every command, loaded lazily so that `gpt1 info` does not load
 * the training code. A new command is one module and one line here.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  // one line per command, e.g.  info: async () => (await import('./info.ts')).command,
  info: async () => (await import('./info.ts')).command,
  convert: async () => (await import('./convert.ts')).command,
  init: async () => (await import('./init.ts')).command,
  dump: async () => (await import('./dump.ts')).command,
  generate: async () => (await import('./generate.ts')).command,
  verify: async () => (await import('./verify.ts')).command,
  'bpe learn': async () => (await import('./bpe.ts')).command,
  pretrain: async () => (await import('./pretrain.ts')).command,
  finetune: async () => (await import('./finetune.ts')).command,
  evaluate: async () => (await import('./evaluate.ts')).command,
};

/** The loader of command `name`, or undefined (own properties only: `constructor` is no command). */
function lookup(name: string): (() => Promise<Command>) | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  return [
    'gpt1: GPT-1 (Radford et al. 2018) in TypeScript',
    '',
    'Usage: gpt1 <command> [options]',
    '       gpt1 <command> --help',
    '       gpt1 --version',
    '',
    ...wrap(`Commands: ${names.join(', ')}`, HELP_WIDTH),
    '',
    ...wrap('Environment: GPT1_BACKEND=webgpu|headlessgl|webasm|cpu forces the gpu.js backend.', HELP_WIDTH),
    '',
    'docs/cli.md describes every command.',
  ].join('\n');
}

/**
 * Ends the process quietly, with status 0, when the reader of stdout or stderr goes
 * away (`gpt1 generate … | head -c 1`, `gpt1 info … | head -3`): the write fails with
 * EPIPE, which Node reports as an 'error' event that would otherwise crash with a stack
 * trace. Installed once, by `bin/gpt1.mjs`, for every command. Nothing is lost: every
 * file a command writes is written atomically, so stopping between two writes leaves
 * each complete or absent. Any other stream error is still thrown.
 */
export function exitQuietlyOnClosedPipe(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}

/** Runs `gpt1 argv…` and resolves to the process exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let [name, ...rest] = argv;
  // A two-word command (`gpt1 bpe learn`) is registered under both words.
  if (name !== undefined && rest.length > 0 && lookup(`${name} ${rest[0]}`) !== undefined) [name, rest] = [`${name} ${rest[0]}`, rest.slice(1)];
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(versionLine());
    return 0;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  // No command is a usage error: the usage goes to stderr, stdout stays empty.
  if (name === undefined) {
    console.error(usage());
    return 2;
  }
  const load = lookup(name);
  if (load === undefined) {
    console.error(`gpt1: unknown command '${name}' (commands: ${Object.keys(COMMANDS).sort().join(', ')})`);
    return 2;
  }
  try {
    const command = await load();
    const { flags, help, version } = parseFlags(command.spec, rest);
    if (help) {
      console.log(helpText(command.spec));
      return 0;
    }
    if (version) {
      console.log(versionLine());
      return 0;
    }
    return await command.run(flags);
  } catch (e) {
    const err = e as Error;
    const message = (err?.message ?? String(e)).split('\n')[0];
    console.error(err instanceof UsageError ? message : `gpt1 ${name}: ${message}`);
    if (process.env.GPT1_DEBUG) console.error(err?.stack);
    return err instanceof UsageError ? 2 : 1;
  }
}
