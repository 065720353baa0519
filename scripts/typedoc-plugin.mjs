/**
 * The walk-through site's additions to typedoc (loaded through `typedoc.config.mjs`):
 *
 * 1. **Typeset mathematics, rendered at build time** by KaTeX, in every markdown text
 *    typedoc renders (documents, the README, TSDoc comments), in GitHub's two notations
 *    so that the same files read well on GitHub:
 *    - a fenced block with the info string `math` is a displayed equation;
 *    - $`…`$ (a code span between two dollar signs) is inline mathematics.
 *    A TeX error fails the build (KaTeX `throwOnError`), so no raw TeX reaches a page.
 * 2. **Code beside the prose.** A fenced block with the info string
 *    `source src/<file>.ts <name> [<name> …]` is replaced, at build time, by the current
 *    text of those declarations (functions, interfaces, types, constants, found by name
 *    with the TypeScript parser), highlighted, under a header naming the file and the
 *    lines and linking to them. A name that is not found fails the build.
 * 3. **Sources as pages.** Every file of `src/` is written to `source/<path>.html`
 *    with numbered, linkable lines (`#L12`); typedoc's "Defined in" links
 *    (`sourceLinkTemplate`) and the code blocks of (2) point there, so the site needs
 *    no repository host and works offline.
 * 4. Two fixes to typedoc's default theme: "On this page" keeps the text of code
 *    spans in headings (typedoc drops them), and the README's own `# gpt1-ts` is not
 *    repeated under the page title of the same name.
 * 5. **Stable page names for the walk-through.** A page of `docs/walkthrough/` is
 *    written to `walkthrough/<file name>.html` (e.g. `walkthrough/03-attention.html`),
 *    not to a name made from its title, so that the explorer (`web/`) can link to it
 *    and a new title breaks no link (the `gpt1` router, {@link WALKTHROUGH_PAGES}).
 * 6. **Links to the explorer.** A markdown link to `explorer:#<view>` (e.g.
 *    `[the attention view](explorer:#attention-view)`) points to that view of the
 *    explorer page (`web/`, built by `npm run web`). The option `explorerUrl` says
 *    where the page is, relative to the site's root or as an absolute URL; its default,
 *    `../../web/dist/index.html`, is the page of the same checkout when the repository
 *    is served, as `npm run web:serve` does (the site is `docs/api/`). On GitHub, where
 *    the scheme means nothing, such a link shows as its text.
 *
 * @module
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import katex from 'katex';
import ts from 'typescript';
import { JSX, KindRouter, PageEvent, ParameterType, RendererEvent } from 'typedoc';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KATEX_DIST = join(ROOT, 'node_modules', 'katex', 'dist');
/** Where the source pages go inside the site, and the link to one from a page one folder deep. */
export const SOURCE_DIR = 'source';
/** typedoc gives {path} relative to the entry points' common folder, src/. */
export const SOURCE_LINK_TEMPLATE = `../${SOURCE_DIR}/src/{path}.html#L{line}`;
/** Where the walk-through's pages go inside the site: `walkthrough/<name>.html` for `docs/walkthrough/<name>.md`. */
export const WALKTHROUGH_PAGES = 'walkthrough';
/** The explorer page, relative to the site's root, when the site is `docs/api/` of a checkout whose `web/dist/` is built. */
export const DEFAULT_EXPLORER_URL = '../../web/dist/index.html';

// -------------------------------------------------------------------------------------
// 1. KaTeX
// -------------------------------------------------------------------------------------

/** TeX → HTML, or a thrown error naming the TeX. */
function tex(source, displayMode) {
  try {
    return katex.renderToString(source, { displayMode, throwOnError: true, strict: 'error', output: 'htmlAndMathml' });
  } catch (e) {
    throw new Error(`KaTeX cannot render ${JSON.stringify(source)}: ${e.message}`);
  }
}

/**
 * markdown-it plugin: ```math fences as displayed equations, $`…`$ as inline math,
 * and ```source fences as code excerpts.
 */
function mathAndSource(md) {
  const fence = md.renderer.rules.fence;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const [kind, ...args] = token.info.trim().split(/\s+/);
    if (kind === 'math') return `<div class="math-display">${tex(token.content, true)}</div>\n`;
    if (kind === 'source') {
      const excerpt = sourceExcerpt(args);
      token.info = 'ts';
      token.content = excerpt.code;
      return `<div class="source-excerpt"><div class="source-excerpt-head"><a href="${excerpt.href}">${excerpt.label}</a></div>${fence(tokens, idx, options, env, self)}</div>\n`;
    }
    return fence(tokens, idx, options, env, self);
  };

  // $`…`$: the code span's text is TeX. A core rule after inline parsing turns
  // text("…$") + code_inline + text("$…") into one math token.
  md.core.ruler.push('inline_math', (state) => {
    for (const block of state.tokens) {
      if (block.type !== 'inline' || !block.children) continue;
      const out = [];
      const kids = block.children;
      for (let i = 0; i < kids.length; i++) {
        const t = kids[i];
        const prev = out[out.length - 1];
        const next = kids[i + 1];
        if (t.type === 'code_inline' && prev?.type === 'text' && prev.content.endsWith('$') && next?.type === 'text' && next.content.startsWith('$')) {
          prev.content = prev.content.slice(0, -1);
          const m = new state.Token('math_inline', '', 0);
          m.content = t.content;
          out.push(m);
          next.content = next.content.slice(1);
          continue;
        }
        out.push(t);
      }
      block.children = out;
    }
  });
  md.renderer.rules.math_inline = (tokens, idx) => tex(tokens[idx].content, false);

  // Headings: typedoc builds "On this page" from the text tokens of a heading only, so
  // a code span vanished from it; split each code span into <code>, its text, </code>.
  md.core.ruler.push('heading_code_text', (state) => {
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i].type !== 'heading_open' || tokens[i + 1]?.type !== 'inline') continue;
      const inline = tokens[i + 1];
      inline.children = inline.children.flatMap((t) => {
        if (t.type !== 'code_inline') return [t];
        const open = new state.Token('html_inline', '', 0);
        open.content = '<code>';
        const text = new state.Token('text', '', 0);
        text.content = t.content;
        const close = new state.Token('html_inline', '', 0);
        close.content = '</code>';
        return [open, text, close];
      });
    }
  });
}

// -------------------------------------------------------------------------------------
// 2. Code excerpts
// -------------------------------------------------------------------------------------

const parsed = new Map();

/** The declarations of a file by name: [start line, end line] (1-based), with their text. */
function declarations(path) {
  if (parsed.has(path)) return parsed.get(path);
  const text = readFileSync(join(ROOT, path), 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found = new Map();
  for (const node of file.statements) {
    const names = ts.isVariableStatement(node) ? node.declarationList.declarations.map((d) => d.name.getText(file)) : node.name ? [node.name.getText(file)] : [];
    const start = node.getStart(file, false); // without the TSDoc above it
    const line = (pos) => file.getLineAndCharacterOfPosition(pos).line + 1;
    for (const name of names) found.set(name, { from: line(start), to: line(node.end), code: text.slice(start, node.end) });
  }
  parsed.set(path, found);
  return found;
}

/** `source src/x.ts a b` → the text of declarations a and b of src/x.ts, with a header linking to their lines. */
function sourceExcerpt(args) {
  const [path, ...names] = args;
  if (!path?.startsWith('src/') || names.length === 0) throw new Error(`a source block needs "source src/<file>.ts <name> …", got "source ${args.join(' ')}"`);
  const decls = declarations(path);
  const parts = names.map((name) => {
    const d = decls.get(name);
    if (d === undefined) throw new Error(`source block: ${path} declares no top-level ${name}`);
    return d;
  });
  const first = parts[0];
  const lines = parts.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}–${p.to}`)).join(', ');
  return {
    code: parts.map((p) => p.code).join('\n\n'),
    href: `../${SOURCE_DIR}/${path}.html#L${first.from}`,
    label: `${path}, line${parts.length > 1 || first.from !== first.to ? 's' : ''} ${lines}`,
  };
}

// -------------------------------------------------------------------------------------
// 3. Source pages
// -------------------------------------------------------------------------------------

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function sourceFiles(dir) {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** One page per file of src/: numbered lines, each an anchor (#L1, #L2, …). */
function writeSourcePages(out) {
  for (const path of sourceFiles('src')) {
    const lines = readFileSync(join(ROOT, path), 'utf8').replace(/\n$/, '').split('\n');
    const target = join(out, SOURCE_DIR, `${path}.html`);
    mkdirSync(dirname(target), { recursive: true });
    const up = relative(dirname(target), out).split('\\').join('/') || '.';
    const rows = lines.map((l, i) => `<tr id="L${i + 1}"><td class="n"><a href="#L${i + 1}">${i + 1}</a></td><td class="c">${escapeHtml(l) || ' '}</td></tr>`).join('\n');
    writeFileSync(
      target,
      `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(path)} | gpt1-ts</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #fff; color: #222; }
header { padding: 0.6em 1em; border-bottom: 1px solid #ddd; position: sticky; top: 0; background: #fafafa; }
header a { color: #0550ae; }
table { border-collapse: collapse; font: 13px/1.45 Menlo, Monaco, Consolas, monospace; }
td.n { text-align: right; padding: 0 0.8em; color: #999; user-select: none; vertical-align: top; }
td.n a { color: inherit; text-decoration: none; }
td.c { white-space: pre; padding-right: 2em; }
tr:target { background: #fff3b0; }
</style></head>
<body><header><a href="${up}/index.html">gpt1-ts</a> / <b>${escapeHtml(path)}</b> (${lines.length} lines)</header>
<table>
${rows}
</table></body></html>
`,
    );
  }
}

// -------------------------------------------------------------------------------------
// 5. Walk-through page names
// -------------------------------------------------------------------------------------

const WALKTHROUGH_SOURCE = `${join(ROOT, 'docs', 'walkthrough').split('\\').join('/')}/`;

/** typedoc's default router, except that a page of `docs/walkthrough/` is named after its file. */
class Gpt1Router extends KindRouter {
  getIdealBaseName(reflection) {
    if (reflection.isDocument()) {
      const file = reflection.project.files.getReflectionPath(reflection)?.split('\\').join('/');
      if (file?.startsWith(WALKTHROUGH_SOURCE) && file.endsWith('.md')) return `${WALKTHROUGH_PAGES}/${basename(file, '.md')}`;
    }
    return super.getIdealBaseName(reflection);
  }
}

// -------------------------------------------------------------------------------------
// 6. Links to the explorer
// -------------------------------------------------------------------------------------

/** `explorer:#view` links of a rendered page → the explorer's URL from that page. */
function linkExplorer(html, pageUrl, explorerUrl) {
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(explorerUrl) || explorerUrl.startsWith('/');
  const up = '../'.repeat(pageUrl.split('/').length - 1);
  const target = absolute ? explorerUrl : `${up}${explorerUrl}`;
  return html.replace(/href="explorer:([^"]*)"/g, (_, rest) => `href="${target}${rest}"`);
}

// -------------------------------------------------------------------------------------
// The plugin
// -------------------------------------------------------------------------------------

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: 'explorerUrl',
    help: 'gpt1-ts: the explorer page (web/dist/index.html), relative to the site\'s root or absolute; explorer:#view links point there',
    type: ParameterType.String,
    defaultValue: DEFAULT_EXPLORER_URL,
  });
  app.renderer.defineRouter('gpt1', Gpt1Router);
  app.renderer.on(PageEvent.END, (page) => {
    if (page.contents?.includes('href="explorer:')) page.contents = linkExplorer(page.contents, page.url, app.options.getValue('explorerUrl'));
  });
  app.renderer.hooks.on('head.end', (context) =>
    JSX.createElement('link', { rel: 'stylesheet', href: context.relativeURL('assets/katex/katex.min.css') }),
  );

  app.renderer.on(RendererEvent.END, (event) => {
    const out = event.outputDirectory;
    // KaTeX's stylesheet and fonts.
    const katexOut = join(out, 'assets', 'katex');
    mkdirSync(join(katexOut, 'fonts'), { recursive: true });
    copyFileSync(join(KATEX_DIST, 'katex.min.css'), join(katexOut, 'katex.min.css'));
    for (const f of readdirSync(join(KATEX_DIST, 'fonts'))) if (f.endsWith('.woff2')) copyFileSync(join(KATEX_DIST, 'fonts', f), join(katexOut, 'fonts', f));
    writeSourcePages(out);
    // The README's "# gpt1-ts" under typedoc's title "gpt1-ts": drop the second.
    const index = join(out, 'index.html');
    const html = readFileSync(index, 'utf8');
    const name = escapeHtml(app.options.getValue('name'));
    writeFileSync(index, html.replace(new RegExp(`<h1 id="${name}" class="tsd-anchor-link">${name}<a[^>]*>(?:(?!</a>).)*</a></h1>`, 's'), ''));
  });
}

/** For `markdownItLoader` in typedoc.config.mjs. */
export function markdownItLoader(parser) {
  parser.use(mathAndSource);
}
