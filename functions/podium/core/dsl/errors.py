"""Validation issues that name the place and the fix."""

from __future__ import annotations

import difflib
import re
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


def request_issues(
    errors: Sequence[Any], root: str = "body", fields: Sequence[str] = ()
) -> list[Issue]:
    """pydantic's errors for a request body, each named by the field the caller wrote
    (the union tags dropped; one issue per place and message) and said in words, not
    pydantic's ("Input should be a valid dictionary or instance of StartRunRequest", a
    regular expression). ``fields``: the body's fields, named to a caller who sent an
    unknown one."""
    out: dict[tuple[str, str], Issue] = {}
    for e in errors:
        loc = [
            p
            for i, p in enumerate(e["loc"])
            if not (i > 0 and isinstance(p, str) and (p in _UNION_TAGS or "[" in p))
        ]
        issue = Issue(format_path([root, *loc]), _request_message(e, loc, fields))
        out.setdefault((issue.path, issue.message), issue)
    return list(out.values())


_NOT_AN_OBJECT = frozenset({"model_type", "dict_type", "model_attributes_type"})


def _request_message(error: Any, loc: Sequence[Any], fields: Sequence[str]) -> str:
    kind = error.get("type")
    if kind in _NOT_AN_OBJECT:
        return "must be a JSON object"
    if kind == "extra_forbidden" and loc:
        name = str(loc[-1])[:80]
        if fields and len(loc) == 1:
            return (
                f"unknown field '{name}'{did_you_mean(name, fields)};"
                f" the fields are {', '.join(fields)}"
            )
        return f"unknown field '{name}'; remove it"
    if kind == "string_pattern_mismatch":
        words = pattern_in_words(str(error.get("ctx", {}).get("pattern", "")))
        if words:
            return words
    return str(error["msg"])


_SIMPLE_PATTERN = re.compile(r"\^\[([^\]]+)\]\{(\d+),(\d+)\}\$")
_RANGES = {"A-Z": "upper-case letters", "a-z": "lower-case letters", "0-9": "digits"}


def pattern_in_words(pattern: str) -> str | None:
    """``^[A-Za-z0-9_-]{1,64}$`` as "use 1 to 64 letters, digits, '_' or '-'"; None for
    a pattern of another shape."""
    match = _SIMPLE_PATTERN.fullmatch(pattern)
    if match is None:
        return None
    chars, low, high = match.groups()
    if chars.startswith("^"):
        return None  # a negated class
    kinds: list[str] = []
    i = 0
    while i < len(chars):
        if chars[i : i + 3] in _RANGES:
            kinds.append(_RANGES[chars[i : i + 3]])
            i += 3
        elif chars[i] == "\\" or (chars[i + 1 : i + 2] == "-" and i + 2 < len(chars)):
            return None  # an escape or another range: not worth a guess
        else:
            kinds.append(f"'{chars[i]}'")
            i += 1
    if "upper-case letters" in kinds and "lower-case letters" in kinds:
        kinds = ["letters" if k.endswith("-case letters") else k for k in kinds]
    kinds = list(dict.fromkeys(kinds))
    listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    return f"use {low} to {high} {listed}"


def format_path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
