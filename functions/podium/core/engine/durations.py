"""Durations in definitions: seconds as a number, or a string such as ``90s``, ``15m``,
``2h30m`` or ``10d``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """Seconds. Raises ValueError with a message that shows the accepted forms."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '90s', '2h30m'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a duration is a number of seconds or a string like '90s', '2h30m'")
    text = value.strip().replace(" ", "")
    pos, total = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise ValueError(
            f"'{value}' is not a duration; write seconds (3600) or units d, h, m, s, ms"
            " ('2h30m', '90s')"
        )
    return total
