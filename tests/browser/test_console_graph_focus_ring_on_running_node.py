"""A graph node focused by keyboard is seen to be, running or not (a real ``podium dev``)."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

NAP = {"name": "focus_ring", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]}

# Every animation held at its peak: a running node's glow at its widest stroke.
_FREEZE = "() => document.getAnimations().forEach((a) => { a.pause(); a.currentTime = 1400; })"


def _pixels(page: Any, clip: dict[str, float]) -> bytes:
    return bytes(page.screenshot(clip=clip, animations="allow"))


def test_a_focused_running_node_looks_focused(dev: DevServer, page: Any) -> None:
    """``.node:focus`` had no outline and showed focus by a wider stroke of the node's
    box, which the RUNNING glow animation overrode (an animation wins over the rule): a
    running node focused by keyboard looked exactly as unfocused. A focused node now has
    a ring of its own around its box, which no status animates."""
    run_id = _start(dev, NAP)
    try:
        assert wait_until(
            lambda: any(s["status"] == "RUNNING" for s in call(dev, f"/runs/{run_id}")[1]["steps"])
        )
        page.goto(f"{dev.url}/#/runs/{run_id}")
        node = page.locator('g.node[data-node="nap"]')
        expect(node).to_have_attribute("data-status", "RUNNING")
        page.mouse.move(0, 0)  # no hover
        box = node.bounding_box()
        assert box is not None
        clip = {
            "x": box["x"] - 8,
            "y": box["y"] - 8,
            "width": box["width"] + 16,
            "height": box["height"] + 16,
        }
        # Tab to the node (focus by keyboard), from the control just before the graph.
        page.locator("#run-actions button").last.focus()
        for _ in range(10):
            if page.evaluate("document.activeElement.dataset.node === 'nap'"):
                break
            page.keyboard.press("Tab")
        expect(node).to_be_focused()
        page.evaluate(_FREEZE)
        focused = _pixels(page, clip)
        page.evaluate("document.activeElement.blur()")
        page.evaluate(_FREEZE)
        unfocused = _pixels(page, clip)
        assert focused != unfocused, "the focused running node looks as it does unfocused"
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
