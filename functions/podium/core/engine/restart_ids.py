"""The ids an operator's restart of a run takes (``podium runs restart``), derived from
the old run's id alone: a run is restarted at most once (two operators, or two clicks,
restarting the same failed run get one new run; to go again, restart the newest run of
the chain). Here, not in service/restart.py, because a backfill's walk along a scheduled
time's runs (core/engine/backfill.py) reads them too: an operator's restart of a time's
run is that time's newer run.
"""

from __future__ import annotations

import hashlib
import re

_NTH = re.compile(r"^(.*)-r(\d{1,4})$")


def restart_run_id(old_run: str) -> str:
    """The new run's id: ``<old>-r1``, and ``-r2`` for a restart of ``-r1``, and so on."""
    match = _NTH.match(old_run)
    if match is not None:
        return f"{match.group(1)}-r{int(match.group(2)) + 1}"
    return f"{old_run[:58]}-r1"


def other_restart_run_id(old_run: str) -> str:
    """The id when ``restart_run_id`` names a run that is not this one's restart: a long
    id cut to its first 58 characters, or a run someone named ``foo-r2``. Still derived
    from the old id alone (a digest of it), so two racing restarts meet on it."""
    digest = hashlib.sha256(old_run.encode()).hexdigest()[:10]
    return f"{old_run[:47]}-{digest}-r1"


def restart_ids(old_run: str) -> tuple[str, str]:
    """Both ids an operator's restart of ``old_run`` may take, the usual one first."""
    return restart_run_id(old_run), other_restart_run_id(old_run)
