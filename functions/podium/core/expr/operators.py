"""Operators: arithmetic with CEL's overflow rules, comparisons, `in`, indexing, selection.

Binary operators share the signature `(left, right, ctx)` so the compiler can fold a
chain of them in a loop. Dispatch is on exact Python types (`type(x) is int`), which
keeps bools out of arithmetic and is the fastest test CPython offers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .errors import EvalError, LimitError
from .runtime import Ctx
from .shown import shown
from .timeutil import add_timestamp, sub_timestamps
from .values import (
    INT64_MAX,
    INT64_MIN,
    TEXT_STEP,
    UINT64_MAX,
    Duration,
    Timestamp,
    UInt,
    equal,
    less,
    less_equal,
    lookup_key,
    make_duration,
    no_overload,
    type_name,
)

BinaryOp = Callable[[Any, Any, Ctx], Any]

# Copying this many units (chars, bytes, list slots) costs one step of the budget.
_COPY_STEP = 1024


def _overflow(kind: str = "int") -> EvalError:
    return EvalError(f"{kind} overflow")


def _check_int(r: int) -> int:
    if INT64_MIN <= r <= INT64_MAX:
        return r
    raise _overflow()


def _check_uint(r: int) -> UInt:
    if 0 <= r <= UINT64_MAX:
        return UInt(r)
    raise _overflow("uint")


_ELEMENT_BYTES = 8  # a list element is a pointer (Limits.max_produced)


def _concat_limit(n: int, ctx: Ctx, kind: str) -> None:
    limits = ctx.limits
    cap = limits.max_list_size if kind == "list" else limits.max_string_length
    if n > cap:
        raise LimitError(f"{kind} too large ({n} > {cap})")
    if n >= _COPY_STEP:
        ctx.charge(n // _COPY_STEP)
    ctx.produce(n * _ELEMENT_BYTES if kind == "list" else n)


def add(a: Any, b: Any, ctx: Ctx) -> Any:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            return _check_int(a + b)
        if ta is float:
            return a + b
        if ta is str or ta is bytes:
            _concat_limit(len(a) + len(b), ctx, "string" if ta is str else "bytes")
            return a + b
        if ta is list:
            _concat_limit(len(a) + len(b), ctx, "list")
            return a + b
        if ta is UInt:
            return _check_uint(a + b)
        if ta is Duration:
            return make_duration(a.nanos + b.nanos)
    elif ta is Timestamp and type(b) is Duration:
        return add_timestamp(a, b.nanos)
    elif ta is Duration and type(b) is Timestamp:
        return add_timestamp(b, a.nanos)
    raise no_overload("_+_", a, b)


def sub(a: Any, b: Any, ctx: Ctx) -> Any:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            return _check_int(a - b)
        if ta is float:
            return a - b
        if ta is UInt:
            return _check_uint(a - b)
        if ta is Timestamp:
            return sub_timestamps(a, b)
        if ta is Duration:
            return make_duration(a.nanos - b.nanos)
    elif ta is Timestamp and type(b) is Duration:
        return add_timestamp(a, -b.nanos)
    raise no_overload("_-_", a, b)


def mul(a: Any, b: Any, ctx: Ctx) -> Any:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            return _check_int(a * b)
        if ta is float:
            return a * b
        if ta is UInt:
            return _check_uint(a * b)
    raise no_overload("_*_", a, b)


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def div(a: Any, b: Any, ctx: Ctx) -> Any:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            if b == 0:
                raise EvalError("divide by zero")
            return _check_int(_trunc_div(a, b))
        if ta is float:
            if b == 0.0:
                # IEEE 754 semantics; Python would raise ZeroDivisionError.
                if a == 0.0 or math.isnan(a):
                    return math.nan
                return math.copysign(math.inf, a) * math.copysign(1.0, b)
            return a / b
        if ta is UInt:
            if b == 0:
                raise EvalError("divide by zero")
            return UInt(a // b)
    raise no_overload("_/_", a, b)


def mod(a: Any, b: Any, ctx: Ctx) -> Any:
    ta = type(a)
    if ta is type(b):
        if ta is int:
            if b == 0:
                raise EvalError("modulus by zero")
            if a == INT64_MIN and b == -1:
                raise _overflow()
            r = abs(a) % abs(b)  # the sign follows the dividend, as in C and Go
            return -r if a < 0 else r
        if ta is UInt:
            if b == 0:
                raise EvalError("modulus by zero")
            return UInt(a % b)
    raise no_overload("_%_", a, b)


def eq(a: Any, b: Any, ctx: Ctx) -> bool:
    return equal(a, b, ctx)


def ne(a: Any, b: Any, ctx: Ctx) -> bool:
    return not equal(a, b, ctx)


def lt(a: Any, b: Any, ctx: Ctx) -> bool:
    return less(a, b, ctx, "_<_")


def le(a: Any, b: Any, ctx: Ctx) -> bool:
    return less_equal(a, b, ctx, "_<=_")


def gt(a: Any, b: Any, ctx: Ctx) -> bool:
    try:
        return less(b, a, ctx, "_>_")
    except EvalError:
        # Name the operand types in the order they were written (a LimitError, the
        # budget charged for long strings, passes as it is).
        raise no_overload("_>_", a, b) from None


def ge(a: Any, b: Any, ctx: Ctx) -> bool:
    try:
        return less_equal(b, a, ctx, "_>=_")
    except EvalError:
        raise no_overload("_>=_", a, b) from None


_MISSING = object()


def in_(x: Any, container: Any, ctx: Ctx) -> bool:
    tc = type(container)
    if tc is list:
        ctx.charge(1 + len(container) // 8)
        tx = type(x)
        if tx is str or tx is bytes:
            if len(x) >= TEXT_STEP:
                return _long_text_in(x, container, ctx)
            if tx is str:
                return x in container  # str only equals str: Python's test is CEL's
        return any(equal(x, y, ctx) for y in container)
    if tc is dict:
        # A key is found by hash, then compared in full with the map's key.
        if type(x) is str and len(x) >= TEXT_STEP:
            ctx.charge(len(x) // TEXT_STEP)
        try:
            return lookup_key(x) in container
        except TypeError:  # unhashable (list or map) probe
            return False
    raise no_overload("@in", x, container)


def _long_text_in(x: str | bytes, container: list[Any], ctx: Ctx) -> bool:
    """``x in container`` for a string (or bytes) of a KiB or more, charged per element
    it compares in full: one of the same type and length that is not ``x`` itself
    (Python's own test skips the others at once; one step per 8 elements covers them)."""
    tx = type(x)
    n = len(x)
    steps = n // TEXT_STEP
    for y in container:
        if y is x:
            return True
        if type(y) is tx and len(y) == n:
            ctx.charge(steps)
            if y == x:
                return True
    return False


BINARY_OPS: dict[str, BinaryOp] = {
    "+": add,
    "-": sub,
    "*": mul,
    "/": div,
    "%": mod,
    "==": eq,
    "!=": ne,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
    "in": in_,
}


def negate(v: Any) -> Any:
    t = type(v)
    if t is int:
        if v == INT64_MIN:
            raise _overflow()
        return -v
    if t is float:
        return -v
    raise no_overload("-_", v)


def index(container: Any, key: Any, ctx: Ctx) -> Any:
    tc = type(container)
    if tc is list:
        tk = type(key)
        if tk is int or tk is UInt or (tk is float and key.is_integer()):
            i = int(key)
        else:
            raise EvalError(f"invalid list index of type {type_name(key)}", kind="type")
        if 0 <= i < len(container):
            return container[i]
        raise EvalError(f"index out of bounds: {i} (list size {len(container)})")
    if tc is dict:
        # A key is found by hash, then compared in full with the map's key.
        if type(key) is str and len(key) >= TEXT_STEP:
            ctx.charge(len(key) // TEXT_STEP)
        try:
            value = container.get(lookup_key(key), _MISSING)
        except TypeError:
            value = _MISSING
        if value is _MISSING:
            raise EvalError(f"no such key: {_show_key(key)}")
        return value
    raise no_overload("_[_]", container, key)


def _show_key(key: Any) -> str:
    """The key as CEL writes it (``null``, not ``None``), from a bounded prefix: a list
    or map is named by its size (its whole repr cost milliseconds per lookup, unbudgeted,
    when ``||`` absorbed the error in a comprehension)."""
    return shown(key, brief=True)


def select(container: Any, field: str) -> Any:
    if type(container) is dict:
        value = container.get(field, _MISSING)
        if value is _MISSING:
            raise EvalError(f"no such key: '{field}'")
        return value
    raise EvalError(
        f"type '{type_name(container)}' does not support field selection (.{field})",
        kind="type",
    )


def has_field(container: Any, field: str) -> bool:
    if type(container) is dict:
        return field in container
    raise EvalError(f"has() cannot test a field of type '{type_name(container)}'", kind="type")
