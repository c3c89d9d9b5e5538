"""Rendered values in a service's text fields: a Glue job's arguments, a Batch job's
parameters, environment and command, an ECS container's environment and command, a
local command's environment, an http step's headers.

Such a field takes a string. A template that is exactly one ``${expr}`` renders to the
expression's value (a bool, a number, a list, a map), and that value is sent in the form
a template prints it inside text: a string as it is, anything else as compact JSON
(``true``, ``3``, ``["eu","us"]``, ``{"a":1}``), never Python's ``str()`` (``True``,
``['eu', 'us']``), which no script can parse as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def as_text(value: Any) -> str:
    """``value`` (JSON data, as service/runtimes/external.render_request gives it) as the
    text of a service's field: a string as is, anything else compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def utf8_json(
    value: Any, *, default: Callable[[Any], Any] | None = None, allow_nan: bool = True
) -> bytes:
    """``value`` as compact JSON in UTF-8 bytes, as a caller wrote it: what a size limit
    measures (``len``) and what is stored, so that the measure is the stored size. Not
    Python's ASCII-escaped JSON (json.dumps' default), which counts a CJK character as 6
    bytes (\\uXXXX) and an emoji as 12. A lone surrogate, which has no UTF-8 form, stays
    its ``\\uXXXX`` escape (inside a JSON string: it reads back as it was). Raises
    TypeError or ValueError for a value with no JSON form (NaN, with ``allow_nan``
    False)."""
    text = json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, default=default, allow_nan=allow_nan
    )
    return text.encode("utf-8", "backslashreplace")
