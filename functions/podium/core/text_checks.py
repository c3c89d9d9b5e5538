"""Checks of text that comes from outside: ASCII digits (``is_ascii_digits``), and
lone surrogates: text Python holds but no UTF-8 (so no JSON, no DynamoDB item, no
SQLite row) can carry. They come from a ``\\ud800``-``\\udfff`` escape in JSON text, or
from a command-line argument that was not UTF-8 (Python keeps each bad byte as one).
Every door that takes values (API bodies, ``-p`` values, params however rendered)
refuses them, naming where."""

from __future__ import annotations

from typing import Any

LONE_SURROGATE_FIX = (
    "contains a lone surrogate (\\ud800 to \\udfff), which is not valid Unicode;"
    " send UTF-8 text (a character outside the BMP as a surrogate pair escape)"
)


def is_ascii_digits(text: str) -> bool:
    """Digits 0-9 only (and at least one). ``str.isdigit()`` also takes "²", which
    ``int()`` refuses (a raise where a clear error was meant), and "٣", which it reads
    as 3: every number read from outside text is checked with this."""
    return text.isascii() and text.isdigit()


def has_lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown_text(text: str) -> str:
    """``text`` printable whatever it holds: each lone surrogate as its escape
    (``k\\ud800``), as a path naming a key that holds one must be said."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def find_lone_surrogate(data: Any) -> str | None:
    """The path (``a.b[2]``; ``""`` for ``data`` itself) of the first string or key
    holding a lone surrogate, or None. A key is named with its surrogate escaped
    (``a.k\\ud800``: the path is printed, and a lone surrogate cannot be)."""
    if not _holds_lone_surrogate(data):
        return None
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if has_lone_surrogate(value):
                return path
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and has_lone_surrogate(k):
                    return f"{path}.{shown_text(k)}" if path else shown_text(k)
                stack.append((v, f"{path}.{k}" if path else str(k)))
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
    return None  # pragma: no cover - _holds_lone_surrogate found one


def _holds_lone_surrogate(data: Any) -> bool:
    """Whether any string or key of ``data`` holds a lone surrogate: the same walk
    without building paths (a whole definition is checked at each push: a path per
    value made it five times slower), so the paths are built only when there is one."""
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not value.isascii() and has_lone_surrogate(value):
                return True
        elif isinstance(value, dict):
            for k in value:
                if isinstance(k, str) and not k.isascii() and has_lone_surrogate(k):
                    return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
