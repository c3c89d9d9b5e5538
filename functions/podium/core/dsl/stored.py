"""Reading a stored version back, by a release that may check more than the one that
stored it.

A version is checked when it is pushed; when the engine loads it again (to run it, to
route a trigger to it) it is read, not judged again: a check a later release adds would
otherwise stop a version pushed before it from loading, and every run of it in flight
with it. So a rule that refuses what an earlier release accepted (a boolean read as 1, a
``${...}`` in a match, a cron that never fires, a typo in ``iteration.<field>``) is a
push rule: a validator asks ``at_push(info)`` and lets a stored version through, which
then runs as it did before (docs/deploy.md, "Upgrading"). What running needs (the shape,
the graph, expressions that compile) is still required of a stored version.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationInfo

# The validation context a stored version is read with (load.validate_definition).
STORED: dict[str, Any] = {"stored": True}


def at_push(info: ValidationInfo) -> bool:
    """True unless a stored version is being read back."""
    return not (isinstance(info.context, dict) and info.context.get("stored") is True)
