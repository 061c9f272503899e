// One sensor stream through the engine: timestamped samples in engine units in, window results out.
// Live motion and replayed recordings both go through this class.
import { LinearResampler } from './resample.js';

export class Stream {
  /**
   * @param {Engine} engine
   * @param {(result) => void} onResult called per window: {start (s), labelId, label, probabilities, valid, features, latencyMs}
   */
  constructor(engine, onResult) {
    this.engine = engine;
    this.onResult = onResult;
    this.resampler = new LinearResampler(engine.rateHz, 6);
    this.reset();
  }

  reset() {
    this.resampler.reset();
    this.state = this.engine.newState();
    this.block = new Float32Array(this.engine.hop * 6);
    this.filled = 0;
    this.consumed = 0;                 // grid samples handed to the graph
    this.queue = Promise.resolve();
    this.generation = (this.generation ?? 0) + 1;
  }

  /** Adds one sample: t in s; acc x,y,z in g (gravity, Android sign); gyro x,y,z in rad/s. */
  push(t, acc, gyro) {
    for (const { values } of this.resampler.push(t, [...acc, ...gyro])) {
      this.block.set(values, this.filled * 6);
      if (++this.filled === this.engine.hop) this._run();
    }
  }

  /** Resolves when every block handed to the graph so far has been reported. */
  drain() { return this.queue; }

  _run() {
    const block = this.block;
    this.block = new Float32Array(this.engine.hop * 6);
    this.filled = 0;
    this.consumed += this.engine.hop;
    const consumed = this.consumed;
    const generation = this.generation;
    const t0 = this.resampler.t0;
    this.queue = this.queue.then(async () => {
      if (generation !== this.generation) return;        // reset while queued
      const started = performance.now();
      const r = await this.engine.step(block, this.state);
      const latencyMs = performance.now() - started;
      if (generation !== this.generation) return;
      this.state = r.state;
      const startSample = consumed - this.engine.window - this.engine.delaySamples;
      this.onResult({
        start: t0 + startSample / this.engine.rateHz,
        startSample,
        labelId: r.labelId,
        label: r.valid ? this.engine.classNames[this.engine.classIds.indexOf(r.labelId)] : 'UNKNOWN',
        probabilities: Array.from(r.probabilities),
        valid: r.valid,
        features: r.features,
        latencyMs,
      });
    });
  }
}
