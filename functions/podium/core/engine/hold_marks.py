"""The hold mark of a run's loop and subworkflow steps, decided from the run's record.

A pause of a run marks each of its running loop and subworkflow steps with its reason
before its walk lists the step's children (``StateStore.hold_children``), and a resume
clears the mark: a launch that creates children after the walk's listing reads the mark
back with its launched mark and pauses them itself (service/missed_pause.py). A pause and
a resume may overlap (a resume slow to walk the tree while a newer pause lands): each
reads the run again after its own write, and whoever writes second sees the other's
write. The mark it then wants is the one the run, as read, asks for.
"""

from __future__ import annotations

from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus

# The reason a pause that gave none holds children with.
PAUSED = "paused"


def hold_mark(run: RunRecord) -> str | None:
    """The mark the loop and subworkflow steps of ``run`` (as just read) carry: its
    pause's reason while it is PAUSED, else None (nothing holds their children)."""
    if run.status is not RunStatus.PAUSED:
        return None
    return run.reason or PAUSED
