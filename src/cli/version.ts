/**
 * The version of gpt1-ts, read from its `package.json` (two folders up from this
 * module both in `src/cli/` and in the build's `dist/cli/`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** `gpt1-ts <version>`, as `gpt1 --version` prints it. */
export function versionLine(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}
