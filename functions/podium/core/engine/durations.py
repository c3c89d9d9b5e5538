"""Durations in definitions: seconds as a number, or a string such as ``90s``, ``15m``,
``2h30m`` or ``10d``."""

from __future__ import annotations

import re

# ASCII digits only: \d also matches other scripts' digits, which float() reads.
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


def _with_unit(seconds: float) -> str:
    """The same duration with its largest whole unit (3600 -> '1h'), for a message."""
    for unit in ("d", "h", "m"):
        count = seconds / _UNIT_SECONDS[unit]
        if count >= 1 and count.is_integer():
            return f"{int(count)}{unit}"
    return f"{seconds:g}s"


def parse_duration(value: object) -> float:
    """Seconds. Raises ValueError with a message that shows the accepted forms."""
    if isinstance(value, bool):  # before numbers: a bool is an int in Python
        raise ValueError(
            f"{str(value).lower()} is a boolean, not a duration; write seconds (3600) or"
            " units d, h, m, s, ms ('1h', '90s')"
        )
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        try:
            return float(value)
        except OverflowError:  # an integer past a double's range (JSON and YAML allow it)
            raise ValueError(
                f"a duration of {len(str(value))} digits is too long; write seconds"
                " (3600) or units d, h, m, s, ms ('1h', '90s')"
            ) from None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a duration is a number of seconds or a string like '90s', '2h30m'")
    text = value.strip().replace(" ", "")
    if _NUMBER.match(text):
        raise ValueError(
            f"'{value}' is a quoted number; write it without quotes ({text}) for seconds,"
            f" or with a unit ('{_with_unit(float(text))}')"
        )
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
