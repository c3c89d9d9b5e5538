"""Validation issues that name the place and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    path: str  # e.g. "steps[3].depends_on[0]"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionError(ValueError):
    """A workflow definition (or run params) failed validation; carries every issue."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class DefinitionTooLarge(DefinitionError):
    """A definition over a size limit (the API answers 413 rather than 400)."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'extract'?)`` or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# The member tags pydantic puts in an error's location inside a union field
# ("version.constrained-int", "version.literal['active']"): not places a caller wrote.
_UNION_TAGS = frozenset(
    {"constrained-int", "constrained-str", "int", "str", "bool", "none", "function-after"}
)


def request_issues(errors: Sequence[Any], root: str = "body") -> list[Issue]:
    """pydantic's errors for a request body, each named by the field the caller wrote
    (the union tags dropped; one issue per place and message)."""
    out: dict[tuple[str, str], Issue] = {}
    for e in errors:
        loc = [
            p
            for i, p in enumerate(e["loc"])
            if not (i > 0 and isinstance(p, str) and (p in _UNION_TAGS or "[" in p))
        ]
        issue = Issue(format_path([root, *loc]), str(e["msg"]))
        out.setdefault((issue.path, issue.message), issue)
    return list(out.values())


def format_path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
