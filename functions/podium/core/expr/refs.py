"""Which inputs an expression reads: dotted paths rooted at free variables.

`params.x > 3 && size(steps.a.output.rows) > 0` references `params.x` and
`steps.a.output.rows`. A path stops at the first index or call
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


def collect_references(node: Node) -> frozenset[Path]:
    """Reference paths as tuples of names (field names may themselves contain dots)."""
    refs: set[Path] = set()
    _walk(node, frozenset(), refs)
    return frozenset(refs)


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
        and all(isinstance(s, SelectStep) for s in node.steps)
    ):
        return tuple(leading_path(node))
    return None


def _walk(node: Node, bound: frozenset[str], refs: set[Path]) -> None:
    if isinstance(node, Literal):
        return
    if isinstance(node, Ident):
        if node.name not in bound and node.name not in TYPE_DENOTATIONS:
            refs.add((node.name,))
        return
    if isinstance(node, Chain):
        _walk_chain(node, bound, refs)
        return
    if isinstance(node, Has):
        path = _path(node.target, bound)
        if path is not None:
            refs.add((*path, node.field))
        else:
            _walk(node.target, bound, refs)
        return
    for child in _children(node):
        _walk(child, bound, refs)


def _walk_chain(chain: Chain, bound: frozenset[str], refs: set[Path]) -> None:
    steps = chain.steps
    call = namespaced_call(chain, bound)
    if call is not None:
        start = call[1]
    elif isinstance(chain.base, Ident) and chain.base.name not in bound:
        names = leading_path(chain)
        refs.add(tuple(names))
        start = len(names) - 1
    else:
        _walk(chain.base, bound, refs)
        start = 0
    for step in steps[start:]:
        if isinstance(step, IndexStep):
            _walk(step.index, bound, refs)
        elif isinstance(step, MethodStep):
            for arg in step.args:
                _walk(arg, bound, refs)
        elif isinstance(step, MacroStep):
            inner = bound | {step.var1} | ({step.var2} if step.var2 else set())
            for child in step.children:
                _walk(child, inner, refs)


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
