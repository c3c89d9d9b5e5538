"""Closure builders shared by the compiler: calls, comparisons, sums, selection chains.

Each builder returns `fn(ctx) -> value` (or, for chain steps, `fn(value, ctx)`), with
the hot cases inlined so that common expressions run in a few Python calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import Fault
from .limits import Limits
from .operators import BinaryOp, add, select
from .runtime import Ctx
from .values import INT64_MAX, INT64_MIN, TEXT_STEP

Closure = Callable[[Ctx], Any]
StepFn = Callable[[Any, Ctx], Any]

MISSING = object()


def call_closure(impl: Callable[..., Any], args: tuple[Closure, ...], pos: int) -> Closure:
    if len(args) == 1:
        arg = args[0]

        def call1(ctx: Ctx) -> Any:
            a = arg(ctx)
            try:
                return impl(ctx, a)
            except Fault as fault:
                raise fault.at(pos) from None

        return call1
    if len(args) == 2:
        arg0, arg1 = args

        def call2(ctx: Ctx) -> Any:
            a = arg0(ctx)
            b = arg1(ctx)
            try:
                return impl(ctx, a, b)
            except Fault as fault:
                raise fault.at(pos) from None

        return call2

    def call(ctx: Ctx) -> Any:
        values = [a(ctx) for a in args]
        try:
            return impl(ctx, *values)
        except Fault as fault:
            raise fault.at(pos) from None

    return call


FAST_COMPARE = frozenset({"<", "<=", ">", ">=", "==", "!="})
_SIMPLE = (int, float, str)  # same-type comparisons of these need no CEL dispatch


def compare(left: Closure, op: str, right: Closure, slow: BinaryOp, pos: int) -> Closure:
    """A comparison with an inline fast path for two ints, floats or strings.

    A string of a KiB or more takes the slow path, which charges the text compared:
    Python reads at most ``len(a)`` characters (equality tests the lengths first,
    ordering stops at the shorter), so one length check keeps short ones free.
    """

    def generic(a: Any, b: Any, ctx: Ctx) -> Any:
        try:
            return slow(a, b, ctx)
        except Fault as fault:
            raise fault.at(pos) from None

    if op == "<":

        def lt(ctx: Ctx) -> Any:
            a = left(ctx)
            b = right(ctx)
            t = type(a)
            if t is type(b) and t in _SIMPLE and (t is not str or len(a) < TEXT_STEP):
                return a < b
            return generic(a, b, ctx)

        return lt
    if op == "<=":

        def le(ctx: Ctx) -> Any:
            a = left(ctx)
            b = right(ctx)
            t = type(a)
            if t is type(b) and t in _SIMPLE and (t is not str or len(a) < TEXT_STEP):
                return a <= b
            return generic(a, b, ctx)

        return le
    if op == ">":

        def gt(ctx: Ctx) -> Any:
            a = left(ctx)
            b = right(ctx)
            t = type(a)
            if t is type(b) and t in _SIMPLE and (t is not str or len(a) < TEXT_STEP):
                return a > b
            return generic(a, b, ctx)

        return gt
    if op == ">=":

        def ge(ctx: Ctx) -> Any:
            a = left(ctx)
            b = right(ctx)
            t = type(a)
            if t is type(b) and t in _SIMPLE and (t is not str or len(a) < TEXT_STEP):
                return a >= b
            return generic(a, b, ctx)

        return ge
    negate_result = op == "!="

    def eq(ctx: Ctx) -> Any:
        a = left(ctx)
        b = right(ctx)
        t = type(a)
        if t is type(b) and t in _SIMPLE and (t is not str or len(a) < TEXT_STEP):
            return (a != b) if negate_result else (a == b)
        return generic(a, b, ctx)

    return eq


# A short string concatenation is not counted toward ``max_produced`` (the hot path):
# within the cost budget (a few steps per concatenation) they fill at most tens of MB.
_UNCOUNTED = 255


def sum_chain(first: Closure, rest: tuple[tuple[int, Closure], ...], limits: Limits) -> Closure:
    """`a + b + c`: inline the common string and int cases, defer the rest to `add`."""
    # Below this length a concatenation can neither break the limit nor cost a step.
    small = min(1024, limits.max_string_length + 1)

    def plus(ctx: Ctx) -> Any:
        acc = first(ctx)
        produced = 0
        for pos, right in rest:
            b = right(ctx)
            t = type(acc)
            if t is type(b):
                if t is str and (n := len(acc) + len(b)) < small:
                    acc = acc + b
                    if n > _UNCOUNTED:  # copied: the memory it may fill (checked below)
                        produced += n
                    continue
                if t is int:
                    r = acc + b
                    if INT64_MIN <= r <= INT64_MAX:
                        acc = r
                        continue
            try:
                acc = add(acc, b, ctx)
            except Fault as fault:
                raise fault.at(pos) from None
        if produced:
            ctx.produce(produced)
        return acc

    return plus


def select_path(read: Closure, fields: tuple[tuple[str, int], ...]) -> Closure:
    """`v.a.b` on a comprehension variable: one closure, dict lookups inline."""

    def path(ctx: Ctx) -> Any:
        value = read(ctx)
        for field, pos in fields:
            if type(value) is dict:
                found = value.get(field, MISSING)
                if found is not MISSING:
                    value = found
                    continue
            try:
                value = select(value, field)
            except Fault as fault:
                raise fault.at(pos) from None
        return value

    return path


def apply_steps(head: Closure, fns: tuple[StepFn, ...]) -> Closure:
    if not fns:
        return head
    if len(fns) == 1:
        only = fns[0]
        return lambda ctx: only(head(ctx), ctx)
    if len(fns) == 2:
        f0, f1 = fns
        return lambda ctx: f1(f0(head(ctx), ctx), ctx)

    def chain(ctx: Ctx) -> Any:
        value = head(ctx)
        for fn in fns:
            value = fn(value, ctx)
        return value

    return chain
