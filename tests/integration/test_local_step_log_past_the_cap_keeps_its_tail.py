"""A local step's printed output was kept up to 1,000,000 characters a stream
(local/capture.py ``MAX_LOG_CHARS``); what came after was dropped without a word, the
summary or error a step prints last included."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium, run_id_of

ROWS = 1_100  # 1,001 characters each, with its newline
CHATTY = f"""
def main(event):
    for n in range({ROWS}):
        print(f"row {{n:05d}} " + "x" * 990)
    print("THE END: 42 rows were rejected")
    return {{"ok": True}}
"""

WF = """
name: chatty
steps:
  - {id: s, type: lambda, function: "chatty_fn:main"}
"""


def test_a_step_log_past_the_cap_keeps_its_end_and_says_what_was_dropped(
    tmp_path: Path,
) -> None:
    """A step that printed 1.1 M characters and then its summary line: `podium runs
    logs RUN s` showed the first 1,000,000 characters and stopped mid-row, with nothing
    that said the rest (the summary, usually the line that matters) was dropped. It
    shows the first 1,000,000 and the last 100,000, with a line between saying how many
    characters were dropped."""
    home = tmp_path / "home"
    (tmp_path / "chatty_fn.py").write_text(CHATTY)
    (tmp_path / "wf.yaml").write_text(WF)
    ran = podium(home, "run", "wf.yaml", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    run_id = run_id_of(home, "chatty")
    shown = podium(home, "runs", "logs", run_id, "s", "--json")
    assert shown.returncode == 0, shown.stderr
    entries = json.loads(shown.stdout)["logs"]
    text = "".join(e["text"] for e in entries if e["stream"] == "stdout")
    printed = ROWS * 1_001 + len("THE END: 42 rows were rejected\n")
    dropped = printed - 1_000_000 - 100_000
    said = (
        f"\n[{dropped:,} characters of stdout dropped: the first 1,000,000 and the last"
        " 100,000 are kept]\n"
    )
    assert said in text, text[-200:]
    head, _, tail = text.partition(said)
    assert (len(head), len(tail)) == (1_000_000, 100_000)
    assert head.startswith("row 00000 ") and tail.endswith("THE END: 42 rows were rejected\n")
