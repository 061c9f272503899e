// Irregular sensor events onto the engine's 50 Hz grid by linear interpolation.

/**
 * Streams timestamped rows onto a uniform grid that starts at the first row's time.
 * push(t, row) returns the grid rows that became computable: each is {k, values}, k the grid index.
 * Times in seconds, strictly increasing; a row at or before the previous time is ignored.
 */
export class LinearResampler {
  constructor(rateHz, width) {
    this.rateHz = rateHz;
    this.width = width;
    this.reset();
  }

  reset() {
    this.t0 = null;       // grid origin, s
    this.k = 0;           // next grid index
    this.prevT = null;
    this.prev = null;
  }

  push(t, row) {
    const out = [];
    if (this.t0 === null) {
      this.t0 = t;
      this.prevT = t;
      this.prev = Float64Array.from(row);
      out.push({ k: this.k++, values: Float64Array.from(row) });
      return out;
    }
    if (!(t > this.prevT)) return out;
    for (;;) {
      const tg = this.t0 + this.k / this.rateHz;
      if (tg > t) break;
      const w = (tg - this.prevT) / (t - this.prevT);
      const values = new Float64Array(this.width);
      for (let j = 0; j < this.width; j++) values[j] = w === 0 ? this.prev[j] : w === 1 ? row[j] : this.prev[j] + w * (row[j] - this.prev[j]);
      out.push({ k: this.k++, values });
    }
    this.prevT = t;
    this.prev = Float64Array.from(row);
    return out;
  }
}
