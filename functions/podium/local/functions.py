"""The local function mapping: which Python callable plays each Lambda function locally.

A ``podium.toml`` beside the workflow file::

    [functions]
    "sales-extract" = "sales_etl:extract"
    "arn:aws:lambda:us-east-1:123456789012:function:sales-load" = "sales_etl:load"

and ``--functions name=module:function`` on the command line (which wins over the file).
A key is a Lambda name or ARN; a step naming an ARN is also played by its name's entry.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from podium.core.functions import check_mapping
from podium.local.text_files import read_text

CONFIG_FILE = "podium.toml"
# Every table a podium.toml may hold: the function mapping here, the stand-ins of
# external step types in local/stand_ins.py. Anything else is a mistake (a misspelt
# table, a mapping written without its table header) that would be read as nothing.
TABLES = (
    "functions",
    "ecs_tasks",
    "batch_jobs",
    "glue_jobs",
    "state_machines",
    "http",
    "secrets",
)


def config_beside(workflow: str | Path) -> Path:
    """The ``podium.toml`` of a workflow file: in the same directory."""
    return Path(workflow).resolve().parent / CONFIG_FILE


def read_toml(path: Path) -> dict[str, Any]:
    """A ``podium.toml``'s tables (none when the file does not exist). Raises ValueError
    naming the file and the problem: not TOML, or a table or key it has no use for."""
    try:
        text = read_text(path)
    except FileNotFoundError:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    for name, value in data.items():
        if name in TABLES:
            continue
        tables = ", ".join(f"[{t}]" for t in TABLES)
        if not isinstance(value, dict):  # a line above every table header
            raise ValueError(
                f"{path}: {name!r} is outside any table: a function mapping goes under"
                f" [functions] (write the line [functions] above it); the tables are {tables}"
            )
        close = difflib.get_close_matches(name, TABLES, n=1, cutoff=0.6)
        hint = f" (did you mean [{close[0]}]?)" if close else ""
        raise ValueError(f"{path}: unknown table [{name}]{hint}; the tables are {tables}")
    return data


def read_config(path: Path) -> dict[str, str]:
    """The ``[functions]`` table of a ``podium.toml`` (none when the file does not exist).
    Raises ValueError naming the file and the problem."""
    return check_mapping(read_toml(path).get("functions", {}), str(path))


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
