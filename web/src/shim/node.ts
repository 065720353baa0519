/**
 * Stand-in for the Node built-ins (`node:fs`, `node:path`, …) that the file-format
 * modules `src/io/*.ts` and `src/checkpoint/*.ts` import for their Node readers. The
 * page uses only their pure parts (header parsers, config and layout checks) and
 * reads the reader's files itself (`web/src/files.ts`); if a Node reader were
 * called, it would fail with a clear message. `web/build.ts` resolves Node
 * built-ins to this module for those directories only: the model, the kernels, the
 * backend choice and the tokenizer import none.
 *
 * @module
 */
const unavailable = (name: string) => (): never => {
  throw new Error(`${name} is not available in the browser`);
};
export const existsSync = (): boolean => false;
export const readFileSync = unavailable('fs.readFileSync');
export const readdirSync = unavailable('fs.readdirSync');
export const statSync = unavailable('fs.statSync');
export const fstatSync = unavailable('fs.fstatSync');
export const openSync = unavailable('fs.openSync');
export const closeSync = unavailable('fs.closeSync');
export const readSync = unavailable('fs.readSync');
export const writeSync = unavailable('fs.writeSync');
export const fsyncSync = unavailable('fs.fsyncSync');
export const mkdirSync = unavailable('fs.mkdirSync');
export const writeFileSync = unavailable('fs.writeFileSync');
export const appendFileSync = unavailable('fs.appendFileSync');
export const renameSync = unavailable('fs.renameSync');
export const rmSync = unavailable('fs.rmSync');
export const unlinkSync = unavailable('fs.unlinkSync');
export const mkdtempSync = unavailable('fs.mkdtempSync');
export const lstatSync = unavailable('fs.lstatSync');
export const realpathSync = unavailable('fs.realpathSync');
export const join = (...parts: string[]): string => parts.join('/');
export const resolve = join;
export const normalize = (p: string): string => p;
export const dirname = (p: string): string => p.replace(/\/[^/]*$/, '');
export const basename = (p: string): string => p.replace(/^.*\//, '');
export const isAbsolute = (p: string): boolean => p.startsWith('/');
export const sep = '/';
export const fileURLToPath = (u: string | URL): string => String(u);
export const createRequire = unavailable('module.createRequire');
export const randomBytes = unavailable('crypto.randomBytes');
export const constants = {};
export default {};
