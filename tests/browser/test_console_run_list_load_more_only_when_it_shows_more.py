"""The run list offers "Load more" only when more rows of the page exist."""

from __future__ import annotations

from typing import Any

import pytest

from podium.local.dev_server import DevServer
from podium.service import console_views
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish

OLD = {"name": "lm_old", "steps": [{"id": "boom", "type": "fail", "message": "no"}]}
NEW = {"name": "lm_new", "steps": [{"id": "boom", "type": "fail", "message": "no"}]}


def test_load_more_was_offered_when_it_showed_nothing_more(
    dev: DevServer, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frequent workflow's newest runs filled the read (it was truncated): another
    workflow's failed runs, older than where that read stopped, were counted ("8 runs",
    "4 of 8 shown") but wait for the next page. "Load more" was offered and showed the
    same 4 rows. The view says how many are ``listable``: no "Load more" here, only
    "Older runs", and the page says the 4 others are listed there."""
    # As a high-frequency workflow past FILTERED_SCAN (10,000) runs, at a small scale.
    monkeypatch.setattr(console_views, "SCAN_PER_WORKFLOW", 4)
    monkeypatch.setattr(console_views, "FILTERED_SCAN", 8)  # 4 a workflow, for two
    for wf in (OLD, NEW):
        assert call(dev, "/workflows", wf)[0] in (200, 201)
    for name, n in (("lm_old", 5), ("lm_new", 6)):  # five failures long ago, then six
        for _ in range(n):
            _finish(dev, call(dev, f"/workflows/{name}/runs", {})[1]["run_id"])

    page.goto(f"{dev.url}/#/?status=FAILED")
    expect(page.locator("tr.run-row")).to_have_count(4)
    expect(page.locator("#runs-older")).to_have_count(1)
    said = page.inner_text("#runs-more")
    assert page.locator("#runs-load-more").count() == 0, f"'Load more' offered: {said!r}"
    assert "4 of 8 shown" not in said and "4 older runs" in said, said
