/**
 * Evidence tool: prints the WebAssembly instructions gpu.js's webasm backend
 * emits for a kernel's SIMD body (`kernel_simd`), by recording every call the
 * code generator makes on its instruction emitter.
 *
 *     npx tsx bench/wasm-trace.ts [simple|fast|all]
 *
 * Used for bench/NOTES.md: it shows what one inner-loop iteration costs (every
 * index computed in f32 and truncated per read; SIMD reads of B as 4-load gathers).
 * For the x86 code V8 makes of it: `node --no-liftoff --print-wasm-code --import tsx
 * bench/wasm-trace.ts fast`.
 * @module
 */
import { createRequire } from 'node:module';
import { GPU } from 'gpu.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { WasmFunctionEmitter } = require('gpu.js/src/backend/web-assembly/wasm-builder.js') as { WasmFunctionEmitter: any };

const log: string[] = [];
let recording: string | null = null;
for (const name of Object.getOwnPropertyNames(WasmFunctionEmitter.prototype)) {
  if (name === 'constructor' || name.startsWith('_') || name === 'addLocal') continue;
  const orig = WasmFunctionEmitter.prototype[name];
  if (typeof orig !== 'function') continue;
  WasmFunctionEmitter.prototype[name] = function (this: { name: string }, ...args: unknown[]) {
    if (recording !== null && this.name === recording) log.push(`${name}(${args.map((a) => JSON.stringify(a)).join(',')})`);
    return orig.apply(this, args);
  };
}

/** Emits `fn` on webasm and returns the instruction list of its kernel_simd. */
export function trace(fn: Function, opts: Record<string, unknown>, args: unknown[], which = 'kernel_simd'): string[] {
  log.length = 0;
  recording = which;
  const gpu = new GPU({ mode: 'webasm' });
  const k = gpu.createKernel(fn as any, { precision: 'single', ...opts });
  (k as any)(...args);
  recording = null;
  gpu.destroy();
  return [...log];
}

/** Indents the instruction list by block/loop nesting so the inner loop is visible. */
export function pretty(ops: string[]): string {
  let depth = 0;
  const out: string[] = [];
  for (const op of ops) {
    if (op.startsWith('end(')) depth--;
    out.push(`${'  '.repeat(Math.max(depth, 0))}${op}`);
    if (op.startsWith('block(') || op.startsWith('loop(') || op.startsWith('if_(')) depth++;
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { kernelRows4, kernelSimple } = await import('../src/kernels/sources.ts');
  const M = 8, K = 16, N = 8;
  const a = new Float32Array(M * K), b = new Float32Array(K * N);
  const strides = { K, sAz: 0, sAm: K, sAm2: 2 * K, sAm3: 3 * K, sAm4: 4 * K, sAk: 1, sBz: 0, sBk: N, sBn: 1 };
  const which = process.argv[2] ?? 'all';
  if (which === 'simple' || which === 'all') {
    console.log('--- kernelSimple (one output per thread): kernel_simd ---');
    console.log(pretty(trace(kernelSimple, { output: [N, M, 1], constants: strides }, [a, b])));
  }
  if (which === 'fast' || which === 'all') {
    console.log('--- kernelRows4 (4 rows per thread, integer running indices): kernel_simd ---');
    console.log(pretty(trace(kernelRows4, { output: [N, M / 4, 1], constants: strides, strictIntegers: true, returnType: 'Array(4)' }, [a, b])));
  }
}
