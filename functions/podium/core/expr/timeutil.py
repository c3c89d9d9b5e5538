"""Timestamps, durations and time zones, with CEL's nanosecond precision and ranges.

All calendar arithmetic goes through `datetime` objects built by pure arithmetic from
the epoch, never through the clock or the platform's `gmtime`, so the full range of
years 1..9999 works everywhere.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import EvalError
from .values import EPOCH, Duration, Timestamp, make_duration, make_timestamp

NANOS = 1_000_000_000

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_DATE_ONLY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1024)  # run dates repeat across evaluations; Timestamps are immutable
def parse_timestamp(text: str) -> Timestamp:
    """RFC 3339, e.g. `2009-02-13T23:31:30Z` or `1972-01-01T10:00:20.021-05:00`."""
    m = _RFC3339.fullmatch(text) if len(text) <= 64 else None
    if m is None:
        raise EvalError(f"invalid timestamp {text[:64]!r}: expected RFC 3339")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        days = date(year, month, day).toordinal() - _EPOCH_ORDINAL
    except ValueError as exc:
        raise EvalError(f"timestamp out of range: {text!r} ({exc})") from None
    if hour > 23 or minute > 59 or second > 59:
        raise EvalError(f"invalid time of day in timestamp {text!r}")
    frac = m.group(7) or ""
    nanos = int(frac.ljust(9, "0")) if frac else 0
    offset = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            raise EvalError(f"invalid UTC offset in timestamp {text!r}")
        offset = (oh * 3600 + om * 60) * (-1 if m.group(9) == "-" else 1)
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
    return make_timestamp(seconds * NANOS + nanos)


def local_midnight(text: str, tz: object) -> datetime | None:
    """A plain ``YYYY-MM-DD`` as that day's midnight in ``tz``; None for anything else
    (a run's ``logical_date`` is already the date in its trigger's zone: read as
    midnight UTC and shown in a zone west of UTC, it would be the day before)."""
    m = _DATE_ONLY.fullmatch(text)
    if m is None:
        return None
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise EvalError(f"invalid date {text!r} ({exc})") from None
    return datetime(day.year, day.month, day.day, tzinfo=_zone(tz))


def parse_date_or_timestamp(text: str) -> Timestamp:
    """`YYYY-MM-DD` (midnight UTC) or a full RFC 3339 timestamp."""
    m = _DATE_ONLY.fullmatch(text)
    if m is None:
        return parse_timestamp(text)
    try:
        days = date(int(m.group(1)), int(m.group(2)), int(m.group(3))).toordinal()
    except ValueError as exc:
        raise EvalError(f"invalid date {text!r} ({exc})") from None
    return make_timestamp((days - _EPOCH_ORDINAL) * 86_400 * NANOS)


def _frac(nanos: int) -> str:
    """`.5`, `.000000001`, or `` for a fractional second: trailing zeros trimmed."""
    return f".{nanos:09d}".rstrip("0") if nanos else ""


def format_timestamp(value: Timestamp) -> str:
    seconds, nanos = divmod(value.nanos, NANOS)
    dt = EPOCH + timedelta(seconds=seconds)
    # Explicit fields: strftime does not zero-pad years before 1000 on every platform.
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T"
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}{_frac(nanos)}Z"
    )


def format_duration(value: Duration) -> str:
    sign = "-" if value.nanos < 0 else ""
    seconds, nanos = divmod(abs(value.nanos), NANOS)
    return f"{sign}{seconds}{_frac(nanos)}s"


_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)", re.ASCII)
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": NANOS,
    "m": 60 * NANOS,
    "h": 3600 * NANOS,
}


@lru_cache(maxsize=1024)
def parse_duration(text: str) -> Duration:
    """Go-style durations as CEL uses them: `1.5s`, `-2h45m`, `300ms`, `1h2m3.5s`."""
    if len(text) > 128:
        raise EvalError("invalid duration: too long")
    rest = text
    sign = 1
    if rest[:1] in ("-", "+"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return Duration(0)
    if not rest:
        raise EvalError(f"invalid duration {text!r}")
    total = 0
    pos = 0
    while pos < len(rest):
        m = _DURATION_PART.match(rest, pos)
        if m is None or (not m.group(1) and not m.group(2)):
            raise EvalError(f"invalid duration {text!r}")
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        scale = _UNITS[unit]
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        pos = m.end()
    return make_duration(sign * total)


# --------------------------------------------------------------------------------------
# Time zones and calendar fields
# --------------------------------------------------------------------------------------

_FIXED_TZ = re.compile(r"([+-])?(\d{2}):(\d{2})", re.ASCII)
_TZ_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,3}", re.ASCII)


def resolve_timezone(name: str) -> tzinfo:
    """`UTC`, a fixed offset such as `+05:30` / `-02:30` / `02:00`, or an IANA name."""
    zone = _resolved(name)
    if isinstance(zone, str):
        raise EvalError(zone)
    return zone


@lru_cache(maxsize=256)
def _resolved(name: str) -> tzinfo | str:
    """The zone, or why the name is refused: a refusal is cached too (an unknown name
    searches the zoneinfo path and tzdata again on each call, uncharged)."""
    m = _FIXED_TZ.fullmatch(name)
    if m is not None:
        hours, minutes = int(m.group(2)), int(m.group(3))
        if hours > 23 or minutes > 59:
            return f"invalid time zone offset {name!r}"
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if m.group(1) == "-" else delta)
    if name in ("UTC", "Z", "utc"):
        return UTC
    # Validate before handing the name to zoneinfo, which maps it to a file path.
    if len(name) > 64 or not _TZ_NAME.fullmatch(name) or ".." in name:
        return f"invalid time zone {name[:64]!r}"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name!r}"


def check_timezone(tz: object) -> None:
    """Raises what a call given ``tz`` as its time zone raises (not a string, unknown):
    a constant zone is checked when it compiles."""
    _zone(tz)


def _zone(tz: object) -> tzinfo:
    if tz is None:
        return UTC
    if type(tz) is not str:
        raise EvalError("time zone must be a string", kind="type")
    return resolve_timezone(tz)


def to_datetime(value: Timestamp, tz: object = None) -> datetime:
    """The timestamp as an aware datetime in `tz` (microsecond precision)."""
    seconds, nanos = divmod(value.nanos, NANOS)
    utc = EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    zone = _zone(tz)
    if zone is UTC:
        return utc
    try:
        return utc.astimezone(zone)
    except (OverflowError, ValueError):
        raise EvalError("timestamp out of range in time zone") from None


def from_datetime(value: datetime) -> Timestamp:
    delta = value - EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return make_timestamp(seconds * NANOS + delta.microseconds * 1000)


def timestamp_field(value: Timestamp, field: str, tz: object = None) -> int:
    """CEL's timestamp accessors. Month, day-of-month, day-of-year are 0-based."""
    if field == "getMilliseconds":
        # Sub-second precision is independent of the zone.
        _zone(tz)
        return (value.nanos % NANOS) // 1_000_000
    dt = to_datetime(value, tz)
    if field == "getFullYear":
        return dt.year
    if field == "getMonth":
        return dt.month - 1
    if field == "getDate":
        return dt.day
    if field == "getDayOfMonth":
        return dt.day - 1
    if field == "getDayOfWeek":
        return dt.isoweekday() % 7  # Sunday is 0
    if field == "getDayOfYear":
        return dt.timetuple().tm_yday - 1
    if field == "getHours":
        return dt.hour
    if field == "getMinutes":
        return dt.minute
    if field == "getSeconds":
        return dt.second
    raise EvalError(f"unknown timestamp accessor {field}")


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def duration_field(value: Duration, field: str) -> int:
    """CEL's duration accessors: whole hours/minutes/seconds, and the millisecond part."""
    if field == "getHours":
        return _trunc_div(value.nanos, 3600 * NANOS)
    if field == "getMinutes":
        return _trunc_div(value.nanos, 60 * NANOS)
    if field == "getSeconds":
        return _trunc_div(value.nanos, NANOS)
    if field == "getMilliseconds":
        millis = _trunc_div(value.nanos, 1_000_000)
        return millis - _trunc_div(millis, 1000) * 1000
    raise EvalError(f"no matching overload for duration.{field}()", kind="type")


def add_timestamp(ts: Timestamp, nanos: int) -> Timestamp:
    return make_timestamp(ts.nanos + nanos)


def sub_timestamps(a: Timestamp, b: Timestamp) -> Duration:
    return make_duration(a.nanos - b.nanos)
