/**
 * The explorer page: load a GPT-1 checkpoint, tokenize a text, run the forward pass
 * and show what each part computes, generate with the key/value cache. Every number
 * comes from the project's own modules in `src/` (the same the `gpt1` command runs),
 * bundled for the browser by `web/build.ts`; the matrix products run as gpu.js
 * kernels on WebGPU, WebGL2 or the CPU (`src/kernels/backend.ts` chooses, or
 * `?backend=` forces).
 *
 * Test hooks (`data-testid`): `tokens` (one child per token, `data-id`),
 * `next-token` (rows with `data-id`, `data-p`), `backend`, `status` (`ready` when
 * the forward pass is done, or `error: …`), and `loss`, `generated`, `file-input`,
 * `model`, `attention`, `norms`, `ms-per-token`, `generate`, `stop`.
 *
 * @module
 */
import { GPT1, type GPTConfig } from '../../src/config.ts';
import { type BackendName, backend, setBackendEnvironment } from '../../src/kernels/backend.ts';
import { generate } from '../../src/generate.ts';
import { type ForwardOutput, forward } from '../../src/model/gpt.ts';
import { topK } from '../../src/model/moe.ts';
import { lmLoss } from '../../src/model/objectives.ts';
import { softmax } from '../../src/model/softmax.ts';
import type { Params } from '../../src/params.ts';
import { tensor } from '../../src/tensor.ts';
import { type GptTextEncoder, VOCAB_FILE_NAMES, bpePieces, decode, textEncoderFromData } from '../../src/tokenizer/text-encoder.ts';
import { type FileLike, type LoadedModel, loadFiles } from './files.ts';
import { type Candidate, chip, drawAttention, drawNextTokens, drawNorms, el, showPiece } from './views.ts';

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => document.querySelector(sel) as T;
const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T => $<T>(`[data-testid="${id}"]`);

/**
 * The documentation site (`npm run docs`): `../../docs/api/` from `web/dist/index.html`
 * in a checkout, or what `GPT1_DOCS_URL` said when the page was built (`web/build.ts`).
 */
declare const GPT1_DOCS_URL: string;
const DOCS = GPT1_DOCS_URL.endsWith('/') ? GPT1_DOCS_URL : `${GPT1_DOCS_URL}/`;

/** Files of the bundled model (`web/model/`, copied to `dist/model/` by the build). */
const BUNDLED = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];
/** The released GPT-1 vocabulary, used for checkpoints that come without one (`vocab/`, copied to `dist/vocab/`). */
const RELEASE_VOCAB = VOCAB_FILE_NAMES[0];
const RELEASE_N_VOCAB = GPT1.n_vocab;

interface Model {
  readonly config: GPTConfig;
  readonly params: Params;
  readonly enc: GptTextEncoder;
  readonly label: string;
}

interface Run {
  readonly ids: readonly number[];
  readonly pieces: readonly string[];
  readonly fwd: ForwardOutput;
  readonly loss: number | null;
}

let model: Model | undefined;
let run: Run | undefined;
/** Bumped on every new forward request: an older pass that finishes late is dropped. */
let generation = 0;
let generating = false;
let stopRequested = false;

function setStatus(s: string): void {
  byTestId('status').textContent = s;
}

function fail(e: unknown): void {
  setStatus(`error: ${(e as Error).message ?? String(e)}`);
  console.warn(e);
}

// ---------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------

async function fetchFiles(dir: string, names: readonly string[]): Promise<File[]> {
  return Promise.all(
    names.map(async (n) => {
      const r = await fetch(`${dir}/${n}`);
      if (!r.ok) throw new Error(`${dir}/${n}: HTTP ${r.status}`);
      return new File([await r.blob()], n);
    }),
  );
}

/** The model's vocabulary: its own files, or the released one for a 40478-token model. */
async function vocabFor(loaded: LoadedModel): Promise<GptTextEncoder> {
  if (loaded.enc !== undefined) return loaded.enc;
  if (loaded.config.n_vocab !== RELEASE_N_VOCAB) {
    throw new Error(`no vocabulary files among ${loaded.source}, and n_vocab ${loaded.config.n_vocab} is not the bundled GPT-1 vocabulary's ${RELEASE_N_VOCAB} (add its vocab.json + merges.txt)`);
  }
  const [encFile, mergesFile] = await fetchFiles('vocab', RELEASE_VOCAB);
  return textEncoderFromData(JSON.parse(await encFile.text()), await mergesFile.text(), encFile.name, mergesFile.name);
}

/** Loads files as the page's model; on failure the previous model stays. */
async function useFiles(files: readonly FileLike[], label: string): Promise<void> {
  const err = byTestId('load-error');
  err.hidden = true;
  setStatus('loading model');
  const previous = model;
  try {
    const mb = files.reduce((s, f) => s + f.size, 0) / 1e6;
    // A large checkpoint replaces the old model before its numbers are read, so that two are never held at once.
    const loaded = await loadFiles(files, () => { if (mb > 64) { model = undefined; run = undefined; } });
    const enc = await vocabFor(loaded);
    model = { config: loaded.config, params: loaded.params, enc, label: `${label} (${loaded.format} layout, ${describe(loaded.config)}, ${mb.toFixed(1)} MB)` };
  } catch (e) {
    model = previous;
    err.textContent = (e as Error).message;
    err.hidden = false;
    fail(e);
    if (model === undefined) await loadBundled().catch(fail);
    return;
  }
  byTestId('model').textContent = model.label;
  await analyse();
}

function describe(c: GPTConfig): string {
  return `${c.n_layer} layers, ${c.n_embd} wide, ${c.n_head} heads, ${c.n_vocab} tokens, n_ctx ${c.n_ctx}`;
}

async function loadBundled(): Promise<void> {
  await useFiles(await fetchFiles('model', BUNDLED), 'bundled model');
}

/** Every file under a dropped folder (or the dropped files themselves). */
async function droppedFiles(items: DataTransferItemList): Promise<File[]> {
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      out.push(await new Promise<File>((ok, no) => (entry as FileSystemFileEntry).file(ok, no)));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, no) => reader.readEntries(ok, no));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  const entries = [...items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  for (const e of entries) await walk(e);
  return out;
}

// ---------------------------------------------------------------------------------
// Tokenize, forward, views
// ---------------------------------------------------------------------------------

/** `TextEncoder.encode` of the text, keeping each piece (unknown pieces get id 0, as the original). */
function tokenize(enc: GptTextEncoder, text: string): { ids: number[]; pieces: string[]; unknown: boolean[] } {
  const pieces = bpePieces(enc, text);
  return { ids: pieces.map((p) => enc.encoder.get(p) ?? 0), pieces, unknown: pieces.map((p) => !enc.encoder.has(p)) };
}

function fillSelect(select: HTMLSelectElement, labels: readonly string[], selected: number): void {
  const keep = Math.min(selected, labels.length - 1);
  select.replaceChildren(...labels.map((l, i) => Object.assign(el('option', '', l), { value: String(i) })));
  select.value = String(Math.max(0, keep));
}

/** Tokenizes the text box, runs the forward pass, and draws every view. */
async function analyse(): Promise<void> {
  if (model === undefined) return;
  const m = model;
  const mine = ++generation;
  const text = $<HTMLTextAreaElement>('#text').value;
  const { ids, pieces, unknown } = tokenize(m.enc, text);
  const tokens = byTestId('tokens');
  tokens.replaceChildren(...ids.map((id, t) => Object.assign(chip(pieces[t], id, unknown[t]), { onclick: () => selectPosition(t) })));
  if (ids.length === 0) return setStatus('error: the text has no tokens');
  if (ids.length > m.config.n_ctx) return setStatus(`error: the text has ${ids.length} tokens, more than the model's context n_ctx = ${m.config.n_ctx}`);
  setStatus('running');
  try {
    const fwd = await forward(m.params, m.config, ids);
    if (mine !== generation || model !== m) return; // a newer request superseded this one
    run = { ids, pieces, fwd, loss: ids.length > 1 ? lmLoss(fwd.logits, ids) : null };
  } catch (e) {
    if (mine === generation) fail(e);
    return;
  }
  const labels = pieces.map((p) => showPiece(p).text);
  fillSelect($<HTMLSelectElement>('#layer'), Array.from({ length: m.config.n_layer }, (_, l) => String(l)), Number($<HTMLSelectElement>('#layer').value || 0));
  fillSelect($<HTMLSelectElement>('#head'), Array.from({ length: m.config.n_head }, (_, h) => String(h)), Number($<HTMLSelectElement>('#head').value || 0));
  fillSelect($<HTMLSelectElement>('#position'), labels.map((l, t) => `${t}: ${l}`), ids.length - 1);
  $<HTMLSelectElement>('#position').value = String(ids.length - 1);
  drawAttentionView();
  drawNextView();
  drawLoss();
  drawNormsView();
  $('#gen-prompt').textContent = decode(m.enc, ids);
  setStatus('ready');
}

function drawAttentionView(): void {
  if (run === undefined) return;
  const T = run.ids.length;
  const layer = Number($<HTMLSelectElement>('#layer').value);
  const head = Number($<HTMLSelectElement>('#head').value);
  const probs = run.fwd.attentions[layer].data.subarray(head * T * T, (head + 1) * T * T);
  drawAttention($<HTMLCanvasElement>('#attention'), probs, run.pieces.map((p) => showPiece(p).text));
}

/**
 * The k most probable next tokens after one position: the softmax of the whole
 * logits row (`model/softmax.ts`, as for `gpt1 dump`'s logits), then its k largest
 * (`topK`, the same selection the mixture-of-experts router makes).
 */
function mostProbable(logits: Float32Array, k: number): { id: number; p: number }[] {
  const p = softmax(tensor([logits.length], logits)).data;
  return topK(p, k).map((id) => ({ id, p: p[id] }));
}

function drawNextView(): void {
  if (run === undefined || model === undefined) return;
  const enc = model.enc;
  const t = Number($<HTMLSelectElement>('#position').value);
  const k = Number($<HTMLSelectElement>('#topk').value);
  const V = run.fwd.logits.shape[1];
  const top: Candidate[] = mostProbable(run.fwd.logits.data.subarray(t * V, (t + 1) * V), k).map((c) => ({ ...c, piece: enc.decoder[c.id] ?? String(c.id) }));
  drawNextTokens(byTestId('next-token'), top);
  byTestId('tokens').querySelectorAll('.chip').forEach((c, i) => c.classList.toggle('sel', i === t));
}

function selectPosition(t: number): void {
  $<HTMLSelectElement>('#position').value = String(t);
  drawNextView();
}

function drawLoss(): void {
  const loss = run?.loss ?? null;
  byTestId('loss').textContent = loss === null ? '– (one token: nothing to predict)' : loss.toFixed(4);
  byTestId('loss').dataset.loss = String(loss);
  $('#ppl').textContent = loss === null ? '' : `perplexity e^L₁ = ${Math.exp(loss).toFixed(1)}, over ${(run as Run).ids.length - 1} predictions`;
}

function drawNormsView(): void {
  if (run === undefined) return;
  const norms = run.fwd.hiddenStates.map((h) => {
    const [T, d] = h.shape;
    return Array.from({ length: T }, (_, t) => Math.hypot(...h.data.subarray(t * d, (t + 1) * d)));
  });
  drawNorms($<HTMLCanvasElement>('#norms'), norms);
}

// ---------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------

async function startGeneration(): Promise<void> {
  if (model === undefined || generating) return;
  const m = model;
  const { ids } = tokenize(m.enc, $<HTMLTextAreaElement>('#text').value);
  const greedy = $<HTMLInputElement>('#greedy').checked;
  const num = (id: string): number => Number($<HTMLInputElement>(id).value);
  const maxTokens = Math.min(num('#max-tokens'), m.config.n_ctx - ids.length + 1);
  const out = byTestId('generated');
  out.replaceChildren();
  byTestId('generated-ids').textContent = '';
  $('#gen-prompt').textContent = decode(m.enc, ids);
  $('#gen-text').textContent = '';
  generating = true;
  stopRequested = false;
  $<HTMLButtonElement>('#generate').disabled = true;
  $<HTMLButtonElement>('#stop').disabled = false;
  setStatus('generating');
  const produced: number[] = [];
  try {
    if (ids.length === 0) throw new Error('the prompt is empty: give at least one token');
    let last = performance.now();
    let total = 0;
    for await (const id of generate(m.params, m.config, ids, { maxTokens, greedy, temperature: num('#temperature'), topK: num('#top-k'), topP: num('#top-p'), seed: num('#seed') })) {
      const now = performance.now();
      total += now - last;
      last = now;
      produced.push(id);
      out.append(chip(m.enc.decoder[id] ?? String(id), id));
      $('#gen-text').textContent = decode(m.enc, [...ids, ...produced]).slice($('#gen-prompt').textContent?.length ?? 0);
      byTestId('ms-per-token').textContent = (total / produced.length).toFixed(1);
      byTestId('generated-ids').textContent = `ids: ${JSON.stringify(produced)}`;
      await new Promise((ok) => setTimeout(ok, 0)); // let the page paint and the stop button answer
      if (stopRequested) break;
    }
    setStatus('ready');
  } catch (e) {
    fail(e);
  } finally {
    generating = false;
    $<HTMLButtonElement>('#generate').disabled = false;
    $<HTMLButtonElement>('#stop').disabled = true;
    out.dataset.done = 'true';
  }
}

// ---------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------

/**
 * The links to the documentation site: `data-walk="03-attention"` → the walk-through's
 * page `walkthrough/03-attention.html` (made from `docs/walkthrough/03-attention.md`),
 * `data-src="model/attention"` → the API page of `src/model/attention.ts`, followed by
 * a link to the file itself (the site's numbered source page); `data-docs` → that path
 * of the site.
 */
function linkDocs(): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>('a[data-walk]')) {
    a.href = `${DOCS}walkthrough/${a.dataset.walk as string}.html`;
    a.title = `the walk-through: docs/walkthrough/${a.dataset.walk as string}.md, the paper's equation beside the code`;
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>('a[data-src]')) {
    const mod = a.dataset.src as string;
    a.href = `${DOCS}modules/src_${mod.replace(/\/index$/, '').replace(/\//g, '_')}.html`; // typedoc names a folder's index.ts after the folder
    a.title = `documentation of src/${mod}.ts`;
    const src = el('a', 'ref', `${mod}.ts`);
    src.href = `${DOCS}source/src/${mod}.ts.html`;
    src.title = `the source of src/${mod}.ts`;
    a.after(src);
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>('a[data-docs]')) a.href = `${DOCS}${a.dataset.docs as string}`;
}

function wire(): void {
  linkDocs();
  let timer: ReturnType<typeof setTimeout> | undefined;
  $('#text').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void analyse(), 250);
  });
  $('#layer').addEventListener('change', drawAttentionView);
  $('#head').addEventListener('change', drawAttentionView);
  $('#position').addEventListener('change', drawNextView);
  $('#topk').addEventListener('change', drawNextView);
  $('#generate').addEventListener('click', () => void startGeneration());
  $('#stop').addEventListener('click', () => { stopRequested = true; });
  $('#bundled').addEventListener('click', () => void loadBundled().catch(fail));
  for (const input of [$<HTMLInputElement>('#file-input'), $<HTMLInputElement>('#folder-input')]) {
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      if (files.length > 0) void useFiles(files, files.length === 1 ? files[0].name : `${files.length} files`);
      input.value = '';
    });
  }
  const drop = document.body;
  drop.addEventListener('dragover', (e) => { e.preventDefault(); $('#drop').classList.add('over'); });
  drop.addEventListener('dragleave', () => $('#drop').classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    $('#drop').classList.remove('over');
    const items = e.dataTransfer?.items;
    if (items) void droppedFiles(items).then((files) => useFiles(files, `${files.length} dropped files`)).catch(fail);
  });
  $<HTMLSelectElement>('#backend-switch').addEventListener('change', (e) => {
    const url = new URL(location.href);
    const v = (e.target as HTMLSelectElement).value;
    if (v) url.searchParams.set('backend', v);
    else url.searchParams.delete('backend');
    url.searchParams.set('text', $<HTMLTextAreaElement>('#text').value);
    location.href = url.toString();
  });
}

/** `?backend=webgpu|webgl|webgl2|webasm|cpu` as a backend name (`webgl` is WebGL2). */
function backendParam(v: string | null): BackendName | undefined {
  if (v === null || v === '') return undefined;
  if (v === 'webgl' || v === 'webgl2') return 'webgl2';
  if (v === 'webgpu' || v === 'webasm' || v === 'cpu') return v;
  throw new Error(`?backend=${v}: expected webgpu, webgl, webasm or cpu`);
}

async function main(): Promise<void> {
  wire();
  const q = new URLSearchParams(location.search);
  $<HTMLTextAreaElement>('#text').value = q.get('text') ?? 'the president is';
  try {
    const forced = backendParam(q.get('backend'));
    $<HTMLSelectElement>('#backend-switch').value = forced === 'webgl2' ? 'webgl' : (forced ?? '');
    // The page's settings: only the backend, from the query (the automatic choice skips software GPUs).
    setBackendEnvironment({ platform: 'browser', vars: () => ({ GPT1_BACKEND: forced }) });
    const be = await backend();
    byTestId('backend').textContent = be.name;
    const adapter = byTestId('adapter');
    const software = be.adapter?.software ?? false;
    const cpu = be.name === 'webasm' ? 'WebAssembly on the CPU' : 'JavaScript on the CPU';
    adapter.textContent = `(${be.adapter === undefined ? `no GPU: ${cpu}` : `${software ? 'software GPU' : 'hardware GPU'}: ${be.adapter.name}`})`;
    adapter.dataset.software = String(software);
    $('#backend-reason').textContent = forced === undefined ? `Chosen: ${be.reason.replace(/GPT1_BACKEND=(\w+)/g, '?backend=$1')}.` : 'Forced by ?backend=.';
  } catch (e) {
    byTestId('backend').textContent = 'none';
    return fail(e);
  }
  await loadBundled().catch(fail);
}

void main();
