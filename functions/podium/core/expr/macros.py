"""Macros: `has()` and the comprehensions (`all`, `exists`, `map`, `filter`, ...).

Recognition happens while parsing (a receiver call with the right name and argument
shape becomes a `MacroStep`); this module also builds the runtime loops once the
bodies are compiled. Comprehension variables live in fixed slots of the evaluation
context, assigned by the compiler.

Semantics follow CEL: `all`/`exists` combine predicate results like `&&`/`||`, so an
error is absorbed when another element decides the result; `exists_one`, `map`,
`filter` and the `transform*` forms propagate the first error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .errors import EvalError, ExpressionSyntaxError, LimitError
from .nodes import Chain, Has, Ident, MacroStep, MethodStep, Node, SelectStep, Step
from .runtime import Ctx
from .values import BoolKey, map_key, no_overload, unkey

Closure = Callable[[Ctx], Any]
StepFn = Callable[[Any, Ctx], Any]

# name -> {argument count: (number of variables, has predicate, has transform)}
_FORMS: dict[str, dict[int, tuple[int, bool, bool]]] = {
    "all": {2: (1, True, False), 3: (2, True, False)},
    "exists": {2: (1, True, False), 3: (2, True, False)},
    "exists_one": {2: (1, True, False), 3: (2, True, False)},
    "existsOne": {2: (1, True, False), 3: (2, True, False)},
    "map": {2: (1, False, True), 3: (1, True, True)},
    "filter": {2: (1, True, False)},
    "transformList": {3: (2, False, True), 4: (2, True, True)},
    "transformMap": {3: (2, False, True), 4: (2, True, True)},
    "transformMapEntry": {3: (2, False, True), 4: (2, True, True)},
}
MACRO_NAMES = frozenset(_FORMS)
MACRO_USAGE = {
    "all": "list.all(x, predicate) or list.all(i, x, predicate)",
    "exists": "list.exists(x, predicate) or list.exists(i, x, predicate)",
    "exists_one": "list.exists_one(x, predicate)",
    "existsOne": "list.existsOne(x, predicate)",
    "map": "list.map(x, transform) or list.map(x, filter, transform)",
    "filter": "list.filter(x, predicate)",
    "transformList": "list.transformList(i, x, transform) or (i, x, filter, transform)",
    "transformMap": "map.transformMap(k, v, transform) or (k, v, filter, transform)",
    "transformMapEntry": "map.transformMapEntry(k, v, entry) or (k, v, filter, entry)",
}


def expand_macro(step: MethodStep) -> Step:
    """Turn `e.all(x, p)` and friends into a MacroStep; other calls are left alone."""
    form = _FORMS.get(step.name, {}).get(len(step.args))
    if form is None:
        return step
    n_vars, has_pred, has_transform = form
    names: list[str] = []
    for arg in step.args[:n_vars]:
        if not isinstance(arg, Ident):
            raise ExpressionSyntaxError(
                f"{step.name}() expects a simple variable name here", arg.pos
            )
        names.append(arg.name)
    if n_vars == 2 and names[0] == names[1]:
        raise ExpressionSyntaxError(
            f"{step.name}() needs two different variable names", step.args[1].pos
        )
    rest = list(step.args[n_vars:])
    pred = rest.pop(0) if has_pred else None
    transform = rest.pop(0) if has_transform else None
    kind = "exists_one" if step.name == "existsOne" else step.name
    return MacroStep(step.pos, kind, names[0], names[1] if n_vars == 2 else None, pred, transform)


def expand_has(pos: int, arg: Node) -> Node:
    """`has(a.b.c)` tests whether field `c` is present in `a.b`."""
    if isinstance(arg, Chain) and isinstance(arg.steps[-1], SelectStep):
        last = arg.steps[-1]
        target = arg.base if len(arg.steps) == 1 else Chain(arg.base, arg.steps[:-1])
        return Has(pos, target, last.field)
    raise ExpressionSyntaxError("has() needs a field selection, such as has(a.b)", arg.pos)


# --------------------------------------------------------------------------------------
# Runtime
# --------------------------------------------------------------------------------------


def _iterate(rng: Any, ctx: Ctx, s1: int, s2: int, cost: int, pos: int, name: str) -> Iterator[Any]:
    """Bind the loop variables for each element, yielding the element's key/item.

    One variable: lists bind elements, maps bind keys. Two variables: lists bind
    (index, element), maps bind (key, value). Yields what `filter` keeps (the element
    or the key) - or, for two variables, the index/key.
    """
    slots = ctx.slots
    t = type(rng)
    if t is list:
        if s2 < 0:
            for item in rng:
                ctx.budget -= cost
                if ctx.budget < 0:
                    raise ctx.exhausted(pos)
                slots[s1] = item
                yield item
        else:
            for i, item in enumerate(rng):
                ctx.budget -= cost
                if ctx.budget < 0:
                    raise ctx.exhausted(pos)
                slots[s1] = i
                slots[s2] = item
                yield i
    elif t is dict:
        if s2 < 0:
            for key in rng:
                ctx.budget -= cost
                if ctx.budget < 0:
                    raise ctx.exhausted(pos)
                key = key.value if type(key) is BoolKey else key
                slots[s1] = key
                yield key
        else:
            for key, value in rng.items():
                ctx.budget -= cost
                if ctx.budget < 0:
                    raise ctx.exhausted(pos)
                key = key.value if type(key) is BoolKey else key
                slots[s1] = key
                slots[s2] = value
                yield key
    else:
        raise no_overload(name, rng).at(pos)


def _not_bool(name: str, value: Any, pos: int) -> EvalError:
    return no_overload(f"{name}() predicate", value).at(pos)


def build_macro(
    step: MacroStep,
    s1: int,
    s2: int,
    pred: Closure | None,
    transform: Closure | None,
    cost: int,
    max_list: int,
    max_map: int,
) -> StepFn:
    """The loop for one macro, as a step function `(range value, ctx) -> result`."""
    kind = step.kind
    pos = step.pos
    name = kind

    if kind in ("all", "exists"):
        assert pred is not None
        test = pred
        decisive = kind == "exists"  # the value that ends the loop

        def quantify(rng: Any, ctx: Ctx) -> Any:
            err: EvalError | None = None
            for _ in _iterate(rng, ctx, s1, s2, cost, pos, name):
                try:
                    r = test(ctx)
                except EvalError as exc:
                    err = err or exc
                    continue
                if r is decisive:
                    return decisive
                if r is not (not decisive):
                    err = err or _not_bool(name, r, pos)
            if err is not None:
                raise err
            return not decisive

        return quantify

    if kind == "exists_one":
        assert pred is not None
        test = pred

        def exists_one(rng: Any, ctx: Ctx) -> Any:
            count = 0
            for _ in _iterate(rng, ctx, s1, s2, cost, pos, name):
                r = test(ctx)
                if r is True:
                    count += 1
                elif r is not False:
                    raise _not_bool(name, r, pos)
            return count == 1

        return exists_one

    if kind == "filter":
        assert pred is not None
        test = pred

        def filter_(rng: Any, ctx: Ctx) -> Any:
            out = []
            for key in _iterate(rng, ctx, s1, s2, cost, pos, name):
                r = test(ctx)
                if r is True:
                    out.append(key)
                elif r is not False:
                    raise _not_bool(name, r, pos)
            return out

        return filter_

    assert transform is not None
    produce = transform

    if kind in ("map", "transformList"):

        def map_(rng: Any, ctx: Ctx) -> Any:
            out = []
            for _ in _iterate(rng, ctx, s1, s2, cost, pos, name):
                if pred is not None:
                    r = pred(ctx)
                    if r is False:
                        continue
                    if r is not True:
                        raise _not_bool(name, r, pos)
                out.append(produce(ctx))
            if len(out) > max_list:
                raise _too_big("list", max_list, pos)
            return out

        return map_

    entry = kind == "transformMapEntry"

    def transform_map(rng: Any, ctx: Ctx) -> Any:
        out: dict[Any, Any] = {}
        for key in _iterate(rng, ctx, s1, s2, cost, pos, name):
            if pred is not None:
                r = pred(ctx)
                if r is False:
                    continue
                if r is not True:
                    raise _not_bool(name, r, pos)
            value = produce(ctx)
            if not entry:
                out[map_key(key)] = value
                continue
            if type(value) is not dict:
                raise no_overload("transformMapEntry() result", value).at(pos)
            for k, v in value.items():
                if k in out:
                    raise EvalError(f"transformMapEntry() produced key {unkey(k)!r} twice", pos)
                out[k] = v
            if len(out) > max_map:
                raise _too_big("map", max_map, pos)
        return out

    return transform_map


def _too_big(what: str, limit: int, pos: int) -> LimitError:
    return LimitError(f"{what} too large (max {limit} elements)", pos)
