/**
 * Crash-safe writes of a file and of a whole directory (for checkpoints).
 *
 * A file: written to a temporary file in the same directory, fsynced, renamed over
 * the target (rename is atomic within a file system), then the directory is fsynced
 * so the rename itself is durable. A reader sees the old file or the new one, never
 * a mix.
 *
 * A directory `D` (e.g. `ckpt/step-1000`) is built next to it and swapped in with
 * renames. With siblings `.D.tmp-<pid>-<rand>` (being built), `.D.new` (complete)
 * and `.D.old` (the previous version), {@link writeDirAtomic} goes through:
 *
 * | state | on disk | complete copies |
 * |---|---|---|
 * | S0 | `D` (old), maybe `.D.tmp-*` (partial) | old at `D` |
 * | S1 | `D` (old), `.D.new` | old at `D`, new at `.D.new` |
 * | S2 | `.D.old`, `.D.new` | old at `.D.old`, new at `.D.new` |
 * | S3 | `.D.old`, `D` (new) | new at `D` |
 * | S4 | `D` (new) | new at `D` |
 *
 * Every step is one `rename` (or the removal of `.D.old` once `D` is the new
 * version), each followed by an fsync of the parent directory, so a crash at any point
 * leaves a complete old or new directory. Only in S2 is there nothing at `D` itself:
 * {@link resolveDirAtomic} tells a reader where the complete copy is without touching
 * the disk, and the next {@link writeDirAtomic} on `D` (or {@link recoverDirAtomic})
 * finishes the interrupted swap first.
 *
 * One writer per directory at a time: concurrent writers to the same `D` are not
 * coordinated (the caller must serialise them).
 *
 * @module
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

// ---------------------------------------------------------------------------------
// Fault injection, for the crash-safety tests (spec/crash.spec.ts) only.
// ---------------------------------------------------------------------------------

/** Fault points reached so far, by kind (process-wide: the one piece of state of this module, used only under `GPT1_FAULT`). */
const reached = new Map<string, number>();

/**
 * A fault point. With `GPT1_FAULT=<kind>:<n>` in the environment, the n-th time the
 * writers reach a point of that kind, they fail as a crash or a full disk would:
 *
 * | kind | where | what happens |
 * |---|---|---|
 * | `write` | after a chunk of a file is written (mid-file when the file has several) | `kill -9` of this process |
 * | `S1`, `S2`, `S3` | right after the rename that enters that state (see the table above) | `kill -9` of this process |
 * | `full` | instead of writing a chunk | the write fails with ENOSPC, as on a full disk |
 *
 * Without `GPT1_FAULT` (always, outside those tests) it does nothing.
 */
function fault(kind: 'write' | 'S1' | 'S2' | 'S3' | 'full'): void {
  const spec = process.env.GPT1_FAULT;
  if (spec === undefined || !spec.startsWith(`${kind}:`)) return;
  const n = (reached.get(kind) ?? 0) + 1;
  reached.set(kind, n);
  if (n !== Number(spec.slice(kind.length + 1))) return;
  if (kind === 'full') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  process.kill(process.pid, 'SIGKILL');
}

/** What a file may be given as: bytes, UTF-8 text, or byte chunks written one after the other (no concatenation). */
export type FileContent = Uint8Array | string | readonly Uint8Array[];

/** fsync a directory so renames and creations in it are durable (a no-op where directories cannot be opened, e.g. Windows). */
function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // some platforms refuse fsync on a directory; nothing more can be done there
  } finally {
    closeSync(fd);
  }
}

/** Writes `content` to a new file at `path` (which must not exist) and fsyncs it. */
function writeNewFile(path: string, content: FileContent): void {
  const chunks = typeof content === 'string' ? [new TextEncoder().encode(content)] : content instanceof Uint8Array ? [content] : content;
  const fd = openSync(path, 'wx');
  try {
    for (const chunk of chunks) {
      fault('full');
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
      fault('write');
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const tag = (): string => `${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Writes `content` to `path` atomically: a crash leaves either the old file or the new
 * one, never a partial one.
 * @throws `path: cannot write: <reason>` (the temporary file is removed).
 */
export function writeFileAtomic(path: string, content: FileContent): void {
  const dir = dirname(resolve(path));
  const tmp = join(dir, `.${basename(path)}.tmp-${tag()}`);
  try {
    writeNewFile(tmp, content);
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw new Error(`${path}: cannot write: ${(e as Error).message}`);
  }
}

/** The sibling names used while replacing directory `dir`. */
function siblings(dir: string): { target: string; parent: string; name: string; fresh: string; old: string } {
  const target = resolve(dir);
  const parent = dirname(target);
  const name = basename(target);
  return { target, parent, name, fresh: join(parent, `.${name}.new`), old: join(parent, `.${name}.old`) };
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Where the complete current version of a directory written by {@link writeDirAtomic}
 * is, without changing anything on disk: `dir` itself normally, or, if a swap was
 * interrupted between its two renames, the complete new (`.D.new`) or old (`.D.old`)
 * copy. Returns `dir` unchanged when there is nothing to resolve.
 */
export function resolveDirAtomic(dir: string): string {
  const { target, fresh, old } = siblings(dir);
  if (isDir(target)) return dir;
  if (isDir(fresh)) return fresh;
  if (isDir(old)) return old;
  return dir;
}

/**
 * Finishes or undoes a {@link writeDirAtomic} that was interrupted, so that `dir` is
 * the complete newest version and no sibling is left: S1 and S2 are rolled forward
 * (the new version is complete), S3/S4 leftovers and partial `.D.tmp-*` builds are removed.
 */
export function recoverDirAtomic(dir: string): void {
  const { target, parent, name, fresh, old } = siblings(dir);
  if (!isDir(parent)) return;
  if (isDir(fresh)) {
    if (isDir(target)) {
      if (existsSync(old)) rmSync(old, { recursive: true, force: true });
      renameSync(target, old);
      fsyncDir(parent);
      fault('S2');
    }
    renameSync(fresh, target);
    fsyncDir(parent);
    fault('S3');
  } else if (!existsSync(target) && isDir(old)) {
    renameSync(old, target); // crashed in S2 with .D.new missing cannot happen, but be safe
    fsyncDir(parent);
  }
  if (existsSync(old)) rmSync(old, { recursive: true, force: true });
  const prefix = `.${name}.tmp-`;
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith(prefix)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

/**
 * Replaces directory `dir` with one holding exactly `files` (plain names, no
 * sub-directories), so that a crash at any point leaves either the complete old or
 * the complete new directory (see the module description). The old directory is
 * removed only after the new one is in place. The parent directory must exist.
 *
 * @throws `dir: cannot write: <reason>` (partial work is removed; the old directory is kept).
 */
export function writeDirAtomic(dir: string, files: Readonly<Record<string, FileContent>>): void {
  for (const name of Object.keys(files)) {
    if (name === '' || name === '.' || name === '..' || /[\\/\0]/.test(name)) throw new Error(`${dir}: invalid file name ${JSON.stringify(name)}`);
  }
  const { target, parent, name, fresh, old } = siblings(dir);
  if (!isDir(parent)) throw new Error(`${dir}: cannot write: parent directory ${parent} does not exist`);
  if (existsSync(target) && !isDir(target)) throw new Error(`${dir}: cannot write: exists and is not a directory`);
  const tmp = join(parent, `.${name}.tmp-${tag()}`);
  try {
    recoverDirAtomic(dir); // S? -> S0 (or S4) with no leftovers
    mkdirSync(tmp);
    for (const [file, content] of Object.entries(files)) writeNewFile(join(tmp, file), content);
    fsyncDir(tmp);
    renameSync(tmp, fresh); // S1: the new version is complete
    fsyncDir(parent);
    fault('S1');
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${dir}: cannot write: ${(e as Error).message}`);
  }
  try {
    if (existsSync(target)) {
      renameSync(target, old); // S2
      fsyncDir(parent);
      fault('S2');
    }
    renameSync(fresh, target); // S3
    fsyncDir(parent);
    fault('S3');
    rmSync(old, { recursive: true, force: true }); // S4
    fsyncDir(parent);
  } catch (e) {
    throw new Error(`${dir}: cannot write: ${(e as Error).message} (run recoverDirAtomic to finish the swap)`);
  }
}

/**
 * Replaces directory `dir` with one holding exactly `files`, whose names are
 * relative paths that may contain sub-directories (`grads/h.0.ln_1.weight.npy`),
 * atomically: the tree is built in a sibling `.D.tmp-*`, renamed to `.D.new`, and
 * swapped in by `recoverDirAtomic` (the same states as `writeDirAtomic`), so a crash
 * leaves the complete old or the complete new directory. Missing parents of `dir`
 * are created.
 * @throws `dir: cannot write: <reason>` (partial work removed).
 */
export function writeTreeAtomic(dir: string, files: Readonly<Record<string, FileContent>>): void {
  for (const rel of Object.keys(files)) {
    const n = normalize(rel);
    if (rel === '' || isAbsolute(rel) || n !== rel.replace(/\\/g, '/') || n.split('/').some((s) => s === '..' || s === '.' || s === '') || rel.includes('\0')) {
      throw new Error(`${dir}: invalid file name ${JSON.stringify(rel)}`);
    }
  }
  const target = resolve(dir);
  const parent = dirname(target);
  const name = basename(target);
  let tmp = '';
  try {
    mkdirSync(parent, { recursive: true });
    if (existsSync(target) && !statSync(target).isDirectory()) throw new Error('exists and is not a directory');
    recoverDirAtomic(target); // finish any interrupted swap, remove stale builds
    tmp = join(parent, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp);
    const dirs = new Set<string>([tmp]);
    for (const [rel, content] of Object.entries(files)) {
      const path = join(tmp, rel);
      const sub = dirname(path);
      if (!dirs.has(sub)) {
        mkdirSync(sub, { recursive: true });
        dirs.add(sub);
      }
      writeNewFile(path, content);
    }
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) fsyncDir(d);
    renameSync(tmp, join(parent, `.${name}.new`)); // complete: from here on the new version wins
    fsyncDir(parent);
    fault('S1');
    tmp = '';
  } catch (e) {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${dir}: cannot write: ${(e as Error).message}`);
  }
  try {
    recoverDirAtomic(target); // D → .D.old, .D.new → D, .D.old removed
  } catch (e) {
    throw new Error(`${dir}: cannot write: ${(e as Error).message} (run the command again to finish the swap)`);
  }
}
