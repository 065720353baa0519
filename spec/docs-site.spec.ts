/**
 * The walk-through site: builds it with typedoc (the project's `typedoc.config.mjs`,
 * into a temporary folder) and reads it in headless Chromium
 * (`spec/browser/harness.ts`):
 *
 * - every walk-through page renders every equation of its markdown (each ```math block
 *   and each $`…`$ becomes one KaTeX element; no TeX is left as text, no KaTeX error),
 *   with KaTeX's fonts loaded;
 * - every page shows code: at least one excerpt from `src/`, whose link opens the
 *   source page at a line that exists;
 * - every link of the paper map resolves (the page answers 200 and its #anchor, if
 *   any, exists), and every row of its tables links to a walk-through page and to code;
 * - the index page has one "gpt1-ts" heading, and the sidebar lists the walk-through
 *   in the paper's order;
 * - the API pages of the modules that hold the paper's key equations (eq. 1–5, the
 *   causal mask, softmax, LayerNorm, GELU, the tied head, Adam with the L2 fix, the
 *   schedules) typeset every equation of their TSDoc: the module comment on the
 *   module's page, a function's comment on the function's page;
 * - the explorer (`web/`, built beside the site as `npm run web` builds it) and the
 *   walk-through link to each other: each view of the explorer links to a walk-through
 *   page that links back to that view, and every link between the two, and every other
 *   link of the explorer into the site (API pages, sources), resolves.
 *
 * Skipped with the reason where Chromium is absent; under CI a missing Chromium fails.
 * `GPT1_DOCS_SITE=docs/api` checks a site already built by `npm run docs` instead of
 * building one (about 20 s of CPU).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { buildSite } from '../web/build.ts';
import { browserSkipReason, withPage, withServer } from './browser/harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WALKTHROUGH = join(ROOT, 'docs', 'walkthrough');
const skip = browserSkipReason();

/** The walk-through's pages, in the order of `docs/walkthrough.md`'s `children`. */
function walkthroughPages(): string[] {
  const front = readFileSync(join(ROOT, 'docs', 'walkthrough.md'), 'utf8').split('---')[1];
  return [...front.matchAll(/- \.\/walkthrough\/(\S+\.md)/g)].map((m) => m[1]);
}

/** How many equations a markdown file holds: ```math blocks plus $`…`$ spans. */
function equationCount(markdown: string): number {
  const display = (markdown.match(/^```math$/gm) ?? []).length;
  const inline = (markdown.match(/\$`[^`]+`\$/g) ?? []).length;
  return display + inline;
}

/** Where the site puts the page of `docs/walkthrough/<name>.md`: `walkthrough/<name>.html` (the plugin's router). */
function walkthroughUrl(file: string): string {
  return `walkthrough/${file.replace(/\.md$/, '.html')}`;
}

/** The title in a page's front matter (typedoc titles the page, and lists it in the sidebar, by it). */
function title(markdown: string): string {
  const m = /^title: "(.*)"$/m.exec(markdown);
  assert.ok(m, 'a walk-through page needs a title in its front matter');
  return m[1];
}

/**
 * A site already built (`GPT1_DOCS_SITE=docs/api`, after `npm run docs`) is checked as it
 * is; otherwise a fresh build. Either way it sits at `docs/api/` of a temporary folder
 * laid out as a checkout (`checkout`), where the explorer test also builds `web/dist/`,
 * so that the relative links between the two resolve as they do under `npm run web:serve`.
 */
const PREBUILT = process.env.GPT1_DOCS_SITE;
let checkout = '';
let site = '';
before(() => {
  if (skip !== false) return;
  checkout = mkdtempSync(join(tmpdir(), 'gpt1-site-'));
  site = join(checkout, 'docs', 'api');
  mkdirSync(dirname(site), { recursive: true });
  if (PREBUILT !== undefined) {
    symlinkSync(resolve(PREBUILT), site, 'dir');
    return;
  }
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', site], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  assert.equal(build.status, 0, `typedoc failed:\n${build.stdout}\n${build.stderr}`);
});
after(() => {
  if (checkout !== '') rmSync(checkout, { recursive: true, force: true }); // a symlinked prebuilt site is not followed
});

/** The page's document URL for a walk-through page, found by its title in the sidebar's links. */
async function open(page: Page, url: string): Promise<void> {
  const response = await page.goto(url, { waitUntil: 'load' });
  assert.equal(response?.status(), 200, `${url} answered ${response?.status()}`);
}

/** The modules whose TSDoc carries the paper's key equations, typeset. */
const KEY_EQUATION_MODULES = [
  'model/objectives', 'model/embedding', 'model/attention', 'model/softmax', 'model/layernorm', 'model/ffn', 'model/block', 'model/head',
  'train/classifier', 'train/objectives', 'train/optimizer', 'train/schedules',
];

/**
 * The TSDoc comments of a file that hold equations, with their API page: the module
 * comment (`@module`) on `modules/src_<path>.html`, an exported function's on
 * `functions/src_<path>.<name>.html`.
 */
function tsdocEquations(module: string): { page: string; count: number }[] {
  const text = readFileSync(join(ROOT, 'src', `${module}.ts`), 'utf8');
  const slug = `src_${module.replace(/\//g, '_')}`;
  const found: { page: string; count: number }[] = [];
  for (const m of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(?:export (?:async )?function (\w+))?/g)) {
    const comment = m[1].replace(/^\s*\* ?/gm, '');
    const count = equationCount(comment);
    if (count === 0) continue;
    if (/@module\b/.test(comment)) found.push({ page: `modules/${slug}.html`, count });
    else if (m[2] !== undefined) found.push({ page: `functions/${slug}.${m[2]}.html`, count });
  }
  return found;
}

describe('the walk-through site (npm run docs)', { timeout: 900_000 }, () => {
  test('every equation of every walk-through page is typeset, and every page shows linked code', { skip }, async () => {
    const pages = walkthroughPages();
    assert.ok(pages.length >= 20, `the walk-through lists ${pages.length} pages`);
    await withServer(site, async (base) => {
      await withPage({}, async (page, errors) => {
        const failed: string[] = [];
        page.on('response', (r) => {
          if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
        });
        for (const file of pages) {
          const md = readFileSync(join(WALKTHROUGH, file), 'utf8');
          title(md); // the page is titled (and listed in the sidebar) by its front matter
          await open(page, `${base}${walkthroughUrl(file)}`);
          const seen = (await page.evaluate(`(async () => {
            await document.fonts.load('16px KaTeX_Main'); // starts the load if layout has not yet asked for it
            await document.fonts.ready;
            const content = document.querySelector('.col-content');
            const katex = [...content.querySelectorAll('.katex')];
            // The prose and the equations, without the code excerpts (code may hold a $ or a backslash).
            const prose = content.cloneNode(true);
            for (const pre of prose.querySelectorAll('pre')) pre.remove();
            // KaTeX's hidden MathML copy carries the TeX source as an annotation; until
            // the KaTeX stylesheet applies it counts in innerText, so it is not prose.
            for (const m of prose.querySelectorAll('.katex-mathml')) m.remove();
            document.body.appendChild(prose);
            const text = prose.innerText;
            prose.remove();
            const excerpts = [...content.querySelectorAll('.source-excerpt')].map((e) => ({
              href: e.querySelector('.source-excerpt-head a')?.href ?? '',
              code: e.querySelector('pre code')?.innerText ?? '',
            }));
            return {
              katex: katex.length,
              errors: content.querySelectorAll('.katex-error').length,
              rawTex: /\\$\`|\`\`\`math|\\\\(frac|mathbb|operatorname|sqrt|sum)\\b/.test(text),
              font: katex.length === 0 ? '' : getComputedStyle(katex[0]).fontFamily,
              fontLoaded: document.fonts.check('16px KaTeX_Main'),
              excerpts,
            };
          })()`)) as { katex: number; errors: number; rawTex: boolean; font: string; fontLoaded: boolean; excerpts: { href: string; code: string }[] };
          const expected = equationCount(md);
          assert.ok(expected > 0, `${file} has no equation`);
          assert.equal(seen.katex, expected, `${file}: ${expected} equations in the markdown, ${seen.katex} typeset`);
          assert.equal(seen.errors, 0, `${file}: KaTeX reported an error`);
          assert.equal(seen.rawTex, false, `${file}: raw TeX left in the page text`);
          assert.match(seen.font, /KaTeX_Main/, `${file}: equations are not in KaTeX's font`);
          assert.ok(seen.fontLoaded, `${file}: KaTeX's font did not load`);
          assert.ok(seen.excerpts.length >= 1, `${file}: no code excerpt`);
          for (const { href, code } of seen.excerpts) {
            assert.ok(code.trim().length > 0, `${file}: an empty code excerpt`);
            const m = /\/source\/(src\/.+\.ts)\.html#L(\d+)$/.exec(href);
            assert.ok(m, `${file}: the excerpt links to ${href}, not to a source line`);
            const lines = readFileSync(join(ROOT, m[1]), 'utf8').split('\n');
            assert.ok(Number(m[2]) <= lines.length, `${file}: ${href} is past the end of ${m[1]}`);
            // The excerpt's first line is the linked line of the file.
            assert.equal(code.split('\n')[0].trim(), lines[Number(m[2]) - 1].trim(), `${file}: the excerpt does not start at ${href}`);
          }
        }
        assert.deepEqual(failed, [], 'requests of the walk-through pages that failed');
        // Chromium asks for /favicon.ico on its own (not a request of the page, so not in
        // `failed`) and logs its 404 without the URL; every other console error counts.
        assert.deepEqual(errors.filter((e) => !/^Failed to load resource: .* 404/.test(e)), [], 'console errors in the walk-through pages');
      });
    });
  });

  test('every link of the paper map resolves, and every row links to its page and its code', { skip }, async () => {
    await withServer(site, async (base) => {
      await withPage({}, async (page) => {
        await open(page, `${base}documents/docs_paper-map.html`);
        const { links, rows } = (await page.evaluate(`(() => {
          const content = document.querySelector('.col-content');
          const links = [...content.querySelectorAll('.tsd-panel a[href], .tsd-typography a[href]')]
            .filter((a) => !a.classList.contains('tsd-anchor-icon'))
            .map((a) => ({ text: a.textContent.trim(), href: a.href }));
          const rows = [...content.querySelectorAll('table tbody tr')].map((tr) => {
            const cells = [...tr.querySelectorAll('td')];
            return {
              row: cells[0]?.textContent.trim() ?? '',
              page: [...(cells[1]?.querySelectorAll('a') ?? [])].map((a) => a.href),
              code: [...(cells[2]?.querySelectorAll('a') ?? [])].map((a) => a.href),
            };
          });
          return { links, rows };
        })()`)) as { links: { text: string; href: string }[]; rows: { row: string; page: string[]; code: string[] }[] };
        assert.ok(rows.length >= 30, `the paper map has ${rows.length} rows`);
        for (const r of rows) {
          assert.ok(r.page.some((h) => h.includes('/walkthrough/')), `paper map row "${r.row}" links to no walk-through page`);
          assert.ok(r.code.length > 0, `paper map row "${r.row}" links to no code`);
        }
        assert.ok(links.length >= 60, `only ${links.length} links in the paper map`);
        const checked = new Set<string>();
        let definedIn = 0;
        for (const { text, href } of links) {
          if (checked.has(href) || !href.startsWith(base)) continue;
          checked.add(href);
          const [url, anchor] = href.split('#');
          const response = await fetch(url);
          assert.equal(response.status, 200, `paper map link "${text}" → ${href} answered ${response.status}`);
          const html = await response.text();
          if (anchor !== undefined && anchor !== '') {
            assert.ok(html.includes(`id="${anchor}"`), `paper map link "${text}" → ${href}: no #${anchor} in the page`);
          }
          // A code link's page shows where the code is defined: that link opens the source at a line that exists.
          for (const [, rel] of html.matchAll(/href="([^"]*source\/src\/[^"]+)"/g)) {
            const source = new URL(rel, url);
            const sourcePage = await fetch(source.href.split('#')[0]);
            assert.equal(sourcePage.status, 200, `"Defined in" link ${source.href} (from ${href}) answered ${sourcePage.status}`);
            assert.ok((await sourcePage.text()).includes(`id="${source.hash.slice(1)}"`), `"Defined in" link ${source.href} (from ${href}): no such line`);
            definedIn++;
          }
        }
        assert.ok(definedIn >= 30, `only ${definedIn} "Defined in" source links seen from the paper map's code links`);
        assert.ok(checked.size >= 30, `only ${checked.size} distinct links checked`);
      });
    });
  });

  test('the index has one "gpt1-ts" heading and the sidebar lists the walk-through in the paper\'s order', { skip }, async () => {
    const titles = walkthroughPages().map((f) => title(readFileSync(join(WALKTHROUGH, f), 'utf8')));
    await withServer(site, async (base) => {
      await withPage({}, async (page) => {
        await open(page, `${base}index.html`);
        const seen = (await page.evaluate(`(async () => {
          const headings = [...document.querySelectorAll('h1, h2')].filter((h) => h.textContent.trim() === 'gpt1-ts').length;
          // The sidebar is filled in by navigation.js.
          // It fills in asynchronously: wait (up to 30 s) until the walk-through's last page is listed.
          const listed = () => [...document.querySelectorAll('.site-menu a')].some((a) => a.textContent.trim().startsWith('Generation with the key'));
          for (let i = 0; i < 600 && !listed(); i++) await new Promise((r) => setTimeout(r, 50));
          const sidebar = [...document.querySelectorAll('.site-menu a')].map((a) => a.textContent.trim());
          return { headings, sidebar };
        })()`)) as { headings: number; sidebar: string[] };
        assert.equal(seen.headings, 1, 'the index repeats the "gpt1-ts" heading');
        const positions = titles.map((t) => seen.sidebar.indexOf(t));
        assert.ok(positions.every((p) => p >= 0), `walk-through pages missing from the sidebar: ${titles.filter((_, i) => positions[i] < 0).join(', ')}`);
        assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'the sidebar does not list the walk-through in the paper\'s order');
      });
    });
  });
  test('the explorer and the walk-through link to each other, and every such link resolves', { skip }, async () => {
    const explorer = await buildSite(join(checkout, 'web', 'dist'));
    const explorerHtml = readFileSync(join(explorer, 'index.html'), 'utf8');
    /** The HTTP answer to a link of this server: 200, and the #anchor, if any, is an id of the page. */
    const resolves = async (href: string, from: string): Promise<string> => {
      const [url, anchor] = href.split('#');
      const response = await fetch(url);
      assert.equal(response.status, 200, `${from}: ${href} answered ${response.status}`);
      const html = await response.text();
      if (anchor !== undefined && anchor !== '') assert.ok(html.includes(`id="${anchor}"`), `${from}: ${href}: no #${anchor} in the page`);
      return html;
    };
    await withServer(checkout, async (base) => {
      const explorerUrl = `${base}web/dist/index.html`;
      await withPage({}, async (page) => {
        // The links are set when the page starts, before any model loads (the CPU backend keeps the rest cheap).
        await open(page, `${explorerUrl}?backend=cpu`);
        await page.waitForSelector('a[data-walk][href]');
        const { links, views } = (await page.evaluate(`(() => {
          const links = [...document.querySelectorAll('a[href]')].map((a) => ({
            text: a.textContent.trim(), href: a.href, walk: a.dataset.walk ?? null, view: a.closest('[id]')?.id ?? null,
          }));
          // A view: a section of the page, or a panel of the forward pass, with an id.
          const views = [...document.querySelectorAll('section[id], .view[id]')].map((v) => ({
            id: v.id, walk: [...v.querySelectorAll(':scope > h2 a[data-walk], :scope > h3 a[data-walk]')].map((a) => a.dataset.walk),
          }));
          return { links, views };
        })()`)) as { links: { text: string; href: string; walk: string | null; view: string | null }[]; views: { id: string; walk: string[] }[] };
        assert.ok(views.length >= 8, `only ${views.length} views in the explorer`);
        for (const v of views) assert.ok(v.walk.length > 0, `the explorer's view #${v.id} links to no walk-through page`);

        // Every link of the explorer into the site resolves; a walk-through link opens its page, which links back to the view.
        const local = links.filter((l) => l.href.startsWith(base));
        assert.ok(local.length >= 3 * views.length, `only ${local.length} links from the explorer into the site`);
        for (const l of local) {
          const html = await resolves(l.href, `the explorer's link "${l.text}"`);
          if (l.walk === null) continue;
          assert.equal(l.href, `${base}docs/api/walkthrough/${l.walk}.html`, `the explorer's walk-through link "${l.text}"`);
          assert.ok(l.view !== null, `the walk-through link to ${l.walk} is in no view`);
          const back = [...html.matchAll(/href="([^"]+)"/g)].map((m) => new URL(m[1].replace(/&amp;/g, '&'), l.href).href);
          assert.ok(back.includes(`${explorerUrl}#${l.view}`), `walkthrough/${l.walk}.html does not link back to the explorer's view #${l.view}`);
        }
      });

      // Every link of a walk-through page to the explorer opens the explorer at a view that exists.
      let toExplorer = 0;
      for (const file of walkthroughPages()) {
        const url = `${base}docs/api/${walkthroughUrl(file)}`;
        const html = await resolves(url, file);
        for (const [, rel] of html.matchAll(/href="([^"]+)"/g)) {
          const href = new URL(rel.replace(/&amp;/g, '&'), url).href;
          if (!href.startsWith(explorerUrl)) continue;
          assert.match(href, /#[a-z-]+$/, `${file} links to the explorer without naming a view: ${href}`);
          await resolves(href, file);
          const id = href.split('#')[1];
          assert.ok(explorerHtml.includes(`id="${id}"`), `${file}: the explorer has no view #${id}`);
          toExplorer++;
        }
        assert.ok(!html.includes('href="explorer:'), `${file}: an explorer: link was left unresolved`);
      }
      assert.ok(toExplorer >= 12, `only ${toExplorer} links from the walk-through to the explorer`);
    });
  });
  test('the API pages of the key modules typeset every equation of their TSDoc', { skip }, async () => {
    const pages = KEY_EQUATION_MODULES.flatMap((m) => {
      const found = tsdocEquations(m);
      assert.ok(found.some((f) => f.page.startsWith('modules/')), `src/${m}.ts: no typeset equation in its module comment`);
      return found;
    });
    await withServer(site, async (base) => {
      await withPage({}, async (page) => {
        for (const { page: path, count } of pages) {
          await open(page, `${base}${path}`);
          const seen = (await page.evaluate(`(() => {
            const content = document.querySelector('.col-content');
            const prose = content.cloneNode(true);
            for (const e of prose.querySelectorAll('pre, .katex-mathml, .tsd-signature, .tsd-signatures')) e.remove();
            document.body.appendChild(prose);
            const text = prose.innerText;
            prose.remove();
            return {
              katex: content.querySelectorAll('.katex').length,
              errors: content.querySelectorAll('.katex-error').length,
              rawTex: /\\$\`|\`\`\`math|\\\\(frac|mathcal|operatorname|sqrt|sum|begin)\\b/.test(text),
            };
          })()`)) as { katex: number; errors: number; rawTex: boolean };
          assert.equal(seen.katex, count, `${path}: ${count} equations in the TSDoc, ${seen.katex} typeset`);
          assert.equal(seen.errors, 0, `${path}: KaTeX reported an error`);
          assert.equal(seen.rawTex, false, `${path}: raw TeX left in the page text`);
        }
      });
    });
    assert.ok(pages.length >= 20, `only ${pages.length} TSDoc comments with typeset equations in the key modules`);
  });
});
