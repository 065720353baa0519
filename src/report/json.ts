/**
 * One key style in every JSON output: snake_case, as Hugging Face's files and this
 * project's `dump` use (`lm_loss`, `n_embd`). Objects built in TypeScript use
 * camelCase (`clfLoss`); {@link snakeCaseKeys} renames their keys when they are
 * written. (No file this project reads back ever had camelCase keys: `task.json`,
 * `trainer_state.json` and `config.json` were snake_case from the start.)
 *
 * @module
 */

/** `clfLoss` → `clf_loss`, `labelCounts` → `label_counts`; snake_case and other keys are unchanged. */
export function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** A copy of `value` with every object key in snake_case, recursively (arrays and primitives as they are). */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeCase(k), snakeCaseKeys(v)]));
}
