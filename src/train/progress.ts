/**
 * Progress reporting of the training commands: a progress bar on stderr and a
 * metrics log (one JSON object per line).
 *
 * The bar shows the update count, loss, throughput (tokens/s), elapsed time and an
 * estimate of the time left (from the mean time per update of this run, so a resumed
 * run estimates from its own speed):
 *
 *     step 120/300 [########............]  40% loss 3.2141 | 1,234 tok/s | 1m02s elapsed | ETA 1m33s
 *
 * On a terminal the line is redrawn in place (carriage return, erase to end of line,
 * at most ten times a second); when stderr is a file or a pipe a plain line is written
 * every `every` updates and at the last one, so logs stay readable.
 *
 * These functions write to streams and files: they are the side-effecting edge the
 * command modules use; the training loops themselves only call an `onStep` callback.
 *
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What one progress line shows. */
export interface ProgressInfo {
  /** Updates made so far (after this one). */
  readonly step: number;
  readonly total: number;
  readonly loss: number;
  /** Tokens processed since this run started. */
  readonly tokens: number;
  /** Milliseconds since this run started. */
  readonly elapsedMs: number;
  /** Updates made by this run (differs from `step` after a resume). */
  readonly stepsThisRun: number;
  /** Extra fields appended as `name value`, e.g. `{ acc: '0.875' }`. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** `45s`, `3m05s`, `1h02m`; `--` for an unknown or infinite duration. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The text of one progress line (no line ending). */
export function progressLine(p: ProgressInfo, width = 20): string {
  const frac = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const secs = p.elapsedMs / 1000;
  const tps = secs > 0 ? Math.round(p.tokens / secs) : 0;
  const eta = p.stepsThisRun > 0 ? (secs / p.stepsThisRun) * (p.total - p.step) : NaN;
  const extra = Object.entries(p.extra ?? {}).map(([k, v]) => ` | ${k} ${v}`).join('');
  return `step ${p.step}/${p.total} ${bar} ${String(Math.round(frac * 100)).padStart(3)}% loss ${p.loss.toFixed(4)} | ${tps.toLocaleString('en-US')} tok/s | ${formatDuration(secs)} elapsed | ETA ${formatDuration(eta)}${extra}`;
}

/** A stream the bar writes to (process.stderr or a test double). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** A progress bar: `update` after every step, `done` at the end (ends the in-place line). */
export interface Progress {
  update(p: ProgressInfo): void;
  /** Prints a message on its own line without breaking the bar. */
  note(message: string): void;
  done(): void;
}

/**
 * A progress bar on `stream`.
 * @param every on a non-terminal, write a line every this many updates (and the last)
 */
export function createProgress(stream: ProgressStream = process.stderr, every = 10): Progress {
  const tty = stream.isTTY === true;
  let lastDraw = 0;
  let open = false;
  let last: ProgressInfo | undefined;
  const draw = (p: ProgressInfo): void => {
    stream.write(`\r${progressLine(p)}\x1b[K`);
    open = true;
    lastDraw = Date.now();
  };
  return {
    update(p) {
      last = p;
      if (tty) {
        if (Date.now() - lastDraw >= 100 || p.step >= p.total) draw(p);
      } else if (p.step % every === 0 || p.step >= p.total || p.stepsThisRun === 1) {
        stream.write(`${progressLine(p)}\n`);
      }
    },
    note(message) {
      if (tty && open) stream.write('\r\x1b[K');
      stream.write(`${message}\n`);
      if (tty && open && last) draw(last);
    },
    done() {
      if (tty && open) {
        if (last) draw(last);
        stream.write('\n');
      }
      open = false;
    },
  };
}

/** Appends records to a JSONL file, one object per line. */
export interface MetricsLog {
  readonly path: string;
  write(record: Readonly<Record<string, unknown>>): void;
}

/**
 * A metrics log at `path`. A fresh run starts the file empty; a resumed run
 * (`append`) continues it. `keepThroughStep` (when resuming from the checkpoint of
 * that update) first drops the records of later updates, which an interrupted run
 * logged after its last checkpoint and the resumed run will log again; a record's
 * update is its `step` field.
 */
export function metricsLog(path: string, append: boolean, keepThroughStep?: number): MetricsLog {
  mkdirSync(dirname(path), { recursive: true });
  if (!append) writeFileSync(path, '');
  else if (keepThroughStep !== undefined && existsSync(path)) {
    const kept = readFileSync(path, 'utf8').split('\n').filter((line) => {
      if (line.trim() === '') return false;
      try {
        const step = (JSON.parse(line) as { step?: unknown }).step;
        return typeof step !== 'number' || step <= keepThroughStep;
      } catch {
        return false; // a line cut short by the interruption
      }
    });
    writeFileSync(path, kept.map((l) => `${l}\n`).join(''));
  }
  return {
    path,
    write(record) {
      appendFileSync(path, `${JSON.stringify(record)}\n`);
    },
  };
}
