"""Only bootstrap.py reads the environment: the core, the use cases and the adapters get
what they need passed in (the CLI, the embedded home, the simulation and the benchmarks
are entry points and read their own)."""

from __future__ import annotations

import ast
from pathlib import Path

import podium

ROOT = Path(podium.__file__).parent
CHECKED = ("core", "service", "adapters", "handlers")
# Passes the whole environment on to a job's child process, as a shell would.
ALLOWED = {"adapters/jobs/local.py"}


_NAMES = {"environ", "getenv", "environb"}


def _reads(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        attribute = (
            isinstance(node, ast.Attribute)
            and node.attr in _NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        imported = (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in _NAMES for a in node.names)
        )
        if attribute or imported:
            lines.append(node.lineno)
    return lines


def test_only_bootstrap_reads_the_environment() -> None:
    found = []
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED:
                continue
            found += [f"podium/{name}:{line}" for line in _reads(ast.parse(path.read_text()))]
    assert not found, "read the environment in bootstrap.py and pass it in:\n" + "\n".join(found)


def test_a_read_is_found() -> None:
    assert _reads(ast.parse("import os\nx = os.environ.get('A')\n")) == [2]
    assert _reads(ast.parse("from os import getenv\n")) == [1]
    assert _reads(ast.parse("x = env.get('A')\n")) == []
