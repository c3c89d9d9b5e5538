"""Safety limits for parsing and evaluating expressions.

Expressions come from workflow definitions written by users, so every dimension that
could make parsing or evaluation slow or memory-hungry has a cap. Breaking one raises
`LimitExceededError` with a position, never a crash or a hang.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied by `compile_expression` and by evaluation.

    The cost budget is counted in abstract steps: each comprehension iteration costs
    the size (in nodes) of its body, container comparisons and membership tests cost
    one step per element visited, big concatenations, string searches and comparisons
    of long strings cost one step per KiB, and converting the result back to plain
    Python costs one step per value. One step is roughly a fraction of a microsecond.
    """

    max_length: int = 4096
    """Characters in an expression (or in one `${...}` of a template)."""
    max_depth: int = 64
    """Nesting depth of the syntax tree (parentheses that add no node are free)."""
    max_cost: int = 1_000_000
    """Evaluation steps per evaluation (see class docs)."""
    max_string_length: int = 100_000
    """Code points in a produced string (or bytes in produced bytes)."""
    max_list_size: int = 100_000
    """Elements in a produced list."""
    max_map_size: int = 100_000
    """Entries in a produced map."""
    max_produced: int = 200_000_000
    """Bytes, about, copied into new lists (8 per element) and strings (1 per character)
    in one evaluation (concatenations, ranges): what it may fill memory with, kept or
    not (`map` keeping a big concatenation per iteration would fill gigabytes within
    the cost budget; a handler has 512 MB)."""
    max_regex_length: int = 1_000
    """Characters in a regular expression given to `matches`."""
    max_value_depth: int = 100
    """Nesting depth of binding values converted from plain Python."""
    max_template_length: int = 65_536
    """Characters in a whole template string."""

    def __post_init__(self) -> None:
        for field in fields(self):
            name = field.name
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")


DEFAULT_LIMITS = Limits()
