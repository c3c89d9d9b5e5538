"""Syntax tree built by the parser and consumed once by the compiler.

Every node records `pos` (0-based offset of the token that best identifies it, used
for error carets), `depth` and `size` (node count). Depth and size are computed
bottom-up as nodes are built, so limits can be checked without walking the tree.

Chains of the same operator (`a + b - c`, `a && b && c`, `x.y[0].z()`) are flat
nodes, which keeps the tree shallow however long the chain is: long chains are then
compiled and evaluated with loops instead of recursion.
"""

from __future__ import annotations

from typing import Any


class Node:
    __slots__ = ("deep_pos", "depth", "pos", "size")

    pos: int
    depth: int
    size: int
    deep_pos: int

    def __init__(self, pos: int, children: tuple[Node, ...] = ()) -> None:
        self.pos = pos
        self.size = 1 + sum(c.size for c in children)
        if children:
            deepest = max(children, key=lambda c: c.depth)
            self.depth = deepest.depth + 1
            # Where the deepest nesting is, so a depth error can point at it.
            self.deep_pos = deepest.deep_pos
        else:
            self.depth = 1
            self.deep_pos = pos


class Literal(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: Any) -> None:
        super().__init__(pos)
        self.value = value


class Ident(Node):
    __slots__ = ("name",)

    def __init__(self, pos: int, name: str) -> None:
        super().__init__(pos)
        self.name = name


class ListLit(Node):
    __slots__ = ("items",)

    def __init__(self, pos: int, items: tuple[Node, ...]) -> None:
        super().__init__(pos, items)
        self.items = items


class MapLit(Node):
    __slots__ = ("entries",)

    def __init__(self, pos: int, entries: tuple[tuple[Node, Node], ...]) -> None:
        super().__init__(pos, tuple(n for entry in entries for n in entry))
        self.entries = entries


class Call(Node):
    """A global function call `f(a, b)` (receiver calls are chain steps)."""

    __slots__ = ("args", "name")

    def __init__(self, pos: int, name: str, args: tuple[Node, ...]) -> None:
        super().__init__(pos, args)
        self.name = name
        self.args = args


class Has(Node):
    """`has(target.field)`."""

    __slots__ = ("field", "target")

    def __init__(self, pos: int, target: Node, field: str) -> None:
        super().__init__(pos, (target,))
        self.target = target
        self.field = field


class Unary(Node):
    """`!` or `-` applied `count` times (`--x`); CEL does not mix them without parentheses."""

    __slots__ = ("count", "op", "operand")

    def __init__(self, pos: int, op: str, count: int, operand: Node) -> None:
        super().__init__(pos, (operand,))
        self.op = op
        self.count = count
        self.operand = operand


class Binary(Node):
    """A left-associative chain `first op1 x1 op2 x2 ...` of one precedence level."""

    __slots__ = ("first", "rest")

    def __init__(self, first: Node, rest: tuple[tuple[str, int, Node], ...]) -> None:
        super().__init__(rest[0][1], (first, *(r[2] for r in rest)))
        self.first = first
        self.rest = rest


class Logic(Node):
    """`a && b && c` or `a || b || c`, kept n-ary for CEL's commutative error rules."""

    __slots__ = ("op", "operands")

    def __init__(self, pos: int, op: str, operands: tuple[Node, ...]) -> None:
        super().__init__(pos, operands)
        self.op = op
        self.operands = operands


class Cond(Node):
    __slots__ = ("other", "test", "then")

    def __init__(self, pos: int, test: Node, then: Node, other: Node) -> None:
        super().__init__(pos, (test, then, other))
        self.test = test
        self.then = then
        self.other = other


# --- chain steps ----------------------------------------------------------------------


class Step:
    __slots__ = ("children", "pos")

    def __init__(self, pos: int, children: tuple[Node, ...] = ()) -> None:
        self.pos = pos
        self.children = children


class SelectStep(Step):
    __slots__ = ("field",)

    def __init__(self, pos: int, field: str) -> None:
        super().__init__(pos)
        self.field = field


class IndexStep(Step):
    __slots__ = ("index",)

    def __init__(self, pos: int, index: Node) -> None:
        super().__init__(pos, (index,))
        self.index = index


class MethodStep(Step):
    __slots__ = ("args", "name")

    def __init__(self, pos: int, name: str, args: tuple[Node, ...]) -> None:
        super().__init__(pos, args)
        self.name = name
        self.args = args


class MacroStep(Step):
    """A comprehension macro applied to the chain's value so far (its range).

    `var2` is set for the two-variable forms. `pred` filters or tests; `transform`
    produces the new element (map, transformList, transformMap, transformMapEntry).
    """

    __slots__ = ("kind", "pred", "transform", "var1", "var2")

    def __init__(
        self,
        pos: int,
        kind: str,
        var1: str,
        var2: str | None,
        pred: Node | None,
        transform: Node | None,
    ) -> None:
        super().__init__(pos, tuple(n for n in (pred, transform) if n is not None))
        self.kind = kind
        self.var1 = var1
        self.var2 = var2
        self.pred = pred
        self.transform = transform


class Chain(Node):
    """`base.step1.step2...`: selections, indexing, receiver calls and macros."""

    __slots__ = ("base", "steps")

    def __init__(self, base: Node, steps: tuple[Step, ...]) -> None:
        super().__init__(base.pos, (base, *(c for s in steps for c in s.children)))
        # A chain counts one level per step so that limits see its real cost.
        self.size += len(steps)
        self.base = base
        self.steps = steps
