/**
 * Drawing the page's views from the model's outputs: token chips, the attention
 * heat map, the next-token bars, the hidden-state norms. Plain DOM and canvas.
 *
 * @module
 */

/** Makes an element with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', textContent = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (textContent) e.textContent = textContent;
  return e;
}

/** How a BPE piece is shown: `</w>` as a mark, newlines and tabs escaped. */
export function showPiece(piece: string): { text: string; endOfWord: boolean } {
  const endOfWord = piece.endsWith('</w>');
  const body = endOfWord ? piece.slice(0, -4) : piece;
  return { text: body.replace(/\n/g, '\\n').replace(/\t/g, '\\t'), endOfWord };
}

/** One chip: the piece, the end-of-word mark, and the id (also in `data-id`). */
export function chip(piece: string, id: number, unknown = false): HTMLSpanElement {
  const { text, endOfWord } = showPiece(piece);
  const c = el('span', unknown ? 'chip unk' : 'chip', text);
  if (endOfWord) c.append(el('span', 'eow', '⌟'));
  c.append(el('sub', '', String(id)));
  c.dataset.id = String(id);
  c.dataset.piece = piece;
  c.title = unknown ? `${JSON.stringify(piece)} is not in the vocabulary: id 0 (<unk>), as the original TextEncoder does` : `${JSON.stringify(piece)} → ${id}`;
  return c;
}

/** Colour of a probability in [0, 1]: white → dark blue. */
function blue(p: number): string {
  const t = Math.max(0, Math.min(1, p));
  return `rgb(${Math.round(255 - 218 * t)}, ${Math.round(255 - 156 * t)}, ${Math.round(255 - 20 * t)})`;
}

/**
 * The attention probabilities of one head as a T × T heat map (row: query, column:
 * key), with the piece labels; exact zeros (the causal mask) are hatched.
 * @param probs - the head's [T, T] probabilities, row-major
 */
export function drawAttention(canvas: HTMLCanvasElement, probs: Float32Array, labels: readonly string[]): void {
  const T = labels.length;
  const margin = 70;
  const size = Math.max(160, Math.min(520, T * 28));
  const cell = size / T;
  canvas.width = margin + size + 8;
  canvas.height = margin + size + 8;
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const p = probs[i * T + j];
      const x = margin + j * cell;
      const y = margin + i * cell;
      if (p === 0) {
        g.fillStyle = '#f1f1f1';
        g.fillRect(x, y, cell, cell);
        g.strokeStyle = '#c8c8c8';
        g.beginPath();
        g.moveTo(x, y + cell);
        g.lineTo(x + cell, y);
        g.stroke();
      } else {
        g.fillStyle = blue(p);
        g.fillRect(x, y, cell, cell);
      }
    }
  }
  g.strokeStyle = '#999';
  g.strokeRect(margin, margin, size, size);
  g.fillStyle = '#333';
  g.font = `${Math.min(12, Math.max(8, cell * 0.6))}px monospace`;
  g.textBaseline = 'middle';
  for (let i = 0; i < T; i++) {
    const label = labels[i].slice(0, 8);
    g.textAlign = 'right';
    g.fillText(label, margin - 4, margin + (i + 0.5) * cell);
    g.save();
    g.translate(margin + (i + 0.5) * cell, margin - 4);
    g.rotate(-Math.PI / 2);
    g.textAlign = 'left';
    g.fillText(label, 0, 0);
    g.restore();
  }
}

/** One row of the next-token view. */
export interface Candidate {
  readonly id: number;
  readonly piece: string;
  readonly p: number;
}

/** The top-k list: one `li` per candidate with `data-id` and `data-p`, bars scaled to the most probable. */
export function drawNextTokens(list: HTMLElement, top: readonly Candidate[]): void {
  const scale = Math.max(...top.map((c) => c.p), 1e-30);
  list.replaceChildren(
    ...top.map((c) => {
      const li = el('li');
      li.dataset.id = String(c.id);
      li.dataset.p = String(c.p);
      const { text, endOfWord } = showPiece(c.piece);
      const label = el('span', '', text + (endOfWord ? '⌟' : ''));
      label.title = `${JSON.stringify(c.piece)} (id ${c.id})`;
      const bar = el('span');
      const fill = el('div', 'b');
      fill.style.width = `${((100 * c.p) / scale).toFixed(2)}%`;
      bar.append(fill);
      li.append(label, bar, el('span', 'p', c.p.toFixed(4)));
      return li;
    }),
  );
}

/**
 * The norm ‖h_l[t]‖ of every hidden state, layer l (row, h₀ = embeddings at the
 * top) by position t (column); each row is coloured from its smallest to its largest
 * norm (the embeddings are much smaller than the block outputs), with the values.
 */
export function drawNorms(canvas: HTMLCanvasElement, norms: readonly (readonly number[])[]): void {
  const L = norms.length;
  const T = norms[0]?.length ?? 0;
  const left = 34;
  const cellW = Math.max(16, Math.min(48, 460 / Math.max(1, T)));
  const cellH = 22;
  canvas.width = left + cellW * T + 4;
  canvas.height = cellH * L + 4;
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.font = '10px monospace';
  g.textBaseline = 'middle';
  norms.forEach((row, l) => {
    const lo = Math.min(...row);
    const span = Math.max(...row) - lo || 1;
    g.fillStyle = '#333';
    g.textAlign = 'left';
    g.fillText(`h${l}`, 2, l * cellH + cellH / 2);
    row.forEach((v, t) => {
      const x = 0.15 + (0.85 * (v - lo)) / span;
      g.fillStyle = blue(x);
      g.fillRect(left + t * cellW, l * cellH, cellW - 1, cellH - 1);
      g.fillStyle = x > 0.6 ? '#fff' : '#333';
      g.textAlign = 'center';
      if (cellW >= 26) g.fillText(v.toFixed(1), left + (t + 0.5) * cellW, l * cellH + cellH / 2);
    });
  });
}
