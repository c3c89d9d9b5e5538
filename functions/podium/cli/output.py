"""What every CLI command prints with: one place.

Consoles are made per command (not at import), so their width follows the current
terminal and environment.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console


def out() -> Console:
    """A console on stdout (no wrapping: lines can be grepped and piped)."""
    return Console(soft_wrap=True)


def err() -> Console:
    """A console on stderr (no wrapping)."""
    return Console(stderr=True, soft_wrap=True)


def print_json(body: Any) -> None:
    """``body`` as indented JSON on stdout (what is not JSON as its string)."""
    sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
