/**
 * typedoc configuration: the API reference built from the TSDoc comments, plus the
 * literate walk-through (`docs/walkthrough/`), in the paper's order, with equations
 * typeset by KaTeX at build time and the sources shown and linked (see
 * `scripts/typedoc-plugin.mjs`). `npm run docs` writes the site to `docs/api/`;
 * warnings are errors. The walk-through's pages link to the explorer (`web/`, built by
 * `npm run web` into `web/dist/`); `--explorerUrl <url>` moves that link when the two are
 * published apart.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_LINK_TEMPLATE, markdownItLoader } from './scripts/typedoc-plugin.mjs';

/**
 * The modules in the paper's order: §3.1 (eq. 1–2, module by module), §3.2 (eq. 3–5),
 * §3.3 (Figure 1), §4.1 (set-up: configuration, parameters, Adam, schedules, the
 * loops), then the tokenizer, checkpoints and the rest. Files not named here follow,
 * alphabetically.
 */
const PAPER_ORDER = [
  'model/gpt', 'model/embedding', 'model/attention', 'model/softmax', 'model/layernorm', 'model/ffn', 'model/conv1d',
  'model/block', 'model/head', 'model/objectives', 'model/dropout',
  'train/classifier', 'train/objectives', 'train/transforms',
  'config', 'params', 'train/optimizer', 'train/schedules', 'train/loop', 'train/pretrain', 'train/finetune', 'train/evaluate',
  'tokenizer/text-encoder', 'tokenizer/encoder', 'tokenizer/ftfy', 'tokenizer/standardize', 'tokenizer/spacy', 'tokenizer/bpe', 'tokenizer/learn',
  'checkpoint/index', 'checkpoint/original', 'checkpoint/hf', 'checkpoint/common', 'io/npy', 'io/safetensors',
  'generate', 'tensor', 'random', 'kernels/matmul', 'kernels/backend',
];

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name).split('\\').join('/')] : [],
  );
}
const all = tsFiles('src').sort();
const ordered = PAPER_ORDER.map((m) => `src/${m}.ts`).filter((f) => all.includes(f));
const entryPoints = [...ordered, ...all.filter((f) => !ordered.includes(f))];

/** The walk-through first (its pages are its `children`), then the paper map, then the other guides. */
const FIRST_DOCUMENTS = ['docs/walkthrough.md', 'docs/paper-map.md'];
const projectDocuments = [
  ...FIRST_DOCUMENTS,
  ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`).filter((f) => !FIRST_DOCUMENTS.includes(f)).sort(),
];

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  $schema: 'https://typedoc.org/schema.json',
  entryPoints,
  entryPointStrategy: 'resolve',
  sortEntryPoints: false,
  out: 'docs/api',
  name: 'gpt1-ts',
  readme: 'README.md',
  projectDocuments,
  plugin: ['./scripts/typedoc-plugin.mjs'],
  markdownItLoader,
  customCss: 'docs/site.css',
  excludePrivate: true,
  treatWarningsAsErrors: true,
  validation: { notExported: false, invalidLink: true, notDocumented: false },
  disableSources: false,
  disableGit: true,
  sourceLinkTemplate: SOURCE_LINK_TEMPLATE,
  basePath: '.',
  navigation: { includeFolders: false },
  // Walk-through pages at walkthrough/<file>.html (scripts/typedoc-plugin.mjs); the explorer is at
  // explorerUrl (default: ../../web/dist/index.html, the checkout's `npm run web` build beside docs/api/).
  router: 'gpt1',
  highlightLanguages: ['bash', 'console', 'css', 'html', 'javascript', 'json', 'jsonc', 'json5', 'yaml', 'tsx', 'typescript', 'python', 'sh', 'shell', 'text'],
};
