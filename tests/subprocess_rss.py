"""Run Python code in a fresh interpreter and measure its peak resident memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_FOOTER = """
import json as _json, resource as _resource, sys as _sys
_sys.stdout.write("\\n" + _json.dumps({"peak_rss_mb": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_python(code: str, *, timeout: float = 120, env=None) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``code`` in a child interpreter; return the finished process and its peak RSS in MB.

    The child reports its own ``ru_maxrss`` on its last stdout line (Linux: KiB), so the number is
    the child's alone, not the largest of every child this test process ever waited for. The
    code's own exceptions are caught and printed (type and message) so that the peak is still
    reported.
    """
    body = ("try:\n" + textwrap.indent(textwrap.dedent(code), "    ") +
            "\nexcept BaseException as _exc:\n    print('EXC', type(_exc).__name__, _exc)\n" + _FOOTER)
    proc = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=timeout, env=env)
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "{}"
    try:
        peak = json.loads(last)["peak_rss_mb"]
    except (ValueError, KeyError):
        raise AssertionError(f"child did not report its memory:\n{proc.stdout}\n{proc.stderr}") from None
    return proc, peak
