"""Which inputs an expression reads: dotted paths rooted at free variables.

`params.x > 3 && size(steps.a.output.rows) > 0` references `params.x` and
`steps.a.output.rows`. An index by a string literal is a field (`steps["a"].output` is
`steps.a.output`); a path stops at any other index or at a call
(`params.items[0].name` -> `params.items`); comprehension variables are bound, so
`rows.filter(r, r.ok)` references only `rows`. Workflow validation uses this to reject
unknown params and steps when a definition is pushed.
"""

from __future__ import annotations

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
from .podium_fns import PODIUM_FUNCTIONS
from .values import TYPE_DENOTATIONS


def leading_path(chain: Chain) -> list[str]:
    """The identifier and the field names that directly follow it."""
    assert isinstance(chain.base, Ident)
    names = [chain.base.name]
    for step in chain.steps:
        if not isinstance(step, SelectStep):
            break
        names.append(step.field)
    return names


def _field_of(step: Step) -> str | None:
    """The field a chain step selects: ``.f``, or ``["f"]`` (``m["f"]`` is ``m.f``, so a
    reference written either way is checked and bound alike). None for any other step,
    and for a key holding a dot: the dotted path would be ambiguous (``["a.b"]`` is not
    ``.a.b``), so the path stops there, as at a computed index."""
    if isinstance(step, SelectStep):
        return step.field
    if (
        isinstance(step, IndexStep)
        and isinstance(step.index, Literal)
        and type(step.index.value) is str
        and "." not in step.index.value
    ):
        return step.index.value
    return None


def reference_path(chain: Chain) -> list[str]:
    """The identifier and the fields that directly follow it, by name or by index."""
    assert isinstance(chain.base, Ident)
    names = [chain.base.name]
    for step in chain.steps:
        field = _field_of(step)
        if field is None:
            break
        names.append(field)
    return names


def namespaced_call(chain: Chain, bound: frozenset[str]) -> tuple[str, int] | None:
    """`podium.date(x)` parses as a method on `podium`; detect it as a global function.

    Returns the function name and the index of the call step.
    """
    if not isinstance(chain.base, Ident) or chain.base.name in bound:
        return None
    names = leading_path(chain)
    k = len(names) - 1
    if k < len(chain.steps):
        step = chain.steps[k]
        if isinstance(step, MethodStep):
            name = ".".join([*names, step.name])
            if name in PODIUM_FUNCTIONS:
                return name, k
    return None


Path = tuple[str, ...]


# How much of a referenced value evaluation can look at.
DEEP = 0  # anything inside it
SIZED = 1  # only its length: size(x), x.size()
PRESENCE = 2  # only whether it exists: has(a.b)


class Usage:
    """The paths an expression reads, each with the least shallow way it is used.

    A path used only by `size(...)`/`.size()` or `has(...)` is never looked inside, so
    converting the bindings can skip its contents (a size check on a big step output
    stays cheap).
    """

    def __init__(self) -> None:
        self.modes: dict[Path, int] = {}

    @property
    def paths(self) -> frozenset[Path]:
        return frozenset(self.modes)

    def add(self, path: Path, mode: int = DEEP) -> None:
        self.modes[path] = min(mode, self.modes.get(path, mode))


def collect_usage(node: Node) -> Usage:
    usage = Usage()
    _walk(node, frozenset(), usage)
    return usage


def collect_references(node: Node) -> frozenset[Path]:
    """Reference paths as tuples of names (field names may themselves contain dots)."""
    return collect_usage(node).paths


def dotted(paths: frozenset[Path]) -> frozenset[str]:
    return frozenset(".".join(p) for p in paths)


def _path(node: Node, bound: frozenset[str]) -> Path | None:
    """The path of a pure selection chain on a free variable, if it is one."""
    if isinstance(node, Ident):
        return None if node.name in bound else (node.name,)
    if (
        isinstance(node, Chain)
        and isinstance(node.base, Ident)
        and node.base.name not in bound
        and all(_field_of(s) is not None for s in node.steps)
    ):
        return tuple(reference_path(node))
    return None


def _walk(node: Node, bound: frozenset[str], usage: Usage) -> None:
    if isinstance(node, Literal):
        return
    if isinstance(node, Ident):
        if node.name not in bound and node.name not in TYPE_DENOTATIONS:
            usage.add((node.name,))
        return
    if isinstance(node, Chain):
        _walk_chain(node, bound, usage)
        return
    if isinstance(node, Has):
        path = _path(node.target, bound)
        if path is not None:
            usage.add((*path, node.field), PRESENCE)
        else:
            _walk(node.target, bound, usage)
        return
    if isinstance(node, Call) and node.name == "size" and len(node.args) == 1:
        path = _path(node.args[0], bound)
        if path is not None:
            usage.add(path, SIZED)
            return
    for child in _children(node):
        _walk(child, bound, usage)


def _walk_chain(chain: Chain, bound: frozenset[str], usage: Usage) -> None:
    steps = chain.steps
    call = namespaced_call(chain, bound)
    if call is not None:
        start = call[1]
    elif isinstance(chain.base, Ident) and chain.base.name not in bound:
        names = reference_path(chain)
        start = len(names) - 1
        after = steps[start] if start < len(steps) else None
        sized = isinstance(after, MethodStep) and after.name == "size" and not after.args
        usage.add(tuple(names), SIZED if sized else DEEP)
    else:
        _walk(chain.base, bound, usage)
        start = 0
    for step in steps[start:]:
        if isinstance(step, IndexStep):
            _walk(step.index, bound, usage)
        elif isinstance(step, MethodStep):
            for arg in step.args:
                _walk(arg, bound, usage)
        elif isinstance(step, MacroStep):
            inner = bound | {step.var1} | ({step.var2} if step.var2 else set())
            for child in step.children:
                _walk(child, inner, usage)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, MapLit):
        return tuple(n for entry in node.entries for n in entry)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.first, *(r[2] for r in node.rest))
    if isinstance(node, Logic):
        return node.operands
    if isinstance(node, Cond):
        return (node.test, node.then, node.other)
    return ()
