"""CEL's value model, built on plain Python objects where they fit.

CEL type     Python representation
----------   ---------------------------------------------------------------
int          int (bool excluded: `type(x) is int` is the test everywhere)
uint         UInt, an int subclass, so `{1u: x}[1]` hashes and compares as CEL wants
double       float
bool         bool
string       str
bytes        bytes
null         None
list         list
map          dict; bool keys are wrapped in BoolKey so they do not collide with 0 and 1
timestamp    Timestamp (nanoseconds since the Unix epoch, UTC)
duration     Duration (nanoseconds)
type         CelType

Plain JSON-like data is therefore already a CEL value, which keeps evaluation cheap.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from .errors import EvalError, ExpressionTypeError, LimitExceededError
from .runtime import Ctx

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


class UInt(int):
    """CEL `uint`: an int that keeps its own type identity."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class Timestamp:
    """A point in time with nanosecond precision, within years 1..9999 (CEL's range)."""

    __slots__ = ("nanos",)

    MIN_NANOS = -62135596800 * 1_000_000_000
    MAX_NANOS = 253402300799 * 1_000_000_000 + 999_999_999

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return type(other) is Timestamp and other.nanos == self.nanos

    def __hash__(self) -> int:
        return hash(("ts", self.nanos))

    def __lt__(self, other: Timestamp) -> bool:
        return self.nanos < other.nanos

    def __le__(self, other: Timestamp) -> bool:
        return self.nanos <= other.nanos

    def __gt__(self, other: Timestamp) -> bool:
        return self.nanos > other.nanos

    def __ge__(self, other: Timestamp) -> bool:
        return self.nanos >= other.nanos

    def __repr__(self) -> str:
        return f"Timestamp({self.nanos})"


class Duration:
    """A signed span of time in nanoseconds, within the int64 range (about 292 years)."""

    __slots__ = ("nanos",)

    MIN_NANOS = INT64_MIN
    MAX_NANOS = INT64_MAX

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return type(other) is Duration and other.nanos == self.nanos

    def __hash__(self) -> int:
        return hash(("dur", self.nanos))

    def __lt__(self, other: Duration) -> bool:
        return self.nanos < other.nanos

    def __le__(self, other: Duration) -> bool:
        return self.nanos <= other.nanos

    def __gt__(self, other: Duration) -> bool:
        return self.nanos > other.nanos

    def __ge__(self, other: Duration) -> bool:
        return self.nanos >= other.nanos

    def __repr__(self) -> str:
        return f"Duration({self.nanos})"


def make_timestamp(nanos: int) -> Timestamp:
    if nanos < Timestamp.MIN_NANOS or nanos > Timestamp.MAX_NANOS:
        raise EvalError("timestamp out of range (years 0001..9999)")
    return Timestamp(nanos)


def make_duration(nanos: int) -> Duration:
    if nanos < Duration.MIN_NANOS or nanos > Duration.MAX_NANOS:
        raise EvalError("duration out of range")
    return Duration(nanos)


class CelType:
    """A type value, e.g. the result of `type(1)` or the identifier `int`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return type(other) is CelType and other.name == self.name

    def __hash__(self) -> int:
        return hash(("type", self.name))

    def __repr__(self) -> str:
        return self.name


INT_TYPE = CelType("int")
UINT_TYPE = CelType("uint")
DOUBLE_TYPE = CelType("double")
BOOL_TYPE = CelType("bool")
STRING_TYPE = CelType("string")
BYTES_TYPE = CelType("bytes")
LIST_TYPE = CelType("list")
MAP_TYPE = CelType("map")
NULL_TYPE = CelType("null_type")
TYPE_TYPE = CelType("type")
TIMESTAMP_TYPE = CelType("google.protobuf.Timestamp")
DURATION_TYPE = CelType("google.protobuf.Duration")

# Identifiers that denote types when no binding shadows them. `dyn` is deliberately
# absent: the spec makes a bare `dyn` an unknown variable.
TYPE_DENOTATIONS: dict[str, CelType] = {
    t.name: t
    for t in (
        INT_TYPE,
        UINT_TYPE,
        DOUBLE_TYPE,
        BOOL_TYPE,
        STRING_TYPE,
        BYTES_TYPE,
        LIST_TYPE,
        MAP_TYPE,
        NULL_TYPE,
        TYPE_TYPE,
        TIMESTAMP_TYPE,
        DURATION_TYPE,
    )
}

_TYPE_OF: dict[type, CelType] = {
    int: INT_TYPE,
    UInt: UINT_TYPE,
    float: DOUBLE_TYPE,
    bool: BOOL_TYPE,
    str: STRING_TYPE,
    bytes: BYTES_TYPE,
    list: LIST_TYPE,
    dict: MAP_TYPE,
    type(None): NULL_TYPE,
    CelType: TYPE_TYPE,
    Timestamp: TIMESTAMP_TYPE,
    Duration: DURATION_TYPE,
}


def type_of(value: Any) -> CelType:
    t = _TYPE_OF.get(type(value))
    if t is None:
        raise EvalError(f"not a CEL value: {type(value).__name__}", kind="type")
    return t


def type_name(value: Any) -> str:
    t = _TYPE_OF.get(type(value))
    return t.name if t is not None else type(value).__name__


def no_overload(op: str, *args: Any) -> EvalError:
    """CEL's `no_matching_overload` error, naming the runtime types involved."""
    types = ", ".join(type_name(a) for a in args)
    return EvalError(f"no matching overload for {op}({types})", kind="type")


class BoolKey:
    """Stands in for a bool map key: Python would merge `True` with the key `1`."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "true" if self.value else "false"


TRUE_KEY = BoolKey(True)
FALSE_KEY = BoolKey(False)

_NO_KEY = object()  # lookup key that is never present (wrong key type)


def map_key(key: Any) -> Any:
    """The dict key for a CEL key being stored: int, uint, bool or string only."""
    t = type(key)
    if t is str or t is int or t is UInt:
        return key
    if t is bool:
        return TRUE_KEY if key else FALSE_KEY
    raise EvalError(f"unsupported map key type: {type_name(key)}", kind="type")


def lookup_key(key: Any) -> Any:
    """The dict key to look up. Doubles find equal int/uint keys, as the spec requires."""
    t = type(key)
    if t is str or t is int or t is UInt:
        return key
    if t is bool:
        return TRUE_KEY if key else FALSE_KEY
    if t is float:
        return key if key == key else _NO_KEY  # NaN never matches
    return _NO_KEY


def unkey(key: Any) -> Any:
    return key.value if type(key) is BoolKey else key


_NUMERIC = frozenset({int, UInt, float})
_ORDERED = frozenset({int, UInt, float, str, bytes, bool, Timestamp, Duration})


def is_numeric(value: Any) -> bool:
    return type(value) in _NUMERIC


def equal(a: Any, b: Any, ctx: Ctx) -> bool:
    """CEL equality: heterogeneous, never an error; numbers compare by value."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is list:
            return _list_equal(a, b, ctx)
        if ta is dict:
            return _map_equal(a, b, ctx)
        return bool(a == b)
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _mixed(a, b, ta, tb)
        return bool(a == b)
    return False


def _mixed(a: Any, b: Any, ta: type, tb: type) -> tuple[Any, Any]:
    """Operands for comparing numbers of different types, as CEL implementations do.

    int vs uint compare exactly; an int or uint against a double is first converted to
    double (so 2**63 - 1 and 2.0**63 compare equal), matching the conformance suite.
    """
    if ta is float:
        return a, float(b)
    if tb is float:
        return float(a), b
    return a, b


def _list_equal(a: list[Any], b: list[Any], ctx: Ctx) -> bool:
    if len(a) != len(b):
        return False
    ctx.charge(1 + len(a))
    for x, y in zip(a, b, strict=True):  # noqa: SIM110 - a loop is faster than all(genexpr)
        if not equal(x, y, ctx):
            return False
    return True


def _map_equal(a: dict[Any, Any], b: dict[Any, Any], ctx: Ctx) -> bool:
    if len(a) != len(b):
        return False
    ctx.charge(1 + len(a))
    missing = _NO_KEY
    for key, value in a.items():
        other = b.get(key, missing)
        if other is missing or not equal(value, other, ctx):
            return False
    return True


def less(a: Any, b: Any, op: str = "_<_") -> bool:
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        return bool(a < b)
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _mixed(a, b, ta, tb)
        return bool(a < b)
    raise no_overload(op, a, b)


def less_equal(a: Any, b: Any, op: str = "_<=_") -> bool:
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        return bool(a <= b)
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _mixed(a, b, ta, tb)
        return bool(a <= b)
    raise no_overload(op, a, b)


# --------------------------------------------------------------------------------------
# Conversion between plain Python and CEL values
# --------------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def to_cel_paths(
    value: Any, paths: tuple[tuple[tuple[str, ...], bool], ...], max_depth: int
) -> Any:
    """Convert only the parts of `value` that the expression reads.

    Each path is a chain of map keys (from a reference like `steps.a.output.rows`).
    Along a path, plain dicts are kept; where a path ends, or stops at anything
    other than a plain dict, that whole sub-value is converted - unless the path is
    shallow (only measured by size() or tested by has()), where a plain list, map,
    string or bytes is kept as it is. An expression can only reach binding data
    through such paths (dynamic access makes the reference stop earlier, so more is
    converted), hence skipping the rest is safe.
    """
    for keys, shallow in paths:
        value = _convert_at(value, keys, 0, max_depth, shallow)
    return value


_SIZED = frozenset({list, dict, str, bytes})


def _convert_at(node: Any, keys: tuple[str, ...], i: int, depth: int, shallow: bool) -> Any:
    t = type(node)
    if t in _PASS_THROUGH or (t is int and INT64_MIN <= node <= INT64_MAX):
        return node
    if i == len(keys):
        return node if shallow and t in _SIZED else to_cel(node, depth)
    if t is not dict:
        return to_cel(node, depth)
    key = keys[i]
    child = node.get(key, _NO_KEY)
    if child is _NO_KEY:
        return node
    conv = _convert_at(child, keys, i + 1, depth - 1, shallow)
    if conv is child:
        return node
    copy = dict(node)
    copy[key] = conv
    return copy


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
        return {unkey(k): from_cel(v, ctx) for k, v in value.items()}
    if t is UInt:
        return int(value)
    if t is Timestamp:
        return datetime_from_timestamp(value)
    if t is Duration:
        return timedelta_from_duration(value)
    if t is CelType:
        return value.name
    return value


def is_nan(value: Any) -> bool:
    return type(value) is float and math.isnan(value)
