"""``har predict`` on long recordings: wall time and peak resident memory, before and after.

    python -m benchmarks.bench_predict_memory                      # 1, 6 and 24 h with this checkout
    python -m benchmarks.bench_predict_memory --before-python /path/to/other/venv/bin/python
    python -m benchmarks.bench_predict_memory --quick              # one 10-minute file (smoke)

Synthetic 50 Hz samples (a walking-like 2 Hz sway plus noise, gravity on y, gyro sines) are written
as engine CSV files (``t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z``) block by block into a temporary
folder (or ``--data DIR``, kept between runs), so writing a 24-hour file needs no more memory than
a block. Each ``har predict FILE --out OUT`` runs in a fresh interpreter: its peak RSS is its own
``VmHWM`` (``/proc/self/status``), read at exit by a small wrapper around ``har.model.cli.main``;
the parent also samples ``VmRSS`` and stops a run that passes ``--rss-cap-mb`` (so that a
"before" run that would need 15 GB does not take the machine down), reporting the cap as a lower
bound. Time is the wall time of the whole command, imports included.

"before" and "after" are two Python interpreters with ``har`` installed from two checkouts
(``--before-python``, ``--after-python``; default after = this interpreter). Writes a Markdown
table to ``--out`` (default ``benchmarks/RESULTS_predict_memory.md``; ``--quick`` default
``benchmarks/out/``). Not part of the test suite: it runs for many minutes.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RATE_HZ = 50
BLOCK_S = 600                      # samples written per block: 10 minutes

WRAPPER = r"""
import json, sys
from har.model.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = None
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    sys.stderr.write("\n@@peak " + json.dumps({"peak_rss_mb": peak}) + "\n")
sys.exit(code)
"""


def write_engine_csv(path: Path, hours: float, seed: int = 0) -> int:
    """Write ``hours`` of synthetic 50 Hz samples as an engine CSV, one block at a time; return n."""
    n = int(round(hours * 3600 * RATE_HZ))
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".partial")
    with open(tmp, "w") as fh:
        fh.write("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
        for a in range(0, n, BLOCK_S * RATE_HZ):
            b = min(a + BLOCK_S * RATE_HZ, n)
            t = np.arange(a, b) / RATE_HZ
            sway = np.sin(2 * np.pi * 2.0 * t)
            acc = np.column_stack([0.2 * sway, 1.0 + 0.3 * np.sin(2 * np.pi * 4.0 * t), 0.1 * sway])
            gyro = np.column_stack([0.5 * sway, 0.3 * np.cos(2 * np.pi * 2.0 * t), 0.1 * sway])
            block = np.column_stack([t, acc + rng.normal(0, 0.02, acc.shape), gyro + rng.normal(0, 0.02, gyro.shape)])
            fh.write("\n".join("%.2f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f" % tuple(row) for row in block.tolist()))
            fh.write("\n")
    os.replace(tmp, path)
    return n


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_predict(python: str, csv_path: Path, out_path: Path, *, rss_cap_mb: float, timeout_s: float) -> dict:
    """One ``har predict`` in a fresh interpreter: wall time, peak RSS (own VmHWM), exit code."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [python, "-c", WRAPPER, "predict", str(csv_path), "--out", str(out_path)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    sampled, capped = 0.0, False
    while proc.poll() is None:
        rss = _rss_mb(proc.pid) or 0.0
        sampled = max(sampled, rss)
        if rss > rss_cap_mb:
            proc.kill()
            capped = True
            break
        if time.perf_counter() - t0 > timeout_s:
            proc.kill()
            break
        time.sleep(0.25)
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    peak = None
    for line in err.splitlines():
        if line.startswith("@@peak "):
            peak = json.loads(line[len("@@peak "):])["peak_rss_mb"]
    summary = [l for l in err.splitlines() if l.startswith("har predict:")]
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak, 1) if peak else None,
            "sampled_rss_mb": round(sampled, 1), "exit": proc.returncode, "capped": capped,
            "timed_out": not capped and proc.returncode is not None and proc.returncode < 0,
            "summary": summary[-1] if summary else err.strip().splitlines()[-1:] }


def _median_run(runs: list[dict]) -> dict:
    """The median wall time of repeated runs, the largest peak RSS, the runs themselves."""
    ok = [r for r in runs if not r["capped"] and r["exit"] == 0]
    if len(ok) != len(runs):
        return runs[-1]
    out = dict(ok[0])
    out["wall_s"] = round(float(np.median([r["wall_s"] for r in ok])), 2)
    out["peak_rss_mb"] = max(r["peak_rss_mb"] or 0 for r in ok)
    out["wall_s_runs"] = [r["wall_s"] for r in ok]
    return out


def _cell(r: dict | None, cap: float) -> tuple[str, str]:
    if r is None:
        return "-", "-"
    if r["capped"]:
        return f"stopped at {r['wall_s']:.0f}", f"> {cap:,.0f} (stopped)"
    if r["exit"] not in (0,):
        return f"{r['wall_s']:.1f} (exit {r['exit']})", f"{r['peak_rss_mb'] or r['sampled_rss_mb']:,.0f}"
    return f"{r['wall_s']:.1f}", f"{r['peak_rss_mb']:,.0f}"


def _version(python: str) -> str:
    code = "import har.model.cli as c, pathlib; print(pathlib.Path(c.__file__).resolve().parents[1])"
    try:
        return subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_predict_memory", description=__doc__.split("\n")[0])
    p.add_argument("--hours", type=float, nargs="+", default=[1, 6, 24])
    p.add_argument("--quick", action="store_true", help="one 10-minute file (smoke run)")
    p.add_argument("--before-python", help="interpreter with the baseline checkout installed")
    p.add_argument("--after-python", default=sys.executable, help="interpreter with this checkout (default: this one)")
    p.add_argument("--data", type=Path, help="folder for the generated CSV files (kept); default a temporary one")
    p.add_argument("--rss-cap-mb", type=float, default=6000, help="stop a run whose RSS passes this")
    p.add_argument("--timeout-s", type=float, default=3600)
    p.add_argument("--repeats", type=int, default=3, help="runs per cell (median time, largest peak)")
    p.add_argument("--out", type=Path, help="Markdown report (default benchmarks/RESULTS_predict_memory.md)")
    p.add_argument("--label-before", default="before")
    p.add_argument("--label-after", default="after")
    args = p.parse_args(argv)
    hours = [10 / 60] if args.quick else args.hours
    if args.quick:
        args.repeats = 1
    out = args.out or (HERE / "out" / "RESULTS_predict_memory.md" if args.quick else HERE / "RESULTS_predict_memory.md")
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="har-bench-") as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        rows = []
        for h in hours:
            csv_path = data / f"synthetic_{h * 60:g}min.csv"
            if not csv_path.exists():
                t0 = time.perf_counter()
                write_engine_csv(csv_path, h)
                print(f"wrote {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr)
            n = int(round(h * 3600 * RATE_HZ))
            row = {"hours": h, "samples": n, "file_mb": round(csv_path.stat().st_size / 1e6, 1)}
            pythons = {"before": args.before_python, "after": args.after_python}
            runs = {key: [] for key, python in pythons.items() if python is not None}
            for _ in range(args.repeats):
                for key in runs:                # before and after interleaved: load drifts hit both
                    if runs[key] and (runs[key][-1]["capped"] or runs[key][-1]["exit"] != 0):
                        continue                # a stopped run is not repeated
                    r = run_predict(pythons[key], csv_path, Path(tmp) / f"pred_{key}_{h * 60:g}min.csv",
                                    rss_cap_mb=args.rss_cap_mb, timeout_s=args.timeout_s)
                    print(f"{h:g} h {key}: {r}", file=sys.stderr)
                    runs[key].append(r)
            for key in pythons:
                row[key] = _median_run(runs[key]) if key in runs else None
            rows.append(row)
    cap = args.rss_cap_mb
    lines = ["# `har predict` on long recordings: time and peak RSS", "",
             f"Command: `python -m benchmarks.bench_predict_memory {' '.join(argv if argv is not None else sys.argv[1:])}`  ",
             f"Date: {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')} "
             f"(took {time.perf_counter() - t_start:.0f} s)  ",
             f"Machine: {platform.platform()} | {os.cpu_count()} CPUs | python {platform.python_version()}  ",
             f"{args.label_before}: `{args.before_python or '-'}` (har from {_version(args.before_python) if args.before_python else '-'})  ",
             f"{args.label_after}: `{args.after_python}` (har from {_version(args.after_python)})  ",
             "Input: synthetic 50 Hz engine CSV (walking-like sway + noise), one file per row; one "
             "`har predict FILE --out OUT` per run in a fresh interpreter, 1 thread; time: the median "
             f"of {args.repeats} runs (before and after interleaved per row), peak RSS: the largest "
             f"VmHWM of the runs; a run passing {cap:,.0f} MB is stopped (the cell says so) and not repeated.", "",
             f"| recording | samples | CSV MB | {args.label_before} time s | {args.label_before} peak RSS MB "
             f"| {args.label_after} time s | {args.label_after} peak RSS MB | time after/before |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        bt, bm = _cell(row["before"], cap)
        at, am = _cell(row["after"], cap)
        name = f"{row['hours'] * 60:g} min" if row["hours"] < 1 else f"{row['hours']:g} h"
        b, a = row["before"], row["after"]
        both = b and a and not b["capped"] and not a["capped"] and b["exit"] == 0 and a["exit"] == 0
        ratio = f"{a['wall_s'] / b['wall_s']:.2f}" if both else "-"
        lines.append(f"| {name} | {row['samples']:,} | {row['file_mb']:,.0f} | {bt} | {bm} | {at} | {am} | {ratio} |")
    lines.append("")
    lines.append("Raw results (JSON):")
    lines.append("")
    lines.append("```json")
    lines.append(json.dumps(rows, indent=1))
    lines.append("```")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"report: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
