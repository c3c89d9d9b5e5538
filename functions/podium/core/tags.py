"""Tags: short ``key: value`` strings on workflows and runs, to find runs by.

A workflow's ``tags:`` go on each of its runs; a run may add its own at start
(``podium start/run --tag k=v``, the API's ``{"tags": {...}}``), which win over the
workflow's. ``podium runs list --tag k=v`` and the console filter runs by them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.text_checks import LONE_SURROGATE_FIX, has_lone_surrogate

MAX_TAGS = 50
MAX_KEY_CHARS = 64
MAX_VALUE_CHARS = 256
# No "=" (k=v on the command line) nor "," (several filters in one query value).
KEY = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{{0,{MAX_KEY_CHARS - 1}}}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f,]")


def tag_issues(tags: Any, path: str = "tags", *, given: bool = False) -> list[Issue]:
    """Every problem of a tag map, each with its path.

    ``given``: tags given now (a run's start, a push), which must also be trimmed: a
    filter trims what it is given (``parse_tag_pairs``), so a run tagged ``" prod "``
    could be found by no filter, not even its own chip. The tags of a version stored
    before this rule keep loading (core.dsl.stored): they are not ``given``."""
    if not isinstance(tags, Mapping):
        return [Issue(path, "tags are a map of key: value strings")]
    issues: list[Issue] = []
    if len(tags) > MAX_TAGS:
        issues.append(Issue(path, f"{len(tags)} tags; at most {MAX_TAGS}"))
    for key, value in tags.items():
        where = f"{path}.{key}"
        if given and isinstance(key, str) and key != key.strip() and KEY.fullmatch(key.strip()):
            issues.append(Issue(where, _untrimmed("key", key)))
        elif not isinstance(key, str) or not KEY.match(key):
            issues.append(
                Issue(
                    where,
                    f"a tag key is 1-{MAX_KEY_CHARS} letters, digits or _.:/@+- and starts"
                    " with a letter or digit",
                )
            )
        if not isinstance(value, str):
            issues.append(Issue(where, "a tag value is a string (quote numbers and booleans)"))
        elif len(value) > MAX_VALUE_CHARS or _CONTROL.search(value):
            issues.append(
                Issue(
                    where,
                    f"a tag value is at most {MAX_VALUE_CHARS} characters, without commas or"
                    " control characters",
                )
            )
        elif has_lone_surrogate(value):  # a command-line argument that was not UTF-8
            issues.append(Issue(where, LONE_SURROGATE_FIX))
        elif given and value != value.strip():
            issues.append(Issue(where, _untrimmed("value", value)))
    return issues


def _untrimmed(part: str, text: str) -> str:
    # Said, not trimmed silently: the caller sees what its tag will be and fixes the source.
    return (
        f"the tag {part} {text!r} starts or ends with whitespace: write {text.strip()!r}"
        " (runs are found by trimmed tags)"
    )


def check_tags(tags: Any, path: str = "tags") -> dict[str, str]:
    """Tags given now (a run's start) as a plain dict; DefinitionError listing every
    problem."""
    if tags is None:
        return {}
    issues = tag_issues(tags, path, given=True)
    if issues:
        raise DefinitionError(issues)
    return dict(tags)


def parse_tag_pairs(pairs: Iterable[str], option: str = "--tag") -> dict[str, str]:
    """``key=value`` pairs (a value may be empty); ValueError naming the bad one."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{option} '{pair}': use key=value")
        out[key.strip()] = value.strip()
    issues = tag_issues(out, option)
    if issues:
        raise ValueError("; ".join(str(i) for i in issues))
    return out


def has_tags(tags: Mapping[str, str] | None, wanted: Mapping[str, str] | None) -> bool:
    """Whether ``tags`` hold every wanted ``key: value``."""
    if not wanted:
        return True
    have = tags or {}
    return all(have.get(k) == v for k, v in wanted.items())
