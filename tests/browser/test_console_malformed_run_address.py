"""A run's address the console cannot read says so (a real ``podium dev``)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.local.dev_server import DevServer
from tests.browser.conftest import expect


@pytest.mark.parametrize("address", ["#/runs/a/b", "#/runs/", "#/runs/abc/"])
def test_a_run_address_with_more_than_a_run_id_is_not_the_run_list(
    dev: DevServer, page: Any, address: str
) -> None:
    """``#/runs/a/b`` (a run id has no "/"), ``#/runs/`` (none at all) silently showed
    the run list, as if the run had none or the address were right. They now show the
    "Not a console address" view, with a link to every run."""
    page.goto(f"{dev.url}/{address}")
    expect(page.locator("#bad-address")).to_contain_text("names no run")
    expect(page.locator("h1")).to_have_text("Not a console address")
    assert page.locator("#runs-table").count() == 0
    page.click("text=Show every run")
    expect(page.locator("#runs-table")).to_have_count(1)
