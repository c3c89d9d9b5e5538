"""``podium dlq list`` on a local home where nothing ran exited 1 ("no local home",
``--json`` printing nothing), while ``podium runs list`` and ``podium workflows list``
answer such a home with an empty list, exit 0. It lists no dead letter now, exit 0: its
``--json`` is an empty home's answer, and it makes no home."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.runtime import LocalRuntime


def _dlq_list(home: Path, *args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, ["dlq", "list", "--home", str(home), *args])
    return done.exit_code, done.stdout, done.stderr


def test_a_home_where_nothing_ran_lists_no_dead_letter(tmp_path: Path) -> None:
    nothing = tmp_path / "nothing-here"
    code, out, err = _dlq_list(nothing, "--json")
    assert code == 0, err
    listed = json.loads(out)

    empty = tmp_path / "empty"
    with LocalRuntime(store="sqlite", home=empty):
        pass  # the home is made, nothing dead-lettered
    code, out, err = _dlq_list(empty, "--json")
    assert code == 0, err
    assert listed == json.loads(out) == {**listed, "messages": []}

    code, out, err = _dlq_list(nothing)
    assert code == 0 and "no local home" in err, err
    assert not nothing.exists()  # reading never makes a home
