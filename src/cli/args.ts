/**
 * A small, strict command-line parser shared by every `gpt1` command.
 *
 * Each command declares its flags (name, kind, default, help). Parsing returns a
 * plain record or throws a {@link UsageError} whose one-line message names the bad
 * flag; `main` prints that line and exits with status 2. Unknown flags, missing
 * values and unparsable numbers are errors, never ignored.
 *
 * The conventions are those of `node:util`'s `parseArgs` and of most Unix tools:
 * `--flag value`, `--flag=value`, a bare `--flag` for a boolean and `--no-flag` to
 * turn one off, `-h`/`--help`, `--version`, and a repeatable flag (kind `strings`)
 * collecting every value. `parseArgs` itself is not used: Node 20's has no
 * `--no-` negation, and its errors would not name the command.
 *
 * @module
 */

/** `strings`: a string flag that may be given several times; its value is the list (empty when absent). */
export type FlagKind = 'string' | 'number' | 'int' | 'boolean' | 'strings';

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly help: string;
  /** Value when the flag is absent; absent and no default means `undefined` (or false for booleans). */
  readonly default?: string | number | boolean;
  /** Allowed values for a string flag. */
  readonly choices?: readonly string[];
  /** The flag must be given. */
  readonly required?: boolean;
  /** Other names of the flag (without `--`), e.g. an older name kept working. */
  readonly aliases?: readonly string[];
  /** Name of the value in `--help` (default: `value`, `number` or `int`). */
  readonly valueName?: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** How the command is typed, in `--help` (default `gpt1 <name>`). */
  readonly invocation?: string;
  /** Usage examples shown by --help. */
  readonly examples?: readonly string[];
  readonly flags: Readonly<Record<string, FlagSpec>>;
}

export type ParsedFlags = Record<string, string | number | boolean | readonly string[] | undefined>;

/** A problem with the command line: printed as one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Width of `--help` text. */
export const HELP_WIDTH = 80;

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

/** Shell words of an example command, keeping quoted arguments whole and each `--flag value` together. */
function shellWords(command: string): string[] {
  const words = command.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
  const out: string[] = [];
  for (const w of words) {
    const last = out[out.length - 1];
    if (last !== undefined && /^--[^\s=]+$/.test(last) && !w.startsWith('-')) out[out.length - 1] = `${last} ${w}`;
    else out.push(w);
  }
  return out;
}

/** The left column of one flag in `--help`: `--name <value>` or `--[no-]name`. */
function flagLeft(name: string, f: FlagSpec): string {
  const names = [name, ...(f.aliases ?? [])];
  if (f.kind === 'boolean') return `  --${f.default === true ? `[no-]${name}` : name}`;
  const value = f.valueName ?? (f.choices ? 'name' : f.kind === 'string' || f.kind === 'strings' ? 'value' : f.kind);
  return `  ${names.map((n) => `--${n}`).join(', ')} <${value}>`;
}

/** The description of one flag in `--help`: its help, choices, default or "required". */
function flagHelp(f: FlagSpec): string {
  const parts = [f.help];
  if (f.choices) parts.push(`(one of: ${f.choices.join(', ')})`);
  if (f.kind === 'strings') parts.push('(repeatable)');
  if (f.required) parts.push('(required)');
  else if (f.default !== undefined && f.kind !== 'boolean') parts.push(`(default ${String(f.default)})`);
  return parts.join(' ');
}

/** Two columns, the right one wrapped to {@link HELP_WIDTH}; a left entry too wide puts its text on the next line. */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const col = Math.min(30, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines: string[] = [];
  for (const [left, text] of rows) {
    const body = wrap(text, HELP_WIDTH - col);
    if (left.length + 2 > col) lines.push(left);
    else lines.push(`${left.padEnd(col)}${body.shift()}`);
    for (const rest of body) lines.push(`${' '.repeat(col)}${rest}`);
  }
  return lines;
}

/** An example command, broken between shell words into lines of at most {@link HELP_WIDTH} (continued with `\`). */
function exampleLines(command: string): string[] {
  const out: string[] = [];
  let line = '  ';
  for (const word of shellWords(command)) {
    if (line.trim() !== '' && line.length + 1 + word.length + 2 > HELP_WIDTH) {
      out.push(`${line} \\`);
      line = `      ${word}`;
    } else line = line.trim() === '' ? `  ${word}` : `${line} ${word}`;
  }
  out.push(line);
  return out;
}

/** `--help` text of a command: summary, usage, options in two columns, examples; every line at most 80 columns. */
export function helpText(spec: CommandSpec): string {
  const rows: [string, string][] = Object.entries(spec.flags).map(([name, f]) => [flagLeft(name, f), flagHelp(f)]);
  rows.push(['  -h, --help', 'show this help'], ['  --version', 'print the version of gpt1-ts']);
  const invocation = spec.invocation ?? `gpt1 ${spec.name}`;
  const lines = [...wrap(`${invocation}: ${spec.summary}`, HELP_WIDTH), '', `Usage: ${invocation} [options]`, '', 'Options:', ...columns(rows)];
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.flatMap(exampleLines));
  return lines.join('\n');
}

/** The flag called `name` (or one of its aliases) in `spec`, with its canonical name. */
function findFlag(spec: CommandSpec, name: string): [string, FlagSpec] | undefined {
  if (Object.hasOwn(spec.flags, name)) return [name, spec.flags[name]];
  for (const [canonical, f] of Object.entries(spec.flags)) if (f.aliases?.includes(name)) return [canonical, f];
  return undefined;
}

/**
 * Parses `argv` (without the command name) against `spec`.
 * Accepts `--flag value`, `--flag=value`, bare `--flag` and `--no-flag` for booleans,
 * and a `strings` flag several times. Returns `help: true` when -h/--help was asked
 * and `version: true` when --version was.
 */
export function parseFlags(spec: CommandSpec, argv: readonly string[]): { flags: ParsedFlags; help: boolean; version: boolean } {
  const flags: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { flags, help: true, version: false };
    if (arg === '--version') return { flags, help: false, version: true };
    if (!arg.startsWith('--')) throw new UsageError(`gpt1 ${spec.name}: unexpected argument '${arg}' (see gpt1 ${spec.name} --help)`);
    const eq = arg.indexOf('=');
    const given = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let found = findFlag(spec, given);
    let negated = false;
    if (found === undefined && given.startsWith('no-')) {
      const positive = findFlag(spec, given.slice(3));
      if (positive !== undefined && positive[1].kind === 'boolean') [found, negated] = [positive, true];
    }
    if (found === undefined) throw new UsageError(`gpt1 ${spec.name}: unknown flag --${given} (see gpt1 ${spec.name} --help)`);
    const [name, f] = found;
    let raw: string;
    if (negated) {
      if (eq >= 0) throw new UsageError(`gpt1 ${spec.name}: --${given} takes no value`);
      raw = 'false';
    } else if (eq >= 0) raw = arg.slice(eq + 1);
    else if (f.kind === 'boolean') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new UsageError(`gpt1 ${spec.name}: --${given} needs a value`);
      raw = argv[++i];
    }
    const value = convert(spec.name, given, f, raw);
    flags[name] = f.kind === 'strings' ? [...((flags[name] as readonly string[] | undefined) ?? []), value as string] : value;
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (flags[name] === undefined) {
      if (f.required) throw new UsageError(`gpt1 ${spec.name}: --${name} is required (see gpt1 ${spec.name} --help)`);
      flags[name] = f.default ?? (f.kind === 'boolean' ? false : f.kind === 'strings' ? [] : undefined);
    }
  }
  return { flags, help: false, version: false };
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
    case 'strings':
      if (f.choices && !f.choices.includes(raw)) throw new UsageError(`gpt1 ${command}: --${name} must be one of ${f.choices.join(', ')}, got '${raw}'`);
      return raw;
  }
}
