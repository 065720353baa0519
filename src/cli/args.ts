/**
 * A small, strict command-line parser shared by every `gpt1` command.
 *
 * Each command declares its flags (name, kind, default, help). Parsing returns a
 * plain record or throws a {@link UsageError} whose one-line message names the bad
 * flag; `main` prints that line and exits with status 2. Unknown flags, missing
 * values and unparsable numbers are errors, never ignored.
 *
 * @module
 */

export type FlagKind = 'string' | 'number' | 'int' | 'boolean';

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly help: string;
  /** Value when the flag is absent; absent and no default means `undefined` (or false for booleans). */
  readonly default?: string | number | boolean;
  /** Allowed values for a string flag. */
  readonly choices?: readonly string[];
  /** The flag must be given. */
  readonly required?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Usage examples shown by --help. */
  readonly examples?: readonly string[];
  readonly flags: Readonly<Record<string, FlagSpec>>;
}

export type ParsedFlags = Record<string, string | number | boolean | undefined>;

/** A problem with the command line: printed as one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`gpt1 ${spec.name}: ${spec.summary}`, '', 'Options:'];
  const width = Math.max(...Object.keys(spec.flags).map((f) => f.length + 8), 12);
  for (const [name, f] of Object.entries(spec.flags)) {
    const value = f.kind === 'boolean' ? '' : f.choices ? ` ${f.choices.join('|')}` : ` <${f.kind === 'string' ? 'value' : f.kind}>`;
    const left = `  --${name}${value}`;
    const extra = f.required ? ' (required)' : f.default !== undefined && f.kind !== 'boolean' ? ` (default ${String(f.default)})` : '';
    lines.push(`${left.padEnd(width + 12)} ${f.help}${extra}`);
  }
  lines.push(`  --help${' '.repeat(Math.max(1, width + 12 - 6))} show this help`);
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/**
 * Parses `argv` (without the command name) against `spec`.
 * Accepts `--flag value`, `--flag=value`, and bare `--flag` for booleans.
 * Returns `help: true` when --help was asked.
 */
export function parseFlags(spec: CommandSpec, argv: readonly string[]): { flags: ParsedFlags; help: boolean } {
  const flags: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { flags, help: true };
    if (!arg.startsWith('--')) throw new UsageError(`gpt1 ${spec.name}: unexpected argument '${arg}' (see gpt1 ${spec.name} --help)`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const f = spec.flags[name];
    if (f === undefined) throw new UsageError(`gpt1 ${spec.name}: unknown flag --${name} (see gpt1 ${spec.name} --help)`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (f.kind === 'boolean') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new UsageError(`gpt1 ${spec.name}: --${name} needs a value`);
      raw = argv[++i];
    }
    flags[name] = convert(spec.name, name, f, raw);
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (flags[name] === undefined) {
      if (f.required) throw new UsageError(`gpt1 ${spec.name}: --${name} is required (see gpt1 ${spec.name} --help)`);
      flags[name] = f.default ?? (f.kind === 'boolean' ? false : undefined);
    }
  }
  return { flags, help: false };
}

function convert(command: string, name: string, f: FlagSpec, raw: string): string | number | boolean {
  switch (f.kind) {
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new UsageError(`gpt1 ${command}: --${name} takes true or false, got '${raw}'`);
    case 'number':
    case 'int': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`gpt1 ${command}: --${name} needs a number, got '${raw}'`);
      if (f.kind === 'int' && !Number.isInteger(v)) throw new UsageError(`gpt1 ${command}: --${name} needs a whole number, got '${raw}'`);
      return v;
    }
    case 'string':
      if (f.choices && !f.choices.includes(raw)) throw new UsageError(`gpt1 ${command}: --${name} must be one of ${f.choices.join(', ')}, got '${raw}'`);
      return raw;
  }
}
