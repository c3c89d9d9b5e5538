"""Syntax tree to Python closures.

Each node becomes one closure `fn(ctx) -> value`; evaluation is a single call of the
root closure, with no tree walk and no `eval`/`exec`. Flat nodes (operator chains,
`a.b[c].d()` chains) compile to loops, so evaluation recursion is bounded by the
nesting depth the parser already limited.

Errors: operators raise `Fault`s without positions; each closure attaches its own
node's position on the way out (`fault.at(pos)`), so the innermost node that knows
where it is wins.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from .closures import (
    FAST_COMPARE,
    MISSING,
    Closure,
    StepFn,
    apply_steps,
    call_closure,
    compare,
    select_path,
    sum_chain,
)
from .errors import (
    EvalError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    Fault,
    UnknownNameError,
)
from .functions import (
    ACCESSORS,
    GLOBALS,
    METHODS,
    Function,
    compile_regex,
    regex_search,
    regex_search_cost,
)
from .limits import Limits
from .macros import MACRO_USAGE, build_macro
from .nodes import (
    Binary,
    Call,
    Chain,
    Cond,
    Has,
    Ident,
    IndexStep,
    ListLit,
    Literal,
    Logic,
    MacroStep,
    MapLit,
    MethodStep,
    Node,
    SelectStep,
    Step,
    Unary,
)
from .operators import BINARY_OPS, BinaryOp, index, negate, select
from .podium_fns import PODIUM_FUNCTIONS, check_date, check_format
from .refs import leading_path, namespaced_call
from .runtime import Ctx, unmetered
from .shown import shown
from .timeutil import check_timezone
from .values import TYPE_DENOTATIONS, map_key, no_overload, type_name

_ALL_FUNCTIONS: dict[str, Function] = {**GLOBALS, **PODIUM_FUNCTIONS}
# Functions folded at compile time when their argument is a literal (pure, cheap).
_FOLDABLE = frozenset({"timestamp", "duration", "int", "uint", "double", "string", "bytes"})
# Pure functions evaluated once at compile time when every argument is a constant, to
# find the ones that fail whenever evaluated (``bool('maybe')``, ``size(1)``,
# ``podium.range(0, 100001)``): recorded as problems, which a push refuses (not raised
# as _FOLDABLE's are: a version stored with one still loads, and fails there as before).
_CHECKED_CALLS = frozenset({"bool", "size", *PODIUM_FUNCTIONS})
# Arguments a call fails on whatever else it is given, checked when they are constants:
# (function or method, argument index) -> the check (raises a Fault).
_CONSTANT_CHECKS: dict[tuple[str, int], Callable[[Any], None]] = {
    ("podium.date", 0): check_date,
    ("podium.date", 1): check_timezone,
    ("podium.format", 0): check_date,
    ("podium.format", 1): lambda fmt: check_format(fmt) if type(fmt) is str else None,
    ("podium.format", 2): check_timezone,
    ("podium.dateRange", 0): check_date,
    ("podium.dateRange", 1): check_date,
    **{(name, 0): check_timezone for name in ACCESSORS},
}


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class Compiler:
    def __init__(self, limits: Limits, checked: bool) -> None:
        self.limits = limits
        self.checked = checked
        self.scope: dict[str, int] = {}  # comprehension variable -> slot
        self.n_slots = 0
        self.roots: set[str] = set()  # binding names the expression may read
        self.consts: dict[Closure, Any] = {}
        # What a list or map literal of constants builds, to check a selection or an
        # index on it (``[1][5]``, ``{'a': 1}.b``); not folded: each run builds its own.
        self.built: dict[Closure, Any] = {}
        # Constant arguments that fail whenever evaluated (CompiledExpression.problems).
        self.problems: list[Fault] = []
        # Inside an operand CEL may never evaluate, or whose error it absorbs (either
        # side of && and ||, a branch of ?:): a literal operator that fails is no
        # problem there (``true || 1/0 == 0`` is true).
        self.guarded = 0

    # -- dispatch ------------------------------------------------------------------

    def compile(self, node: Node) -> Closure:
        method = _DISPATCH.get(type(node))
        if method is None:  # pragma: no cover - every node type is registered
            raise ExpressionTypeError(f"cannot compile {type(node).__name__}", node.pos)
        return method(self, node)

    def const(self, value: Any) -> Closure:
        def literal(ctx: Ctx) -> Any:
            return value

        self.consts[literal] = value
        return literal

    # -- leaves --------------------------------------------------------------------

    def literal(self, node: Literal) -> Closure:
        return self.const(node.value)

    def ident(self, node: Ident) -> Closure:
        name = node.name
        slot = self.scope.get(name)
        if slot is not None:

            def bound(ctx: Ctx) -> Any:
                return ctx.slots[slot]

            return bound
        self.roots.add(name)
        denotation = TYPE_DENOTATIONS.get(name)
        pos = node.pos

        def free(ctx: Ctx) -> Any:
            value = ctx.vars.get(name, MISSING)
            if value is not MISSING:
                return value
            if denotation is not None:
                return denotation
            raise EvalError(f"unknown variable '{name}'", pos, kind="unknown_name")

        return free

    # -- aggregates ----------------------------------------------------------------

    def list_lit(self, node: ListLit) -> Closure:
        items = tuple(self.compile(n) for n in node.items)
        if not items:

            def empty(ctx: Ctx) -> Any:
                return []

            self.built[empty] = []
            return empty

        def build(ctx: Ctx) -> Any:
            return [f(ctx) for f in items]

        if all(self._known(f) for f in items):
            self.built[build] = [self._value(f) for f in items]
        return build

    def _known(self, fn: Closure) -> bool:
        return fn in self.consts or fn in self.built

    def _value(self, fn: Closure) -> Any:
        return self.consts[fn] if fn in self.consts else self.built[fn]

    def map_lit(self, node: MapLit) -> Closure:
        entries = tuple((self.compile(k), self.compile(v), k.pos) for k, v in node.entries)
        known = not self.guarded and self._check_keys(entries)

        def build(ctx: Ctx) -> Any:
            out: dict[Any, Any] = {}
            for key_fn, value_fn, pos in entries:
                key = key_fn(ctx)
                try:
                    mk = map_key(key)
                except Fault as fault:
                    raise fault.at(pos) from None
                if mk in out:
                    raise EvalError(f"repeated map key {shown(key)}", pos)  # CEL's form
                out[mk] = value_fn(ctx)
            return out

        if known and all(self._known(v) for _, v, _ in entries):
            self.built[build] = {map_key(self.consts[k]): self._value(v) for k, v, _ in entries}
        return build

    def _check_keys(self, entries: tuple[tuple[Closure, Closure, int], ...]) -> bool:
        """Constant keys a map literal fails on whenever it is built: a key a map cannot
        have (``{1.5: 'a'}``, ``{null: 1}``) or one written twice (``{'a': 1, 'a': 2}``,
        ``{1: 'x', 1u: 'y'}``: docs, "duplicates are an error"), recorded at the key as
        the run would say it (build, below), as _fold_operators does. True when every
        key is a constant and none fails."""
        seen: set[Any] = set()
        for key_fn, _, pos in entries:
            if key_fn not in self.consts:
                continue
            key = self.consts[key_fn]
            try:
                mk = map_key(key)
            except Fault as fault:
                self.problems.append(fault.at(pos))
                return False
            if mk in seen:
                self.problems.append(EvalError(f"repeated map key {shown(key)}", pos))
                return False
            seen.add(mk)
        return len(seen) == len(entries)

    # -- operators -----------------------------------------------------------------

    def unary(self, node: Unary) -> Closure:
        operand = self.compile(node.operand)
        pos = node.pos
        count = node.count
        if operand in self.consts and not self.guarded:
            self._check_unary(node, self.consts[operand])
        if node.op == "!":
            flip = count % 2 == 1

            def not_(ctx: Ctx) -> Any:
                v = operand(ctx)
                if v is True or v is False:
                    return (not v) if flip else v
                raise no_overload("!_", v).at(pos)

            return not_

        def neg(ctx: Ctx) -> Any:
            v = operand(ctx)
            try:
                for _ in range(count):
                    v = negate(v)
            except Fault as fault:
                raise fault.at(pos) from None
            return v

        return neg

    def _check_unary(self, node: Unary, value: Any) -> None:
        """``!1``, ``-'a'``: an operator on a literal it has no overload for, recorded as
        a problem (as _fold_operators does for a binary one)."""
        if node.op == "!":
            if value is not True and value is not False:
                self.problems.append(no_overload("!_", value).at(node.pos))
            return
        try:
            for _ in range(node.count):
                value = negate(value)
        except Fault as fault:
            self.problems.append(fault.at(node.pos))

    def binary(self, node: Binary) -> Closure:
        first = self.compile(node.first)
        rest = tuple((BINARY_OPS[op], pos, self.compile(n)) for op, pos, n in node.rest)
        if self.checked and first in self.consts and all(r in self.consts for _, _, r in rest):
            folded = self._fold_operators(first, rest)
            if folded is not None:
                return folded
        if len(rest) == 1 and node.rest[0][0] in FAST_COMPARE:
            return compare(first, node.rest[0][0], rest[0][2], rest[0][0], rest[0][1])
        if all(op == "+" for op, _, _ in node.rest):
            return sum_chain(first, tuple((pos, right) for _, pos, right in rest), self.limits)
        if len(rest) == 1:
            op, pos, right = rest[0]

            def binary2(ctx: Ctx) -> Any:
                a = first(ctx)
                b = right(ctx)
                try:
                    return op(a, b, ctx)
                except Fault as fault:
                    raise fault.at(pos) from None

            return binary2

        def fold(ctx: Ctx) -> Any:
            acc = first(ctx)
            for op, pos, right in rest:
                b = right(ctx)
                try:
                    acc = op(acc, b, ctx)
                except Fault as fault:
                    raise fault.at(pos) from None
            return acc

        return fold

    def logic(self, node: Logic) -> Closure:
        self.guarded += 1
        try:
            operands = tuple(self.compile(n) for n in node.operands)
        finally:
            self.guarded -= 1
        pos = node.pos
        name = "_&&_" if node.op == "&&" else "_||_"
        # `&&` stops at false, `||` at true; errors are kept only if nothing decides.
        decisive = node.op == "||"
        neutral = not decisive

        def logic(ctx: Ctx) -> Any:
            err: Fault | None = None
            for operand in operands:
                try:
                    v = operand(ctx)
                except EvalError as exc:
                    err = err or exc
                    continue
                if v is decisive:
                    return decisive
                if v is not neutral and err is None:
                    err = no_overload(name, v).at(pos)
            if err is not None:
                raise err
            return neutral

        return logic

    def cond(self, node: Cond) -> Closure:
        test = self.compile(node.test)
        if test in self.consts and not self.guarded:
            c = self.consts[test]
            if c is not True and c is not False:  # ``1 ? 2 : 3``: fails whenever evaluated
                self.problems.append(no_overload("_?_:_", c).at(node.pos))
        self.guarded += 1
        try:
            then = self.compile(node.then)
            other = self.compile(node.other)
        finally:
            self.guarded -= 1
        pos = node.pos

        def cond(ctx: Ctx) -> Any:
            c = test(ctx)
            if c is True:
                return then(ctx)
            if c is False:
                return other(ctx)
            raise no_overload("_?_:_", c).at(pos)

        return cond

    # -- calls ---------------------------------------------------------------------

    def call(self, node: Call) -> Closure:
        fn = _ALL_FUNCTIONS.get(node.name)
        args = tuple(self.compile(a) for a in node.args)
        if node.name == "has":
            message = "has() takes one field selection, such as has(a.b)"
            raise ExpressionSyntaxError(message, node.pos)
        if fn is None and node.name in MACRO_USAGE:
            message = f"{node.name}() is called on a list or map: {MACRO_USAGE[node.name]}"
            return self._unknown(message, node.pos, args)
        if fn is None:
            known = sorted(_ALL_FUNCTIONS)
            return self._unknown(
                f"unknown function '{node.name}'{_suggest(node.name, known)}", node.pos, args
            )
        if len(args) not in fn.arities:
            return self._bad_arity(fn, node.name, len(args), node.pos, args)
        if node.name == "dyn":
            return args[0]
        before = len(self.problems)
        self._check_constants(node.name, args, [a.pos for a in node.args])
        if len(self.problems) == before:
            self._check_call(fn, args, node.pos)
        if node.name == "matches" and type(self.consts.get(args[1])) is str:
            matcher = self._regex_matcher(self.consts[args[1]], node.pos)
            subject = args[0]
            return lambda ctx: matcher(subject(ctx), ctx)
        folded = self._fold(fn, args, node.pos)
        if folded is not None:
            return folded
        return call_closure(fn.impl, args, node.pos)

    def _fold(self, fn: Function, args: tuple[Closure, ...], pos: int) -> Closure | None:
        if fn.name not in _FOLDABLE or len(args) != 1 or args[0] not in self.consts:
            return None
        try:
            value = fn.impl(unmetered(self.limits), self.consts[args[0]])
        except Fault as fault:
            if self.checked:
                # An invalid literal such as timestamp('2023-13-01') is a definition error.
                raise fault.at(pos) from None
            return None
        return self.const(value)

    def _fold_operators(
        self, first: Closure, rest: tuple[tuple[BinaryOp, int, Closure], ...]
    ) -> Closure | None:
        """``'a' + 'b'``, ``2 * 60``: operators on literals, computed once (so an outer
        one folds too). One that fails whenever evaluated (``'a' + 1``, ``1 / 0``), where
        CEL evaluates it and keeps its error (``guarded``), is recorded as a problem at
        its operator, which a push refuses; it still compiles
        and fails at run time as it did (a stored version must load)."""
        ctx = unmetered(self.limits)
        acc = self.consts[first]
        for op, pos, right in rest:
            try:
                acc = op(acc, self.consts[right], ctx)
            except Fault as fault:
                if not self.guarded:
                    self.problems.append(fault.at(pos))
                return None
        return self.const(acc)

    def _check_call(self, fn: Function, args: tuple[Closure, ...], pos: int) -> None:
        """A pure call on constants only (_CHECKED_CALLS), evaluated once: a failure is
        recorded at the call, unless ``guarded``. Its value is not kept (a
        podium.range may be long; one evaluation at compile time, cached, is cheap)."""
        if fn.name not in _CHECKED_CALLS or self.guarded:
            return
        if not all(a in self.consts for a in args):
            return
        try:
            fn.impl(unmetered(self.limits), *(self.consts[a] for a in args))
        except Fault as fault:
            self.problems.append(fault.at(pos))

    def _check_constants(self, name: str, args: tuple[Closure, ...], where: list[int]) -> None:
        """A constant time zone or podium.format pattern that fails whenever the call is
        evaluated ('Europe/Pari', '%k'): recorded, not raised. A push refuses it (as a
        constant regular expression), naming the field (core.dsl); a stored version,
        pushed before this check, still compiles, and fails there at run time, as it
        always did."""
        for n, arg in enumerate(args):
            check = _CONSTANT_CHECKS.get((name, n))
            if check is None or arg not in self.consts:
                continue
            try:
                check(self.consts[arg])
            except Fault as fault:
                self.problems.append(fault.at(where[n]))

    def _regex_matcher(self, pattern: str, pos: int) -> StepFn:
        """`x.matches('literal')`: compile the regex once, when the expression compiles."""
        try:
            regex = compile_regex(pattern, self.limits.max_regex_length)
        except Fault as fault:
            if self.checked:
                raise fault.at(pos) from None
            problem = fault

            def broken(s: Any, ctx: Ctx) -> Any:
                raise EvalError(problem.message, pos, kind=problem.kind)

            return broken
        size = int(regex.programsize)

        def matches(s: Any, ctx: Ctx) -> Any:
            if type(s) is not str:
                raise no_overload("matches", s, pattern).at(pos)
            ctx.charge(regex_search_cost(s, size))
            return regex_search(regex, s)

        return matches

    def _unknown(self, message: str, pos: int, args: tuple[Closure, ...]) -> Closure:
        if self.checked:
            raise UnknownNameError(message, pos)

        def unbound(ctx: Ctx) -> Any:
            for a in args:
                a(ctx)
            raise EvalError(message, pos, kind="unknown_name")

        return unbound

    def _bad_arity(
        self, fn: Function, name: str, n: int, pos: int, args: tuple[Closure, ...]
    ) -> Closure:
        counts = " or ".join(str(a) for a in sorted(fn.arities))
        message = f"{name}() takes {counts} argument(s), got {n}"
        if self.checked:
            raise ExpressionTypeError(message, pos)

        def wrong(ctx: Ctx) -> Any:
            values = [a(ctx) for a in args]
            raise no_overload(name, *values).at(pos)

        return wrong

    def has(self, node: Has) -> Closure:
        target = self.compile(node.target)
        field = node.field
        pos = node.pos

        def has(ctx: Ctx) -> Any:
            v = target(ctx)
            if type(v) is dict:
                return field in v
            raise EvalError(f"has() cannot test a field of type '{type_name(v)}'", pos, kind="type")

        return has

    # -- chains --------------------------------------------------------------------

    def chain(self, node: Chain) -> Closure:
        base = node.base
        steps = node.steps
        bound = frozenset(self.scope)
        call = namespaced_call(node, bound)
        if call is not None:
            name, k = call
            method = steps[k]
            assert isinstance(method, MethodStep)
            head = self.call(Call(method.pos, name, method.args))
            return apply_steps(head, tuple(self.step(s) for s in steps[k + 1 :]))
        if isinstance(base, Ident) and base.name not in self.scope:
            self._podium_typo(node)
            return self._qualified(node)
        head = self.compile(base)
        if head in self.built and not self.guarded:
            self._check_steps(self.built[head], steps)
        if isinstance(base, Ident) and all(isinstance(s, SelectStep) for s in steps):
            fields = tuple((s.field, s.pos) for s in steps if isinstance(s, SelectStep))
            return select_path(head, fields)
        return apply_steps(head, tuple(self.step(s) for s in steps))

    def _check_steps(self, value: Any, steps: tuple[Step, ...]) -> None:
        """``[1][5]``, ``{'a': 1}.b``: a selection or a constant index on a literal
        list or map of constants that fails whenever evaluated, recorded at the step
        (the steps after one that is not constant are not known)."""
        ctx = unmetered(self.limits)
        for step in steps:
            try:
                if isinstance(step, SelectStep):
                    value = select(value, step.field)
                    continue
                if not isinstance(step, IndexStep) or not isinstance(step.index, Literal):
                    return
                value = index(value, step.index.value, ctx)
            except Fault as fault:
                self.problems.append(fault.at(step.pos))
                return

    def _podium_typo(self, node: Chain) -> None:
        """`podium.dateRnage(...)`: a call on the free name `podium` that is neither a
        helper nor a CEL method is a misspelled helper; say so among the helpers (the
        method path would suggest a CEL method, `matches` for `podium.dates`)."""
        first = node.steps[0] if node.steps else None
        if not (isinstance(node.base, Ident) and node.base.name == "podium"):
            return
        if not isinstance(first, MethodStep) or first.name in METHODS:
            return
        name = f"podium.{first.name}"
        helpers = sorted(PODIUM_FUNCTIONS)
        hint = _suggest(name, helpers) or f"; the helpers are {', '.join(helpers)}"
        message = f"unknown function '{name}'{hint}"
        if self.checked:
            raise UnknownNameError(message, first.pos)

    def _qualified(self, node: Chain) -> Closure:
        """`a.b.c` on free variables: the longest dotted prefix that is bound wins."""
        assert isinstance(node.base, Ident)
        names = leading_path(node)
        fns = tuple(self.step(s) for s in node.steps)
        if len(names) == 1:
            return apply_steps(self.ident(node.base), fns)
        candidates: list[tuple[str, tuple[StepFn, ...]]] = []
        for j in range(len(names), 0, -1):
            dotted = ".".join(names[:j])
            self.roots.add(dotted)
            candidates.append((dotted, fns[j - 1 :]))
        full = ".".join(names)
        denotation = TYPE_DENOTATIONS.get(full)
        root = names[0]
        root_denotation = TYPE_DENOTATIONS.get(root)
        pos = node.base.pos
        simple = candidates[-1][1]
        dotted_candidates = tuple(candidates[:-1])
        # The usual shape (`params.x`, `steps.a.output.rows`): selections only, inlined.
        fields = (
            tuple((s.field, s.pos) for s in node.steps if isinstance(s, SelectStep))
            if all(isinstance(s, SelectStep) for s in node.steps)
            else None
        )

        def qualified(ctx: Ctx) -> Any:
            variables = ctx.vars
            for name, steps in dotted_candidates:  # a binding named "a.b" wins over a
                if name in variables:
                    value = variables[name]
                    for fn in steps:
                        value = fn(value, ctx)
                    return value
            value = variables.get(root, MISSING)
            if value is MISSING:
                if denotation is not None:
                    return denotation
                if root_denotation is None:
                    raise EvalError(f"unknown variable '{root}'", pos, kind="unknown_name")
                value = root_denotation
            elif fields is not None:
                for field, field_pos in fields:
                    if type(value) is dict:
                        found = value.get(field, MISSING)
                        if found is not MISSING:
                            value = found
                            continue
                    try:
                        value = select(value, field)
                    except Fault as fault:
                        raise fault.at(field_pos) from None
                return value
            for fn in simple:
                value = fn(value, ctx)
            return value

        return qualified

    def step(self, step: Step) -> StepFn:
        pos = step.pos
        if isinstance(step, SelectStep):
            field = step.field

            def sel(v: Any, ctx: Ctx) -> Any:
                if type(v) is dict:
                    r = v.get(field, MISSING)
                    if r is not MISSING:
                        return r
                try:
                    return select(v, field)
                except Fault as fault:
                    raise fault.at(pos) from None

            return sel
        if isinstance(step, IndexStep):
            key_fn = self.compile(step.index)

            def idx(v: Any, ctx: Ctx) -> Any:
                k = key_fn(ctx)
                try:
                    return index(v, k, ctx)
                except Fault as fault:
                    raise fault.at(pos) from None

            return idx
        if isinstance(step, MethodStep):
            return self._method(step)
        assert isinstance(step, MacroStep)
        return self._macro(step)

    def _method(self, step: MethodStep) -> StepFn:
        args = tuple(self.compile(a) for a in step.args)
        pos = step.pos
        fn = METHODS.get(step.name)
        if fn is None or len(args) not in fn.arities:
            if fn is None and step.name in MACRO_USAGE:
                message = f"wrong arguments for {step.name}(); use {MACRO_USAGE[step.name]}"
                if self.checked:
                    raise ExpressionSyntaxError(message, pos)
            elif fn is None:
                message = f"unknown function '{step.name}'{_suggest(step.name, sorted(METHODS))}"
                if self.checked:
                    raise UnknownNameError(message, pos)
            else:
                counts = " or ".join(str(a) for a in sorted(fn.arities))
                message = f".{step.name}() takes {counts} argument(s), got {len(args)}"
                if self.checked:
                    raise ExpressionTypeError(message, pos)

            def unbound(v: Any, ctx: Ctx) -> Any:
                values = [a(ctx) for a in args]
                if fn is None:
                    raise EvalError(message, pos, kind="unknown_name")
                raise no_overload(step.name, v, *values).at(pos)

            return unbound
        self._check_constants(step.name, args, [a.pos for a in step.args])
        if step.name == "matches" and type(self.consts.get(args[0])) is str:
            return self._regex_matcher(self.consts[args[0]], pos)
        impl = fn.impl
        if not args:

            def method0(v: Any, ctx: Ctx) -> Any:
                try:
                    return impl(ctx, v)
                except Fault as fault:
                    raise fault.at(pos) from None

            return method0
        if len(args) == 1:
            arg = args[0]

            def method1(v: Any, ctx: Ctx) -> Any:
                a = arg(ctx)
                try:
                    return impl(ctx, v, a)
                except Fault as fault:
                    raise fault.at(pos) from None

            return method1

        def method(v: Any, ctx: Ctx) -> Any:
            values = [a(ctx) for a in args]
            try:
                return impl(ctx, v, *values)
            except Fault as fault:
                raise fault.at(pos) from None

        return method

    def _fresh_slot(self) -> int:
        slot = self.n_slots
        self.n_slots += 1
        return slot

    def _macro(self, step: MacroStep) -> StepFn:
        s1 = self._fresh_slot()
        s2 = self._fresh_slot() if step.var2 is not None else -1
        saved = dict(self.scope)
        self.scope[step.var1] = s1
        if step.var2 is not None:
            self.scope[step.var2] = s2
        try:
            pred = self.compile(step.pred) if step.pred is not None else None
            transform = self.compile(step.transform) if step.transform is not None else None
        finally:
            self.scope = saved
        # Each iteration costs the size of the loop body: a fair proxy for its work.
        cost = 1 + sum(c.size for c in step.children)
        return build_macro(
            step,
            s1,
            s2,
            pred,
            transform,
            cost,
            self.limits.max_list_size,
            self.limits.max_map_size,
        )


_DISPATCH: dict[type, Callable[[Compiler, Any], Closure]] = {
    Literal: Compiler.literal,
    Ident: Compiler.ident,
    ListLit: Compiler.list_lit,
    MapLit: Compiler.map_lit,
    Unary: Compiler.unary,
    Binary: Compiler.binary,
    Logic: Compiler.logic,
    Cond: Compiler.cond,
    Call: Compiler.call,
    Has: Compiler.has,
    Chain: Compiler.chain,
}
