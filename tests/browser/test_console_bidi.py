"""Bidirectional control characters in what users and steps write (run ids, step ids,
errors, params, tags) were put in the page as they are: a right-to-left override turns
"invoice<U+202E>fdp.exe" into what reads "invoiceexe.pdf", and an isolate can reorder
an error's words. The console writes each out visibly, as its code point."""

from __future__ import annotations

import re
from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish

RLO, LRI, PDI, RLM = "\u202e", "\u2066", "\u2069", "\u200f"
DISGUISED = f"invoice{RLO}fdp.exe"
SHOWN = "invoice⟨U+202E⟩fdp.exe"
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

FLOW = {
    "name": "bidi_text",
    "params": {"file": {"type": "string", "default": DISGUISED}},
    "steps": [{"id": "check", "type": "fail", "message": f"refused {LRI}not{PDI} {RLM}ok"}],
}


def _no_raw_controls(page: Any) -> None:
    text = page.inner_text("body")
    assert not BIDI.search(text), [hex(ord(c)) for c in BIDI.findall(text)]
    titles = page.locator("[title]").evaluate_all("els => els.map((e) => e.title).join(' ')")
    assert not BIDI.search(titles)


def test_bidi_controls_are_shown_as_code_points(dev: DevServer, page: Any) -> None:
    call(dev, "/workflows", FLOW)
    status, run = call(
        dev, "/workflows/bidi_text/runs", {"params": {}, "tags": {"batch": DISGUISED}}
    )
    assert status == 202, run
    run_id = run["run_id"]
    _finish(dev, run_id)

    def runs_view(route: Any) -> None:  # a run id and a workflow the API would hold as is
        body = route.fetch().json()
        for row in body["runs"]:
            row["workflow"] = f"bidi{RLO}_text"
        route.fulfill(json=body)

    page.route("**/api/console/runs?*", runs_view)
    page.goto(f"{dev.url}/#/")
    row = page.locator(f'tr.run-row[data-run="{run_id}"]')  # the data attribute is as is
    expect(row).to_contain_text("bidi⟨U+202E⟩_text")
    expect(row.locator(".chip.tag")).to_have_attribute("title", f"only runs tagged batch={SHOWN}")
    assert row.locator(".chip.tag").get_attribute("data-tag") == f"batch={DISGUISED}"
    _no_raw_controls(page)

    def step_view(route: Any) -> None:
        body = route.fetch().json()
        body["step"]["step"] = f"check{RLO}"
        route.fulfill(json=body)

    page.route("**/api/console/runs/*/step?*", step_view)
    page.goto(f"{dev.url}/#/runs/{run_id}?step=check")
    expect(page.locator("#detail-error")).to_have_text("refused ⟨U+2066⟩not⟨U+2069⟩ ⟨U+200F⟩ok")
    expect(page.locator("#detail-title")).to_have_text("check⟨U+202E⟩")
    expect(page.locator("#detail-run-params")).to_contain_text(SHOWN)
    expect(page.locator("#run-head")).to_contain_text(f"batch={SHOWN}")
    _no_raw_controls(page)
