"""``har-live``: replay a recording through the Recognizer as if it were arriving from a phone.

    har-live                              # the bundled recording, paced to about 15 s
    har-live --fast                       # as fast as possible
    har-live --speed 1                    # real time
    har-live --experiment 3               # a HAPT experiment from the dataset cache
    har-live --raw RawData/acc_exp03_user02.txt
    har-live --csv walk.csv --acc-unit m/s^2
    har-live --csv log.csv --columns t=time,acc=ax,ay,az,gyro=gx,gy,gz
    har-live --csv SensorLogger.zip --json > windows.jsonl

Samples are pushed in chunks of ``CHUNK`` grid periods (160 ms: 8 samples at 50 Hz, 16 at 100 Hz; a
typical sensor batch on a phone), paced by sleeping before each chunk until its last sample would
have been recorded.
A window's latency is the duration of the push call that completed it: the signal chain for that
chunk, the 561 features and the model. Sleeps and the terminal view are outside the timed calls.

The summary checks that no window was lost (one prediction per regular window start), scores the
predictions against the recording's labels when it has them, and reports latency percentiles,
the real-time factor (recording duration / time spent in the recognizer) and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass, field

import numpy as np


from har.features.contract import SAMPLE_RATE_HZ, ACTIVITY_BY_NAME, LABEL_NAMES, MODEL_CLASS_NAMES, UNKNOWN_LETTER

from har.features.errors import HarError

from ..plausibility import IMPLAUSIBLE, describe_limits
from .archives import ARCHIVE_ERRORS, describe_archive_error
from .predict import implausible_warning, reportable

PROG = "har-live"
#: Samples per push: 160 ms of 50 Hz data, a phone's usual sensor batch.
CHUNK = 8
#: Without --speed or --fast, a replay is paced to last about this long.
TARGET_REPLAY_S = 15.0
#: Redraws of the live view per second, at most.
_REDRAW_HZ = 20.0


# --------------------------------------------------------------------------------------------
# Pacing


def auto_speed(duration_s: float, target_s: float = TARGET_REPLAY_S) -> float:
    """Replay speed that plays ``duration_s`` seconds of recording in about ``target_s``.

    Never slower than real time: a recording shorter than ``target_s`` plays at speed 1.

    Parameters
    ----------
    duration_s : float
        Recording length in seconds.
    target_s : float
        Wanted wall-clock length of the replay in seconds.

    Returns
    -------
    float
        Recording seconds per wall-clock second (1 = real time).
    """
    if not target_s > 0:
        raise ValueError(f"target replay time must be positive, got {target_s}")
    return max(1.0, duration_s / target_s)


class Pacer:
    """Sleep until recording time ``t`` is due at ``speed`` times real time.

    ``speed`` None means no pacing. ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(self, speed: float | None, clock=time.perf_counter, sleep=time.sleep):
        if speed is not None and not speed > 0:
            raise HarError(f"--speed must be positive, got {speed}")
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self.start = None
        self.slept = 0.0

    def wait(self, t_rec: float) -> None:
        """Block until ``t_rec`` seconds of recording have been 'recorded' since the first call."""
        if self.speed is None:
            return
        now = self.clock()
        if self.start is None:
            self.start = now - t_rec / self.speed
            return
        delay = self.start + t_rec / self.speed - now
        if delay > 0:
            self.sleep(delay)
            self.slept += delay


# --------------------------------------------------------------------------------------------
# Scores


def scores(y_true, y_pred, classes=None) -> tuple[float, float]:
    """Accuracy and macro-F1 of label ids (numpy only).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,), int
        True and predicted class ids; a prediction outside ``classes`` (0 for an invalid window)
        counts as wrong.
    classes : sequence of int, optional
        Classes averaged by the macro-F1; default: those present in ``y_true`` or ``y_pred``
        (as scikit-learn does), ignoring 0.

    Returns
    -------
    accuracy, macro_f1 : float
        NaN for empty input.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.size == 0:
        return float("nan"), float("nan")
    accuracy = float(np.mean(y_true == y_pred))
    if classes is None:
        classes = [c for c in np.union1d(y_true, y_pred).tolist() if c != 0]
    f1 = []
    for c in classes:
        tp = np.sum((y_true == c) & (y_pred == c))
        fp = np.sum((y_true != c) & (y_pred == c))
        fn = np.sum((y_true == c) & (y_pred != c))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return accuracy, float(np.mean(f1)) if f1 else float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10   # bytes on macOS, KiB on Linux


# --------------------------------------------------------------------------------------------
# Views


def letter(prediction) -> str:
    if not prediction.valid:
        return UNKNOWN_LETTER
    activity = ACTIVITY_BY_NAME.get(prediction.label)
    return activity.letter if activity is not None else (prediction.label[:1] or UNKNOWN_LETTER)


def _clock(seconds: float) -> str:
    m, s = divmod(max(seconds, 0.0), 60.0)
    return f"{int(m):02d}:{s:04.1f}"


@dataclass
class Run:
    """What a replay produced, for the views and the summary."""

    predictions: list = field(default_factory=list)
    truth: list = field(default_factory=list)        # activity id per window (0: mixed/none)
    latencies_ms: list = field(default_factory=list)
    busy_s: float = 0.0                              # time inside Recognizer calls
    wall_s: float = 0.0
    samples_in: int = 0
    grid_samples: int = 0
    expected: int = 0
    rss_before_mb: float | None = None               # peak RSS when the replay began
    gaps: int = 0                                    # holes in the data (NaN or missing samples)
    implausible: int = 0                             # invalid windows from physically impossible samples


class LineView:
    """One plain line per window (pipes, CI logs)."""

    def __init__(self, replay, out):
        self.replay, self.out = replay, out
        self.labelled = replay.labelled

    def start(self, speed):
        pace = "as fast as possible" if speed is None else f"speed x{speed:.3g}"
        print(f"{PROG}: {self.replay.name}, {_clock(self.replay.duration_s)}, {pace}",
              file=self.out, flush=True)

    def window(self, p, truth, t_now, run):
        conf = f"{p.confidence:.2f}" if reportable(p) else "  - "
        line = f"{_clock(p.t_start)}-{_clock(p.t_end)}  {letter(p)}  {p.label:<18} {conf}"
        if self.labelled:
            line += f"  true {LABEL_NAMES.get(truth, '(no single label)')}"
        print(line, file=self.out, flush=True)

    def tick(self, t_now, run):
        pass

    def end(self, run):
        pass




class TtyView(LineView):
    """The live view, redrawn in place: status line and timeline."""

    def __init__(self, replay, out):
        super().__init__(replay, out)
        self.drawn = 0
        self.last_draw = -math.inf
        self.timeline = []

    def window(self, p, truth, t_now, run):
        self.timeline.append(letter(p))
        self._draw(t_now, run, force=True)

    def tick(self, t_now, run):
        self._draw(t_now, run)

    def end(self, run):
        self._draw(self.replay.duration_s, run, force=True)
        self.out.write("\n")
        self.out.flush()

    def _draw(self, t_now, run, force=False):
        now = time.perf_counter()
        if not force and now - self.last_draw < 1.0 / _REDRAW_HZ:
            return
        self.last_draw = now
        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        last = run.predictions[-1] if run.predictions else None
        if last is None:
            activity = "waiting for the first window (2.56 s)"
        elif reportable(last):
            activity = f"\x1b[1m{last.label:<18}\x1b[0m {last.confidence:6.1%}"
        else:
            activity = f"{'UNKNOWN (gap)':<18}    -  "
        status = f" {_clock(t_now)} / {_clock(self.replay.duration_s)}  {activity}"
        if self.labelled and last is not None:
            truth = run.truth[-1]
            status += f"   true {LABEL_NAMES.get(truth, '(no single label)')}"
        room = width - 11
        tail = "".join(self.timeline[-room:])
        timeline = f" timeline {tail}"
        lines = [status, timeline]
        up = f"\x1b[{self.drawn - 1}A" if self.drawn > 1 else ""
        self.out.write(("\r" + up if self.drawn else "") +
                       "\n".join("\x1b[2K" + line for line in lines))
        self.out.flush()
        self.drawn = len(lines)


class JsonView(LineView):
    """One JSON object per window on stdout."""

    def start(self, speed):
        pass

    def window(self, p, truth, t_now, run):
        obj = {"start": round(p.t_start, 4), "end": round(p.t_end, 4), "label": p.label,
               "probabilities": {k: (round(v, 6) if math.isfinite(v) else None)
                                 for k, v in p.probabilities.items()},
               "latency_ms": round(run.latencies_ms[-1], 4), "valid": p.valid}
        if self.labelled:
            obj["true_label"] = LABEL_NAMES.get(truth)
        self.out.write(json.dumps(obj) + "\n")
        self.out.flush()


# --------------------------------------------------------------------------------------------
# The replay loop


def replay(source, recognizer, view, pacer: Pacer, chunk: int = CHUNK) -> Run:
    """Stream ``source`` through ``recognizer`` in pushes of ``chunk`` samples, paced; feed every
    prediction to ``view``. The source is read a few thousand samples at a time.

    Returns
    -------
    Run
        Predictions, true labels, per-window latencies (ms), time spent in the recognizer.
    """
    from .sources import Feeder

    run = Run(rss_before_mb=peak_rss_mb())
    feeder = Feeder(source, recognizer)
    perf = time.perf_counter
    t_wall0 = perf()

    def handle(pairs, elapsed, t_now):
        for p, truth in pairs:
            run.predictions.append(p)
            run.latencies_ms.append(elapsed * 1e3)
            run.truth.append(truth)
            view.window(p, truth, t_now, run)

    for block in source.chunks():
        # Pushes of ``chunk`` grid periods (160 ms): ``chunk`` samples at 50 Hz, more when faster.
        t_block = block.t
        cuts = np.searchsorted(t_block, np.arange(t_block[0], t_block[-1], chunk / SAMPLE_RATE_HZ)[1:])
        edges = [0, *cuts.tolist(), len(block)]
        for a, b in zip(edges[:-1], edges[1:]):
            if b <= a:
                continue
            piece = block.slice(a, b)
            t_now = float(piece.t[-1])
            pacer.wait(t_now)
            t1 = perf()
            pairs = feeder.push(piece)
            elapsed = perf() - t1
            run.busy_s += elapsed
            if pairs:
                handle(pairs, elapsed, t_now)
            else:
                view.tick(t_now, run)
    t1 = perf()
    pairs = feeder.finish()
    elapsed = perf() - t1
    run.busy_s += elapsed
    handle(pairs, elapsed, source.duration_s)
    run.wall_s = perf() - t_wall0
    run.samples_in = feeder.samples_in
    run.grid_samples = feeder.grid_samples
    run.expected = feeder.expected
    run.gaps = len(feeder.gaps)
    view.end(run)
    return run


def summary_lines(source, model, run: Run, speed) -> list[str]:
    preds = run.predictions
    n = len(preds)
    invalid = sum(not reportable(p) for p in preds)
    lost = n != run.expected
    check = ("none lost" if not lost else
             f"MISMATCH: {run.expected - n:+d} windows lost")
    lines = [f"source      {source.name}",
             f"duration    {source.duration_s:.1f} s, {run.samples_in} samples"
             + (f" ({run.grid_samples} on the 50 Hz grid)" if not source.grid else "")
             + (f", {run.gaps} gap(s)" if run.gaps else ""),
             f"model       {model.path.name} ({model.path})",
             f"windows     {n} processed, {run.expected} expected "
             f"(regular starts in {run.grid_samples} samples): {check}; {invalid} invalid"
             + (f" ({run.implausible} from implausible samples: {describe_limits()})" if run.implausible else "")]
    if source.labelled:
        truth = np.asarray(run.truth, dtype=np.int64)
        pred = np.array([p.label_id for p in preds], dtype=np.int64)
        scored = truth > 0
        acc, f1 = scores(truth[scored], pred[scored])
        lines.append(f"accuracy    {acc:.3f} on {int(scored.sum())} single-activity windows "
                     f"({n - int(scored.sum())} mixed/unlabelled not scored); macro-F1 {f1:.3f}")
    else:
        lines.append("accuracy    - (the source has no labels)")
    lat = np.asarray(run.latencies_ms)
    if lat.size:
        p50, p99 = np.percentile(lat, [50, 99])
        lines.append(f"latency     p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {lat.max():.2f} ms per window "
                     f"(the push of {CHUNK / SAMPLE_RATE_HZ * 1e3:.0f} ms of samples that completed it: "
                     "features + inference)")
    rtf = source.duration_s / run.busy_s if run.busy_s > 0 else float("inf")
    pace = "unpaced, --fast" if speed is None else f"paced x{speed:.3g}"
    lines.append(f"speed       {run.busy_s:.3f} s in the recognizer for {source.duration_s:.1f} s of "
                 f"recording: real-time factor {rtf:,.0f}x; wall {run.wall_s:.1f} s ({pace})")
    before = f" ({run.rss_before_mb:.1f} MB before the replay: loading the source and model)" \
        if run.rss_before_mb is not None else ""
    lines.append(f"memory      peak RSS {peak_rss_mb():.1f} MB{before}")
    tl = "".join(letter(p) for p in preds)
    legend = "  ".join(f"{ACTIVITY_BY_NAME[n].letter}={n}" for n in MODEL_CLASS_NAMES) + f"  {UNKNOWN_LETTER}=gap"
    lines.append(f"timeline    {legend}")
    for i in range(0, len(tl), 64):
        lines.append(f"  {i:5d}     {tl[i:i + 64]}")
    return lines


# --------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Replay a recording through the activity recognizer with a live view. "
        "Without a source option: the bundled excerpt of HAPT experiment 3, paced to about 15 s.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--experiment", type=int, metavar="N",
                     help="HAPT experiment 1..61 from the dataset cache (`har data fetch`)")
    src.add_argument("--raw", metavar="PATH", help="official UCI RawData acc_expXX_userYY.txt "
                     "(gyro_ file and labels.txt from the same folder)")
    src.add_argument("--csv", metavar="PATH", help="a phone export as the app wrote it (Sensor Logger, "
                     "phyphox, AndroSensor, HyperIMU, per-sensor CSV folder; folder, zip or file), "
                     "the engine CSV, or .npz with acc/gyro at 50 Hz")
    from .sources import add_input_options

    add_input_options(p)
    p.add_argument("--model", metavar="PATH", help="ONNX model (default: the bundled one)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, metavar="X",
                      help="replay speed, 1 = real time (default: finish in about 15 s)")
    pace.add_argument("--fast", action="store_true", help="as fast as possible, no pacing")
    p.add_argument("--json", action="store_true", help="one JSON object per window on stdout; "
                   "the summary goes to stderr")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    view = None
    try:
        if args.speed is not None and not args.speed > 0:
            raise HarError(f"--speed must be positive, got {args.speed:g}")
        from ..model import load_model
        from ..recognizer import Recognizer
        from .sources import input_options, load_source

        model = load_model(args.model)
        source = load_source(experiment=args.experiment, raw=args.raw, csv=args.csv,
                             **input_options(args))
        speed = None if args.fast else (args.speed or auto_speed(source.duration_s))
        recognizer = Recognizer(model, timestamped=not source.grid)
        if args.json:
            view, report = JsonView(source, sys.stdout), sys.stderr
        elif sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
            view, report = TtyView(source, sys.stdout), sys.stdout
        else:
            view, report = LineView(source, sys.stdout), sys.stdout
        view.start(speed)
        run = replay(source, recognizer, view, Pacer(speed))
        run.implausible = sum(p.reason == IMPLAUSIBLE for p in run.predictions)
        if run.implausible:
            print(f"{PROG}: warning: {implausible_warning(source.name, run.implausible)}", file=sys.stderr)
        for line in summary_lines(source, model, run, speed):
            print(line, file=report)
        if len(run.predictions) != run.expected:
            print(f"{PROG}: {run.expected - len(run.predictions)} window(s) lost", file=sys.stderr)
            return 1
        return 0
    except (HarError, OSError) + ARCHIVE_ERRORS as exc:
        if isinstance(view, TtyView) and view.drawn:
            sys.stdout.write("\n")
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, ARCHIVE_ERRORS):     # a corrupt zip/npz: name the file, not a traceback
            message = f"{args.csv or args.raw}: corrupt or truncated file ({describe_archive_error(exc)})"
        print(f"{PROG}: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if isinstance(view, TtyView) and view.drawn:
            sys.stdout.write("\n")
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
