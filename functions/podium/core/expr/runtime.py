"""The per-evaluation context shared by all compiled closures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import LimitError
from .limits import Limits


class Ctx:
    """State of one evaluation.

    `vars` holds the free variables (the bindings); `slots` holds comprehension
    variables, which the compiler resolves to fixed indices so the hot path is a list
    read instead of a scope chain walk; `budget` is the remaining cost.
    """

    __slots__ = ("budget", "limits", "produced", "slots", "vars")

    def __init__(self, variables: Mapping[str, Any], n_slots: int, limits: Limits) -> None:
        self.vars = variables
        self.slots: list[Any] = [None] * n_slots
        self.budget = limits.max_cost
        self.limits = limits
        self.produced = 0  # bytes copied, about (Limits.max_produced)

    def charge(self, steps: int) -> None:
        budget = self.budget - steps
        self.budget = budget
        if budget < 0:
            raise self.exhausted()

    def produce(self, n: int) -> None:
        """``n`` more bytes (about) copied into a new list (8 per element) or string."""
        self.produced += n
        if self.produced > self.limits.max_produced:
            raise LimitError(
                f"evaluation produced more than max_produced={self.limits.max_produced}"
                " bytes of lists and strings (memory): keep fewer or smaller values"
            )

    def exhausted(self, pos: int | None = None) -> LimitError:
        return LimitError(
            f"evaluation cost limit exceeded (max_cost={self.limits.max_cost} steps)", pos
        )


def unmetered(limits: Limits) -> Ctx:
    """A context for work outside an evaluation (tests, constant folding)."""
    return Ctx({}, 0, limits)
