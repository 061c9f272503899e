"""Old commit against new, side by side: streaming latency per window and batch windows/s.

    python -m benchmarks.compare_commits OLD [NEW] [--rounds 5]

Each commit's ``features/`` and ``runtime/`` are checked out into a temporary folder and laid out as
the ``har`` namespace package, and the same measurement runs in a fresh interpreter for each, the
two interleaved round after round so that the shared machine's load falls on both alike. Reported:
medians over rounds, and new / old.

- streaming: ``Recognizer.push`` one 50 Hz sample at a time over the bundled excerpt; the time of
  each push that completes a window, p50 in ms;
- batch: ``extract_recording`` over the bundled excerpt, windows per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, time, numpy as np
from importlib import resources
from har.features import extract_recording
from har.runtime import Recognizer
with resources.files("har.runtime").joinpath("data/sample_recording.npz").open("rb") as fh:
    d = np.load(fh); acc, gyro = d["acc"].astype(float), d["gyro"].astype(float)
n = 6000
acc, gyro = acc[:n], gyro[:n]
rec = Recognizer()
lat = []
for i in range(n):
    t0 = time.perf_counter()
    out = rec.push(acc[i:i + 1], gyro[i:i + 1])
    dt = time.perf_counter() - t0
    if out:
        lat.append(dt)
extract_recording(acc[:500], gyro[:500])        # first use imports scipy.signal: not timed
times = []
for _ in range(3):
    t0 = time.perf_counter()
    starts, X = extract_recording(acc, gyro)
    times.append(time.perf_counter() - t0)
batch = len(starts) / float(np.median(times))
print(json.dumps({"stream_p50_ms": float(np.median(lat)) * 1e3, "batch_windows_s": batch}))
"""


def checkout(commit: str, into: Path) -> Path:
    """Lay ``commit``'s features/ and runtime/ out as har/features, har/runtime under ``into``."""
    har = into / "har"
    har.mkdir(parents=True)
    for folder in ("features", "runtime"):
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, folder], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
        (into / folder).rename(har / folder)
    return into


def measure(root: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=root, capture_output=True, text=True,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, check=True).stdout
    return json.loads(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new", nargs="?", default="HEAD")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        roots = {c: checkout(c, Path(tmp) / name) for c, name in ((args.old, "old"), (args.new, "new"))}
        runs = {c: [] for c in roots}
        for _ in range(args.rounds):
            for c, root in roots.items():
                runs[c].append(measure(root))
    med = {c: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for c, rs in runs.items()}
    old, new = med[args.old], med[args.new]
    print(f"| measure | {args.old} | {args.new} | new / old |")
    print("|---|---|---|---|")
    for key, unit in (("stream_p50_ms", "ms"), ("batch_windows_s", "windows/s")):
        print(f"| {key} ({unit}) | {old[key]:.3f} | {new[key]:.3f} | {new[key] / old[key]:.3f} |")
    print(f"\nmedians of {args.rounds} interleaved rounds; streaming: 1 sample per push, 6,000 samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
