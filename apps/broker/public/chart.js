// A small line chart in SVG (no dependencies): a rolling window of samples per series, a
// y axis scaled to the visible maximum with round ticks, and a legend.

const NS = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 200;
const PAD = { left: 56, right: 12, top: 26, bottom: 22 };

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^n) at or above v, divisible into 4 ticks. */
function niceCeil(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function formatNumber(v) {
  if (v >= 1e9) return `${Number((v / 1e9).toFixed(1))}G`;
  if (v >= 1e6) return `${Number((v / 1e6).toFixed(1))}M`;
  if (v >= 1e5) return `${Math.round(v / 1e3)}k`;
  if (v >= 1e4) return `${Number((v / 1e3).toFixed(1))}k`;
  if (v >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toFixed(1);
}

export class LineChart {
  /**
   * @param {SVGSVGElement} svg
   * @param {{ series: { name: string, color: string }[], capacity?: number, unit?: string }} options
   */
  constructor(svg, options) {
    this.svg = svg;
    this.series = options.series;
    this.capacity = options.capacity ?? 90;
    this.unit = options.unit ?? '';
    /** @type {{ t: number, values: number[] }[]} */
    this.samples = [];
    this.render();
  }

  /** Adds one sample (a value per series) and redraws. */
  push(t, values) {
    this.samples.push({ t, values });
    if (this.samples.length > this.capacity) this.samples.shift();
    this.render();
  }

  render() {
    const svg = this.svg;
    svg.replaceChildren();
    const innerW = W - PAD.left - PAD.right;
    const innerH = H - PAD.top - PAD.bottom;
    let max = 0;
    for (const s of this.samples) for (const v of s.values) if (v > max) max = v;
    const top = niceCeil(max * 1.1);
    svg.dataset.samples = String(this.samples.length);
    svg.dataset.max = String(max);

    // Grid and y labels.
    for (let i = 0; i <= 4; i++) {
      const y = PAD.top + innerH - (innerH * i) / 4;
      svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: i === 0 ? 'axis' : 'grid' }));
      svg.append(el('text', { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, formatNumber((top * i) / 4)));
    }
    // Legend.
    let lx = PAD.left;
    for (const s of this.series) {
      svg.append(el('rect', { x: lx, y: 8, width: 10, height: 10, rx: 2, fill: s.color }));
      const label = el('text', { x: lx + 14, y: 17, class: 'legend' }, s.name);
      svg.append(label);
      lx += 16 + s.name.length * 7 + 18;
    }
    if (this.samples.length === 0) {
      svg.append(
        el(
          'text',
          { x: PAD.left + innerW / 2, y: PAD.top + innerH / 2, 'text-anchor': 'middle', class: 'empty' },
          'waiting for $SYS updates…',
        ),
      );
      return;
    }
    // Time labels: span of the window.
    const t0 = this.samples[0].t;
    const t1 = this.samples[this.samples.length - 1].t;
    svg.append(el('text', { x: PAD.left, y: H - 6, class: 'tick' }, `-${Math.round((t1 - t0) / 1000)} s`));
    svg.append(el('text', { x: W - PAD.right, y: H - 6, 'text-anchor': 'end', class: 'tick' }, 'now'));

    // The window fills the width from the first sample on; it scrolls once full.
    const step = innerW / Math.max(1, this.samples.length - 1);
    const x0 = PAD.left;
    this.series.forEach((s, k) => {
      const pts = this.samples.map(
        (p, i) => `${(x0 + i * step).toFixed(1)},${(PAD.top + innerH - (innerH * (p.values[k] ?? 0)) / top).toFixed(1)}`,
      );
      if (pts.length === 1) {
        const [x, y] = pts[0].split(',');
        svg.append(el('circle', { cx: x, cy: y, r: 2.5, fill: s.color }));
      } else {
        const area = `${x0.toFixed(1)},${PAD.top + innerH} ${pts.join(' ')} ${(x0 + (pts.length - 1) * step).toFixed(1)},${PAD.top + innerH}`;
        svg.append(el('polygon', { points: area, fill: s.color, 'fill-opacity': 0.08 }));
        // Later series dashed, so equal rates (in = out) stay visible as two lines.
        const dash = k > 0 ? { 'stroke-dasharray': '6 4' } : {};
        svg.append(
          el('polyline', {
            points: pts.join(' '),
            fill: 'none',
            stroke: s.color,
            'stroke-width': 2,
            'stroke-linejoin': 'round',
            class: 'series',
            ...dash,
          }),
        );
      }
    });
  }
}
