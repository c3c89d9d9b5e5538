"""Orchestration helpers that CEL lacks, namespaced `podium.` so they never shadow CEL.

    podium.date(ts [, tz])             -> "YYYY-MM-DD"
    podium.format(ts, fmt [, tz])      -> strftime-like text, safe directive subset
    podium.dateRange(start, end)       -> ["YYYY-MM-DD", ...], both ends included
    podium.range(start, end)           -> [start, ..., end - 1], half-open like Python's

Wherever a timestamp is expected, a string is accepted too: either RFC 3339 or a
plain `YYYY-MM-DD` date (midnight UTC), because run dates often arrive as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from .errors import EvalError, LimitError
from .functions import Function
from .runtime import Ctx
from .timeutil import (
    NANOS,
    from_datetime,
    local_midnight,
    parse_date_or_timestamp,
    to_datetime,
)
from .values import Timestamp, no_overload

_MAX_FORMAT_LENGTH = 256

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _as_timestamp(value: Any, name: str, *call: Any) -> Timestamp:
    """``value`` (a timestamp, or a date or timestamp string); else the call's overload
    error, naming every argument of ``call`` (the value's own alone when none given)."""
    if type(value) is Timestamp:
        return value
    if type(value) is str:
        return parse_date_or_timestamp(value)
    raise no_overload(name, *(call or (value,)))


def _offset(dt: datetime) -> str:
    delta = dt.utcoffset()
    seconds = 0 if delta is None else int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    # Seconds dropped the same way on both sides (an 1800 local mean time: -04:56:02).
    hours, mins = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}{mins:02d}"


# Locale-independent on purpose: the same workflow must render the same paths anywhere.
_DIRECTIVES: dict[str, Callable[[datetime, Timestamp], str]] = {
    "Y": lambda dt, ts: f"{dt.year:04d}",
    "y": lambda dt, ts: f"{dt.year % 100:02d}",
    "m": lambda dt, ts: f"{dt.month:02d}",
    "d": lambda dt, ts: f"{dt.day:02d}",
    "H": lambda dt, ts: f"{dt.hour:02d}",
    "M": lambda dt, ts: f"{dt.minute:02d}",
    "S": lambda dt, ts: f"{dt.second:02d}",
    "f": lambda dt, ts: f"{(ts.nanos % NANOS) // 1000:06d}",
    "j": lambda dt, ts: f"{dt.timetuple().tm_yday:03d}",
    "a": lambda dt, ts: _DAYS[dt.weekday()][:3],
    "A": lambda dt, ts: _DAYS[dt.weekday()],
    "b": lambda dt, ts: _MONTHS[dt.month - 1][:3],
    "B": lambda dt, ts: _MONTHS[dt.month - 1],
    "u": lambda dt, ts: str(dt.isoweekday()),
    "w": lambda dt, ts: str(dt.isoweekday() % 7),
    "G": lambda dt, ts: f"{dt.isocalendar()[0]:04d}",
    "V": lambda dt, ts: f"{dt.isocalendar()[1]:02d}",
    "z": lambda dt, ts: _offset(dt),
    "s": lambda dt, ts: str(ts.nanos // NANOS),
    "%": lambda dt, ts: "%",
}


def _in_zone(value: Any, name: str, call: tuple[Any, ...], tz: tuple[Any, ...]) -> datetime:
    """The value as a datetime in the zone given (UTC when none): a plain date given
    with a zone is that day's midnight there, so the date stays the date written."""
    if tz and type(value) is str:
        local = local_midnight(value, tz[0])
        if local is not None:
            return local
    return to_datetime(_as_timestamp(value, name, *call), tz[0] if tz else None)


def fn_date(ctx: Ctx, value: Any, *tz: Any) -> str:
    dt = _in_zone(value, "podium.date", (value, *tz), tz)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"


def check_date(value: Any) -> None:
    """Raises what the helpers raise for ``value`` as their date or timestamp, whatever
    else they are given (``'yesterday'``, ``'2024-02-30'``): a constant date is checked
    when it compiles. The same parser as the calls (``_as_timestamp``; a plain date
    given with a zone is checked alike: local_midnight refuses the same dates)."""
    if type(value) is str:
        parse_date_or_timestamp(value)


def check_format(fmt: str) -> None:
    """Raises what podium.format raises for ``fmt`` whatever it formats (too long, a
    directive it does not support): a constant pattern is checked when it compiles."""
    if len(fmt) > _MAX_FORMAT_LENGTH:
        raise LimitError(f"format string too long (max {_MAX_FORMAT_LENGTH})")
    i = fmt.find("%")
    while i >= 0:
        directive = fmt[i + 1 : i + 2]
        if directive not in _DIRECTIVES:
            raise _unsupported(directive)
        i = fmt.find("%", i + 2)


def _unsupported(directive: str) -> EvalError:
    supported = " ".join("%" + d for d in _DIRECTIVES)
    return EvalError(f"unsupported format directive '%{directive}'; supported: {supported}")


def fn_format(ctx: Ctx, value: Any, fmt: Any, *tz: Any) -> str:
    if type(fmt) is not str:
        raise no_overload("podium.format", value, fmt, *tz)
    if len(fmt) > _MAX_FORMAT_LENGTH:
        raise LimitError(f"format string too long (max {_MAX_FORMAT_LENGTH})")
    dt = _in_zone(value, "podium.format", (value, fmt, *tz), tz)
    ts = from_datetime(dt)
    # A directive takes up to a few microseconds (%z with a zone looks its rules up):
    # charged before rendering, as three cheap steps each.
    ctx.charge(1 + 3 * fmt.count("%"))
    out: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        directive = fmt[i + 1 : i + 2]
        render = _DIRECTIVES.get(directive)
        if render is None:
            raise _unsupported(directive)
        out.append(render(dt, ts))
        i += 2
    return "".join(out)


def fn_date_range(ctx: Ctx, start: Any, end: Any) -> list[str]:
    call = (start, end)
    first = to_datetime(_as_timestamp(start, "podium.dateRange", *call)).date().toordinal()
    last = to_datetime(_as_timestamp(end, "podium.dateRange", *call)).date().toordinal()
    count = last - first + 1
    if count <= 0:
        return []
    cap = ctx.limits.max_list_size
    if count > cap:
        raise LimitError(f"podium.dateRange would produce {count} dates (max {cap})")
    # Building each date string takes about as long as five cheap steps.
    ctx.charge(5 * count)
    ctx.produce(64 * count)  # a pointer and a 10-character string each
    return [date.fromordinal(n).isoformat() for n in range(first, last + 1)]


def fn_range(ctx: Ctx, start: Any, end: Any) -> list[int]:
    if type(start) is not int or type(end) is not int:
        raise no_overload("podium.range", start, end)
    count = end - start
    if count <= 0:
        return []
    cap = ctx.limits.max_list_size
    if count > cap:
        raise LimitError(f"podium.range would produce {count} numbers (max {cap})")
    ctx.charge(count)
    ctx.produce(8 * count)
    return list(range(start, end))


PODIUM_FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("podium.date", frozenset({1, 2}), fn_date),
        Function("podium.format", frozenset({2, 3}), fn_format),
        Function("podium.dateRange", frozenset({2}), fn_date_range),
        Function("podium.range", frozenset({2}), fn_range),
    )
}
