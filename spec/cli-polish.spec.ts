/**
 * Command-line conventions (src/cli/args.ts, src/cli/main.ts): --version everywhere,
 * usage on stderr when no command is given, help wrapped at 80 columns, --no-<flag>,
 * aliases and repeatable flags; and the shape of src/cli's imports (no cycle, no
 * command importing another).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { type CommandSpec, HELP_WIDTH, UsageError, helpText, parseFlags, wrap } from '../src/cli/args.ts';
import { main } from '../src/cli/main.ts';
import { captureRun } from './helpers.ts';

const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS = ['info', 'init', 'convert', 'dump', 'generate', 'verify', 'bpe learn', 'pretrain', 'finetune', 'evaluate'];

describe('gpt1 conventions', () => {
  test('--version on gpt1 and on every command: the version on stdout, exit 0', async () => {
    for (const argv of [['--version'], ['-V'], ...COMMANDS.map((c) => [...c.split(' '), '--version'])]) {
      const r = await captureRun(main, argv);
      assert.equal(r.code, 0, argv.join(' '));
      assert.equal(r.out, `gpt1-ts ${version}\n`, argv.join(' '));
    }
  });

  test('no command: the usage on stderr, nothing on stdout, exit 2; --help: the usage on stdout, exit 0', async () => {
    const none = await captureRun(main, []);
    assert.equal(none.code, 2);
    assert.equal(none.out, '');
    assert.match(none.err, /Usage: gpt1 <command>/);
    const help = await captureRun(main, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Usage: gpt1 <command>/);
    for (const c of COMMANDS) assert.ok(help.out.includes(c), c);
  });

  test('every --help fits in 80 columns and lists -h and --version', async () => {
    for (const c of COMMANDS) {
      for (const h of ['--help', '-h']) {
        const r = await captureRun(main, [...c.split(' '), h]);
        assert.equal(r.code, 0, c);
        for (const line of r.out.split('\n')) assert.ok([...line].length <= HELP_WIDTH, `${c}: ${line.length} columns: ${JSON.stringify(line)}`);
        assert.match(r.out, /-h, --help/);
        assert.match(r.out, /--version/);
      }
    }
  });
});

describe('parseFlags', () => {
  const spec: CommandSpec = {
    name: 'demo',
    summary: 'a command for the tests',
    flags: {
      dropout: { kind: 'boolean', default: true, help: 'dropout' },
      verbose: { kind: 'boolean', help: 'say more' },
      'max-new-tokens': { kind: 'int', default: 40, aliases: ['max-tokens'], help: 'tokens' },
      stop: { kind: 'strings', help: 'stop strings' },
      name: { kind: 'string', help: 'a name' },
    },
  };

  test('--no-<flag> turns a boolean off; --flag and --flag=false as before', () => {
    assert.equal(parseFlags(spec, []).flags.dropout, true);
    assert.equal(parseFlags(spec, ['--no-dropout']).flags.dropout, false);
    assert.equal(parseFlags(spec, ['--dropout=false']).flags.dropout, false);
    assert.equal(parseFlags(spec, ['--verbose']).flags.verbose, true);
    assert.throws(() => parseFlags(spec, ['--no-dropout=1']), (e: Error) => e instanceof UsageError && /takes no value/.test(e.message));
    assert.throws(() => parseFlags(spec, ['--no-name']), /unknown flag --no-name/);
  });

  test('an alias sets its flag; a repeatable flag collects every value, in order', () => {
    assert.equal(parseFlags(spec, ['--max-tokens', '7']).flags['max-new-tokens'], 7);
    assert.equal(parseFlags(spec, ['--max-new-tokens=8']).flags['max-new-tokens'], 8);
    assert.deepEqual(parseFlags(spec, ['--stop', '.', '--stop=ids:1,2', '--stop', '!']).flags.stop, ['.', 'ids:1,2', '!']);
    assert.deepEqual(parseFlags(spec, []).flags.stop, []);
    assert.equal(parseFlags(spec, ['--version']).version, true);
  });

  test('help: two columns, long text wrapped under its flag, [no-] for a boolean on by default, aliases shown', () => {
    const text = helpText({ ...spec, flags: { ...spec.flags, long: { kind: 'string', help: 'word '.repeat(40).trim() } } });
    for (const line of text.split('\n')) assert.ok(line.length <= HELP_WIDTH, line);
    assert.match(text, /--\[no-\]dropout/);
    assert.match(text, /--max-new-tokens, --max-tokens <int>/);
    assert.deepEqual(wrap('a bb ccc dddd', 6), ['a bb', 'ccc', 'dddd']);
  });
});

// ---------------------------------------------------------------------------------
// The import graph of src/cli
// ---------------------------------------------------------------------------------

const CLI_DIR = join(import.meta.dirname, '..', 'src', 'cli');

/**
 * Module → the modules of src/cli it imports, by file name: static imports, type-only
 * imports (`import type`, which leave no trace at run time but still tie the modules
 * together for a reader and for the compiler) and lazy `import()` calls, as
 * TypeScript's own scanner finds them (comments skipped).
 */
function cliImports(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(CLI_DIR).filter((f) => f.endsWith('.ts')).sort()) {
    const found = ts.preProcessFile(readFileSync(join(CLI_DIR, file), 'utf8'), true, true).importedFiles.map((i) => i.fileName);
    graph.set(file, [...new Set(found.filter((s) => /^\.\/[^/]+\.ts$/.test(s)).map((s) => s.slice(2)))]);
  }
  return graph;
}

/** One cycle of a directed graph as a path `[a, b, …, a]`, or undefined when it has none (depth-first search). */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (v: string): string[] | undefined => {
    state.set(v, 'open');
    path.push(v);
    for (const w of graph.get(v) ?? []) {
      if (state.get(w) === 'open') return [...path.slice(path.indexOf(w)), w];
      if (state.get(w) === undefined) {
        const cycle = visit(w);
        if (cycle !== undefined) return cycle;
      }
    }
    path.pop();
    state.set(v, 'done');
    return undefined;
  };
  for (const v of graph.keys()) {
    if (state.get(v) !== undefined) continue;
    const cycle = visit(v);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

describe("src/cli's imports", () => {
  const graph = cliImports();
  /** The command modules: those that export a `command` (one per name in COMMANDS; `bpe learn` is bpe.ts). */
  const commands = [...graph.keys()].filter((f) => /^export const command\b/m.test(readFileSync(join(CLI_DIR, f), 'utf8')));

  test('the cycle finder finds a cycle where there is one, and none in a diamond', () => {
    // hand-made graphs: a → b → c → a is a cycle; a → b → d, a → c → d is not; a → a is one
    assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
    assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['d']], ['c', ['d']], ['d', []]])), undefined);
    assert.deepEqual(findCycle(new Map([['a', ['a']]])), ['a', 'a']);
  });

  test('no cycle, counting type-only and lazy imports', () => {
    // the graph holds main.ts's lazy imports of every command (else the check would be vacuous)
    assert.equal(commands.length, COMMANDS.length, `command modules: ${commands.join(', ')}`);
    for (const c of commands) assert.ok(graph.get('main.ts')?.includes(c), `main.ts does not import ${c}`);
    const cycle = findCycle(graph);
    assert.equal(cycle, undefined, `src/cli imports in a cycle: ${cycle?.join(' → ')}`);
  });

  test('a command imports neither main.ts nor another command (shared code lives in common.ts)', () => {
    for (const c of commands) {
      const wrong = (graph.get(c) ?? []).filter((m) => m === 'main.ts' || m === 'bin.ts' || commands.includes(m));
      assert.deepEqual(wrong, [], `${c} imports ${wrong.join(', ')}`);
    }
  });
});
