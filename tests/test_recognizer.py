"""The Recognizer: push paths, timestamped input, gaps, units, smoothing, threads, import purity."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from har.features import regular_starts
from har.runtime import Recognizer, StreamError, load_model
from har.runtime.online_resample import GapEvent, OnlineResampler
from har.runtime.smoothing import Smoother, smooth_probabilities
from har.runtime.units import STANDARD_GRAVITY

N = 3000          # samples of the bundled excerpt used (60 s, 45 windows)


@pytest.fixture(scope="module")
def excerpt(sample_recording):
    return sample_recording["acc"][:N].copy(), sample_recording["gyro"][:N].copy()


def as_tuple(preds):
    """Everything a prediction says, exactly, for comparisons."""
    return [(p.start, p.end, p.label, p.label_id, p.valid, tuple(sorted(p.probabilities.items())))
            for p in preds]


def run_bulk(acc, gyro, **kw):
    rec = Recognizer(**kw)
    return rec.push(acc, gyro) + rec.flush()


def run_timestamped(t, acc, gyro, chunk=None, **kw):
    rec = Recognizer(timestamped=True, **{k: v for k, v in kw.items() if k in ("max_gap_s", "smoothing")})
    units = {k: v for k, v in kw.items() if k in ("acc_unit", "gyro_unit")}
    if chunk is None:
        out = rec.push_timestamped(t, acc, gyro, **units)
    else:
        out = []
        for i in range(0, len(t), chunk):
            out += rec.push_timestamped(t[i:i + chunk], acc[i:i + chunk], gyro[i:i + chunk], **units)
    return out + rec.flush(), rec


@pytest.fixture(scope="module")
def clean(excerpt):
    return run_bulk(*excerpt)


# ------------------------------------------------------------------ 50 Hz push paths

def test_single_sample_pushes_equal_bulk_push_and_one_prediction_per_window(excerpt, clean):
    acc, gyro = excerpt
    rec = Recognizer()
    single = []
    for a, g in zip(acc, gyro):
        single += rec.push(a, g)                        # (3,) vectors: one sample
    single += rec.flush()
    assert as_tuple(single) == as_tuple(clean)
    assert len(clean) == len(regular_starts(N)) == 45
    assert [p.start for p in clean] == regular_starts(N).tolist()
    assert all(p.valid for p in clean)
    assert {p.label for p in clean} >= {"STANDING", "SITTING"}    # a real, varied excerpt


# ------------------------------------------------------------------ online resampler

def _irregular_stream(rate, n, seed):
    rng = np.random.default_rng(seed)
    t = 12.5 + np.arange(n) / rate + rng.uniform(-0.2, 0.2, n) / rate
    t[n // 2:] += 0.9                                      # a hole longer than max_gap_s
    acc = rng.normal(size=(n, 3))
    gyro = rng.normal(size=(n, 3))
    acc[n // 3] = np.nan                                   # a missing sample
    return t, acc, gyro


def _chunked(rs, t, acc, gyro, cuts):
    edges = [0, *sorted(set(cuts)), len(t)]
    outs, events = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        ga, gg, ev = rs.push(t[a:b], acc[a:b], gyro[a:b])
        outs.append(np.hstack([ga, gg]))
        events += ev
    return np.vstack(outs), events


@settings(max_examples=25, deadline=None)
@given(rate=st.sampled_from([50.0, 100.0, 200.0]),
       cuts=st.lists(st.integers(1, 599), max_size=30))
def test_online_resampler_output_does_not_depend_on_chunking(rate, cuts):
    t, acc, gyro = _irregular_stream(rate, 600, seed=int(rate))
    whole, ev_whole = _chunked(OnlineResampler(), t, acc, gyro, [])
    parts, ev_parts = _chunked(OnlineResampler(), t, acc, gyro, cuts)
    assert np.array_equal(whole, parts, equal_nan=True)
    assert ev_whole == ev_parts
    assert len(ev_whole) == 2                               # the NaN sample and the time hole
    grid_span = (t[-1] - t[0]) * 50.0
    assert abs(len(whole) - grid_span) <= 1.0


def test_online_resampler_known_answers():
    # A ramp x = 2 t sampled at irregular times is reproduced exactly on the 50 Hz grid.
    t = np.array([1.0, 1.013, 1.031, 1.05, 1.071, 1.09, 1.108, 1.131, 1.149, 1.17, 1.19, 1.211])
    ramp = np.column_stack([2 * t, -t, np.ones_like(t)])
    rs = OnlineResampler()
    a, g, ev = rs.push(t, ramp, ramp)
    k = np.arange(len(a))
    assert len(a) == 11 and ev == [] and rs.filtered_ is False       # grid 1.00 .. 1.20
    np.testing.assert_allclose(a[:, 0], 2 * (1.0 + k / 50), rtol=0, atol=1e-12)
    # Units: m/s^2 and deg/s come out in g and rad/s.
    rs = OnlineResampler(acc_unit="m/s^2", gyro_unit="deg/s", input_rate_hz=50)
    a, g, _ = rs.push([0.0, 0.02], [[STANDARD_GRAVITY] * 3] * 2, [[180.0] * 3] * 2)
    np.testing.assert_allclose(a, 1.0)
    np.testing.assert_allclose(g, np.pi)


def test_online_resampler_filters_fast_input_only():
    rate = 200.0
    t = np.arange(4000) / rate
    tone = np.sin(2 * np.pi * 45.0 * t)           # above the grid's Nyquist: would alias to 5 Hz
    x = np.column_stack([tone, tone, tone])
    rs = OnlineResampler()
    a, _, _ = rs.push(t, x, x)
    assert rs.filtered_ and rs.input_rate_hz_ == pytest.approx(200.0)
    assert np.std(a[200:, 0]) < 0.02                # plain interpolation would keep amplitude ~0.7
    rs = OnlineResampler()
    rs.push(np.arange(20) / 50.0, x[:20], x[:20])
    assert rs.filtered_ is False


# ------------------------------------------------------------------ push_timestamped

def _agreement(preds, reference):
    ref = {p.start: p.label for p in reference if p.valid}
    pairs = [(p.label, ref[p.start]) for p in preds if p.valid and p.start in ref]
    assert len(pairs) >= 0.9 * len(ref)
    return np.mean([a == b for a, b in pairs])


def test_push_timestamped_recovers_labels_from_100hz_and_jittered_50hz(excerpt, clean):
    acc, gyro = excerpt
    # 100 Hz: the 50 Hz signal upsampled by 2, timestamps k / 100.
    acc100, gyro100 = resample_poly(acc, 2, 1, axis=0), resample_poly(gyro, 2, 1, axis=0)
    t100 = np.arange(len(acc100)) / 100.0
    preds100, rec = run_timestamped(t100, acc100, gyro100, chunk=37)
    assert rec.resampler.filtered_ and rec.gaps == []
    agree100 = _agreement(preds100, clean)
    # ~50 Hz with +-2 ms jitter: values interpolated from the 50 Hz signal at the jittered times.
    rng = np.random.default_rng(7)
    t50 = np.arange(N) / 50.0
    tj = t50 + rng.uniform(-0.002, 0.002, N)
    tj[0] = 0.0
    accj = np.column_stack([np.interp(tj, t50, acc[:, i]) for i in range(3)])
    gyroj = np.column_stack([np.interp(tj, t50, gyro[:, i]) for i in range(3)])
    predsj, recj = run_timestamped(tj, accj, gyroj, chunk=5)
    assert not recj.resampler.filtered_ and recj.gaps == []
    agreej = _agreement(predsj, clean)
    print(f"\nlabel agreement with the clean 50 Hz stream: 100 Hz {agree100:.3f} "
          f"({len(preds100)} windows), jittered 50 Hz {agreej:.3f} ({len(predsj)} windows)")
    assert agree100 >= 0.9
    assert agreej >= 0.9


def test_push_timestamped_times_are_on_the_callers_clock(excerpt, clean):
    acc, gyro = excerpt
    t = 1000.0 + np.arange(N) / 50.0
    preds, _ = run_timestamped(t, acc, gyro)
    assert as_tuple(preds) == as_tuple(clean)       # exact grid: the same samples, the same windows
    assert preds[3].t_start == pytest.approx(1000.0 + 3 * 64 / 50.0)
    assert preds[3].t_end == pytest.approx(1000.0 + (3 * 64 + 128) / 50.0)


def test_gap_longer_than_max_gap_is_reported_and_its_windows_are_invalid(excerpt):
    acc, gyro = excerpt
    t = np.arange(N) / 50.0
    keep = (t < 20.0) | (t >= 22.0)                  # 2 s of samples missing
    preds, rec = run_timestamped(t[keep], acc[keep], gyro[keep], chunk=50)
    assert len(rec.gaps) == 1
    gap = rec.gaps[0]
    assert isinstance(gap, GapEvent)
    assert gap.t_from == pytest.approx(19.98) and gap.t_to == pytest.approx(22.0)
    assert gap.n_missing_samples == 100              # grid samples 20.00 .. 21.98
    touching = [p for p in preds if p.t_start < gap.t_to and p.t_end > gap.t_from]
    assert touching and all(not p.valid and p.label == "UNKNOWN" and p.label_id == 0 for p in touching)
    assert all(np.isnan(v) for p in touching for v in p.probabilities.values())
    before = [p for p in preds if p.t_end <= gap.t_from]
    after = [p for p in preds if p.t_start >= gap.t_to + 0.1]
    assert before and after and all(p.valid for p in before + after)
    assert len(preds) == len(regular_starts(N))      # the grid kept its clock across the gap
    # Below max_gap_s the same hole is bridged.
    _, rec = run_timestamped(t[keep], acc[keep], gyro[keep], max_gap_s=3.0)
    assert rec.gaps == []


def test_backwards_or_repeated_time_is_refused_and_the_stream_is_unchanged(excerpt, clean):
    acc, gyro = excerpt
    t = np.arange(N) / 50.0
    rec = Recognizer(timestamped=True)
    out = rec.push_timestamped(t[:1000], acc[:1000], gyro[:1000])
    bad = t[1000:1010].copy()
    bad[5] = bad[3]
    with pytest.raises(StreamError, match=r"t\[5\]=20\.06 goes backwards: it is not after t\[4\]=20\.08"):
        rec.push_timestamped(bad, acc[1000:1010], gyro[1000:1010])
    with pytest.raises(StreamError, match=r"t\[0\]=19\.98 repeats a time.*previous push's last time 19\.98"):
        rec.push_timestamped(t[999:1001], acc[999:1001], gyro[999:1001])
    out += rec.push_timestamped(t[1000:], acc[1000:], gyro[1000:]) + rec.flush()
    assert as_tuple(out) == as_tuple(clean)


def test_units_m_s2_and_deg_s_give_the_same_predictions(excerpt):
    acc, gyro = excerpt
    t = np.arange(N) / 50.0
    ref, _ = run_timestamped(t, acc, gyro)
    conv, _ = run_timestamped(t, acc * STANDARD_GRAVITY, np.rad2deg(gyro), acc_unit="m/s^2",
                              gyro_unit="deg/s")
    assert [p.label for p in conv] == [p.label for p in ref]
    for a, b in zip(conv, ref):
        np.testing.assert_allclose(list(a.probabilities.values()), list(b.probabilities.values()),
                                   atol=1e-5)
    with pytest.raises(StreamError, match="unknown acceleration unit 'm/s2'"):
        Recognizer(timestamped=True).push_timestamped(t[:5], acc[:5], gyro[:5], acc_unit="m/s2")


# ------------------------------------------------------------------ smoothing

def test_smoothing_known_answers():
    P = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [np.nan, np.nan], [0.2, 0.8]])
    S = smooth_probabilities(P, "ema", alpha=0.5)
    np.testing.assert_allclose(S, [[1, 0], [0.5, 0.5], [0.25, 0.75], [np.nan, np.nan], [0.2, 0.8]])
    S = smooth_probabilities(P[:3], "ema", alpha=0.25)
    np.testing.assert_allclose(S, [[1, 0], [0.75, 0.25], [0.5625, 0.4375]])
    votes = np.eye(3)[[0, 1, 1, 0, 0, 2]]
    S, labels = smooth_probabilities(votes, "majority", window=3, return_labels=True)
    np.testing.assert_allclose(S, np.array([[3, 0, 0], [1.5, 1.5, 0], [1, 2, 0], [1, 2, 0], [2, 1, 0],
                                            [2, 0, 1]]) / 3)
    assert labels.tolist() == [0, 1, 1, 1, 0, 0]      # the tie at row 1 goes to the newest vote
    # The online class gives the same numbers.
    sm = Smoother("majority", window=3)
    np.testing.assert_allclose([sm.update_one(p) for p in votes], S)
    with pytest.raises(ValueError, match="alpha must be in"):
        Smoother("ema", alpha=0.0)


@pytest.mark.parametrize("method,kw", [("ema", {"alpha": 0.3}), ("majority", {"window": 4})])
def test_smoothing_is_causal(method, kw):
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(6) * 0.5, size=40)
    S = smooth_probabilities(P, method, **kw)
    for i in (0, 17, 39):
        Q = P.copy()
        Q[i] = np.roll(Q[i], 1 + int(np.argmax(Q[i])) % 5)    # a different winner at window i
        T = smooth_probabilities(Q, method, **kw)
        assert np.array_equal(T[:i], S[:i])
        assert not np.array_equal(T[i], S[i])                # the change is seen from window i on


def test_recognizer_smoothing_equals_smoothing_its_probabilities(excerpt, clean):
    acc, gyro = excerpt
    P = np.array([list(p.probabilities.values()) for p in clean])
    names = list(clean[0].probabilities)
    for method, param in (("ema", 0.3), ("majority", 5)):
        smoothed = run_bulk(acc, gyro, smoothing=method, smoothing_param=param)
        key = "alpha" if method == "ema" else "window"
        S, idx = smooth_probabilities(P, method, **{key: param}, return_labels=True)
        np.testing.assert_allclose([list(p.probabilities.values()) for p in smoothed], S, atol=1e-7)
        assert [p.label for p in smoothed] == [names[i] for i in idx]
    # reset() forgets the smoother's past (and the gaps): the same stream again, the same output.
    rec = Recognizer(smoothing="ema", smoothing_param=0.3)
    first = rec.push(acc, gyro) + rec.flush()
    rec.reset()
    assert as_tuple(rec.push(acc, gyro) + rec.flush()) == as_tuple(first)
    # A gap resets the smoother: the first valid window after it is the raw window.
    a = acc.copy()
    a[1500] = np.nan
    raw = run_bulk(a, gyro)
    sm = run_bulk(a, gyro, smoothing="ema", smoothing_param=0.2)
    i = next(k for k in range(1, len(raw)) if raw[k].valid and not raw[k - 1].valid)
    assert sm[i].probabilities == pytest.approx(raw[i].probabilities)
    assert sm[i + 1].probabilities != pytest.approx(raw[i + 1].probabilities)


# ------------------------------------------------------------------ threads

def test_one_model_shared_by_recognizers_in_threads_matches_sequential(sample_recording):
    model = load_model()
    acc, gyro = sample_recording["acc"], sample_recording["gyro"]
    segments = [(acc[i:i + 2500], gyro[i:i + 2500]) for i in range(0, 12000, 2000)]

    def work(seg):
        rec = Recognizer(model)
        out = []
        for j in range(0, len(seg[0]), 25):
            out += rec.push(seg[0][j:j + 25], seg[1][j:j + 25])
        return as_tuple(out + rec.flush())

    sequential = [work(s) for s in segments]
    with ThreadPoolExecutor(max_workers=len(segments)) as pool:
        threaded = list(pool.map(work, segments))
    assert threaded == sequential
    assert len({tuple(x) for x in sequential}) == len(segments)      # distinct streams


# ------------------------------------------------------------------ import purity

def test_runtime_imports_no_training_stack():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from har.runtime import Recognizer
        rng = np.random.default_rng(0)
        rec = Recognizer(smoothing="ema", timestamped=True)
        t = np.arange(400) / 100.0
        preds = rec.push_timestamped(t, rng.normal(size=(400, 3)), rng.normal(size=(400, 3)))
        preds += rec.flush()
        assert len(preds) >= 1, len(preds)
        bad = sorted(m for m in ("sklearn", "skl2onnx", "pandas") if m in sys.modules)
        print(",".join(bad) or "clean")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "clean"


# ------------------------------------------------------------------ one resampler, two clocks, long holes

def test_two_clocks_equal_one_clock_when_the_times_agree(excerpt):
    acc, gyro = excerpt
    t = np.arange(len(acc)) / 50.0
    one = OnlineResampler(input_rate_hz=50)
    a1, g1, _ = one.push(t, acc, gyro)
    two = OnlineResampler(input_rate_hz=50)
    a2, g2, _ = two.push(t, acc, gyro, gyro_t=t)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(g1, g2)


def test_two_clocks_align_a_gyro_on_its_own_times(excerpt):
    acc, gyro = excerpt
    n = 3000
    t50 = np.arange(n) / 50.0
    t_acc = np.arange(2 * n) / 100.0                      # acc at 100 Hz
    t_gyro = np.arange(n) / 50.0 + 0.007                  # gyro at 50 Hz, 7 ms late
    acc100 = np.column_stack([np.interp(t_acc, t50, acc[:n, i]) for i in range(3)])
    gyro_late = np.column_stack([np.interp(t_gyro, t50, gyro[:n, i]) for i in range(3)])
    rs = OnlineResampler()
    out_a, out_g = [], []
    for i in range(0, n, 100):                             # interleaved chunks, as sensors deliver them
        a, g, ev = rs.push(t_acc[2 * i:2 * i + 200], acc100[2 * i:2 * i + 200], gyro_late[i:i + 100],
                           gyro_t=t_gyro[i:i + 100])
        assert ev == []
        out_a.append(a)
        out_g.append(g)
    A, G = np.concatenate(out_a), np.concatenate(out_g)
    assert rs.t0 == pytest.approx(0.007) and len(A) == len(G) > n - 10
    grid = rs.grid_time(np.arange(len(G)))
    ref_g = np.column_stack([np.interp(grid, t_gyro, gyro_late[:, i]) for i in range(3)])
    np.testing.assert_allclose(G, ref_g, atol=1e-12)       # gyro at 50 Hz: interpolated on its own clock
    # acc at 100 Hz goes through the causal anti-alias filter (about 20 ms late): close, not equal.
    err = np.abs(A - np.column_stack([np.interp(grid, t50, acc[:n, i]) for i in range(3)]))[20:]
    assert rs._clocks[0].filtered_ and not rs._clocks[1].filtered_
    assert np.median(err) < 0.01


def test_a_stream_keeps_to_one_or_two_clocks():
    rs = OnlineResampler()
    t = np.arange(20) / 50.0
    rs.push(t, np.zeros((20, 3)), np.zeros((20, 3)))
    with pytest.raises(StreamError, match="one time base for acc and gyro"):
        rs.push(t + 1, np.zeros((20, 3)), np.zeros((20, 3)), gyro_t=t + 1)


def test_a_missing_gyro_is_refused_not_buffered_forever():
    rs = OnlineResampler()
    t = np.arange(5000) / 100.0
    with pytest.raises(StreamError, match="no gyro sample"):
        rs.push(t, np.zeros((5000, 3)), np.empty((0, 3)), gyro_t=np.empty(0))


def test_a_clock_jump_is_a_gap_event_not_an_allocation(excerpt):
    acc, gyro = excerpt
    t = np.arange(1000) / 50.0
    t[500:] += 1e9                                         # the phone's clock jumps by 31 years
    rec = Recognizer(timestamped=True)
    preds = rec.push_timestamped(t, acc[:1000], gyro[:1000]) + rec.flush()
    (gap,) = rec.gaps
    assert gap.n_missing_samples == pytest.approx(5e10, rel=1e-6)
    assert gap.n_skipped_samples == gap.n_missing_samples - 257
    assert rec.n_samples < 1000 + 300                      # the hole costs 257 NaN samples, not 5e10
    valid = [p for p in preds if p.valid]
    before = [p for p in valid if p.t_start < 100]
    after = [p for p in valid if p.t_start > 1e9]
    assert len(before) >= 5 and len(after) >= 4 and len(before) + len(after) == len(valid)
    # Times stay on the caller's clock: the first clean window after the jump starts within a hop of it.
    assert t[500] <= after[0].t_start < t[500] + 64 / 50.0
    assert after[0].t_end - after[0].t_start == pytest.approx(128 / 50.0)


def test_the_mode_is_fixed_when_the_recognizer_is_built(excerpt):
    acc, gyro = excerpt
    with pytest.raises(StreamError, match="takes timestamped samples"):
        Recognizer(timestamped=True).push(acc[:10], gyro[:10])
    with pytest.raises(StreamError, match="takes 50 Hz samples"):
        Recognizer().push_timestamped(np.arange(10) / 50.0, acc[:10], gyro[:10])
    with pytest.raises(StreamError, match="needs on_nonfinite='gap'"):
        Recognizer(timestamped=True, on_nonfinite="raise")


def test_implausible_samples_make_their_windows_invalid(excerpt):
    acc, gyro = excerpt
    acc = acc[:1000].copy()
    acc[300] = 1e300                                       # no phone measures that
    gyro = gyro[:1000].copy()
    gyro[700, 1] = 40.0                                    # beyond 2000 deg/s
    rec = Recognizer()
    preds = rec.push(acc, gyro) + rec.flush()
    assert rec.n_implausible == 2
    for p in preds:
        touches = p.start <= 300 < p.end + 1 or p.start <= 700 < p.end + 1
        assert p.valid != touches, p
        assert all(np.isfinite(list(p.probabilities.values()))) == p.valid
    assert sum(p.valid for p in preds) > 5


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS read from /proc")
def test_one_push_of_an_hour_stays_in_bounded_memory():
    code = textwrap.dedent("""
        import numpy as np, resource
        from har.runtime import Recognizer
        rec = Recognizer()
        rng = np.random.default_rng(0)
        n = 50 * 3600                                      # one hour at 50 Hz
        acc = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.05, (n, 3))
        gyro = rng.normal(0, 0.1, (n, 3))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        preds = rec.push(acc, gyro) + rec.flush()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(preds), (peak - base) / 1024)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == len(regular_starts(50 * 3600))
    assert float(out[1]) < 60, f"one push of an hour grew the process by {out[1]} MB"
