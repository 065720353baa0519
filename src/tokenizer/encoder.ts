/**
 * The GPT-1 text encoder, loaded from a vocabulary directory: {@link loadEncoder}
 * reads the two files and builds the encoder with `textEncoderFromData`
 * (`text-encoder.ts`, the pure part, re-exported here: `text_utils.py:
 * TextEncoder`, encoding and decoding).
 *
 * @module
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { readRegularText } from '../io/files.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GptTextEncoder, VOCAB_FILE_NAMES, findVocabNames, textEncoderFromData } from './text-encoder.ts';

export * from './text-encoder.ts';

/** The vocabulary shipped with this project (`vocab/`, the GPT-1 release files). */
export const DEFAULT_VOCAB_DIR = fileURLToPath(new URL('../../vocab/', import.meta.url));

/**
 * Loads a vocabulary directory (default: the GPT-1 release shipped in `vocab/`),
 * recognising it by its file names ({@link VOCAB_FILE_NAMES}).
 * @throws a one-line error if the directory or a file is missing or malformed.
 */
export function loadEncoder(dir: string = DEFAULT_VOCAB_DIR): GptTextEncoder {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`vocabulary directory not found: ${dir}`);
  const files = new Set(readdirSync(dir));
  const names = findVocabNames(files);
  if (names === undefined) {
    const expected = [...VOCAB_FILE_NAMES.map(([e, m]) => `${e} + ${m}`), 'encoder_bpe_<N>.json + vocab_<N>.bpe'].join(', ');
    const found = [...files].filter((f) => /\.(json|bpe|txt)$/.test(f)).join(', ') || 'none';
    throw new Error(`${dir}: no vocabulary found (expected one of ${expected}; found: ${found})`);
  }
  const [encoderFile, mergesFile] = names.map((f) => join(dir, f));
  const encoderText = readRegularText(encoderFile);
  let vocab: unknown;
  try {
    vocab = JSON.parse(encoderText);
  } catch (e) {
    throw new Error(`${encoderFile}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const enc = textEncoderFromData(vocab, readRegularText(mergesFile), encoderFile, mergesFile);
  return Object.freeze({ ...enc, source: dir });
}
