/**
 * The echo benchmark's plot: one panel per cell (rows: connections,
 * columns: message size), a horizontal bar per server with its median
 * requests/s and a whisker from the slowest to the fastest rep. Plain SVG
 * text, no dependencies.
 *
 * @module
 */

/** One bar: a server's median and range in one cell. */
export interface Bar {
  label: string;
  median: number;
  min: number;
  max: number;
  /** Bar colour. */
  color: string;
}

/** One panel of the grid. */
export interface Panel {
  title: string;
  bars: Bar[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** `12,345` → `12.3k`. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

/** A grid of `cols` panels per row; returns the SVG document. */
export function gridSvg(title: string, panels: Panel[], cols: number): string {
  const labelW = 150, panelW = 250, barH = 13, gap = 3, headH = 22, padB = 16;
  const rowsPer = Math.max(...panels.map((p) => p.bars.length));
  const panelH = headH + rowsPer * (barH + gap) + padB;
  const rows = Math.ceil(panels.length / cols);
  const width = labelW + cols * (panelW + 20) + 10;
  const height = 40 + rows * panelH + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, i) => {
    const col = i % cols, row = Math.floor(i / cols);
    const x0 = labelW + col * (panelW + 20), y0 = 40 + row * panelH;
    const scale = Math.max(1, ...panel.bars.map((b) => (Number.isFinite(b.max) ? b.max : 0)));
    const w = (v: number) => (Number.isFinite(v) ? (v / scale) * (panelW - 45) : 0);
    out.push(
      `<text x="${x0}" y="${y0 + 14}" font-weight="bold">${esc(panel.title)}</text>`,
      `<line x1="${x0}" y1="${y0 + headH - 2}" x2="${x0}" y2="${
        y0 + headH + rowsPer * (barH + gap)
      }" stroke="#888"/>`,
    );
    panel.bars.forEach((b, k) => {
      const y = y0 + headH + k * (barH + gap);
      if (col === 0) {
        out.push(
          `<text x="${x0 - 6}" y="${y + barH - 3}" text-anchor="end">${esc(b.label)}</text>`,
        );
      }
      if (!Number.isFinite(b.median)) {
        out.push(`<text x="${x0 + 4}" y="${y + barH - 3}" fill="#b00">n/a</text>`);
        return;
      }
      const cy = y + barH / 2;
      out.push(
        `<rect x="${x0}" y="${y}" width="${
          w(b.median).toFixed(1)
        }" height="${barH}" fill="${b.color}"/>`,
        `<line x1="${(x0 + w(b.min)).toFixed(1)}" y1="${cy}" x2="${
          (x0 + w(b.max)).toFixed(1)
        }" y2="${cy}" stroke="#222" stroke-width="1"/>`,
        `<text x="${(x0 + w(b.max) + 3).toFixed(1)}" y="${y + barH - 3}" fill="#333">${
          compact(b.median)
        }</text>`,
      );
    });
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
