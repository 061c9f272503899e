"""Finding time and x/y/z columns by their header names, units included when written."""

from __future__ import annotations

import re

_AXIS = re.compile(r"^(?P<prefix>(?:.*?[^a-zA-Z])?)(?P<axis>[xyz])(?:[\s_\-]*axis)?\s*"
                   r"(?:[\(\[](?P<unit>[^\)\]]*)[\)\]])?$", re.IGNORECASE)
_TIME = re.compile(r"time|stamp|millis|second|elapsed|nanos|^t$|^ts$", re.IGNORECASE)


def unit_of(text: str | None) -> str | None:
    """The engine's name of a unit as written in a header: "m/s^2", "g", "rad/s", "deg/s"."""
    if not text:
        return None
    u = text.strip().lower().replace(" ", "").replace("²", "^2")
    if u in ("m/s^2", "m/s2", "ms^-2", "m/s/s", "m.s^-2"):
        return "m/s^2"
    if u in ("g", "gs"):
        return "g"
    if u in ("rad/s", "rad/sec", "rads^-1", "rad.s^-1"):
        return "rad/s"
    if u in ("deg/s", "°/s", "dps", "deg/sec"):
        return "deg/s"
    return None


def time_unit_of(name: str) -> str | None:
    """Time unit written in a column name: "Time (s)" -> "s", "Milliseconds" -> "ms"."""
    n = name.lower()
    m = re.search(r"[\(\[]\s*(s|ms|us|µs|ns)\s*[\)\]]", n)
    if m:
        return {"µs": "us"}.get(m.group(1), m.group(1))
    if "millis" in n or re.search(r"\bms\b", n) or n.endswith("_ms"):
        return "ms"
    if "nanos" in n or re.search(r"\bns\b", n) or n.endswith("_ns"):
        return "ns"
    if "micros" in n or re.search(r"\b(us|µs)\b", n):
        return "us"
    if re.search(r"second|\bsec\b|\(s\)", n) and "millis" not in n:
        return "s"
    return None


def axis_sets(header) -> dict[str, dict]:
    """Group x/y/z columns by the name before the axis letter.

    Returns
    -------
    dict
        prefix (lower-case, may be "") -> {"x": column, "y": column, "z": column, "unit": unit or None}
    """
    sets: dict[str, dict] = {}
    for name in header:
        m = _AXIS.match(name.strip())
        if not m:
            continue
        prefix = m.group("prefix").strip(" _.-:\t").lower()
        entry = sets.setdefault(prefix, {"unit": unit_of(m.group("unit"))})
        entry.setdefault(m.group("axis").lower(), name)
    return {p: s for p, s in sets.items() if all(a in s for a in "xyz")}


def time_columns(header) -> list[str]:
    """Columns whose name says time, in header order."""
    return [h for h in header if _TIME.search(h)]
