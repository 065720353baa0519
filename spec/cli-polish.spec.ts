/**
 * Command-line conventions (src/cli/args.ts, src/cli/main.ts): --version everywhere,
 * usage on stderr when no command is given, help wrapped at 80 columns, --no-<flag>,
 * aliases and repeatable flags.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
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
