"""YAML 1.2's core schema for PyYAML, which implements YAML 1.1.

YAML 1.1 reads plain scalars as values nobody meant: ``on``/``no`` as booleans,
``2024-05-01`` as a date, ``10:30`` as 630 (base 60), ``010`` as 8 (octal), and a lone
``=`` as the "value" type, which has no constructor (the definition is refused). YAML
1.2's core schema reads booleans as true/false only, ints as decimal, ``0o`` octal or
``0x`` hex, floats as JSON writes them plus ``.inf`` and ``.nan``, and everything else
as the string it looks like.
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
_INT_TEXT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_TEXT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if not _INT_TEXT.match(text):  # an explicit !!int that YAML 1.2 does not read
        raise ValueError(f"{text[:40]!r} is not an int (decimal, 0o octal or 0x hex)")
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # leading zeros are decimal: 010 is 10


def _construct_float(loader: Any, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node))
    if not _FLOAT_TEXT.match(text):
        raise ValueError(f"could not convert string to float: {text[:40]!r}")  # float()'s
    if text.lstrip("+-")[1:2].isalpha():  # .inf, .nan: Python's float() has no dot
        return float(text.replace(".", "", 1))
    return float(text)


def _construct_merge_text(loader: Any, node: yaml.ScalarNode) -> str:
    # A ``<<`` key merges a map before construction (flatten_mapping); one anywhere
    # else (a value, a list item) is YAML 1.2's plain string, not a constructor error.
    return str(loader.construct_scalar(node))


def use_core_schema(loader: type[Any]) -> None:
    """Give ``loader`` (a SafeLoader subclass) YAML 1.2's core schema resolvers."""
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
