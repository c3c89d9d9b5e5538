"""CEL's standard functions: size, string tests, regex, conversions, time accessors.

Each function is registered with the argument counts it accepts so that a checked
compile can reject unknown names and wrong arities before anything runs. Overload
resolution on argument types happens inside each implementation.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

import re2

from .errors import EvalError, LimitError
from .literals import find_surrogate, surrogate_message
from .runtime import Ctx
from .timeutil import (
    NANOS,
    duration_field,
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
    timestamp_field,
)
from .values import (
    INT64_MAX,
    INT64_MIN,
    UINT64_MAX,
    CelType,
    Duration,
    Timestamp,
    UInt,
    charge_text,
    make_timestamp,
    no_overload,
    type_of,
)

Impl = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Function:
    """A callable name. `impl(ctx, *args)`; for methods the receiver is the first arg."""

    name: str
    arities: frozenset[int]
    impl: Impl


# ---- size and strings ----------------------------------------------------------------


def fn_size(ctx: Ctx, value: Any) -> int:
    t = type(value)
    if t is str or t is bytes or t is list or t is dict:
        return len(value)
    raise no_overload("size", value)


def fn_contains(ctx: Ctx, s: Any, sub: Any) -> bool:
    if type(s) is str and type(sub) is str:
        charge_text(ctx, len(s))
        return sub in s
    raise no_overload("contains", s, sub)


def _charge_affix(ctx: Ctx, s: str, affix: str) -> None:
    """``s.startswith(affix)`` compares ``affix`` in full when ``s`` is long enough."""
    if len(affix) <= len(s) and affix is not s:
        charge_text(ctx, len(affix))


def fn_starts_with(ctx: Ctx, s: Any, prefix: Any) -> bool:
    if type(s) is str and type(prefix) is str:
        _charge_affix(ctx, s, prefix)
        return s.startswith(prefix)
    raise no_overload("startsWith", s, prefix)


def fn_ends_with(ctx: Ctx, s: Any, suffix: Any) -> bool:
    if type(s) is str and type(suffix) is str:
        _charge_affix(ctx, s, suffix)
        return s.endswith(suffix)
    raise no_overload("endsWith", s, suffix)


# RE2 guarantees linear-time matching; the memory cap bounds pathological patterns.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 8 << 20
_RE2_OPTIONS.log_errors = False  # errors are reported to the user, not to stderr


# Patterns kept compiled: each may grow to its RE2 max_mem (8 MiB) as it matches (256 of
# them measured 561 MB), and Podium's functions have 256 or 512 MB (the events function,
# which evaluates trigger conditions, 256): at most 16 of them, 128 MiB at worst.
REGEX_CACHE_SIZE = 16


@lru_cache(maxsize=REGEX_CACHE_SIZE)
def _compiled_regex(pattern: str) -> Any:
    """The compiled pattern, or the message of why it is refused: a refusal is cached
    too (RE2 may take a tenth of a second to find a pattern too large, and a loop that
    absorbs the error would pay it every iteration, uncharged)."""
    bad = find_surrogate(pattern)
    if bad >= 0:
        return _Refused(f"invalid regular expression: {surrogate_message(pattern, bad)}")
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return _Refused(f"invalid regular expression {pattern[:80]!r}: {detail}")


class _Refused(str):
    """Why a pattern does not compile (a cached answer of _compiled_regex)."""


def compile_regex(pattern: str, max_length: int) -> Any:
    if len(pattern) > max_length:
        raise LimitError(f"regular expression too long ({len(pattern)} > {max_length})")
    compiled = _compiled_regex(pattern)
    if isinstance(compiled, _Refused):
        raise EvalError(str(compiled))
    return compiled


# A call into RE2 (encoding the text to UTF-8, the wrapper's own work) takes about as
# long as a few cheap steps, however short the text.
_SEARCH_CALL = 4


def regex_search_cost(text: str, program_size: int) -> int:
    """Steps charged for one regex search.

    RE2 is linear in the text, but its constant grows with the compiled program: a
    search that falls back to the NFA visits every instruction for every character
    (about 10 ns per character and instruction), so `(.{1,20}){50}z` over 100,000
    characters takes a second. One step per 32 character-instructions keeps a whole
    budget of regex work to about 0.3 s.
    """
    return _SEARCH_CALL + (len(text) + 1) * program_size // 32


def fn_matches(ctx: Ctx, s: Any, pattern: Any) -> bool:
    if type(s) is str and type(pattern) is str:
        regex = compile_regex(pattern, ctx.limits.max_regex_length)
        size = int(regex.programsize)
        # A pattern built at run time is compiled (or looked up) on every call:
        # compiling costs about 0.1 us per instruction.
        ctx.charge(size // 2 + regex_search_cost(s, size))
        return regex_search(regex, s)
    raise no_overload("matches", s, pattern)


def regex_search(regex: Any, text: str) -> bool:
    """`regex.search(text)`, with a lone surrogate in the text reported as an error."""
    try:
        return regex.search(text) is not None
    except UnicodeEncodeError:
        bad = find_surrogate(text)
        raise EvalError(
            f"matches() on a string that is not valid Unicode: {surrogate_message(text, bad)}"
        ) from None


# ---- conversions ---------------------------------------------------------------------

_INT_TEXT = re.compile(r"[+-]?[0-9]{1,20}", re.ASCII)
_FLOAT_TEXT = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)",
    re.ASCII | re.IGNORECASE,
)
_BOOL_TEXT = {
    "1": True,
    "t": True,
    "T": True,
    "true": True,
    "TRUE": True,
    "True": True,
    "0": False,
    "f": False,
    "F": False,
    "false": False,
    "FALSE": False,
    "False": False,
}


def fn_int(ctx: Ctx, v: Any) -> int:
    t = type(v)
    if t is int:
        return cast(int, v)
    if t is UInt:
        if v > INT64_MAX:
            raise EvalError("int() range error: uint value too large")
        return int(v)
    if t is float:
        # The bounds are exclusive: float(2**63 - 1) rounds up to 2**63.
        if math.isnan(v) or v <= -9.223372036854775808e18 or v >= 9.223372036854775807e18:
            raise EvalError(f"int() range error: {v!r} does not fit in int64")
        return int(v)
    if t is str:
        if not _INT_TEXT.fullmatch(v):
            raise EvalError(f"int() cannot convert string {v[:40]!r}")
        r = int(v)
        if not INT64_MIN <= r <= INT64_MAX:
            raise EvalError("int() range error: value out of int64 range")
        return r
    if t is Timestamp:
        return cast(int, v.nanos // NANOS)
    raise no_overload("int", v)


def fn_uint(ctx: Ctx, v: Any) -> UInt:
    t = type(v)
    if t is UInt:
        return cast(UInt, v)
    if t is int:
        if v < 0:
            raise EvalError("uint() range error: negative value")
        return UInt(v)
    if t is float:
        if math.isnan(v) or v < 0 or v >= 1.8446744073709552e19:
            raise EvalError(f"uint() range error: {v!r} does not fit in uint64")
        return UInt(int(v))
    if t is str:
        if not _INT_TEXT.fullmatch(v) or v.startswith("-"):
            raise EvalError(f"uint() cannot convert string {v[:40]!r}")
        r = int(v)
        if r > UINT64_MAX:
            raise EvalError("uint() range error: value out of uint64 range")
        return UInt(r)
    raise no_overload("uint", v)


def fn_double(ctx: Ctx, v: Any) -> float:
    t = type(v)
    if t is float:
        return cast(float, v)
    if t is int or t is UInt:
        return float(v)
    if t is str:
        if len(v) > 400 or not _FLOAT_TEXT.fullmatch(v):
            raise EvalError(f"double() cannot convert string {v[:40]!r}")
        return float(v)
    raise no_overload("double", v)


def format_double(v: float) -> str:
    """Shortest round-trip text, laid out like Go's `%g` (what CEL implementations print)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0.0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    sign, digits, exponent = Decimal(repr(v)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent  # position of the decimal point within `text`
    exp10 = point - 1
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:  # Go's %g switches to exponent form here
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{neg}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{neg}{text}{'0' * (point - len(text))}"
    return f"{neg}{text[:point]}.{text[point:]}"


def to_string(v: Any) -> str:
    t = type(v)
    if t is str:
        return cast(str, v)
    if t is int or t is UInt:
        return str(int(v))
    if t is float:
        return format_double(v)
    if t is bool:
        return "true" if v else "false"
    if t is bytes:
        try:
            return cast(str, v.decode("utf-8"))
        except UnicodeDecodeError:
            raise EvalError("string() conversion error: invalid UTF-8 in bytes") from None
    if t is Timestamp:
        return format_timestamp(v)
    if t is Duration:
        return format_duration(v)
    if t is CelType:
        return cast(str, v.name)
    raise no_overload("string", v)


def _copied(ctx: Ctx, size: int, out: Any) -> Any:
    """``out``, a conversion's copy of a whole value of ``size`` bytes or characters
    (checked as it was copied): charged per KiB and counted as produced, as a
    concatenation of that size is (it was one step, so a comprehension could convert a
    100 KB value 80,000 times within the budget)."""
    if size >= 1024:
        ctx.charge(size // 1024)
    ctx.produce(len(out))
    return out


def fn_string(ctx: Ctx, v: Any) -> str:
    if type(v) is bytes:
        return cast(str, _copied(ctx, len(v), to_string(v)))
    return to_string(v)


def fn_bytes(ctx: Ctx, v: Any) -> bytes:
    t = type(v)
    if t is bytes:
        return cast(bytes, v)
    if t is str:
        return cast(bytes, _copied(ctx, len(v), v.encode("utf-8", "surrogatepass")))
    raise no_overload("bytes", v)


def fn_bool(ctx: Ctx, v: Any) -> bool:
    t = type(v)
    if t is bool:
        return cast(bool, v)
    if t is str:
        r = _BOOL_TEXT.get(v)
        if r is None:
            raise EvalError(f"bool() type conversion error: {v[:40]!r}")
        return r
    raise no_overload("bool", v)


def fn_type(ctx: Ctx, v: Any) -> CelType:
    return type_of(v)


def fn_dyn(ctx: Ctx, v: Any) -> Any:
    return v


def fn_timestamp(ctx: Ctx, v: Any) -> Timestamp:
    t = type(v)
    if t is Timestamp:
        return cast(Timestamp, v)
    if t is str:
        return parse_timestamp(v)
    if t is int:
        if not -62135596800 <= v <= 253402300799:
            raise EvalError("timestamp() range error")
        return make_timestamp(v * NANOS)
    raise no_overload("timestamp", v)


def fn_duration(ctx: Ctx, v: Any) -> Duration:
    t = type(v)
    if t is Duration:
        return cast(Duration, v)
    if t is str:
        return parse_duration(v)
    raise no_overload("duration", v)


# ---- timestamp and duration accessors ------------------------------------------------


def _accessor(name: str) -> Impl:
    def get(ctx: Ctx, v: Any, *tz: Any) -> int:
        t = type(v)
        if t is Timestamp:
            return timestamp_field(v, name, tz[0] if tz else None)
        if t is Duration and not tz:
            return duration_field(v, name)
        raise no_overload(name, v, *tz)

    get.__name__ = f"fn_{name}"
    return get


ACCESSORS = (
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
)


def bytes_to_json(v: bytes) -> str:
    return base64.b64encode(v).decode("ascii")


def _fn(name: str, impl: Impl, *arities: int) -> Function:
    return Function(name, frozenset(arities), impl)


GLOBALS: dict[str, Function] = {
    f.name: f
    for f in (
        _fn("size", fn_size, 1),
        _fn("matches", fn_matches, 2),
        _fn("int", fn_int, 1),
        _fn("uint", fn_uint, 1),
        _fn("double", fn_double, 1),
        _fn("string", fn_string, 1),
        _fn("bytes", fn_bytes, 1),
        _fn("bool", fn_bool, 1),
        _fn("type", fn_type, 1),
        _fn("dyn", fn_dyn, 1),
        _fn("timestamp", fn_timestamp, 1),
        _fn("duration", fn_duration, 1),
    )
}

# Receiver-style functions: `arities` count the arguments after the receiver.
METHODS: dict[str, Function] = {
    f.name: f
    for f in (
        _fn("size", fn_size, 0),
        _fn("contains", fn_contains, 1),
        _fn("startsWith", fn_starts_with, 1),
        _fn("endsWith", fn_ends_with, 1),
        _fn("matches", fn_matches, 1),
        *(_fn(name, _accessor(name), 0, 1) for name in ACCESSORS),
    )
}
