"""Conversion between plain Python data and CEL values.

`to_cel` accepts JSON-like data plus a few richer Python types and rejects anything
else, so expressions only ever see data. `to_cel_paths` converts only the parts of a
binding an expression can reach. `from_cel` turns results back into plain Python.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from .errors import ExpressionTypeError, LimitExceededError
from .runtime import Ctx
from .values import (
    EPOCH,
    FALSE_KEY,
    INT64_MAX,
    INT64_MIN,
    TRUE_KEY,
    BoolKey,
    CelType,
    Duration,
    Timestamp,
    UInt,
    unkey,
)

_NO_KEY = object()


def timestamp_from_datetime(value: datetime) -> Timestamp:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # naive datetimes are taken as UTC
    delta = value - EPOCH
    nanos = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    return Timestamp(nanos)


def datetime_from_timestamp(value: Timestamp) -> datetime:
    # datetime has microseconds only: nanoseconds are truncated toward the past.
    return EPOCH + timedelta(microseconds=value.nanos // 1000)


def duration_from_timedelta(value: timedelta) -> Duration:
    nanos = (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    if nanos < Duration.MIN_NANOS or nanos > Duration.MAX_NANOS:
        raise ExpressionTypeError(f"timedelta out of the duration range: {value}")
    return Duration(nanos)


def timedelta_from_duration(value: Duration) -> timedelta:
    micros = abs(value.nanos) // 1000  # truncate toward zero
    return timedelta(microseconds=micros if value.nanos >= 0 else -micros)


_PASS_THROUGH = frozenset({str, bool, float, type(None), bytes, UInt, Timestamp, Duration, CelType})


class _BadValue(Exception):
    """A binding value that cannot become a CEL value; `path` is filled while unwinding."""

    def __init__(self, message: str, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.path: list[str] = []


def to_cel(value: Any, max_depth: int = 100) -> Any:
    """Plain Python (JSON-like, plus datetime/timedelta/bytes/tuples) to CEL values.

    Returns the very same object when nothing needs converting, so JSON data costs
    one walk and no copies. Integers outside int64 become doubles, as JSON numbers do
    in CEL. Anything else is rejected: the evaluator sees only data, never objects.
    """
    try:
        return _to_cel(value, max_depth)
    except _BadValue as exc:
        where = "".join(reversed(exc.path)) or "the value"
        cls = LimitExceededError if exc.limit else ExpressionTypeError
        raise cls(f"{exc.message} at {where}") from None


def _to_cel(value: Any, depth: int) -> Any:
    t = type(value)
    if t in _PASS_THROUGH:
        return value
    if t is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        try:
            return float(value)
        except OverflowError:
            raise _BadValue("integer too large for a CEL number") from None
    if depth <= 0:
        raise _BadValue("binding value nested too deeply", limit=True)
    if t is dict:
        return _dict_to_cel(value, depth - 1)
    if t is list:
        out: list[Any] | None = None
        i = 0
        try:
            for i, item in enumerate(value):
                ti = type(item)
                # Inline the common leaves: a call per JSON scalar would dominate.
                if ti in _PASS_THROUGH or (ti is int and INT64_MIN <= item <= INT64_MAX):
                    continue
                if ti is dict and depth > 1:  # rows of records: skip one call level
                    conv = _dict_to_cel(item, depth - 2)
                else:
                    conv = _to_cel(item, depth - 1)
                if conv is not item:
                    if out is None:
                        out = list(value)
                    out[i] = conv
        except _BadValue as exc:
            exc.path.append(f"[{i}]")
            raise
        return value if out is None else out
    return _other_to_cel(value, depth)


def _dict_to_cel(value: dict[Any, Any], depth: int) -> dict[Any, Any]:
    out: dict[Any, Any] | None = None
    key: Any = None
    try:
        for key, item in value.items():
            if type(key) is not str:
                return _keyed_dict_to_cel(value, depth)
            ti = type(item)
            if ti in _PASS_THROUGH or (ti is int and INT64_MIN <= item <= INT64_MAX):
                continue
            conv = _to_cel(item, depth)
            if conv is not item:
                if out is None:
                    out = dict(value)
                out[key] = conv
    except _BadValue as exc:
        exc.path.append(f".{key}")
        raise
    return value if out is None else out


def _keyed_dict_to_cel(value: dict[Any, Any], depth: int) -> dict[Any, Any]:
    """Slow path for maps whose keys are not all strings."""
    out: dict[Any, Any] = {}
    for key, item in value.items():
        tk = type(key)
        if tk is str or tk is int or tk is UInt or tk is BoolKey:
            ck: Any = key
        elif tk is bool:
            ck = TRUE_KEY if key else FALSE_KEY
        elif isinstance(key, str | int) and not isinstance(key, bool):
            ck = _to_cel(key, 1)  # str/int subclasses such as enums
        else:
            raise _BadValue(f"unsupported map key type {type(key).__name__}")
        if ck in out:
            raise _BadValue(f"duplicate map key {key!r}")
        try:
            out[ck] = _to_cel(item, depth)
        except _BadValue as exc:
            exc.path.append(f"[{key!r}]")
            raise
    return out


def _other_to_cel(value: Any, depth: int) -> Any:
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, Enum):
        return _to_cel(value.value, depth)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return _to_cel(int(value), depth)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Decimal):  # DynamoDB numbers
        if value.is_finite() and value == value.to_integral_value():
            return _to_cel(int(value), depth)
        return float(value)
    if isinstance(value, datetime):
        stamp = timestamp_from_datetime(value)
        if stamp.nanos < Timestamp.MIN_NANOS or stamp.nanos > Timestamp.MAX_NANOS:
            raise _BadValue("datetime out of range")
        return stamp
    if isinstance(value, date):
        return timestamp_from_datetime(datetime(value.year, value.month, value.day))
    if isinstance(value, timedelta):
        try:
            return duration_from_timedelta(value)
        except ExpressionTypeError as exc:
            raise _BadValue(exc.message) from None
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict):
        return _keyed_dict_to_cel(dict(value), depth - 1)
    if isinstance(value, list | tuple):
        return [_to_cel(item, depth - 1) for item in value]
    raise _BadValue(f"unsupported binding value of type {type(value).__name__}")


def to_cel_paths(value: Any, paths: tuple[tuple[tuple[str, ...], int], ...], max_depth: int) -> Any:
    """Convert only the parts of `value` that the expression reads.

    Each path is a chain of map keys (from a reference like `steps.a.output.rows`).
    Along a path, plain dicts are kept; where a path ends, or stops at anything
    other than a plain dict, that whole sub-value is converted - unless the path is
    only measured by size() (mode 1: a plain list, map, string or bytes is kept as it
    is) or only tested by has() (mode 2: its value is never read). An expression can
    only reach binding data through such paths (dynamic access makes the reference
    stop earlier, so more is converted), hence skipping the rest is safe.
    """
    for keys, mode in paths:
        value = _convert_at(value, keys, 0, max_depth, mode)
    return value


_SIZED = frozenset({list, dict, str, bytes})


def _convert_at(node: Any, keys: tuple[str, ...], i: int, depth: int, mode: int) -> Any:
    if i == len(keys) and mode == 2:
        return node  # has(): only the key's presence matters
    t = type(node)
    if t in _PASS_THROUGH or (t is int and INT64_MIN <= node <= INT64_MAX):
        return node
    if i == len(keys):
        return node if mode == 1 and t in _SIZED else to_cel(node, depth)
    if t is not dict:
        return to_cel(node, depth)
    key = keys[i]
    child = node.get(key, _NO_KEY)
    if child is _NO_KEY:
        return node
    conv = _convert_at(child, keys, i + 1, depth - 1, mode)
    if conv is child:
        return node
    copy = dict(node)
    copy[key] = conv
    return copy


def _json_key(key: Any) -> str:
    plain = unkey(key)
    if type(plain) is bool:
        return "true" if plain else "false"
    return str(int(plain)) if type(plain) is UInt else str(plain)


def from_cel(value: Any, ctx: Ctx | None = None) -> Any:
    """CEL values back to plain Python.

    uint -> int, timestamp -> aware UTC datetime, duration -> timedelta, type -> its
    name. When `ctx` is given every element produced costs one step, so a result built
    from shared sub-lists cannot expand into an exponential amount of Python data.
    """
    t = type(value)
    if t is str or t is int or t is bool or t is float or value is None or t is bytes:
        return value
    if t is list:
        if ctx is not None:
            ctx.charge(1 + len(value))
        return [from_cel(item, ctx) for item in value]
    if t is dict:
        if ctx is not None:
            ctx.charge(1 + len(value))
        items = [(k, from_cel(v, ctx)) for k, v in value.items()]
        out = {unkey(k): v for k, v in items}
        if len(out) < len(items):
            # true and 1 (false and 0) are two keys in CEL but one in Python: keep both,
            # keyed as JSON writes them ("true", "1"), where every map ends up.
            return {_json_key(k): v for k, v in items}
        return out
    if t is UInt:
        return int(value)
    if t is Timestamp:
        return datetime_from_timestamp(value)
    if t is Duration:
        return timedelta_from_duration(value)
    if t is CelType:
        return value.name
    return value
