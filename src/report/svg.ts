/**
 * Pictures as plain SVG text: loss curves and attention maps.
 *
 * Results people would rather look at than read are written as SVG files, which
 * every browser and most viewers open, need no dependency to produce, and diff as
 * text. These are pure functions from numbers to a string.
 *
 * @module
 */

/** How a curve is drawn: colour (default: the palette's next), opacity, line width, dash pattern, dots at its points, and which y axis it uses. */
export interface SeriesStyle {
  readonly colour?: string;
  readonly opacity?: number;
  readonly width?: number;
  /** An SVG `stroke-dasharray`, e.g. `'6 4'`. */
  readonly dash?: string;
  /** Draw a dot at every point (for a few measurements, e.g. once per epoch). */
  readonly markers?: boolean;
  /** `'right'`: plotted against the chart's right axis (`ChartOptions.right`). */
  readonly axis?: 'left' | 'right';
}

/** One named curve: points (x, y) in increasing x. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly style?: SeriesStyle;
}

/** A labelled vertical line across the plot (e.g. the end of an epoch). */
export interface XMark {
  readonly x: number;
  readonly label: string;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  /** Vertical marks, dashed, labelled at the top. */
  readonly xMarks?: readonly XMark[];
  /** A second y axis on the right, for the series with `axis: 'right'`; its range defaults to theirs. */
  readonly right?: { readonly label: string; readonly min?: number; readonly max?: number };
}

/** Colours that stay distinct for colour-blind readers (Okabe–Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(lo, hi, count);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The round step (1, 2, 2.5 or 5 times a power of ten) giving about `count` ticks over [lo, hi]. */
function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

/**
 * A range for an axis showing [lo, hi]: widened to whole tick steps, so that both
 * ends of the axis carry a labelled tick.
 */
export function niceRange(lo: number, hi: number, count = 5): [number, number] {
  if (!(hi > lo)) return [lo - 0.5, hi + 0.5];
  let step = niceStep(lo, hi, count);
  for (;;) {
    const range: [number, number] = [Number((Math.floor(lo / step + 1e-9) * step).toPrecision(12)), Number((Math.ceil(hi / step - 1e-9) * step).toPrecision(12))];
    // niceTicks picks its step from the widened range: stop when it is the same step (it only grows, so this ends).
    const again = niceStep(range[0], range[1], count);
    if (again <= step) return range;
    step = again;
  }
}

function fmt(v: number): string {
  return Math.abs(v) >= 10000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** The finite points of a series. */
const finite = (s: Series) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));

/**
 * A line chart of several series with axes, labelled ticks at both ends of each
 * axis, a legend, optional vertical marks and an optional right-hand axis.
 */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const hasRight = options.right !== undefined && series.some((s) => s.style?.axis === 'right');
  // The legend's column is as wide as its longest name; the plot keeps at least 440 px.
  const legendWidth = 30 + Math.max(60, ...series.map((s) => textWidth(s.name, 12))) + 12;
  const m = { left: 64, right: (hasRight ? 66 : 12) + legendWidth, top: 48, bottom: 52 };
  const W = Math.max(options.width ?? 760, m.left + 440 + m.right);
  const H = options.height ?? 440;
  const plotRight = W - m.right;
  const range = (which: 'left' | 'right', fixed?: { min?: number; max?: number }): [number, number] => {
    const ys = series.filter((s) => (s.style?.axis ?? 'left') === which).flatMap(finite).map(([, y]) => y);
    const lo = fixed?.min ?? (ys.length ? Math.min(...ys) : 0);
    const hi = fixed?.max ?? (ys.length ? Math.max(...ys) : 1);
    return fixed?.min !== undefined && fixed?.max !== undefined ? [lo, hi] : niceRange(lo, hi);
  };
  const xs = [...series.flatMap(finite).map(([x]) => x), ...(options.xMarks ?? []).map((k) => k.x)];
  const [x0, x1] = niceRange(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1);
  const [ylo, yhi] = range('left');
  const [rlo, rhi] = hasRight ? range('right', options.right) : [0, 1];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (plotRight - m.left);
  const syOf = (lo: number, hi: number) => (y: number) => H - m.bottom - ((y - lo) / (hi - lo || 1)) * (H - m.top - m.bottom);
  const sy = syOf(ylo, yhi);
  const sr = syOf(rlo, rhi);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${(m.left + plotRight) / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  for (const t of niceTicks(ylo, yhi)) {
    out.push(`<line x1="${m.left}" x2="${plotRight}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${H - m.bottom}" y2="${H - m.bottom + 5}" stroke="#333"/>`);
    out.push(`<text x="${sx(t).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const k of options.xMarks ?? []) {
    out.push(`<line x1="${sx(k.x).toFixed(1)}" x2="${sx(k.x).toFixed(1)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#888" stroke-dasharray="3 3"/>`);
    out.push(`<text x="${sx(k.x).toFixed(1)}" y="${m.top - 6}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(k.label)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${plotRight}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(m.left + plotRight) / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  if (hasRight && options.right) {
    out.push(`<line x1="${plotRight}" x2="${plotRight}" y1="${m.top}" y2="${H - m.bottom}" stroke="#333"/>`);
    for (const t of niceTicks(rlo, rhi)) {
      out.push(`<line x1="${plotRight}" x2="${plotRight + 5}" y1="${sr(t).toFixed(1)}" y2="${sr(t).toFixed(1)}" stroke="#333"/>`);
      out.push(`<text x="${plotRight + 8}" y="${(sr(t) + 4).toFixed(1)}">${fmt(t)}</text>`);
    }
    out.push(`<text transform="translate(${plotRight + 50} ${(m.top + H - m.bottom) / 2}) rotate(90)" text-anchor="middle">${escapeXml(options.right.label)}</text>`);
  }
  const legendX = plotRight + (hasRight ? 66 : 12);
  series.forEach((s, i) => {
    const st = s.style ?? {};
    const colour = st.colour ?? PALETTE[i % PALETTE.length];
    const y = st.axis === 'right' ? sr : sy;
    const pts = finite(s);
    const common = `stroke="${colour}"${st.opacity !== undefined ? ` stroke-opacity="${st.opacity}"` : ''}${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}`;
    const path = pts.map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${sx(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    if (path) out.push(`<path d="${path}" fill="none" ${common} stroke-width="${st.width ?? 2}"/>`);
    if (st.markers) for (const [px, py] of pts) out.push(`<circle cx="${sx(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3.5" fill="${colour}"${st.opacity !== undefined ? ` fill-opacity="${st.opacity}"` : ''}/>`);
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${legendX}" x2="${legendX + 24}" y1="${ly}" y2="${ly}" ${common} stroke-width="3"/>`);
    if (st.markers) out.push(`<circle cx="${legendX + 12}" cy="${ly}" r="3.5" fill="${colour}"/>`);
    out.push(`<text x="${legendX + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Approximate width in pixels of `text` at `size` px in a sans-serif font (for layout; generous). */
export function textWidth(text: string, size: number): number {
  return Math.ceil(text.length * size * 0.6);
}

/**
 * A sequential colour for v in [0, 1]: white → dark blue (perceptually ordered,
 * legible in grey scale).
 */
export function heatColour(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const from = [255, 255, 255];
  const to = [8, 48, 107];
  const c = from.map((f, k) => Math.round(f + (to[k] - f) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * A heat map of a [rows, cols] matrix with values in [0, 1] (e.g. attention
 * probabilities: row = query position, column = key position), with row and column
 * labels (tokens), axis names, and a colour bar from 0 to 1. The picture is wide
 * enough for its title.
 */
export function heatmap(values: Float32Array | readonly number[], rows: number, cols: number, options: { title: string; rowLabels?: readonly string[]; colLabels?: readonly string[]; cell?: number; rowName?: string; colName?: string }): string {
  const c = options.cell ?? 22;
  const fontSize = 11;
  const labelWidth = (labels?: readonly string[]) => (labels && labels.length ? Math.max(...labels.map((l) => textWidth(l, fontSize))) : 0);
  const left = Math.max(40, labelWidth(options.rowLabels) + 28);
  const top = 40 + Math.max(20, Math.ceil(labelWidth(options.colLabels) * 0.87) + 10);
  const mapW = cols * c;
  const bar = { gap: 24, width: 14, labels: 36 };
  const W = Math.max(left + mapW + bar.gap + bar.width + bar.labels + 16, textWidth(options.title, 14) + 40);
  const H = top + rows * c + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="${fontSize}">`);
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="20" y="22" font-size="14">${escapeXml(options.title)}</text>`);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = Math.max(0, Math.min(1, values[i * cols + j]));
      out.push(`<rect x="${left + j * c}" y="${top + i * c}" width="${c}" height="${c}" fill="${heatColour(v)}"><title>${escapeXml(options.rowLabels?.[i] ?? String(i))} → ${escapeXml(options.colLabels?.[j] ?? String(j))}: ${v.toFixed(3)}</title></rect>`);
    }
    out.push(`<text x="${left - 4}" y="${top + i * c + c * 0.7}" text-anchor="end">${escapeXml(options.rowLabels?.[i] ?? String(i))}</text>`);
  }
  for (let j = 0; j < cols; j++) {
    out.push(`<text transform="translate(${left + j * c + c * 0.7} ${top - 4}) rotate(-60)">${escapeXml(options.colLabels?.[j] ?? String(j))}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${mapW}" height="${rows * c}" fill="none" stroke="#333"/>`);
  if (options.colName) out.push(`<text x="${left + mapW / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(options.colName)}</text>`);
  if (options.rowName) out.push(`<text transform="translate(12 ${top + (rows * c) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.rowName)}</text>`);
  // The colour bar: 0 at the bottom, 1 at the top.
  const bx = left + mapW + bar.gap;
  const bh = Math.max(rows * c, 60);
  out.push('<defs><linearGradient id="heat" x1="0" y1="1" x2="0" y2="0">');
  for (const t of [0, 0.25, 0.5, 0.75, 1]) out.push(`<stop offset="${t}" stop-color="${heatColour(t)}"/>`);
  out.push('</linearGradient></defs>');
  out.push(`<rect x="${bx}" y="${top}" width="${bar.width}" height="${bh}" fill="url(#heat)" stroke="#333"/>`);
  for (const t of [0, 0.5, 1]) {
    const y = top + bh - t * bh;
    out.push(`<line x1="${bx + bar.width}" x2="${bx + bar.width + 4}" y1="${y}" y2="${y}" stroke="#333"/>`);
    out.push(`<text x="${bx + bar.width + 6}" y="${y + 4}">${fmt(t)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
