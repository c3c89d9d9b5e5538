"""The public compiled-expression object, compilation caching and binding conversion."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .closures import Closure
from .compiler import Compiler
from .convert import from_cel, to_cel, to_cel_paths
from .errors import (
    EvaluationError,
    ExpressionError,
    ExpressionTypeError,
    Fault,
    LimitExceededError,
)
from .limits import DEFAULT_LIMITS, Limits
from .parser import parse
from .refs import DEEP, Usage, collect_usage, dotted
from .runtime import Ctx
from .shapes import static_shape

_PLAIN = frozenset({bool, str, int, float, type(None), bytes})  # same in CEL and Python


class CompiledExpression:
    """A parsed and compiled expression. Immutable, thread-safe, cached by source."""

    __slots__ = (
        "_n_slots",
        "_plan",
        "_pos",
        "_roots",
        "_run",
        "checked",
        "limits",
        "problems",
        "references",
        "shape",
        "source",
    )

    def __init__(
        self,
        source: str,
        run: Closure,
        usage: Usage,
        roots: frozenset[str],
        n_slots: int,
        limits: Limits,
        checked: bool,
        pos: int,
        shape: str | None = None,
        problems: tuple[ExpressionError, ...] = (),
    ) -> None:
        self.source = source
        # Constant arguments it fails on whenever evaluated (an unknown time zone, an
        # unsupported podium.format directive): a push refuses them (core.dsl).
        self.problems = problems
        self.shape = shape  # what it always gives, when its syntax settles it (shapes.py)
        self.references = dotted(usage.paths)
        self.limits = limits
        self.checked = checked
        self._run = run
        self._roots = roots
        self._plan = _conversion_plan(usage, roots)
        self._n_slots = n_slots
        self._pos = pos

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(self, bindings: Mapping[str, Any] | None = None) -> Any:
        """Evaluate with plain JSON-like Python bindings; returns plain Python.

        Only the bindings the expression can reach are converted (see `to_cel`).
        uint comes back as int, timestamp as an aware UTC datetime, duration as
        timedelta, bytes as bytes, a type as its name.
        """
        variables = self.convert_bindings(bindings) if bindings else {}
        return self._evaluate(variables, plain=True)

    def convert_bindings(self, bindings: Mapping[str, Any]) -> dict[str, Any]:
        """The CEL form of the parts of `bindings` this expression can read."""
        variables: dict[str, Any] = {}
        depth = self.limits.max_value_depth
        for name, paths in self._plan.items():
            if name not in bindings:
                continue
            try:
                value = bindings[name]
                if paths is None:
                    variables[name] = to_cel(value, depth)
                else:
                    variables[name] = to_cel_paths(value, paths, depth)
            except ExpressionError as exc:
                raise type(exc)(
                    f"binding '{name}': {exc.message}", self._pos, None, None, self.source
                ) from None
        return variables

    def evaluate_cel(self, bindings: Mapping[str, Any] | None = None) -> Any:
        """Evaluate with CEL values in and out (no conversion); used by conformance tests."""
        return self._evaluate(bindings if bindings is not None else {}, plain=False)

    def _evaluate(self, variables: Mapping[str, Any], plain: bool) -> Any:
        ctx = Ctx(variables, self._n_slots, self.limits)
        try:
            result = self._run(ctx)
            if not plain or type(result) in _PLAIN:
                return result
            return from_cel(result, ctx)
        except Fault as fault:
            raise fault.to_public(self.source, self._pos) from None
        except RecursionError:
            raise LimitExceededError(
                "value or expression nested too deeply to evaluate",
                self._pos,
                None,
                None,
                self.source,
            ) from None
        except MemoryError:
            raise LimitExceededError(
                "evaluation ran out of memory", self._pos, None, None, self.source
            ) from None
        except ExpressionError:
            raise
        except Exception as exc:  # a bug must still surface as an ExpressionError
            raise EvaluationError(
                f"internal error: {type(exc).__name__}: {exc}", self._pos, None, None, self.source
            ) from exc


Plan = dict[str, tuple[tuple[tuple[str, ...], int], ...] | None]


def _conversion_plan(usage: Usage, roots: frozenset[str]) -> Plan:
    """Per binding name, the sub-paths to convert with their usage mode, or None to
    convert all of it.

    Dotted binding names, bare identifiers and names used only as type denotations
    are converted whole; otherwise only the referenced sub-trees (see to_cel_paths).
    """
    by_root: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for path, mode in usage.modes.items():
        by_root.setdefault(path[0], []).append((path[1:], mode))
    plan: Plan = {}
    for root in sorted(roots):
        subs = by_root.get(root)
        if "." in root or not subs or ((), DEEP) in subs:
            plan[root] = None
            continue
        deep = [p for p, mode in subs if mode == DEEP]
        # A path under (or at) a deeply converted one is already covered.
        kept = [
            (p, mode)
            for p, mode in subs
            if not any(p[: len(q)] == q and (q != p or mode != DEEP) for q in deep)
        ]
        plan[root] = tuple(sorted(kept))
    return plan


def compile_expression(
    source: str, limits: Limits | None = None, *, checked: bool = True
) -> CompiledExpression:
    """Parse and compile `source` (cached). Raises ExpressionError.

    `checked` rejects unknown functions and wrong argument counts at compile time;
    with `checked=False` they become runtime errors, as in CEL's unchecked mode.
    """
    if not isinstance(source, str):
        raise ExpressionTypeError(f"expression must be a string, not {type(source).__name__}")
    return _compile_cached(source, limits or DEFAULT_LIMITS, checked)


@lru_cache(maxsize=4096)
def _compile_cached(source: str, limits: Limits, checked: bool) -> CompiledExpression:
    return compile_uncached(source, limits, checked)


def compile_uncached(source: str, limits: Limits, checked: bool = True) -> CompiledExpression:
    node = parse(source, limits)
    compiler = Compiler(limits, checked)
    try:
        run = compiler.compile(node)
        usage = collect_usage(node)
    except ExpressionError as exc:
        if exc.source is None:
            raise type(exc)(exc.message, exc.position, None, None, source) from None
        raise
    except Fault as fault:
        raise fault.to_public(source, node.pos) from None
    except RecursionError:
        raise LimitExceededError(
            "expression nested too deeply to compile", node.deep_pos, None, None, source
        ) from None
    return CompiledExpression(
        source,
        run,
        usage,
        frozenset(compiler.roots),
        compiler.n_slots,
        limits,
        checked,
        node.pos,
        static_shape(node),
        tuple(fault.to_public(source, node.pos) for fault in compiler.problems),
    )
