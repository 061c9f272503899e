// A personal model fitted in the page: a correction of the engine's linear classifier from windows
// the user labelled by doing each activity on request.
//
// The engine's classifier is softmax(W f + b) on the 561 features f. Fine-tuning it from (W, b)
// means learning (W + dW, b + db), whose logits are the engine's log-probabilities plus dW f + db
// (softmax ignores a per-window constant). So the page needs neither W nor a rebuilt graph: it
// fits dW, db by L2-regularised logistic regression on the graph's `features` and
// `probabilities` outputs, starting from zero (the engine itself), and applies them after the graph.

const STORE_KEY = 'har-engine.personal-model.v1';
const WINDOWS_PER_PROMPT = 23;        // about 30 s of one activity at 1.28 s per window
const L2 = 1e-2;                      // pull towards the engine's own classifier
const STEPS = 300;
const LEARNING_RATE = 0.5;

/** Logits of the personal model: log p + x dW + db; returns probabilities (array). */
export function personalProbabilities(model, features, probabilities) {
  const k = probabilities.length, d = features.length;
  const z = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = Math.log(Math.max(probabilities[c], 1e-7)) + model.db[c];
    for (let j = 0; j < d; j++) s += features[j] * model.dW[j * k + c];
    z[c] = s;
  }
  const m = Math.max(...z);
  let sum = 0;
  for (let c = 0; c < k; c++) { z[c] = Math.exp(z[c] - m); sum += z[c]; }
  return Array.from(z, (v) => v / sum);
}

/**
 * Fits dW (d x k, row-major) and db (k) by full-batch gradient descent on the mean cross-entropy
 * plus L2 / 2 * |dW|^2. examples: [{x: features (d), logp: log-probabilities (k), y: class index}].
 */
export function fitPersonalModel(examples, k, { l2 = L2, steps = STEPS, learningRate = LEARNING_RATE } = {}) {
  const d = examples[0].x.length, n = examples.length;
  const dW = new Float64Array(d * k), db = new Float64Array(k);
  const gW = new Float64Array(d * k), gb = new Float64Array(k);
  const z = new Float64Array(k);
  for (let step = 0; step < steps; step++) {
    gW.fill(0); gb.fill(0);
    for (const { x, logp, y } of examples) {
      for (let c = 0; c < k; c++) {
        let s = logp[c] + db[c];
        for (let j = 0; j < d; j++) s += x[j] * dW[j * k + c];
        z[c] = s;
      }
      const m = Math.max(...z);
      let sum = 0;
      for (let c = 0; c < k; c++) { z[c] = Math.exp(z[c] - m); sum += z[c]; }
      for (let c = 0; c < k; c++) {
        const err = z[c] / sum - (c === y ? 1 : 0);
        gb[c] += err;
        for (let j = 0; j < d; j++) gW[j * k + c] += err * x[j];
      }
    }
    for (let i = 0; i < d * k; i++) dW[i] -= learningRate * (gW[i] / n + l2 * dW[i]);
    for (let c = 0; c < k; c++) db[c] -= learningRate * (gb[c] / n);
  }
  return { dW: Array.from(dW), db: Array.from(db) };
}

export class Calibration {
  constructor(engine, box, buttons, status) {
    this.engine = engine;
    this.status = status;
    this.examples = [];
    this.activeClass = null;
    this.digest = engine.meta.model_digest || engine.meta.digest || 'unknown';
    this.model = this._load();
    this.buttons = engine.classNames.map((name, i) => {
      const b = document.createElement('button');
      b.textContent = `Record ${name.replaceAll('_', ' ').toLowerCase()}`;
      b.addEventListener('click', () => this.start(i));
      buttons.appendChild(b);
      return b;
    });
    this._show();
  }

  get active() { return this.activeClass !== null; }

  /** Starts labelling the next windows as class index i. */
  start(i) {
    this.activeClass = i;
    this.remaining = WINDOWS_PER_PROMPT;
    this.buttons.forEach((b, j) => b.classList.toggle('recording', j === i));
    this._show(`Now ${this.engine.classNames[i].replaceAll('_', ' ').toLowerCase()} for about 30 s…`);
  }

  /** Keeps one valid window for the class being recorded (or for `classIndex` when given). */
  record(result, classIndex = this.activeClass) {
    if (!result.valid || classIndex === null) return;
    this.examples.push({
      x: Float64Array.from(result.features),
      logp: Float64Array.from(result.probabilities, (p) => Math.log(Math.max(p, 1e-7))),
      y: classIndex,
    });
    if (this.activeClass !== null && --this.remaining <= 0) {
      this.activeClass = null;
      this.buttons.forEach((b) => b.classList.remove('recording'));
    }
    this._show();
  }

  fit() {
    if (this.examples.length < 10) {
      this._show('Record at least 10 windows (about 13 s) before fitting.');
      return null;
    }
    const started = performance.now();
    const model = fitPersonalModel(this.examples, this.engine.classNames.length);
    this.model = { ...model, digest: this.digest, windows: this.examples.length, fitted: new Date().toISOString() };
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(this.model));
    } catch (err) {
      this._show(`Fitted, but the browser refused to store it: ${err.message}`);
      return this.model;
    }
    this._show(`Personal model fitted on ${this.examples.length} windows in ${(performance.now() - started).toFixed(0)} ms and stored in this browser.`);
    return this.model;
  }

  clear() {
    localStorage.removeItem(STORE_KEY);
    this.model = null;
    this.examples = [];
    this._show('Personal model forgotten: the engine\'s own classifier is used.');
  }

  /** The probabilities to show: the personal model's when one is stored, else the engine's. */
  apply(result) {
    if (!this.model) return result.probabilities;
    return personalProbabilities(this.model, result.features, result.probabilities);
  }

  _load() {
    try {
      const m = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
      return m && m.digest === this.digest ? m : null;    // a personal model belongs to one engine
    } catch { return null; }
  }

  _show(text) {
    const counts = this.engine.classNames.map((_, i) => this.examples.filter((e) => e.y === i).length);
    const using = this.model ? `Using a personal model (${this.model.windows} windows, ${this.model.fitted}).` : 'Using the engine\'s own classifier.';
    this.status.textContent = `${text ? text + ' ' : ''}Windows recorded: ${counts.join(' / ')}. ${using}`;
  }
}
