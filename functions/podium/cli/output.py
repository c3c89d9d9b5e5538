"""What every CLI command prints with: one place.

Consoles are made per command (not at import), so their width follows the current
terminal and environment. They read no markup: what they print is mostly what users and
their steps wrote (errors, outputs, paths, names), where "[/dev/sda1]" is text, not a
closing tag (a MarkupError traceback) and "[old]" not a style (silently dropped). Nor
emoji codes: rich would print "a:x:b" (an ARN part, a time) as "a❌b". Style goes in
``Text`` and ``style=``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console


def out() -> Console:
    """A console on stdout (no wrapping: lines can be grepped and piped; no markup, no
    emoji codes)."""
    return Console(soft_wrap=True, markup=False, emoji=False)


def err() -> Console:
    """A console on stderr (no wrapping, no markup, no emoji codes)."""
    return Console(stderr=True, soft_wrap=True, markup=False, emoji=False)


def print_json(body: Any) -> None:
    """``body`` as indented JSON on stdout (what is not JSON as its string)."""
    sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
