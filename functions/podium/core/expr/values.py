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
from datetime import UTC, datetime
from typing import Any

from .errors import EvalError
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


# Comparing this many characters (or bytes) costs one step, as copying them does
# (operators._COPY_STEP): Python compares two equal 100,000-character strings in full,
# and a list of 100,000 references to one such string is cheap to build.
TEXT_STEP = 1024


def charge_text(ctx: Ctx, n: int) -> None:
    """Charge a comparison or search that may read ``n`` characters or bytes."""
    if n >= TEXT_STEP:
        ctx.charge(n // TEXT_STEP)


def _charge_text_equal(a: str | bytes, b: str | bytes, ctx: Ctx) -> None:
    """``a == b`` of two strings (or two bytes) reads them only when their lengths match
    and they are two objects (Python tests identity and length first)."""
    n = len(a)
    if n >= TEXT_STEP and n == len(b) and a is not b:
        ctx.charge(n // TEXT_STEP)


def _charge_text_order(a: str | bytes, b: str | bytes, ctx: Ctx) -> None:
    """``a < b`` reads at most the shorter of the two."""
    n = min(len(a), len(b))
    if n >= TEXT_STEP and a is not b:
        ctx.charge(n // TEXT_STEP)


def equal(a: Any, b: Any, ctx: Ctx) -> bool:
    """CEL equality: heterogeneous, never an error; numbers compare by value."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is list:
            return _list_equal(a, b, ctx)
        if ta is dict:
            return _map_equal(a, b, ctx)
        if ta is str or ta is bytes:
            _charge_text_equal(a, b, ctx)
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
        # A key is found by hash, then compared in full with b's key.
        if type(key) is str and len(key) >= TEXT_STEP:
            ctx.charge(len(key) // TEXT_STEP)
        other = b.get(key, missing)
        if other is missing or not equal(value, other, ctx):
            return False
    return True


def less(a: Any, b: Any, ctx: Ctx, op: str = "_<_") -> bool:
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        if ta is str or ta is bytes:
            _charge_text_order(a, b, ctx)
        return bool(a < b)
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _mixed(a, b, ta, tb)
        return bool(a < b)
    raise no_overload(op, a, b)


def less_equal(a: Any, b: Any, ctx: Ctx, op: str = "_<=_") -> bool:
    ta = type(a)
    tb = type(b)
    if ta is tb and ta in _ORDERED:
        if ta is str or ta is bytes:
            _charge_text_order(a, b, ctx)
        return bool(a <= b)
    if ta in _NUMERIC and tb in _NUMERIC:
        a, b = _mixed(a, b, ta, tb)
        return bool(a <= b)
    raise no_overload(op, a, b)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_nan(value: Any) -> bool:
    return type(value) is float and math.isnan(value)
