/** Dependency-free SVG charts for BENCHMARKS.md: horizontal bars and a multi-series line chart. */

const FONT = `font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif" font-size="12"`;
const COLORS = [
  "#2563eb",
  "#dc2626",
  "#16a34a",
  "#9333ea",
  "#ea580c",
  "#0891b2",
  "#ca8a04",
  "#db2777",
  "#4b5563",
  "#65a30d",
  "#7c3aed",
  "#0f766e",
];

const esc = (s: string): string => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** A "nice" axis maximum (1, 2 or 5 × a power of ten) at or above `v`. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export interface Bar {
  label: string;
  value: number;
  /** text after the bar, e.g. "123,456 /s · 8.1 CPU s/1M" */
  note: string;
  highlight?: boolean;
}

/** The opening lines of a chart: the svg element on a white background, and the title. */
function svgStart(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
}

export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const labelW = 330;
  const barW = 380;
  const noteW = 230;
  const rowH = 24;
  const top = 40;
  const width = labelW + barW + noteW;
  const height = top + bars.length * rowH + 30;
  const max = niceMax(Math.max(...bars.map((b) => b.value)));
  const out = svgStart(width, height, title);
  for (let t = 0; t <= 4; t++) {
    const x = labelW + (barW * t) / 4;
    out.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${top + bars.length * rowH}" stroke="#e5e7eb"/>`);
    out.push(
      `<text x="${x}" y="${height - 10}" text-anchor="middle" fill="#6b7280">${esc(((max * t) / 4).toLocaleString("en-US"))}</text>`,
    );
  }
  out.push(`<text x="${labelW + barW}" y="${height - 10}" dx="8" fill="#6b7280">${esc(unit)}</text>`);
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const w = Number.isFinite(b.value) ? Math.max(1, (barW * b.value) / max) : 0;
    out.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`);
    out.push(
      `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${b.highlight ? "#2563eb" : "#9ca3af"}"/>`,
    );
    out.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}" fill="#111827">${esc(b.note)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

export interface Series {
  label: string;
  /** [x, y] points */
  points: ReadonlyArray<readonly [number, number]>;
}

export function lineChart(title: string, xUnit: string, yUnit: string, series: readonly Series[]): string {
  const left = 60;
  const plotW = 640;
  const plotH = 300;
  const top = 40;
  const legendW = 280;
  const width = left + plotW + legendW;
  const height = top + plotH + 45;
  const xMax = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0]))));
  const yMax = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const X = (x: number): number => left + (plotW * x) / xMax;
  const Y = (y: number): number => top + plotH - (plotH * y) / yMax;
  const out = svgStart(width, height, title);
  for (let t = 0; t <= 5; t++) {
    const y = Y((yMax * t) / 5);
    const x = X((xMax * t) / 5);
    out.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#6b7280">${esc(((yMax * t) / 5).toLocaleString("en-US"))}</text>`);
    out.push(
      `<text x="${x}" y="${top + plotH + 18}" text-anchor="middle" fill="#6b7280">${esc(((xMax * t) / 5).toLocaleString("en-US"))}</text>`,
    );
  }
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 38}" text-anchor="middle" fill="#6b7280">${esc(xUnit)}</text>`);
  out.push(`<text x="${left}" y="${top - 8}" fill="#6b7280">${esc(yUnit)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ");
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    const ly = top + 10 + i * 18;
    out.push(`<line x1="${left + plotW + 16}" y1="${ly}" x2="${left + plotW + 36}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${left + plotW + 42}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}
