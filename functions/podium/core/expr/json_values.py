"""Rendered values as JSON: the one form they take once they leave an expression.

A template renders CEL values as Python (``from_cel``: a timestamp as a ``datetime``, a
duration as a ``timedelta``, bytes as ``bytes``). What leaves for the outside world (a
Lambda's event) or is stored (a loop's values, a while's state) must be JSON, and the
same JSON whichever way it goes: locally or deployed, in memory, SQLite or DynamoDB.
Such paths convert here (a Lambda's event, loop values, a while's state), so none falls
back on ``str()`` of a Python object. The forms are the ones ``string()`` and templates
already print: a timestamp in RFC 3339, UTC (``2024-05-01T10:00:00Z``), a duration in
seconds (``5400s``), bytes in base64 (``YWI=``, as JSON carries bytes), a map key as its
text. NaN and Infinity have no JSON form: they are refused, naming where they are, never
sent or stored as text a reader cannot parse.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from .convert import timestamp_from_datetime
from .errors import ExpressionTypeError
from .functions import bytes_to_json
from .timeutil import format_duration, format_timestamp
from .values import BoolKey, CelType, Duration, Timestamp

_SAME = frozenset({str, int, bool, type(None)})


class NotJsonError(ExpressionTypeError):
    """A rendered value that has no JSON form (NaN, Infinity, an object); says where."""


class _NotJson(Exception):
    """Raised while walking; ``path`` is filled while unwinding (as in convert.py)."""

    def __init__(self, what: str, why: str = "has no JSON form") -> None:
        super().__init__(what)
        self.what, self.why = what, why
        self.path: list[str] = []


def to_json_value(value: Any, where: str = "value", *, finite: bool = True) -> Any:
    """``value`` as JSON data: dicts with string keys, lists, strings, finite numbers,
    booleans and null. Returns the very same object when nothing needs converting (JSON
    data costs one walk, no copy). ``where`` names the value in errors: a NaN at key
    ``start`` is reported at ``payload.start`` with ``where="payload"``, and at
    ``start`` with ``where=""``. ``finite=False`` lets NaN and Infinity through (for a
    person to read, as ``json.dumps`` prints them); everything else is still checked.
    Raises NotJsonError (an ExpressionError: the definition's fault, never retried)."""
    try:
        return _convert(value, finite)
    except _NotJson as exc:
        # An empty ``where`` (a whole event): its keys are the path's first names.
        path = (where + "".join(reversed(exc.path))).removeprefix(".") or "the value"
        raise NotJsonError(f"{exc.what} at {path} {exc.why}") from None
    except RecursionError:
        at = f" at {where}" if where else ""
        raise NotJsonError(f"a value nested too deeply to send or store{at}") from None


def _convert(value: Any, finite: bool) -> Any:
    t = type(value)
    if t in _SAME:
        return value
    if t is float:
        return _finite(value, finite)
    if t is dict:
        return _dict(value, finite)
    if t is list:
        return _list(value, finite)
    return _other(value, finite)


def _finite(value: float, finite: bool) -> float:
    if not finite or math.isfinite(value):
        return value
    name = "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    # The value stays where it is, so the message must say what to write instead.
    raise _NotJson(name, "has no JSON form: use null, or a string such as string(x)")


def _list(value: list[Any], finite: bool) -> list[Any]:
    out: list[Any] | None = None
    i = 0
    try:
        for i, item in enumerate(value):
            if type(item) in _SAME:  # inlined: a call per JSON scalar would dominate
                continue
            conv = _convert(item, finite)
            if conv is not item:
                if out is None:
                    out = list(value)
                out[i] = conv
    except _NotJson as exc:
        exc.path.append(f"[{i}]")
        raise
    return value if out is None else out


def _dict(value: dict[Any, Any], finite: bool) -> dict[str, Any]:
    if any(type(key) is not str for key in value):
        return _keyed(value, finite)
    out: dict[str, Any] | None = None
    key: Any = None
    try:
        for key, item in value.items():
            if type(item) in _SAME:
                continue
            conv = _convert(item, finite)
            if conv is not item:
                if out is None:
                    out = dict(value)
                out[key] = conv
    except _NotJson as exc:
        exc.path.append(f".{key}")
        raise
    return value if out is None else out


def _keyed(value: Any, finite: bool) -> dict[str, Any]:
    """Maps with keys other than strings (CEL allows int, uint and bool keys): each key
    becomes its text, as a template prints it (``{"1": ..., "true": ...}``)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        text = _key_text(key)
        if text in out:
            raise _NotJson(f"the map key {text!r}", "appears twice once keys are JSON text")
        try:
            out[text] = _convert(item, finite)
        except _NotJson as exc:
            exc.path.append(f".{text}")
            raise
    return out


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if type(key) is BoolKey:
        return "true" if key.value else "false"
    if isinstance(key, Enum):
        return _key_text(key.value)
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, int):
        return str(int(key))
    raise _NotJson(f"a map key of type {type(key).__name__}")


def _other(value: Any, finite: bool) -> Any:
    """The rarer types: what ``from_cel`` gives besides JSON, CEL values themselves, and
    the Python types ``to_cel`` accepts (so a value read in can always be written out)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, Enum):
        return _convert(value.value, finite)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)  # uint, IntEnum...
    if isinstance(value, float):
        return _finite(float(value), finite)
    if isinstance(value, Decimal):  # DynamoDB numbers
        if not value.is_finite():  # float() refuses a signaling NaN: name it here
            return _finite(math.nan if value.is_nan() else float(value), finite)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return _timestamp(timestamp_from_datetime(value))
    if isinstance(value, date):
        return _timestamp(timestamp_from_datetime(datetime(value.year, value.month, value.day)))
    if type(value) is Timestamp:
        return _timestamp(value)
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return format_duration(Duration(micros * 1000))
    if type(value) is Duration:
        return format_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes_to_json(bytes(value))
    if type(value) is CelType:
        return value.name
    if isinstance(value, dict):
        return _keyed(value, finite)
    if isinstance(value, list | tuple):
        return _list(list(value), finite)
    raise _NotJson(f"a value of type {type(value).__name__}")


def _timestamp(value: Timestamp) -> str:
    if not Timestamp.MIN_NANOS <= value.nanos <= Timestamp.MAX_NANOS:
        raise _NotJson("a timestamp outside years 1 to 9999", "has no RFC 3339 form")
    return format_timestamp(value)
