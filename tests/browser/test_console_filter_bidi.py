"""The console's filter boxes showed bidirectional controls as they are, where every other
text on the page writes them out (test_console_bidi.py): a tag filter from a link,
"batch=invoice<U+202E>fdp.exe", read "batch=invoiceexe.pdf" in its box. The boxes (the
run list's tag filter, the run page's step filter) and the messages that say the filter
again ("No runs match ...") show the controls as their code points; what is sent to the
API is the filter itself, controls and all."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish

RLO = "\u202e"
DISGUISED = f"invoice{RLO}fdp.exe"
SHOWN = "invoice⟨U+202E⟩fdp.exe"
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FLOW = {"name": "bidi_filters", "steps": [{"id": "check", "type": "noop"}]}


def _start(dev: DevServer, tags: dict[str, str]) -> str:
    status, run = call(dev, "/workflows/bidi_filters/runs", {"params": {}, "tags": tags})
    assert status == 202, run
    return str(run["run_id"])


def _sent(requests: list[str], name: str) -> list[str]:
    """The values of query parameter ``name`` in the console's requests, decoded."""
    return [
        value
        for url in requests
        for value in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(name, [])
    ]


def _no_raw_controls(page: Any) -> None:
    text = page.inner_text("body")
    assert not BIDI.search(text), [hex(ord(c)) for c in BIDI.findall(text)]
    values = page.locator("input").evaluate_all("els => els.map((e) => e.value).join(' ')")
    assert not BIDI.search(values), [hex(ord(c)) for c in BIDI.findall(values)]


def test_the_run_list_tag_filter_shows_controls_and_sends_them(dev: DevServer, page: Any) -> None:
    call(dev, "/workflows", FLOW)
    disguised = _start(dev, {"batch": DISGUISED})
    plain = _start(dev, {"batch": "invoice.pdf"})
    _finish(dev, disguised)
    _finish(dev, plain)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/console/runs?" in r.url else None)

    # From the address (a link someone sent): shown written out, sent as it is.
    tag = urllib.parse.quote(f"batch={DISGUISED}", safe="")
    page.goto(f"{dev.url}/#/?tag={tag}")
    expect(page.locator("tr.run-row")).to_have_count(1)
    expect(page.locator(f'tr.run-row[data-run="{disguised}"]')).to_have_count(1)
    assert page.input_value("#f-tag") == f"batch={SHOWN}"
    assert f"batch={DISGUISED}" in _sent(requests, "tag")
    _no_raw_controls(page)

    # Typed (pasted) into the box: written out at once, sent as typed on Enter.
    page.goto(f"{dev.url}/#/")
    expect(page.locator("tr.run-row")).to_have_count(2)
    requests.clear()
    page.fill("#f-tag", f"batch={DISGUISED}")
    assert page.input_value("#f-tag") == f"batch={SHOWN}"
    page.press("#f-tag", "Enter")
    expect(page.locator("tr.run-row")).to_have_count(1)
    expect(page.locator(f'tr.run-row[data-run="{disguised}"]')).to_have_count(1)
    assert _sent(requests, "tag") and set(_sent(requests, "tag")) == {f"batch={DISGUISED}"}
    assert urllib.parse.quote(f"batch={DISGUISED}", safe="") in page.url  # the address too
    assert page.input_value("#f-tag") == f"batch={SHOWN}"
    _no_raw_controls(page)

    # No run matches: the message says the filter again, written out.
    requests.clear()
    page.fill("#f-tag", f"batch=nope{RLO}x")
    page.press("#f-tag", "Enter")
    expect(page.locator("#runs-empty")).to_have_text(
        "No runs match these filters (tag batch=nope⟨U+202E⟩x)."
    )
    assert f"batch=nope{RLO}x" in _sent(requests, "tag")
    _no_raw_controls(page)


def test_the_step_filter_shows_controls_and_sends_them(dev: DevServer, page: Any) -> None:
    call(dev, "/workflows", FLOW)
    run_id = _start(dev, {})
    _finish(dev, run_id)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if f"/runs/{run_id}?" in r.url else None)

    q = urllib.parse.quote(f"che{RLO}ck", safe="")
    page.goto(f"{dev.url}/#/runs/{run_id}?q={q}")
    expect(page.locator("#steps-empty")).to_have_text(
        "No steps match (name contains “che⟨U+202E⟩ck”)."
    )
    assert page.input_value("#step-search") == "che⟨U+202E⟩ck"
    assert f"che{RLO}ck" in _sent(requests, "q")
    _no_raw_controls(page)

    # Edited in the box as shown (the control written out stays the control), then cleared.
    requests.clear()
    page.fill("#step-search", "che⟨U+202E⟩c")
    page.press("#step-search", "Enter")
    expect(page.locator("#steps-empty")).to_have_text(
        "No steps match (name contains “che⟨U+202E⟩c”)."
    )
    assert f"che{RLO}c" in _sent(requests, "q")
    page.fill("#step-search", "che")
    page.press("#step-search", "Enter")
    expect(page.locator('.step-row[data-step="check"]')).to_have_count(1)
    _no_raw_controls(page)
