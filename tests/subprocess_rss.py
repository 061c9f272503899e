"""Run Python code in a fresh interpreter and measure its peak resident memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_FOOTER = """
import json as _json, sys as _sys
def _peak_mb():
    # VmHWM belongs to this process's memory map alone; ru_maxrss would carry over the parent's
    # peak across fork and exec (Linux keeps the larger of the two).
    try:
        with open("/proc/self/status") as _fh:
            for _line in _fh:
                if _line.startswith("VmHWM:"):
                    return int(_line.split()[1]) / 1024
    except OSError:
        pass
    import resource as _resource
    return _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024
_sys.stdout.write("\\n" + _json.dumps({"peak_rss_mb": _peak_mb()}))
"""


def run_python(code: str, *, timeout: float = 120, env=None) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``code`` in a child interpreter; return the finished process and its peak RSS in MB.

    The child reports its own high-water mark (``VmHWM``) on its last stdout line, so the number is
    the child's alone: not the parent's peak, not the largest of every child ever waited for. The
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
