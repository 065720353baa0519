/**
 * Opening input files safely: only regular files are read.
 *
 * `openSync(path, 'r')` on a FIFO blocks until a writer appears, which can be
 * forever (a `mkfifo params_3.npy` in a checkpoint would hang `gpt1 info`), and a
 * device such as `/dev/zero` never ends. Every reader of this project therefore opens
 * its inputs through {@link openRegularFile}: the file is opened non-blocking
 * (`O_NONBLOCK`: an open of a FIFO returns at once instead of waiting for a writer,
 * and a regular file is read the same as without it), then `fstat`ed on the
 * descriptor itself (no race between a check and the open), and anything but a
 * regular file is refused with a one-line error naming it.
 *
 * @module
 */
import { type Stats, closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { constants as bufferConstants } from 'node:buffer';

const MAX_LENGTH = bufferConstants.MAX_LENGTH;

/**
 * A line end of a text file: `\r\n` (Windows), `\n` (Unix) or a lone `\r` (old Mac
 * OS). JSON text cannot hold a raw CR or LF inside a string, so splitting a JSONL file
 * on any of them never cuts a record.
 */
export const LINE_END = /\r\n|\r|\n/;


/** An Error that keeps the `code` (`ENOENT`, …) of the system error it wraps. */
export interface FileError extends Error {
  code?: string;
}

function wrap(path: string, verb: string, e: unknown): FileError {
  const err: FileError = new Error(`${path}: ${verb}: ${(e as Error).message}`);
  err.code = (e as NodeJS.ErrnoException).code;
  return err;
}

/** What a non-regular file is, in words. */
function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Opens `path` for reading if, and only if, it is a regular file (symbolic links are
 * followed). Never blocks on a FIFO.
 * @returns an open file descriptor (the caller closes it)
 * @throws `path: cannot open: <reason>` (with the system `code`), or
 *   `path: not a regular file: it is a FIFO (named pipe)` and the like.
 */
export function openRegularFile(path: string, verb = 'cannot open'): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw wrap(path, verb, e);
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw wrap(path, verb, e);
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new Error(`${path}: not a regular file: it is ${kind(st)}`);
  }
  return fd;
}

/**
 * The whole content of regular file `path`.
 * @throws `path: cannot read: <reason>` (with the system `code`) or `path: not a regular file: …`.
 */
export function readRegularFile(path: string): Buffer {
  const fd = openRegularFile(path, 'cannot read');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_LENGTH) throw new Error(`${path}: ${size} bytes, more than the largest buffer Node can allocate (${MAX_LENGTH})`);
    const out = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      let got: number;
      try {
        got = readSync(fd, out, done, size - done, done);
      } catch (e) {
        throw wrap(path, 'cannot read', e);
      }
      if (got === 0) break; // shrank while being read
      done += got;
    }
    return done === size ? out : out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** {@link readRegularFile} as UTF-8 text. */
export function readRegularText(path: string): string {
  return readRegularFile(path).toString('utf8');
}

/**
 * The absolute path of `p` with every symbolic link resolved, also when `p` (or some
 * of its parents) does not exist yet: the longest existing prefix is resolved and the
 * rest appended. Two paths name the same place exactly when their `realPath`s are equal.
 */
export function realPath(p: string): string {
  let cur = resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest);
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return resolve(p);
      rest.unshift(basename(cur));
      cur = parent;
    }
  }
}

/**
 * How an output path `out` collides with an input path `input`: `'is'` (the same
 * path), `'contains'` (a directory swap of `out` would delete `input`) or
 * `'lies inside'`; undefined when writing `out` cannot touch `input`. Symbolic links
 * are resolved first.
 */
export function pathOverlap(out: string, input: string): 'is' | 'contains' | 'lies inside' | undefined {
  const o = realPath(out);
  const i = realPath(input);
  if (o === i) return 'is';
  if (i.startsWith(o.endsWith(sep) ? o : o + sep)) return 'contains';
  if (o.startsWith(i.endsWith(sep) ? i : i + sep)) return 'lies inside';
  return undefined;
}
