"""bench-results.json, the one file the docs quote every figure from: read it (and refuse
one that is not a results object) before measuring, and replace it whole afterwards."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


class ResultsError(ValueError):
    """The results file exists but is not a JSON object: merging into it would drop the
    sections it holds, so the bench stops before measuring."""


def read_results(path: Path) -> dict[str, Any]:
    """The sections ``path`` holds (none when it does not exist)."""
    if not path.exists():
        return {}
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(
            f"{path} cannot be read ({exc}); fix or move it (nothing was measured)"
        ) from exc
    if not isinstance(results, dict):
        raise ResultsError(f"{path} holds no results object; fix or move it")
    return results


def write_results(results: dict[str, Any], path: Path) -> None:
    """Write ``results`` beside ``path``, then move the file over it: a write cut short
    (a full disk, a Ctrl-C) leaves the previous results whole."""
    # In the same directory (os.replace does not cross file systems), created as any
    # file is (the umask's mode, where mkstemp's would be 0600).
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(results, indent=2) + "\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def merge_into(sections: dict[str, Any], path: Path) -> None:
    """Replace ``sections`` in ``path``'s results, keeping the others. Should the file
    have become unreadable while the bench measured, the new sections are written beside
    it (``<name>.unmerged.json``) rather than lost, and ResultsError says where."""
    try:
        results = read_results(path)
    except ResultsError as exc:
        aside = path.with_name(f"{path.stem}.unmerged.json")
        write_results(sections, aside)
        raise ResultsError(f"{exc}; this run's sections are in {aside}") from exc
    results.update(sections)
    write_results(results, path)
