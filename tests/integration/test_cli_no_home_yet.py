"""Commands on a local home that does not exist yet (nothing has run there):

- ``podium workflows list`` exited 1 ("no local home", ``--json`` printing nothing) while
  ``podium runs list`` exits 0 with an empty list and the same note. A list of a home
  where nothing ran is empty: both exit 0 now; a command naming something the home
  cannot have (``runs list WF``, ``runs show RUN``) exits 1.
- ``podium backfill WF`` said "push or run the workflow first", but ``podium push`` goes
  to a deployed stack, never to the home: it says "run the workflow here first (podium
  run FILE)" now, as the home's own "not found" does."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium


def test_listings_of_a_home_where_nothing_ran_are_empty(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    listed = podium(empty, "workflows", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"workflows": []}
    said = podium(empty, "workflows", "list")
    assert said.returncode == 0 and "no local home" in said.stderr, said.stderr
    runs = podium(empty, "runs", "list", "--json")
    assert runs.returncode == 0 and json.loads(runs.stdout) == {"runs": []}
    # Naming a workflow: not in this home.
    named = podium(empty, "runs", "list", "some_wf")
    assert named.returncode == 1 and "no local home" in named.stderr, named.stderr
    assert not empty.exists()  # reading never creates a home


def test_backfill_without_a_home_does_not_send_the_user_to_podium_push(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    for extra in (["--from", "2026-01-01", "--to", "2026-01-02"], ["--cancel"]):
        done = podium(empty, "backfill", "nightly", *extra)
        assert done.returncode == 1, done.stderr
        assert "push" not in done.stderr and "podium run FILE" in done.stderr, done.stderr
