"""The run list's view says how many of the runs it counted a page can list."""

from __future__ import annotations

import pytest

from podium.local.runtime import LocalRuntime
from podium.service import console_views


def test_runs_older_than_a_truncated_read_were_counted_as_if_this_page_listed_them(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``other``'s runs, older than where ``tiny``'s read stopped, were counted in
    ``total`` (5) with no word that only 3 could be listed by this page: the console
    said "3 of 5 shown" and offered "Load more", which showed the same 3. The view says
    ``listable`` (3); the 2 others are on the next page."""
    monkeypatch.setattr(console_views, "SCAN_PER_WORKFLOW", 3)
    for name in ("other", "tiny"):
        memory_rt.push({"name": name, "steps": [{"id": "a", "type": "noop"}]})
    for name in ["other"] * 2 + ["tiny"] * 5:  # other's two first, then tiny's five
        memory_rt.start_run(name)
        memory_rt.pump()
        memory_rt.clock.advance(1_000)  # type: ignore[attr-defined]
    view = console_views.list_console_runs(memory_rt.services, ["tiny", "other"], limit=200)
    assert (view["total"], view["listable"], len(view["runs"])) == (5, 3, 3)
    assert "next" in view
    later = console_views.list_console_runs(
        memory_rt.services, ["tiny", "other"], limit=200, page_from=view["next"]
    )
    assert later["listable"] == len(later["runs"]) == 4  # tiny's 2 unread and other's 2
