// A scrolling strip of the last minutes: one coloured slot per window, its alpha the confidence.

export class Timeline {
  /** @param {HTMLCanvasElement} canvas  @param {number} hopS seconds between windows */
  constructor(canvas, hopS, spanS = 300) {
    this.canvas = canvas;
    this.hopS = hopS;
    this.spanS = spanS;
    this.items = [];
    this.pending = false;
    this.colors = [0, 1, 2, 3, 4, 5, 6].map((i) => getComputedStyle(document.documentElement).getPropertyValue(`--c${i}`).trim());
  }

  clear() { this.items = []; this.draw(); }

  /** start in s, labelId 1..6 (0 = unknown), confidence 0..1 */
  add(start, labelId, confidence) {
    this.items.push({ start, labelId, confidence });
    while (this.items.length && this.items[0].start < start - this.spanS) this.items.shift();
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.draw(); });
      setTimeout(() => { if (this.pending) { this.pending = false; this.draw(); } }, 100);
    }
  }

  draw() {
    const c = this.canvas, dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr)), h = Math.round(c.clientHeight * dpr);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const g = c.getContext('2d');
    g.clearRect(0, 0, w, h);
    const axis = 16 * dpr, barH = h - axis;
    const end = this.items.length ? this.items[this.items.length - 1].start + this.hopS : this.spanS;
    const begin = end - this.spanS;
    const x = (t) => ((t - begin) / this.spanS) * w;
    for (const it of this.items) {
      g.globalAlpha = 0.35 + 0.65 * it.confidence;
      g.fillStyle = this.colors[it.labelId] || this.colors[0];
      const x0 = Math.floor(x(it.start)), x1 = Math.ceil(x(it.start + this.hopS));
      g.fillRect(x0, 0, Math.max(1, x1 - x0), barH);
    }
    g.globalAlpha = 1;
    g.fillStyle = '#9aa0a6';
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    for (let m = Math.ceil(begin / 60); m * 60 <= end; m++) {
      if (m < 0) continue;
      g.fillRect(x(m * 60), barH, 1, 4 * dpr);
      g.fillText(`${m} min`, x(m * 60) + 3 * dpr, h - 3 * dpr);
    }
  }
}
