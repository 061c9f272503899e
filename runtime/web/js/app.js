// The page: loads the engine graph, feeds it live motion or a replayed recording, shows the results.
import { Engine } from './engine.js';
import { Stream } from './stream.js';
import { accelerationSign, motionToEngine, requestMotionPermission, RateMeter } from './motion.js';
import { loadRecording } from './recording.js';
import { Calibration } from './calibration.js';
import { Timeline } from './timeline.js';

const ENGINE_URL = 'data/engine.onnx';
const SAMPLE_URL = 'data/sample_recording.npz';
const MIN_RATE_HZ = 20;          // below this the 50 Hz grid is mostly interpolation
const MAX_EVENT_GAP_S = 0.5;     // a longer silence restarts the stream (the engine's max_gap_s)
const NO_SENSOR_TIMEOUT_MS = 3000;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// What tests (and the curious) read: results of the current run, and timings.
window.har = { done: false, results: [], error: null, mode: null, firstPredictionMs: null, engineLoadMs: null };

let engine, stream, timeline, calibration;
let latencies = [];
let runStarted = 0;              // performance.now() at the current run's start
let labelOfWindow = null;        // replay with ?calibrate=labels: the recording's own label of a window
let live = null;                 // the live session's listeners and meters

function showMessage(text, kind = 'error') {
  const el = $('message');
  el.textContent = text;
  el.className = kind;
  el.hidden = !text;
}

function setMode(text) { $('mode').textContent = text; window.har.mode = text; }

/** "WALKING_UPSTAIRS" -> "Walking upstairs" */
const displayName = (name) => name.charAt(0) + name.slice(1).replaceAll('_', ' ').toLowerCase();

function buildBars() {
  const box = $('bars');
  box.innerHTML = '';
  engine.classNames.forEach((name, i) => {
    const row = document.createElement('div');
    row.className = 'bar';
    row.innerHTML = `<span>${displayName(name)}</span><div class="track"><div class="fill" style="background:var(--c${engine.classIds[i]})"></div></div><span class="val">–</span>`;
    box.appendChild(row);
  });
  $('legend').innerHTML = engine.classNames.map((n, i) => `<span><i style="background:var(--c${engine.classIds[i]})"></i>${displayName(n)}</span>`).join('')
    + '<span><i style="background:var(--c0)"></i>Unknown</span>';
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

function onResult(r) {
  if (r.startSample < 0) return;                      // the graph's warm-up: no window yet
  if (calibration.active) calibration.record(r);
  else if (labelOfWindow) calibration.record(r, labelOfWindow(r));
  const probabilities = r.valid ? calibration.apply(r) : r.probabilities;
  let label = r.label, labelId = r.labelId;
  if (r.valid && probabilities !== r.probabilities) {
    const best = probabilities.indexOf(Math.max(...probabilities));
    labelId = engine.classIds[best];
    label = engine.classNames[best];
  }
  window.har.results.push({ start: r.start, label, probabilities, valid: r.valid, latencyMs: r.latencyMs });
  if (window.har.firstPredictionMs === null) {
    window.har.firstPredictionMs = performance.now();            // since the page was opened
    window.har.firstPredictionAfterStartMs = window.har.firstPredictionMs - runStarted;
    $('first').textContent = live
      ? `${(window.har.firstPredictionAfterStartMs / 1000).toFixed(2)} s after Start`
      : `${(window.har.firstPredictionAfterStartMs / 1000).toFixed(2)} s after the replay began (${(window.har.firstPredictionMs / 1000).toFixed(2)} s after opening the page)`;
  }
  latencies.push(r.latencyMs);
  if (latencies.length > 200) latencies.shift();
  $('activity').textContent = label.replaceAll('_', ' ');
  $('confidence').textContent = r.valid ? `${(100 * Math.max(...probabilities)).toFixed(0)} % · window at ${r.start.toFixed(2)} s` : 'not enough clean samples for this window';
  document.querySelectorAll('#bars .bar').forEach((row, i) => {
    const p = r.valid ? probabilities[i] : 0;
    row.querySelector('.fill').style.width = `${(100 * p).toFixed(1)}%`;
    row.querySelector('.val').textContent = r.valid ? p.toFixed(2) : '–';
  });
  $('latency').textContent = `${r.latencyMs.toFixed(1)} ms (median ${median(latencies).toFixed(1)})`;
  $('count').textContent = String(window.har.results.length);
  timeline.add(r.start, r.valid ? labelId : 0, r.valid ? Math.max(...probabilities) : 1);
}

function newRun(mode) {
  stopLive();
  stream.reset();
  timeline.clear();
  latencies = [];
  Object.assign(window.har, { done: false, results: [], error: null, firstPredictionMs: null });
  runStarted = performance.now();
  setMode(mode);
  showMessage('');
}

// ------------------------------------------------------------------ replay

async function replay(source) {
  const name = source instanceof File ? source.name : source;
  newRun(`replay: ${name}`);
  let rec;
  try {
    rec = await loadRecording(source);
  } catch (err) {
    fail(`Could not read the recording: ${err.message}`);
    return;
  }
  labelOfWindow = params.get('calibrate') === 'labels' && rec.labels ? windowLabeller(rec) : null;
  const speed = params.get('speed');               // "max" (default) or a factor of real time
  const factor = speed && speed !== 'max' ? Number(speed) : Infinity;
  const duration = rec.t[rec.n - 1];
  $('rate').textContent = `${(rec.n > 1 ? (rec.n - 1) / duration : 0).toFixed(1)} Hz (recorded)`;
  const wallStart = performance.now();
  const chunk = engine.hop;
  for (let i = 0; i < rec.n; i += chunk) {
    const end = Math.min(rec.n, i + chunk);
    for (let j = i; j < end; j++) {
      stream.push(rec.t[j], rec.acc.subarray(3 * j, 3 * j + 3), rec.gyro.subarray(3 * j, 3 * j + 3));
    }
    await stream.drain();
    if (Number.isFinite(factor)) {
      const due = wallStart + (rec.t[end - 1] / factor) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    } else {
      await new Promise((r) => setTimeout(r, 0));      // let the page paint
    }
  }
  await stream.drain();
  if (labelOfWindow) {
    labelOfWindow = null;
    window.har.personalModel = calibration.fit() !== null;
  }
  const seconds = (performance.now() - wallStart) / 1000;
  setMode(`replay finished: ${rec.name}, ${duration.toFixed(0)} s in ${seconds.toFixed(1)} s`);
  window.har.replaySeconds = seconds;
  window.har.done = true;
}

/** Class index of a replayed window from the recording's labels: the one label of all its samples, else null. */
function windowLabeller(rec) {
  return (r) => {
    let i = 0;
    while (i < rec.n && rec.t[i] < r.start - 1e-9) i++;
    const first = rec.labels[i];
    for (let j = i; j < rec.n && rec.t[j] < r.start + engine.window / engine.rateHz - 1e-9; j++) {
      if (rec.labels[j] !== first) return null;
    }
    const index = engine.classIds.indexOf(first);
    return index >= 0 ? index : null;
  };
}

function fail(text) {
  showMessage(text);
  window.har.error = text;
  window.har.done = true;
}

// ------------------------------------------------------------------ live

async function startLive() {
  if (!window.isSecureContext) {
    fail('Motion sensors need a secure page: open it over https:// (or on localhost).');
    return;
  }
  // The permission prompt must come straight from the click (iOS): no await before it.
  const permission = await requestMotionPermission();
  if (permission === 'unsupported') {
    fail('This browser has no motion sensor interface (DeviceMotionEvent): open the page on a phone.');
    return;
  }
  if (permission !== 'granted') {
    fail('Motion access was denied. Allow "Motion & Orientation Access" for this site in the browser settings, reload, and press Start again.');
    return;
  }
  newRun('live');
  const accSign = accelerationSign(params);
  const meter = new RateMeter(2);
  let lastT = null, gotSample = false, warnedRate = false, origin = null;
  const onMotion = (event) => {
    const s = motionToEngine(event, accSign);
    if (!s) return;
    origin ??= event.timeStamp;
    const t = (event.timeStamp - origin) / 1000;          // s since Start's first event
    if (lastT !== null && t - lastT > MAX_EVENT_GAP_S) {
      stream.reset();
      meter.reset();
      showMessage(`The sensors paused for ${(t - lastT).toFixed(1)} s: the stream restarted.`, 'info');
    }
    lastT = t;
    if (!gotSample) { gotSample = true; showMessage(''); }
    meter.add(t);
    stream.push(t, s.acc, s.gyro);
    const rate = meter.rate();
    if (rate !== null) {
      $('rate').textContent = `${rate.toFixed(1)} Hz`;
      if (rate < MIN_RATE_HZ) {
        showMessage(`The sensors deliver only ${rate.toFixed(1)} Hz (at least ${MIN_RATE_HZ} Hz needed): results will be unreliable. Close other apps or disable power saving.`);
        warnedRate = true;
      } else if (warnedRate) {
        showMessage('');
        warnedRate = false;
      }
    }
  };
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') {
      stream.reset();
      meter.reset();
      lastT = null;
      showMessage('The page went to the background: browsers stop motion events there, so the stream restarted. Keep the page in front while recognising.', 'info');
    }
  };
  window.addEventListener('devicemotion', onMotion);
  document.addEventListener('visibilitychange', onVisibility);
  const noSensor = setTimeout(() => {
    if (!gotSample) showMessage('No motion data: this device reports no accelerometer or gyroscope to the browser.');
  }, NO_SENSOR_TIMEOUT_MS);
  live = { onMotion, onVisibility, noSensor };
  $('start').disabled = true;
  $('stop').disabled = false;
}

function stopLive() {
  if (!live) return;
  window.removeEventListener('devicemotion', live.onMotion);
  document.removeEventListener('visibilitychange', live.onVisibility);
  clearTimeout(live.noSensor);
  live = null;
  $('start').disabled = false;
  $('stop').disabled = true;
  setMode('stopped');
}

// ------------------------------------------------------------------ start-up

async function main() {
  const t0 = performance.now();
  try {
    engine = await Engine.load(ENGINE_URL);
  } catch (err) {
    setMode('no engine');
    fail(`The engine could not start: ${err.message}`);
    return;
  }
  window.har.engineLoadMs = performance.now() - t0;
  window.har.engine = { hop: engine.hop, window: engine.window, delaySamples: engine.delaySamples, classNames: engine.classNames, sizeBytes: engine.sizeBytes };
  stream = new Stream(engine, onResult);
  timeline = new Timeline($('timeline'), engine.hop / engine.rateHz);
  calibration = new Calibration(engine, $('calibration'), $('calib-buttons'), $('calib-status'));
  buildBars();
  setMode(`ready · engine ${(engine.sizeBytes / 1024).toFixed(0)} KiB loaded in ${window.har.engineLoadMs.toFixed(0)} ms`);
  for (const id of ['start', 'replay-sample', 'file']) $(id).disabled = false;
  $('start').addEventListener('click', startLive);
  $('stop').addEventListener('click', stopLive);
  $('replay-sample').addEventListener('click', () => replay(SAMPLE_URL));
  $('file').addEventListener('change', (e) => e.target.files[0] && replay(e.target.files[0]));
  $('calibrate-open').addEventListener('click', () => { $('calibration').hidden = false; });
  $('calibrate-close').addEventListener('click', () => { $('calibration').hidden = true; });
  $('calib-fit').addEventListener('click', () => calibration.fit());
  $('calib-clear').addEventListener('click', () => calibration.clear());
  const which = params.get('replay');
  if (which) await replay(which === 'sample' ? SAMPLE_URL : which);
}

main().catch((err) => fail(`Unexpected error: ${err.message}`));
