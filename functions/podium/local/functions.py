"""The local function mapping: which Python callable plays each Lambda function locally.

A ``podium.toml`` beside the workflow file::

    [functions]
    "sales-extract" = "sales_etl:extract"
    "arn:aws:lambda:us-east-1:123456789012:function:sales-load" = "sales_etl:load"

and ``--functions name=module:function`` on the command line (which wins over the file).
A key is a Lambda name or ARN; a step naming an ARN is also played by its name's entry.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from podium.core.functions import check_mapping
from podium.local.text_files import read_text

CONFIG_FILE = "podium.toml"


def config_beside(workflow: str | Path) -> Path:
    """The ``podium.toml`` of a workflow file: in the same directory."""
    return Path(workflow).resolve().parent / CONFIG_FILE


def read_config(path: Path) -> dict[str, str]:
    """The ``[functions]`` table of a ``podium.toml`` (none when the file does not exist).
    Raises ValueError naming the file and the problem."""
    try:
        text = read_text(path)
    except FileNotFoundError:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    return check_mapping(data.get("functions", {}), str(path))


def functions_for(workflow: str | Path) -> dict[str, str]:
    """The mapping of ``podium.toml`` beside ``workflow``."""
    return read_config(config_beside(workflow))


def parse_pairs(pairs: Iterable[str], option: str = "--functions") -> dict[str, str]:
    """``name=module:function`` pairs (each may hold several, comma-separated)."""
    out: dict[str, str] = {}
    for pair in pairs:
        for item in pair.split(","):
            if not item.strip():
                continue
            name, sep, target = item.partition("=")
            if not sep or not name.strip() or not target.strip():
                raise ValueError(f"{option} '{item}': use name=module:function")
            out[name.strip()] = target.strip()
    return check_mapping(out, option)
