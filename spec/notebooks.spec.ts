/**
 * Executes every notebook in `notebooks/` with `jupyter nbconvert --execute`, so a
 * notebook can never drift away from the code it documents.
 *
 * Three tests per notebook:
 * - the committed file carries the outputs of a complete execution (every code cell
 *   was executed, none failed): needs nothing but the file;
 * - the committed file shows at least one picture (an SVG or PNG output);
 * - a fresh execution into a temporary folder succeeds and leaves notebooks/ as it
 *   was (no tracked notebook rewritten, no output left behind): needs Jupyter's nbconvert and the notebook's kernel (tslab for
 *   TypeScript). When either is missing the test is skipped with the reason and the
 *   command that installs it; under CI (`CI=true`, where `.ci/run` installs both) the
 *   same absence is a failure.
 *
 * The notebooks import the project with its types (`import { forward } from
 * 'gpt1-src/model/gpt'`): `scripts/notebook-modules.mjs` writes those modules under
 * `notebooks/node_modules/` (ignored by git) before the first execution.
 *
 * tslab reports a failing cell only as an empty `<Error>` in the execute reply and
 * writes the real message to the cell's stderr; nbconvert then stops with a
 * CellExecutionError that does not contain it. So after a failure the notebook is
 * executed once more with `--allow-errors`, and the assertion message quotes the
 * stderr of every cell of that second run.
 *
 * Kernel set-up on a fresh machine (after `npm ci` and
 * `apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel`):
 *
 *     npx tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab"
 *
 * (`--binary` must be a tslab that exists: the default, a bare `tslab`, is not on PATH
 * when tslab is a project dependency.) `scripts/run-notebook.sh --update` re-executes
 * notebooks to refresh their committed outputs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireOrSkip } from './browser/harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NOTEBOOK_DIR = join(ROOT, 'notebooks');
/** Per-cell limit handed to nbconvert, and the limit of one whole execution. */
const CELL_TIMEOUT_S = 300;
const RUN_TIMEOUT_MS = 600_000;

const INSTALL_JUPYTER = 'apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel';
const INSTALL_TSLAB = 'npx tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab"';

/** The notebooks to run: `notebooks/*.ipynb`, without nbconvert's `*.nbconvert.ipynb` copies. */
const notebooks = existsSync(NOTEBOOK_DIR)
  ? readdirSync(NOTEBOOK_DIR).filter((f) => f.endsWith('.ipynb') && !f.endsWith('.nbconvert.ipynb')).sort()
  : [];

// ---------------------------------------------------------------------------------
// The parts of the notebook format (nbformat 4) that the checks read
// ---------------------------------------------------------------------------------

interface Output {
  readonly output_type: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly name?: string;
  readonly text?: string | string[];
  readonly ename?: string;
  readonly evalue?: string;
}

interface Cell {
  readonly cell_type: string;
  readonly source: string | string[];
  readonly outputs?: readonly Output[];
  readonly metadata?: { readonly execution?: Record<string, string> };
}

interface Notebook {
  readonly cells: readonly Cell[];
  readonly metadata: { readonly kernelspec?: { readonly name?: string } };
}

const joined = (s: string | string[] | undefined): string => (Array.isArray(s) ? s.join('') : (s ?? ''));

function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, 'utf8')) as Notebook;
}

/**
 * Everything wrong with an executed notebook: a code cell without an execute reply
 * (it never ran) or with an `error` output.
 */
function executionProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const where = `cell ${index} (${JSON.stringify(joined(cell.source).split('\n')[0])})`;
    if (cell.metadata?.execution?.['shell.execute_reply'] === undefined) problems.push(`${where} was not executed`);
    for (const out of cell.outputs ?? []) {
      if (out.output_type === 'error') problems.push(`${where} failed: ${out.ename}: ${out.evalue}`);
    }
  });
  return problems;
}

/** How many outputs of the notebook are pictures (SVG or PNG). */
function pictureCount(nb: Notebook): number {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data !== undefined && ('image/svg+xml' in o.data || 'image/png' in o.data)).length;
}

/**
 * The tracked files under notebooks/ that differ from the index, and the untracked
 * files there that git does not ignore: where an execution that rewrote a notebook or
 * left an output behind would show. (Only notebooks/: the rest of the tree may be
 * edited by someone while the suite runs.)
 */
function treeStatus(): string | undefined {
  const st = spawnSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'notebooks'], { cwd: ROOT, encoding: 'utf8' });
  return st.status === 0 ? st.stdout : undefined;
}

/** The stderr of every code cell, for the message of a failed execution. */
function cellStderr(nb: Notebook): string {
  return nb.cells
    .map((cell, index) => ({ index, cell, err: (cell.outputs ?? []).filter((o) => o.output_type === 'stream' && o.name === 'stderr').map((o) => joined(o.text)).join('') }))
    .filter(({ err }) => err !== '')
    .map(({ index, cell, err }) => `--- cell ${index}: ${joined(cell.source).split('\n')[0]}\n${err.trimEnd()}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------
// What a fresh execution needs: nbconvert and the notebook's kernel
// ---------------------------------------------------------------------------------

/** True if `file` is an executable file (given as a path, or found on PATH). */
function executable(file: string): boolean {
  const candidates = isAbsolute(file) || file.includes('/') ? [file] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, file));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let jupyterProbe: { dataDirs: string[] } | { why: string } | undefined;

/** Jupyter's data folders (where kernels are installed), or why nbconvert cannot run. */
function probeJupyter(): { dataDirs: string[] } | { why: string } {
  if (jupyterProbe !== undefined) return jupyterProbe;
  const paths = spawnSync('jupyter', ['--paths', '--json'], { encoding: 'utf8', timeout: 60_000 });
  if (paths.error !== undefined || paths.status !== 0) {
    const detail = paths.error?.message ?? paths.stderr.trim().split('\n').pop();
    return (jupyterProbe = { why: `jupyter is not available (${detail}); install it with: ${INSTALL_JUPYTER}` });
  }
  const nbconvert = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8', timeout: 60_000 });
  if (nbconvert.error !== undefined || nbconvert.status !== 0) {
    return (jupyterProbe = { why: `jupyter nbconvert is not available (${nbconvert.stderr.trim().split('\n').pop()}); install it with: ${INSTALL_JUPYTER}` });
  }
  const { data } = JSON.parse(paths.stdout) as { data: string[] };
  return (jupyterProbe = { dataDirs: data });
}

/** Why `nb` cannot be executed here, or undefined if it can. */
function whyCannotExecute(nb: Notebook): string | undefined {
  const jupyter = probeJupyter();
  if ('why' in jupyter) return jupyter.why;
  const kernel = nb.metadata.kernelspec?.name;
  if (kernel === undefined) return 'the notebook names no kernel (metadata.kernelspec.name)';
  const install = kernel === 'tslab' ? `; install it with: ${INSTALL_TSLAB}` : '';
  // Jupyter takes the first kernels/<name>/kernel.json along its data path.
  const specPath = jupyter.dataDirs.map((dir) => join(dir, 'kernels', kernel, 'kernel.json')).find((p) => existsSync(p));
  if (specPath === undefined) return `no Jupyter kernel named '${kernel}' in ${jupyter.dataDirs.join(', ')}${install}`;
  const argv0 = (JSON.parse(readFileSync(specPath, 'utf8')) as { argv?: string[] }).argv?.[0];
  if (argv0 === undefined || !executable(argv0)) {
    return `the Jupyter kernel '${kernel}' (${specPath}) starts ${JSON.stringify(argv0)}, which is not an executable file${install}`;
  }
  return undefined;
}

/** The end of nbconvert's stderr: from the CellExecutionError on (it names the cell), else the last lines. */
function nbconvertError(stderr: string): string {
  const at = stderr.indexOf('CellExecutionError:');
  return (at >= 0 ? stderr.slice(at) : stderr.split('\n').slice(-30).join('\n')).trim();
}

/** Runs a command without blocking the test runner; resolves with its exit status and output. */
function run(cmd: string, args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** `jupyter nbconvert --execute` of `notebook` into `outDir`; the kernel runs in notebooks/. */
function nbconvert(notebook: string, outDir: string, output: string, allowErrors: boolean) {
  return run('jupyter', [
    'nbconvert', '--to', 'notebook', '--execute',
    `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_S}`,
    '--ExecutePreprocessor.record_timing=True',
    // The kernel (node + tslab + TypeScript) can take over a minute to start on a loaded machine.
    '--ExecutePreprocessor.startup_timeout=300',
    ...(allowErrors ? ['--allow-errors'] : []),
    '--output-dir', outDir, '--output', output,
    join(NOTEBOOK_DIR, notebook),
  ]);
}

// ---------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------

/** Writes the `gpt1-src/...` modules the notebooks import (see scripts/notebook-modules.mjs). */
let modulesReady: Promise<void> | undefined;
function prepareModules(): Promise<void> {
  modulesReady ??= run(process.execPath, [join(ROOT, 'scripts', 'notebook-modules.mjs')]).then((r) => {
    if (r.status !== 0) throw new Error(`scripts/notebook-modules.mjs exited with ${r.status}:\n${r.stdout}${r.stderr}`);
  });
  return modulesReady;
}

describe('notebooks', () => {
  test('notebooks/ holds at least five notebooks', () => {
    assert.ok(notebooks.length >= 5, `${notebooks.length} .ipynb files in ${NOTEBOOK_DIR}: ${notebooks.join(', ')}`);
  });

  for (const name of notebooks) {
    const path = join(NOTEBOOK_DIR, name);

    test(`${name} is committed with the outputs of a complete execution`, () => {
      const problems = executionProblems(readNotebook(path));
      assert.deepEqual(problems, [], `${name}: re-execute it with scripts/run-notebook.sh --update notebooks/${name}\n${problems.join('\n')}`);
    });

    test(`${name} shows at least one picture`, () => {
      assert.ok(pictureCount(readNotebook(path)) > 0, `${name} has no SVG or PNG output`);
    });

    const why = whyCannotExecute(readNotebook(path));
    // Under CI a missing Jupyter or tslab throws here, failing the file instead of skipping.
    const skip = requireOrSkip(why, why?.includes('tslab') ? INSTALL_TSLAB : INSTALL_JUPYTER);
    test(`${name} executes without error (jupyter nbconvert --execute) and leaves notebooks/ as it was`, { skip, timeout: 2 * RUN_TIMEOUT_MS + 60_000 }, async () => {
      await prepareModules();
      const statusBefore = treeStatus();
      const outDir = mkdtempSync(join(tmpdir(), 'gpt1-notebook-'));
      try {
        const output = basename(name, '.ipynb');
        const strict = await nbconvert(name, outDir, output, false);
        if (strict.status !== 0) {
          // Run again, keeping going past the error, to quote what tslab wrote to stderr.
          const again = await nbconvert(name, outDir, `${output}.allow-errors`, true);
          const file = join(outDir, `${output}.allow-errors.ipynb`);
          const stderr = again.status === 0 && existsSync(file) ? cellStderr(readNotebook(file)) : nbconvertError(again.stderr);
          assert.fail(`jupyter nbconvert --execute notebooks/${name} exited with ${strict.status}: ${nbconvertError(strict.stderr)}\n\nstderr of the cells:\n${stderr}`);
        }
        const executed = readNotebook(join(outDir, `${output}.ipynb`));
        const problems = executionProblems(executed);
        assert.deepEqual(problems, [], problems.join('\n'));
        assert.ok(pictureCount(executed) > 0, `${name} drew no picture when executed`);
        assert.equal(treeStatus(), statusBefore, `executing ${name} changed files in notebooks/`);
      } finally {
        rmSync(outDir, { recursive: true, force: true });
      }
    });
  }
});
