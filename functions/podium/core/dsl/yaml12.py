"""YAML 1.2's booleans and no implicit timestamps for PyYAML, which implements YAML 1.1;
numbers as YAML 1.1 writes them, less its two traps.

YAML 1.1 reads plain scalars as values nobody meant: ``on``/``no`` as booleans,
``2024-05-01`` as a date, ``10:30`` as 630 (base 60), ``010`` as 8 (octal), and a lone
``=`` as the "value" type, which has no constructor (the definition is refused). Here
booleans are true/false only (YAML 1.2), dates and times stay strings, ``010`` is 10,
``0o17`` is 15 (YAML 1.2's octal); the rest of YAML 1.1's numbers read as before (digit
separators ``1_000``, ``0b101``, signed ``-0x10``; a float needs its dot, so ``1e3`` and a
short commit id ``1234e56`` stay strings).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
# Replaced (bool, int, float) or dropped (YAML 1.1 only: timestamp, value).
_YAML11 = frozenset({_BOOL, _INT, _FLOAT, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"})

_BOOL_TEXT = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_TEXT = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0o[0-7_]+|[-+]?[0-9][0-9_]*|[-+]?0x[0-9a-fA-F_]+)$"
)
# YAML 1.1's floats without base 60: a dot is needed (1.5, 1., .5, 1.5e+3), or .inf/.nan.
_FLOAT_TEXT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if not _INT_TEXT.match(text):  # an explicit !!int that is no int
        raise ValueError(f"{text[:40]!r} is not an int (decimal, 0b, 0o or 0x)")
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)  # leading zeros are decimal: 010 is 10


def _construct_float(loader: Any, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).replace("_", "")
    lowered = text.lower()
    if lowered in (".inf", "+.inf", "-.inf", ".nan"):  # Python's float() has no dot
        return float(lowered.replace(".", "", 1))
    return float(text)  # an explicit !!float that is no float: float()'s own error


def _construct_merge_text(loader: Any, node: yaml.ScalarNode) -> str:
    # A ``<<`` key merges a map before construction (flatten_mapping); one anywhere
    # else (a value, a list item) is YAML 1.2's plain string, not a constructor error.
    return str(loader.construct_scalar(node))


def use_core_schema(loader: type[Any]) -> None:
    """Give ``loader`` (a SafeLoader subclass) these resolvers (see the module's doc)."""
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML11]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    # Ints before floats: a resolver list is tried in order and 10 matches both.
    loader.add_implicit_resolver(_BOOL, _BOOL_TEXT, list("tTfF"))
    loader.add_implicit_resolver(_INT, _INT_TEXT, list("-+0123456789"))
    loader.add_implicit_resolver(_FLOAT, _FLOAT_TEXT, list("-+.0123456789"))
    loader.add_constructor(_INT, _construct_int)
    loader.add_constructor(_FLOAT, _construct_float)
    loader.add_constructor(_MERGE, _construct_merge_text)


class _ShortTextLoader(yaml.SafeLoader):
    pass


use_core_schema(_ShortTextLoader)
MAX_SHORT_TEXT = 200


def short_value(text: str) -> Any:
    """A short text read as one YAML value with these rules, or None: longer than
    MAX_SHORT_TEXT, with an anchor or alias (which could expand without bound), or not
    YAML. For a hint's guess at what a user meant (``[emea, amer]``), never for data."""
    if len(text) > MAX_SHORT_TEXT or "&" in text or "*" in text:
        return None
    try:
        return yaml.load(text, Loader=_ShortTextLoader)
    except (yaml.YAMLError, ValueError, TypeError):
        return None
