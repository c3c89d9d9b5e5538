"""A home whose podium.db is not a file a command can open: a directory, or a link to a
file in a directory that is gone. Each is said as what it is, with the fix for it: the
home's directory is writable, and so "make it writable" and "check that you may read it"
sent the user after the wrong thing."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.adapters.sqlite.db import Database, HomeError
from tests.integration.test_cli_home_errors import WORKFLOW, no_traceback, podium, said


def _refused(database: Path) -> str:
    with pytest.raises(HomeError) as refused:
        Database(database)
    return str(refused.value)


def test_a_podium_db_that_is_a_directory_is_said_to_be_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "podium.db").mkdir(parents=True)
    message = _refused(home / "podium.db")
    assert f"{home / 'podium.db'} is a directory, not a Podium home's database" in message
    assert "move it away" in message and "check that you may read" not in message
    wf = tmp_path / "wf.yaml"
    wf.write_text(WORKFLOW)
    for args in (["runs", "list"], ["run", str(wf)]):
        done = podium(*args, "--home", str(home))
        no_traceback(done)
        assert done.exit_code == 2, (args, done.output)
        assert f"{home / 'podium.db'} is a directory" in said(done), (args, done.output)


def test_a_podium_db_linked_to_a_missing_directory_names_the_link(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    target = tmp_path / "gone" / "podium.db"
    (home / "podium.db").symlink_to(target)
    message = _refused(home / "podium.db")
    assert f"{home / 'podium.db'} is a link to {target}, which cannot be created" in message
    assert f"make {home} writable" not in message, message
    # A link to a file that can be made is followed: the home is made there.
    target.parent.mkdir()
    Database(home / "podium.db").close()
    assert target.is_file()
