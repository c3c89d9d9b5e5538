"""A value as a message shows it: in the definition language's own forms, cut short.

Messages name values a user wrote or a run produced (``no such key: null``, ``got
timestamp timestamp('2026-01-01T00:00:00Z')``). Python's ``repr`` said ``None``,
``True``, ``Timestamp(0)`` or ``datetime.datetime(..., tzinfo=...)``, and built the text
of a whole 100,000-element list only to keep 60 characters of it (paid again at every
iteration of a comprehension that absorbed the error). Here scalars are written as CEL
literals (``null``, ``true``, ``'text'``, ``3u``, ``b'..'``, ``timestamp('...')``,
``duration('90s')``) and lists and maps as compact JSON-like text, or by their type
and size (``brief``); the work done is bounded by ``limit``, not by the value's size.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from .convert import timestamp_from_datetime
from .timeutil import format_duration, format_timestamp
from .values import BoolKey, CelType, Duration, Timestamp, UInt

SHOWN_CHARS = 60


def shown(value: Any, limit: int = SHOWN_CHARS, *, brief: bool = False) -> str:
    """``value`` in about ``limit`` characters (``...`` marks a cut); ``brief``: a list
    or map by its size (``a list of 3 elements``), as for a key that names nothing."""
    if brief and isinstance(value, list | tuple | dict):
        return _size_of(value)
    out: list[str] = []
    _write(value, out, [limit])
    text = "".join(out)
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def _size_of(value: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> str:
    n = len(value)
    if isinstance(value, dict):
        return f"a map of {n} {'entry' if n == 1 else 'entries'}"
    return f"a list of {n} {'element' if n == 1 else 'elements'}"


def _write(value: Any, out: list[str], budget: list[int]) -> None:
    """Append ``value``'s text while ``budget`` (characters left) lasts: once it is
    spent, nothing more is written (the caller cuts what went over)."""
    if budget[0] < 0:
        return
    if isinstance(value, dict):
        _items(value.items(), "{", "}", out, budget)
    elif isinstance(value, list | tuple):
        _items(((None, v) for v in value), "[", "]", out, budget)
    else:
        text = _scalar(value, budget[0] + 1)
        out.append(text)
        budget[0] -= len(text)


def _items(pairs: Any, start: str, end: str, out: list[str], budget: list[int]) -> None:
    out.append(start)
    budget[0] -= 1
    for n, (key, item) in enumerate(pairs):
        if budget[0] < 0:
            return  # cut: the rest is not looked at
        if n:
            out.append(", ")
            budget[0] -= 2
        if start == "{":
            _write(key, out, budget)
            out.append(": ")
            budget[0] -= 2
        _write(item, out, budget)
    out.append(end)
    budget[0] -= 1


def _scalar(value: Any, room: int) -> str:
    """One scalar as a CEL literal; a long string or bytes is cut to ``room`` first."""
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is BoolKey:
        return "true" if value.value else "false"
    if t is str:
        return repr(value[:room])
    if t is UInt:
        return f"{int(value)}u"
    if isinstance(value, int):
        return str(int(value))
    if t is float:
        return double_text(value)
    if isinstance(value, bytes | bytearray):
        return repr(bytes(value[:room]))
    if t is Timestamp:
        return f"timestamp('{format_timestamp(value)}')"
    if isinstance(value, datetime):
        return f"timestamp('{format_timestamp(timestamp_from_datetime(value))}')"
    if t is Duration:
        return f"duration('{format_duration(value)}')"
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return f"duration('{format_duration(Duration(micros * 1000))}')"
    if t is CelType:
        return str(value.name)
    if isinstance(value, str):  # a str subclass (an enum's value)
        return repr(str.__str__(value)[:room])
    return f"a value of type {t.__name__}"


def type_label(value: Any) -> str:
    """A value's type in the definition language's words, for "got TYPE VALUE"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, datetime) or type(value) is Timestamp:
        return "timestamp"
    if isinstance(value, timedelta) or type(value) is Duration:
        return "duration"
    if isinstance(value, bytes):
        return "bytes"
    if type(value) is UInt:
        return "uint"
    # CEL's names (Python's said "got str 'abc'", "got dict {...}").
    return _CEL_TYPE_NAMES.get(type(value), type(value).__name__)


_CEL_TYPE_NAMES = {
    str: "string",
    int: "int",
    float: "double",
    dict: "map",
    list: "list",
    tuple: "list",
}


def double_text(value: float) -> str:
    """A double as CEL writes it: NaN, Infinity and -Infinity by name, any other in
    Python's shortest round-trip form (which is also valid JSON)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)
