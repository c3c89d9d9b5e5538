"""``podium run wf.yaml --event missing.json`` made the home, pushed the definition, and
only then read the event: "cannot read the event JSON: [Errno 2] No such file or
directory", exit 1, while a missing workflow file is "cannot read PATH: No such file or
directory", exit 2, before anything is made. cli/main.py reads the event file first now."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli_local import podium


def test_a_missing_event_file_is_said_as_a_missing_workflow_file_before_anything_is_made(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (tmp_path / "wf.yaml").write_text("name: evented\nsteps:\n  - {id: a, type: noop}\n")
    ran = podium(home, "run", str(tmp_path / "wf.yaml"), "--event", str(tmp_path / "nope.json"))
    assert "Traceback" not in ran.stderr, ran.stderr[-300:]
    assert ran.returncode == 2, ran.stderr
    assert f"cannot read {tmp_path / 'nope.json'}: No such file or directory" in ran.stderr
    assert "Errno" not in ran.stderr, ran.stderr
    assert not home.exists()  # nothing made, nothing pushed
