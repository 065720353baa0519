/**
 * `npm run evolution` at the tiny preset: every architecture trains, the table, the
 * scaling fit and the pictures are written. The numbers at this size are noise (the
 * real run is in docs/results/evolution-quick/); this checks structure and the fit.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { runEvolution } from '../src/evolution/experiment.ts';
import { fitPowerLaw, powerLaw } from '../src/evolution/fit.ts';
import { EVOLUTION_PRESETS } from '../src/evolution/presets.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('npm run evolution at the tiny preset', () => {
  it('trains the seven architectures and the scaling sizes, and writes the table, the fit and the pictures', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gpt1-evolution-'));
    dirs.push(out);
    const r = await runEvolution({ task: 'spam', presetName: 'tiny', preset: EVOLUTION_PRESETS.tiny, seed: 3, out, progress: { write: () => true }, log: () => undefined });
    assert.deepEqual(r.arms.map((a) => a.name), ['GPT-1', '+ RoPE', '+ RMSNorm', '+ Pre-LN', '+ SwiGLU', 'modern', 'moe']);
    for (const a of r.arms) {
      assert.ok(Number.isFinite(a.heldout_lm_loss) && a.heldout_lm_loss > 0, `${a.name}: ${a.heldout_lm_loss}`);
      assert.ok(a.accuracy >= 0 && a.accuracy <= 1);
      const rope = ['+ RoPE', 'modern', 'moe'].includes(a.name);
      assert.equal(a.length.at_2ctx !== null, rope, `${a.name}: only RoPE models run past n_ctx`);
    }
    const moe = r.arms[6];
    assert.ok(moe.active_parameters < moe.parameters, 'moe: active < total');
    assert.equal(r.scaling.points.length, EVOLUTION_PRESETS.tiny.scaling.length + 1);
    for (const f of r.files) assert.ok(existsSync(join(out, f)), f);
    assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| moe \|/);
    assert.match(readFileSync(join(out, 'scaling.svg'), 'utf8'), /^<svg/);
  });

  /* On points that lie exactly on a·N^(−α) + c, the fit gives the curve back (c to the grid step, min L/2000). */
  it('the power-law fit recovers a, α and c from exact points', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 50, noNaN: true }), fc.double({ min: 0.1, max: 0.8, noNaN: true }), fc.double({ min: 0.5, max: 4, noNaN: true }), (a, alpha, c) => {
        const pts = [1e3, 3e3, 1e4, 3e4, 1e5].map((n): [number, number] => [n, a * n ** -alpha + c]);
        const fit = fitPowerLaw(pts, 4000);
        for (const [n, l] of pts) assert.ok(Math.abs(powerLaw(fit, n) - l) < 2e-3 * l, `N ${n}: ${powerLaw(fit, n)} vs ${l}`);
      }),
      { numRuns: 30 },
    );
  });
});
