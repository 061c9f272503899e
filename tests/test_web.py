"""The web app in a real headless Chromium: replay and live mode against the Python engine.

Needs Debian's chromium and chromium-driver, selenium (the dev extra) and `npm ci` in runtime/web;
.ci/run provides all of them. Outside CI a missing piece skips these tests; in CI it fails them.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

WEB_DIR = ROOT / "runtime" / "web"
DATA_DIR = ROOT / "runtime" / "data"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
IN_CI = bool(os.environ.get("CI"))
STANDARD_GRAVITY = 9.80665
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=820,1100"]


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{what} is not installed (apt-get install -y chromium chromium-driver)"
    if not (WEB_DIR / "node_modules/onnxruntime-web/dist/ort.wasm.min.mjs").exists():
        return "onnxruntime-web is not installed (run `npm ci` in runtime/web)"
    if not (DATA_DIR / "engine.onnx").exists():
        return "runtime/data/engine.onnx is not built"
    return None


@pytest.fixture(scope="module")
def server():
    missing = _missing()
    if missing:
        if IN_CI:
            pytest.fail(f"browser test prerequisites missing in CI: {missing}")
        pytest.skip(missing)
    from har.runtime.tools.web import make_server

    srv = make_server("127.0.0.1", 0, web_dir=WEB_DIR, data_dir=DATA_DIR, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def browser(server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, script: str, timeout: float = 120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(script))


def _finished_replay(driver, url: str) -> dict:
    driver.get(url)
    _wait(driver, "return window.har && window.har.done")
    har = driver.execute_script("return window.har")
    assert har["error"] is None, har["error"]
    return har


def _sample() -> dict:
    with np.load(DATA_DIR / "sample_recording.npz") as data:
        return {k: data[k] for k in data.files}


def _graph_reference(samples: np.ndarray) -> dict[float, str]:
    """The engine graph itself through onnxruntime in Python, fed the page's way: {start s: label}."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(DATA_DIR / "engine.onnx"), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    hop, window, delay = int(meta["hop"]), int(meta["window"]), int(meta["delay_samples"])
    rate, names = float(meta["sample_rate_hz"]), json.loads(meta["class_names"])
    ids = json.loads(meta["class_ids"])
    state = np.zeros((1, int(meta["state_size"])), np.float32)
    out = {}
    for n in range(hop, len(samples) + 1, hop):
        block = samples[n - hop:n].astype(np.float32)[None]
        probs, label, valid, _, state = session.run(None, {"samples": block, "state": state})
        start = n - window - delay
        if start >= 0 and valid[0]:
            out[round(start / rate, 6)] = names[ids.index(int(label[0]))]
    return out


def _by_start(results) -> dict[float, str]:
    return {round(r["start"], 6): r["label"] for r in results if r["valid"]}


def _agreement(page: dict, reference: dict) -> tuple[float, int]:
    common = sorted(set(page) & set(reference))
    same = sum(page[s] == reference[s] for s in common)
    return same / max(1, len(common)), len(common)


def test_replay_sample_matches_python_recognizer(browser, tmp_path):
    """?replay=sample in Chromium gives the Python Recognizer's labels on >= 99% of windows."""
    from har.runtime import Recognizer

    har = _finished_replay(browser, browser_url(browser, "?replay=sample"))
    browser.save_screenshot(str(tmp_path / "replay.png"))
    rec = _sample()
    predictions = Recognizer().push(rec["acc"], rec["gyro"])
    reference = {round(p.t_start, 6): p.label for p in predictions if p.valid}
    page = _by_start(har["results"])
    agreement, n = _agreement(page, reference)
    print(f"replay: {n} windows compared with the Recognizer, label agreement {agreement:.4f}; "
          f"first prediction {har['firstPredictionMs']:.0f} ms after navigation")
    assert n >= 0.95 * len(reference), f"only {n} of the Recognizer's {len(reference)} windows in the page"
    assert agreement >= 0.99
    assert (tmp_path / "replay.png").stat().st_size > 10_000


def test_replay_sample_matches_engine_graph_in_python(browser):
    """The page (wasm) and onnxruntime in Python run the same graph on the same blocks: same labels, same starts."""
    har = _finished_replay(browser, browser_url(browser, "?replay=sample"))
    rec = _sample()
    reference = _graph_reference(np.hstack([rec["acc"], rec["gyro"]]))
    page = _by_start(har["results"])
    assert set(page) == set(reference)
    agreement, n = _agreement(page, reference)
    assert agreement >= 0.99, f"{agreement:.4f} on {n} windows"
    probs = np.array([r["probabilities"] for r in har["results"] if r["valid"]])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_replay_csv_from_the_file_picker(browser, tmp_path):
    """An engine CSV (shuffled columns, clock not starting at 0) replays to the sample's own results."""
    rec = _sample()
    n = 50 * 60
    cols = {"gyro_z": rec["gyro"][:n, 2], "t": 1000.0 + np.arange(n) / 50.0, "acc_x": rec["acc"][:n, 0],
            "acc_y": rec["acc"][:n, 1], "acc_z": rec["acc"][:n, 2], "gyro_x": rec["gyro"][:n, 0],
            "gyro_y": rec["gyro"][:n, 1], "label": rec["labels"][:n]}
    path = tmp_path / "minute.csv"
    lines = [",".join(cols)] + [",".join(repr(float(v[i])) if k != "label" else str(int(v[i]))
                                         for k, v in cols.items()) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    sample = _by_start(_finished_replay(browser, browser_url(browser, "?replay=sample"))["results"])
    browser.get(browser_url(browser, ""))
    _wait(browser, "return !document.getElementById('file').disabled", 60)
    browser.find_element("id", "file").send_keys(str(path))
    _wait(browser, "return window.har.done && window.har.mode.startsWith('replay finished')")
    har = browser.execute_script("return window.har")
    assert har["error"] is None
    page = _by_start(har["results"])
    assert len(page) >= 40
    assert all(page[s] == sample[s] for s in page), "CSV replay differs from the npz replay"


def test_replay_csv_error_names_line_and_column(browser):
    browser.get(browser_url(browser, ""))
    _wait(browser, "return !document.getElementById('file').disabled", 60)
    message = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('./js/recording.js').then((m) => {
          try { m.parseEngineCsv('t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\\n0,1,0,0,0,0,0\\n0.02,1,x,0,0,0,0\\n', 'bad.csv'); done('no error'); }
          catch (e) { done(e.message); }
        });""")
    assert message == 'bad.csv, line 3, column 3 (acc_y): expected a number, got "x"'


def browser_url(driver, query: str) -> str:
    return driver.server_url + "index.html" + query


@pytest.fixture(autouse=True)
def _attach_url(request):
    if "browser" in request.fixturenames:
        request.getfixturevalue("browser").server_url = request.getfixturevalue("server")


LIVE_SOURCE = """
// A simulated phone: devicemotion events paced by the wall clock, each stamped with its own
// sensor time (a stalled timer then delivers a late burst, as a busy phone does, without
// changing the samples' times).
const [events] = arguments;            // [t s, ax, ay, az m/s^2, alpha, beta, gamma deg/s]
window.simulated = { sent: 0 };
const t0 = performance.now();
const timer = setInterval(() => {
  const now = performance.now() - t0;
  for (; window.simulated.sent < events.length && events[window.simulated.sent][0] * 1000 <= now; window.simulated.sent++) {
    const e = events[window.simulated.sent];
    const event = new DeviceMotionEvent('devicemotion', {
      accelerationIncludingGravity: { x: e[1], y: e[2], z: e[3] },
      rotationRate: { alpha: e[4], beta: e[5], gamma: e[6] },
      interval: 1000 / 60,
    });
    Object.defineProperty(event, 'timeStamp', { value: t0 + e[0] * 1000 });
    window.dispatchEvent(event);
  }
  if (window.simulated.sent >= events.length) { clearInterval(timer); window.simulated.done = true; }
}, 10);
"""


def _phone_events(rec: dict, seconds: float, rate_hz: float, jitter_s: float = 0.003) -> np.ndarray:
    """The recording as an Android phone's devicemotion events at about rate_hz (times jittered by
    up to jitter_s, seeded): rows of t (s), acceleration with gravity (m/s^2), rotation (deg/s)."""
    t50 = np.arange(len(rec["acc"])) / 50.0
    t = np.arange(0, seconds, 1 / rate_hz)
    t[1:] += np.random.default_rng(0).uniform(-jitter_s, jitter_s, len(t) - 1)
    acc = np.stack([np.interp(t, t50, rec["acc"][:, j]) for j in range(3)], axis=1) * STANDARD_GRAVITY
    gyro = np.degrees(np.stack([np.interp(t, t50, rec["gyro"][:, j]) for j in range(3)], axis=1))
    return np.hstack([t[:, None], acc, gyro])


def test_live_mode_with_simulated_motion(browser, tmp_path):
    """Start, then 60 Hz devicemotion events built from the sample: the page recognises what the Recognizer does."""
    from har.runtime import Recognizer

    seconds = 40.0
    rec = _sample()
    browser.get(browser_url(browser, ""))
    _wait(browser, "return !document.getElementById('start').disabled", 60)
    browser.find_element("id", "start").click()
    _wait(browser, "return window.har.mode === 'live'", 10)
    events = _phone_events(rec, seconds, 60.0)
    browser.execute_script(LIVE_SOURCE, events.tolist())
    _wait(browser, "return window.simulated.done", seconds + 30)
    _wait(browser, f"return window.har.results.length >= {int((seconds - 2.56) / 1.28) - 2}", 10)
    browser.save_screenshot(str(tmp_path / "live.png"))
    har = browser.execute_script("return window.har")
    rate = browser.find_element("id", "rate").text
    assert 50 <= float(rate.split()[0]) <= 70, rate
    assert not browser.find_element("id", "message").is_displayed()
    # The Python engine on the same events at the same times.
    timestamped = "timestamped" in inspect.signature(Recognizer).parameters   # newer API: say so up front
    recognizer = Recognizer(timestamped=True) if timestamped else Recognizer()
    reference = [p.label for p in recognizer.push_timestamped(events[:, 0], events[:, 1:4], events[:, 4:],
                                                              acc_unit="m/s^2", gyro_unit="deg/s")]
    page = [r["label"] for r in har["results"]]
    n = min(len(page), len(reference))
    agreement = np.mean([a == b for a, b in zip(page[:n], reference[:n])])
    print(f"live: {len(page)} windows, rate {rate}, agreement with the Recognizer {agreement:.3f} on {n}; "
          f"first prediction {har['firstPredictionAfterStartMs']:.0f} ms after Start")
    assert n >= 25
    assert agreement >= 0.95
    assert (tmp_path / "live.png").stat().st_size > 10_000


def test_live_mode_messages(browser):
    """No events: a no-sensor message; events at 10 Hz: a rate-too-low message; another tab in
    front: a background message."""
    rec = _sample()
    browser.get(browser_url(browser, ""))
    _wait(browser, "return !document.getElementById('start').disabled", 60)
    browser.find_element("id", "start").click()
    _wait(browser, "return document.getElementById('message').textContent.startsWith('No motion data')", 10)
    browser.execute_script(LIVE_SOURCE, _phone_events(rec, 4.0, 10.0).tolist())
    _wait(browser, "return document.getElementById('message').textContent.includes('only')", 15)
    assert "at least 20 Hz" in browser.find_element("id", "message").text
    page = browser.current_window_handle
    browser.switch_to.new_window("tab")          # the page goes to the background
    browser.switch_to.window(page)
    _wait(browser, "return document.getElementById('message').textContent.includes('background')", 10)


def _window_truth(rec: dict, starts) -> dict[float, str]:
    """{start s: activity} for windows whose samples all carry one of the engine's class ids."""
    import onnxruntime as ort

    meta = ort.InferenceSession(str(DATA_DIR / "engine.onnx")).get_modelmeta().custom_metadata_map
    names, ids = json.loads(meta["class_names"]), json.loads(meta["class_ids"])
    window, rate = int(meta["window"]), float(meta["sample_rate_hz"])
    out = {}
    for s in starts:
        i = int(round(s * rate))
        labels = rec["labels"][i:i + window]
        if len(labels) == window and (labels == labels[0]).all() and int(labels[0]) in ids:
            out[s] = names[ids.index(int(labels[0]))]
    return out


def test_calibration_fits_a_personal_model_in_the_page(browser):
    """Replaying the labelled sample with ?calibrate=labels fits and stores a personal model; the
    next replay uses it and gets more of the labelled windows right than the engine alone."""
    har = _finished_replay(browser, browser_url(browser, "?replay=sample&calibrate=labels"))
    assert har["personalModel"] is True
    stored = browser.execute_script("return JSON.parse(localStorage.getItem('har-engine.personal-model.v1'))")
    assert stored["windows"] >= 100 and len(stored["db"]) == 6 and len(stored["dW"]) == 561 * 6
    engine_only = _by_start(har["results"])
    personal = _by_start(_finished_replay(browser, browser_url(browser, "?replay=sample"))["results"])
    truth = _window_truth(_sample(), engine_only)
    before = np.mean([engine_only[s] == truth[s] for s in truth])
    after = np.mean([personal[s] == truth[s] for s in truth])
    print(f"calibration: {len(truth)} labelled windows, accuracy {before:.3f} -> {after:.3f}")
    assert after >= before and after >= 0.9
    browser.find_element("id", "calibrate-open").click()
    browser.find_element("id", "calib-clear").click()
    assert browser.execute_script("return localStorage.getItem('har-engine.personal-model.v1')") is None


@pytest.mark.parametrize("setup, expected", [
    ("DeviceMotionEvent.requestPermission = async () => 'denied';", "Motion access was denied"),
    ("delete window.DeviceMotionEvent;", "no motion sensor interface"),
])
def test_live_mode_permission_messages(browser, setup, expected):
    """iOS-style permission refused, and a browser without DeviceMotionEvent: a clear message, no run."""
    browser.get(browser_url(browser, ""))
    _wait(browser, "return !document.getElementById('start').disabled", 60)
    browser.execute_script(setup)
    browser.find_element("id", "start").click()
    _wait(browser, "return window.har.error !== null", 10)
    assert expected in browser.find_element("id", "message").text
    assert browser.execute_script("return window.har.mode") != "live"


def test_live_mode_needs_a_secure_page(server, tmp_path):
    """Over plain http from another host name (what a phone on the LAN sees) Start explains HTTPS."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    port = server.rsplit(":", 1)[1].strip("/")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}",
                                  "--host-resolver-rules=MAP phone-lan.test 127.0.0.1"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.get(f"http://phone-lan.test:{port}/index.html")
        _wait(driver, "return !document.getElementById('start').disabled", 60)
        assert driver.execute_script("return window.isSecureContext") is False
        driver.find_element("id", "start").click()
        _wait(driver, "return window.har.error !== null", 10)
        assert "secure page" in driver.find_element("id", "message").text
    finally:
        driver.quit()
