/**
 * Pictures as plain SVG text: loss curves and attention maps.
 *
 * Results people would rather look at than read are written as SVG files, which
 * every browser and most viewers open, need no dependency to produce, and diff as
 * text. These are pure functions from numbers to a string.
 *
 * @module
 */

/** One named curve: points (x, y) in increasing x. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
}

/** Colours that stay distinct for colour-blind readers (Okabe–Ito). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** A line chart of several series with axes, ticks, and a legend. */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const W = options.width ?? 720;
  const H = options.height ?? 420;
  const m = { left: 64, right: 170, top: 40, bottom: 52 };
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => y);
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const y0 = ys.length ? Math.min(...ys) : 0;
  const y1 = ys.length ? Math.max(...ys) : 1;
  const pad = (y1 - y0) * 0.05 || 0.5;
  const [ylo, yhi] = [y0 - pad, y1 + pad];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const sy = (y: number) => H - m.bottom - ((y - ylo) / (yhi - ylo)) * (H - m.top - m.bottom);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2 - m.right / 2 + m.left / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  for (const t of niceTicks(ylo, yhi)) {
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${H - m.bottom}" y2="${H - m.bottom + 5}" stroke="#333"/>`);
    out.push(`<text x="${sx(t).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const path = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    if (path) out.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${W - m.right + 12}" x2="${W - m.right + 36}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`);
    out.push(`<text x="${W - m.right + 42}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * A heat map of a [rows, cols] matrix with values in [0, 1] (e.g. attention
 * probabilities: row = query position, column = key position), with optional
 * row and column labels (tokens).
 */
export function heatmap(values: Float32Array | readonly number[], rows: number, cols: number, options: { title: string; rowLabels?: readonly string[]; colLabels?: readonly string[]; cell?: number }): string {
  const c = options.cell ?? 22;
  const left = options.rowLabels ? 90 : 20;
  const top = options.colLabels ? 100 : 40;
  const W = left + cols * c + 20;
  const H = top + rows * c + 20;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="18" font-size="14">${escapeXml(options.title)}</text>`);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = Math.max(0, Math.min(1, values[i * cols + j]));
      const shade = Math.round(255 * (1 - v));
      out.push(`<rect x="${left + j * c}" y="${top + i * c}" width="${c}" height="${c}" fill="rgb(${shade},${shade},255)"><title>${i},${j}: ${v.toFixed(3)}</title></rect>`);
    }
    if (options.rowLabels) out.push(`<text x="${left - 4}" y="${top + i * c + c * 0.7}" text-anchor="end">${escapeXml(options.rowLabels[i] ?? '')}</text>`);
  }
  if (options.colLabels) {
    for (let j = 0; j < cols; j++) {
      out.push(`<text transform="translate(${left + j * c + c * 0.7} ${top - 4}) rotate(-60)">${escapeXml(options.colLabels[j] ?? '')}</text>`);
    }
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
