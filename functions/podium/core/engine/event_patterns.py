"""EventBridge event patterns, matched in Python: an event trigger's ``pattern`` is
checked by the events function against every event the construct's rules deliver.

Supported (EventBridge's content filtering): a list of allowed values, nested objects,
``{"prefix"}`` and ``{"suffix"}`` (a text, or ``{"equals-ignore-case": text}``),
``{"anything-but": v | [v] | {"prefix" | "suffix" | "wildcard" | "equals-ignore-case":
text | [text]}}``, ``{"exists": bool}``, ``{"numeric": [op, n, ...]}``, ``{"wildcard":
"a*b"}``, ``{"equals-ignore-case"}``, ``{"cidr": "10.0.0.0/24"}`` (IPv4 or IPv6), and
``"$or": [pattern, ...]`` at any level (one of them matches, with the other fields).
As EventBridge (its event-ruler) does, a list in the event matches when any element
matches (a nested pattern against a list of objects: when one object matches it all),
and ``exists`` looks at leaves: a field holding an object does not exist as a value,
and a field under an absent object is absent.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_MISSING = object()
OR = "$or"  # a field name EventBridge keeps for itself: one of several patterns
_NUMERIC_OPS = {"<", "<=", "=", ">=", ">"}


class PatternError(ValueError):
    """A pattern EventBridge would refuse; the message names the place."""


def check_pattern(pattern: Any, path: str = "pattern", *, new: bool = True) -> None:
    """Refuse a pattern ``matches`` cannot evaluate. ``new``: also what a push refuses
    and a version stored before keeps (a numeric range written upper bound first)."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise PatternError(f"{path}: must be a non-empty object of fields")
    for key, rule in pattern.items():
        where = f"{path}.{key}"
        if key == OR:
            _check_or(rule, where, new)
        elif isinstance(rule, Mapping):
            check_pattern(rule, where, new=new)
        elif isinstance(rule, list):
            if not rule:
                raise PatternError(f"{where}: an empty list matches nothing")
            for item in rule:
                if isinstance(item, Mapping):
                    _check_operator(item, where, new)
        else:
            raise PatternError(f"{where}: must be a list of values or an object (a nested field)")


def _check_or(rule: Any, where: str, new: bool) -> None:
    if not isinstance(rule, list) or not rule:
        raise PatternError(
            f"{where}: a non-empty list of patterns, such as"
            " [{'state': ['FAILED']}, {'code': [{'prefix': 'E'}]}]"
        )
    for i, alternative in enumerate(rule):
        check_pattern(alternative, f"{where}[{i}]", new=new)


def _check_operator(item: Mapping[str, Any], where: str, new: bool) -> None:
    if len(item) != 1:
        raise PatternError(f"{where}: one operator per object, such as {{'prefix': 'raw/'}}")
    ((op, arg),) = item.items()
    if op in ("prefix", "suffix") and isinstance(arg, Mapping):
        text = arg.get("equals-ignore-case")
        if len(arg) != 1 or not isinstance(text, str):
            raise PatternError(
                f"{where}.{op}: a string, or {{'equals-ignore-case': string}} (no other"
                " operator goes inside it)"
            )
    elif op in ("prefix", "suffix", "wildcard", "equals-ignore-case"):
        if not isinstance(arg, str):
            raise PatternError(f"{where}.{op}: must be a string")
    elif op == "cidr":
        if not isinstance(arg, str) or _network(arg) is None:
            raise PatternError(
                f"{where}.cidr: an IPv4 or IPv6 network, such as '10.0.0.0/24' or '2001:db8::/32'"
            )
    elif op == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"{where}.exists: must be true or false")
    elif op == "numeric":
        if not isinstance(arg, list) or len(arg) not in (2, 4):
            raise PatternError(f"{where}.numeric: write [op, number] or [op, n, op, n]")
        for i in range(0, len(arg), 2):
            if arg[i] not in _NUMERIC_OPS or not _is_number(arg[i + 1]):
                raise PatternError(f"{where}.numeric: {arg[i]!r} {arg[i + 1]!r} is not op number")
        # A range is a lower bound then an upper one, as EventBridge takes it (it refuses
        # ["<", 5, "<", 10] and the like, which would match nothing or not what is meant).
        if new and len(arg) == 4 and (arg[0] not in (">", ">=") or arg[2] not in ("<", "<=")):
            raise PatternError(
                f"{where}.numeric: a range is a lower bound then an upper one:"
                ' [">" or ">=", low, "<" or "<=", high]'
            )
        if new and len(arg) == 4 and not arg[1] < arg[3]:
            raise PatternError(
                f"{where}.numeric: the range's low {arg[1]} is not below its high {arg[3]}"
            )
    elif op == "anything-but":
        _check_anything_but(arg, f"{where}.anything-but")
    else:
        raise PatternError(
            f"{where}: unknown operator {op!r}; use prefix, suffix, wildcard, anything-but,"
            " exists, numeric, cidr or equals-ignore-case"
        )


_TEXT_OPERATORS = ("prefix", "suffix", "wildcard", "equals-ignore-case")


def _check_anything_but(arg: Any, where: str) -> None:
    """A value, a non-empty list of values, or one text operator with a text or a
    non-empty list of texts: what ``_one`` evaluates (else it would raise per event)."""
    if isinstance(arg, Mapping):
        if len(arg) != 1 or next(iter(arg)) not in _TEXT_OPERATORS:
            raise PatternError(
                f"{where}: one of {', '.join(_TEXT_OPERATORS)}, such as"
                " {'anything-but': {'prefix': 'tmp/'}}"
            )
        ((op, text),) = arg.items()
        texts = text if isinstance(text, list) else [text]
        if not texts or not all(isinstance(t, str) for t in texts):
            raise PatternError(f"{where}.{op}: must be a string or a list of strings")
        return
    values = arg if isinstance(arg, list) else [arg]
    if not values or not all(_is_value(v) for v in values):
        raise PatternError(
            f"{where}: a string, a number or a non-empty list of them (or one of"
            f" {', '.join(_TEXT_OPERATORS)})"
        )


def _is_value(v: Any) -> bool:
    return isinstance(v, str) or _is_number(v) or v is None or isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    for key, rule in pattern.items():
        if key == OR:
            if not any(matches(alternative, event) for alternative in rule):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(rule, Mapping):
            if not _nested_matches(rule, value):
                return False
        elif not _field_matches(rule, value):
            return False
    return True


def _nested_matches(rule: Mapping[str, Any], value: Any) -> bool:
    """A nested pattern against the event's value there: an object; a list, matched
    when one of its objects (or nested lists) matches all of it; anything else holds
    none of the fields, so only ``exists: false`` rules can hold."""
    if isinstance(value, list) and value:
        return any(_nested_matches(rule, element) for element in value)
    return matches(rule, value if isinstance(value, Mapping) else {})


def _field_matches(rule: list[Any], value: Any) -> bool:
    values = _leaves(value)
    for item in rule:
        if isinstance(item, Mapping) and "exists" in item:
            if _has_leaf(value) == item["exists"]:
                return True
            continue
        if value is _MISSING:
            continue
        if any(_one(item, v) for v in values):
            return True
    return False


def _leaves(value: Any) -> list[Any]:
    """The values a field offers to value rules, as EventBridge matches leaves only: a
    list's elements, nested lists flattened (``[["a"], ["c"]]`` offers "a" and "c"),
    objects none (``anything-but`` must not match a structure)."""
    if isinstance(value, Mapping):
        return []
    if not isinstance(value, list):
        return [value]
    return [leaf for element in value for leaf in _leaves(element)]


def _has_leaf(value: Any) -> bool:
    """Whether the field holds a value ``exists`` sees: not an object, and for a list,
    at least one element that is a value (or a list holding one)."""
    if value is _MISSING or isinstance(value, Mapping):
        return False
    if isinstance(value, list):
        return any(_has_leaf(element) for element in value)
    return True


def _one(item: Any, v: Any) -> bool:
    if not isinstance(item, Mapping):
        same_kind = type(item) is type(v) or (_is_number(item) and _is_number(v))
        return same_kind and bool(item == v)
    ((op, arg),) = item.items()
    if op in ("prefix", "suffix") and isinstance(arg, Mapping):  # equals-ignore-case
        if not isinstance(v, str):
            return False
        text, folded = arg["equals-ignore-case"].lower(), v.lower()
        return folded.startswith(text) if op == "prefix" else folded.endswith(text)
    if op == "prefix":
        return isinstance(v, str) and v.startswith(arg)
    if op == "suffix":
        return isinstance(v, str) and v.endswith(arg)
    if op == "cidr":
        return isinstance(v, str) and _in_network(v, arg)
    if op == "equals-ignore-case":
        return isinstance(v, str) and v.lower() == arg.lower()
    if op == "wildcard":
        return isinstance(v, str) and _wildcard(arg).fullmatch(v) is not None
    if op == "numeric":
        return _is_number(v) and all(_compare(v, arg[i], arg[i + 1]) for i in range(0, len(arg), 2))
    if op == "anything-but":
        if isinstance(arg, Mapping):  # {"prefix": "a"} or {"prefix": ["a", "b"]}
            ((inner, text),) = arg.items()
            texts = text if isinstance(text, list) else [text]
            return isinstance(v, str) and not any(_one({inner: t}, v) for t in texts)
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_one(x, v) for x in excluded)
    return False


@lru_cache(maxsize=256)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network a ``cidr`` operator names (host bits allowed), or None."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


def _in_network(value: str, cidr: str) -> bool:
    network = _network(cidr)
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


def _wildcard(pattern: str) -> re.Pattern[str]:
    """EventBridge's wildcard: ``*`` is any text, ``\\*`` a literal star."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _compare(v: float, op: str, n: float) -> bool:
    return {
        "<": v < n,
        "<=": v <= n,
        "=": v == n,
        ">=": v >= n,
        ">": v > n,
    }[op]


def s3_pattern(bucket: str, prefix: str = "", suffix: str = "") -> dict[str, Any]:
    """The pattern of S3's ``Object Created`` events of a bucket (EventBridge
    notifications), with the key's prefix and suffix when given."""
    key: list[Any] = []
    if prefix and suffix:
        # A key long enough for both, or one where they overlap ("exports/daily.csv"
        # has the prefix "exports/daily.csv" and the suffix ".csv"): each overlap is
        # one key exactly.
        key = [{"wildcard": f"{_escape(prefix)}*{_escape(suffix)}"}]
        key += [
            prefix + suffix[n:]
            for n in range(1, min(len(prefix), len(suffix)) + 1)
            if prefix.endswith(suffix[:n])
        ]
    elif prefix:
        key = [{"prefix": prefix}]
    elif suffix:
        key = [{"suffix": suffix}]
    detail: dict[str, Any] = {"bucket": {"name": [bucket]}}
    if key:
        detail["object"] = {"key": key}
    return {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}


def s3_object_created(bucket: str, prefix: str, suffix: str, event: Any) -> bool:
    """Whether an s3 trigger (``bucket``, ``prefix``, ``suffix``) takes ``event``: its
    pattern matches, and the object is no folder marker. The S3 console's "Create folder"
    (and many sync tools) put an empty object whose key ends in ``/``; a prefix rule
    matches it (``raw/new/`` has the prefix ``raw/``), and nobody means to process a
    folder, so it starts no run. EventBridge's patterns cannot say "and not ending in
    ``/``" beside a prefix, hence a check here."""
    if not matches(s3_pattern(bucket, prefix, suffix), event):
        return False
    return not is_folder_marker(event)


def is_folder_marker(event: Any) -> bool:
    """An S3 event of an empty object whose key ends in ``/`` (a folder)."""
    obj = event.get("detail", {}).get("object") if isinstance(event, Mapping) else None
    if not isinstance(obj, Mapping):
        return False
    key, size = obj.get("key"), obj.get("size", 0)
    return isinstance(key, str) and key.endswith("/") and size in (0, None)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*")
