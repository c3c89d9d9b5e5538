"""The run page says how far down a chain of ``bus: podium`` triggers a run was started
("chain 3 of 10", RunRecord.chain), next to its trigger: a run near the end of a chain
is one a trigger cycle may have started, and the next link would be refused. Nothing is
said of a run no such trigger started (chain 0), nor by a view without the field (an
older stack's)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from podium.adapters.sqlite import codec
from podium.core.engine.trigger_events import MAX_CHAIN
from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish

APP_JS = (Path(__file__).resolve().parents[2] / "functions/podium/console/static/app.js").read_text(
    encoding="utf-8"
)
FLOW = {"name": "chained", "steps": [{"id": "a", "type": "noop"}]}


def _run(dev: DevServer) -> str:
    status, run = call(dev, "/workflows/chained/runs", {"params": {}})
    assert status == 202, run
    _finish(dev, run["run_id"])
    return str(run["run_id"])


def _set_chain(dev: DevServer, run_id: str, chain: int) -> None:
    """The run's record as a bus: podium trigger ``chain`` links down would have written it."""
    store: Any = dev.runtime.store
    run = dataclasses.replace(store.get_run(run_id), chain=chain)
    with store.db.write() as conn:
        conn.execute("UPDATE runs SET record = ? WHERE run_id = ?", (codec.run_to_row(run), run_id))
    assert store.get_run(run_id).chain == chain


def test_the_console_limit_is_the_engine_one() -> None:
    found = re.search(r"const CHAIN_MAX = (\d+);", APP_JS)
    assert found is not None and int(found.group(1)) == MAX_CHAIN


def test_the_run_head_shows_the_chain_only_when_there_is_one(dev: DevServer, page: Any) -> None:
    call(dev, "/workflows", FLOW)
    chained, plain = _run(dev), _run(dev)
    _set_chain(dev, chained, 3)
    assert call(dev, f"/api/console/runs/{chained}")[1]["run"]["chain"] == 3

    page.goto(f"{dev.url}/#/runs/{chained}")
    chain = page.locator("#run-head #run-chain")
    expect(chain).to_have_text(" · chain 3 of 10")
    assert "bus: podium" in str(chain.get_attribute("title"))
    expect(page.locator("#run-head .meta")).to_contain_text("chain 3 of 10")

    page.goto(f"{dev.url}/#/runs/{plain}")
    expect(page.locator("#run-head .crumbs")).to_contain_text(plain)  # its head is drawn
    expect(page.locator("#run-head .meta")).to_contain_text("Trigger")
    expect(page.locator("#run-chain")).to_have_count(0)

    def without_chain(route: Any) -> None:  # an older stack's view: no field
        body = route.fetch().json()
        body["run"].pop("chain", None)
        route.fulfill(json=body)

    page.route(f"**/api/console/runs/{chained}?*", without_chain)
    page.goto(f"{dev.url}/#/runs/{chained}")
    expect(page.locator("#run-head .crumbs")).to_contain_text(chained)
    expect(page.locator("#run-head .meta")).to_contain_text("Trigger")
    expect(page.locator("#run-chain")).to_have_count(0)
