// Recordings to replay: the bundled sample (.npz) and engine CSV files.
import { readNpz } from './npz.js';

const CSV_COLUMNS = ['t', 'acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z'];

/**
 * A recording: t (s from its first sample), acc (n x 3, g), gyro (n x 3, rad/s), labels (n, or null).
 * @typedef {{t: Float64Array, acc: Float64Array, gyro: Float64Array, labels: Int32Array|null, n: number, name: string}} Recording
 */

/** The bundled .npz: acc (n,3) g, gyro (n,3) rad/s, labels (n,), sample_rate_hz. */
export async function loadNpzRecording(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const arrays = await readNpz(await response.arrayBuffer());
  for (const key of ['acc', 'gyro', 'sample_rate_hz']) {
    if (!arrays[key]) throw new Error(`${url}: no '${key}' array`);
  }
  const n = arrays.acc.shape[0];
  const rate = Number(arrays.sample_rate_hz.data[0]);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = i / rate;
  return {
    t, n, name: url.split('/').pop(),
    acc: Float64Array.from(arrays.acc.data),
    gyro: Float64Array.from(arrays.gyro.data),
    labels: arrays.labels ? Int32Array.from(arrays.labels.data, Number) : null,
  };
}

/** Engine CSV: header t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z[,label] in any order; t in s, g, rad/s. */
export function parseEngineCsv(text, name = 'recording.csv') {
  const lines = text.split(/\r?\n/);
  const header = lines[0].split(',').map((s) => s.trim().toLowerCase());
  const index = {};
  for (const col of [...CSV_COLUMNS, 'label']) index[col] = header.indexOf(col);
  const missing = CSV_COLUMNS.filter((c) => index[c] < 0);
  if (missing.length) throw new Error(`${name}, line 1: missing column(s) ${missing.join(', ')}; expected ${CSV_COLUMNS.join(',')}[,label]`);
  const rows = lines.slice(1).map((l, i) => [l, i + 2]).filter(([l]) => l.trim() !== '');
  const n = rows.length;
  const t = new Float64Array(n), acc = new Float64Array(n * 3), gyro = new Float64Array(n * 3);
  const labels = index.label >= 0 ? new Int32Array(n) : null;
  rows.forEach(([line, lineNo], i) => {
    const cells = line.split(',');
    const num = (col) => {
      const cell = cells[index[col]];
      const v = cell === undefined ? NaN : Number(cell);
      if (cell === undefined || cell.trim() === '' || Number.isNaN(v)) {
        throw new Error(`${name}, line ${lineNo}, column ${index[col] + 1} (${col}): expected a number, got ${JSON.stringify(cell ?? '')}`);
      }
      return v;
    };
    t[i] = num('t');
    if (i > 0 && !(t[i] > t[i - 1])) throw new Error(`${name}, line ${lineNo}, column ${index.t + 1} (t): times must increase`);
    for (let j = 0; j < 3; j++) {
      acc[i * 3 + j] = num(CSV_COLUMNS[1 + j]);
      gyro[i * 3 + j] = num(CSV_COLUMNS[4 + j]);
    }
    if (labels) labels[i] = num('label');
  });
  if (n === 0) throw new Error(`${name}: no samples after the header`);
  const origin = t[0];
  for (let i = 0; i < n; i++) t[i] -= origin;
  return { t, acc, gyro, labels, n, name };
}

export async function loadRecording(source) {
  if (source instanceof File) {
    if (source.name.endsWith('.npz')) return loadNpzRecording(URL.createObjectURL(source));
    return parseEngineCsv(await source.text(), source.name);
  }
  if (source.split('?')[0].endsWith('.npz')) return loadNpzRecording(source);
  const response = await fetch(source);
  if (!response.ok) throw new Error(`${source}: HTTP ${response.status}`);
  return parseEngineCsv(await response.text(), source.split('/').pop());
}
