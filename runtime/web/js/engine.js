// The engine graph (engine.onnx) in onnxruntime-web: 64 samples of one stream in, one window's
// probabilities and the next state out.
import * as ort from '../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { readOnnxMetadata } from './onnx_metadata.js';

// One wasm thread: the graph is small, and threads would need a cross-origin-isolated page.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL('../node_modules/onnxruntime-web/dist/', import.meta.url).href;

const REQUIRED = ['hop', 'window', 'sample_rate_hz', 'state_size', 'delay_samples', 'class_names'];

export class Engine {
  /** Loads engine.onnx from a URL and checks its contract metadata. */
  static async load(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} (is the engine graph built?)`);
    const bytes = await response.arrayBuffer();
    const meta = readOnnxMetadata(bytes);
    const missing = REQUIRED.filter((k) => !(k in meta));
    if (missing.length) throw new Error(`${url}: metadata lacks ${missing.join(', ')}`);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    return new Engine(session, meta, bytes.byteLength);
  }

  constructor(session, meta, sizeBytes) {
    this.session = session;
    this.meta = meta;
    this.sizeBytes = sizeBytes;
    this.hop = Number(meta.hop);                      // samples per call
    this.window = Number(meta.window);                // samples per window
    this.rateHz = Number(meta.sample_rate_hz);        // Hz
    this.stateSize = Number(meta.state_size);
    this.delaySamples = Number(meta.delay_samples);
    this.classNames = JSON.parse(meta.class_names);
    this.classIds = meta.class_ids ? JSON.parse(meta.class_ids) : this.classNames.map((_, i) => i + 1);
  }

  newState() { return new Float32Array(this.stateSize); }

  /**
   * One call of the graph for one stream.
   * @param {Float32Array} block hop x 6 samples, row-major: acc x,y,z in g (gravity, Android sign), gyro x,y,z in rad/s
   * @param {Float32Array} state the previous call's state (zeros for a new stream)
   * @returns {Promise<{probabilities: Float32Array, labelId: number, valid: boolean, features: Float32Array, state: Float32Array}>}
   */
  async step(block, state) {
    const feeds = {
      samples: new ort.Tensor('float32', block, [1, this.hop, 6]),
      state: new ort.Tensor('float32', state, [1, this.stateSize]),
    };
    const out = await this.session.run(feeds);
    return {
      probabilities: out.probabilities.data.slice(0, this.classNames.length),
      labelId: Number(out.label.data[0]),
      valid: Boolean(out.valid.data[0]),
      features: out.features.data.slice(),
      state: out.state_out.data.slice(),
    };
  }
}
