/**
 * The browser test harness: Debian's headless Chromium driven by playwright-core,
 * and a static file server bound to 127.0.0.1 only. Nothing is downloaded: the
 * browser is the system's `/usr/bin/chromium` (`apt-get install chromium`), or the
 * one named by `GPT1_CHROMIUM`.
 *
 * A spec that needs the browser asks {@link browserSkipReason} first. On a
 * developer's machine without Chromium the spec is skipped with the reason and the
 * command that installs it; under CI (`CI=true`), where `.ci/run` installs it, the
 * same absence is a failure, never a skip.
 *
 *     const skip = browserSkipReason();
 *     test('…', { skip }, async () => {
 *       await withServer(dir, async (url) => {
 *         await withPage({ webgpu: true }, async (page) => { await page.goto(url); … });
 *       });
 *     });
 *
 * @module
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = process.env.GPT1_CHROMIUM ?? '/usr/bin/chromium';
/** The Vulkan driver that Debian's `chromium` ships: SwiftShader, a CPU implementation. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** True under CI (`CI=true`): a missing component there fails instead of skipping. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Turns a missing component into a skip reason, or, under CI, into a thrown error
 * (so that `test(name, { skip: requireOrSkip(...) })` fails the file loudly).
 * @param missing - why the component cannot be used, or undefined when it can
 * @param install - the command that installs it
 * @returns the skip reason for `node:test`, or false when nothing is missing
 */
export function requireOrSkip(missing: string | undefined, install: string): string | false {
  if (missing === undefined) return false;
  const reason = `${missing} (install: ${install})`;
  if (IN_CI) throw new Error(`CI must not skip: ${reason}`);
  return reason;
}

/** Why the browser specs cannot run here, or false when Chromium is present. */
export function browserSkipReason(): string | false {
  return requireOrSkip(existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}`, 'apt-get install -y chromium libvulkan1');
}

/** Options of one browser session. */
export interface BrowserOptions {
  /** Expose WebGPU (`--enable-unsafe-webgpu`, on SwiftShader's Vulkan driver when no GPU answers). */
  readonly webgpu?: boolean;
  /** Extra command-line switches. */
  readonly args?: readonly string[];
}

/**
 * The switches of every session: headless, no sandbox (CI runs as root), and none
 * of Chromium's background connections (the machine has no network; each attempt
 * would be refused and logged).
 */
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Starts Chromium, runs `fn` with a fresh page, and closes everything, whatever `fn`
 * does. Console errors and uncaught page errors are collected into `errors`.
 */
export async function withPage<R>(opts: BrowserOptions, fn: (page: Page, errors: string[]) => Promise<R>): Promise<R> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'gpt1-chromium-'));
  const args = [...BASE_ARGS, ...(opts.webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'] : []), ...(opts.args ?? [])];
  const env = { ...process.env, ...(opts.webgpu && existsSync(SWIFTSHADER_ICD) ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD } : {}) } as Record<string, string>;
  let browser: Browser | undefined;
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, env });
    browser = context.browser() ?? undefined;
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      return await fn(page, errors);
    } finally {
      await context.close();
    }
  } finally {
    await browser?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.bpe': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** A running static server (see {@link serveStatic}). */
export interface StaticServer {
  /** The base URL, ending in `/`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the files under `root` on 127.0.0.1 (port 0: a free one). Only regular
 * files inside `root` are served; a path ending in `/` serves its `index.html`.
 */
export async function serveStatic(root: string, port = 0): Promise<StaticServer> {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (!(file === base || file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/**
 * Serves the files under `root` on 127.0.0.1 (a free port), runs `fn` with the base
 * URL (ending in `/`), then stops the server (see {@link serveStatic}).
 */
export async function withServer<R>(root: string, fn: (url: string) => Promise<R>): Promise<R> {
  const server = await serveStatic(root);
  try {
    return await fn(server.url);
  } finally {
    await server.close();
  }
}
