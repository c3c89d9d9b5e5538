"""A home written by a newer, incompatible Podium (a higher ``meta.schema``) was used
silently: opening a home only checked that the schema key was there, never its number."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.sqlite import db as sqlite_db
from podium.adapters.sqlite.db import Database, HomeError
from podium.cli.main import app
from podium.local.runtime import LocalRuntime


def _home_of_schema(where: Path, schema: str) -> Path:
    """A home with one run, then stamped as if a Podium of ``schema`` had written it."""
    with LocalRuntime(store="sqlite", home=where) as rt:
        rt.run({"name": "ok", "steps": [{"id": "a", "type": "noop"}]})
        assert rt.database is not None
        database = rt.database
    db = Database(database)
    with db.write() as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (schema,))
    db.close()
    return database


def test_a_home_of_a_newer_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    """Opening a home whose schema number is above this Podium's worked as if it were
    this Podium's own (a newer Podium's tables may mean other things). It is refused in
    a line naming both versions and the fix."""
    newer = sqlite_db.SCHEMA_VERSION + 1
    database = _home_of_schema(tmp_path / "home", str(newer))
    with pytest.raises(HomeError) as refused:
        Database(database)
    said = str(refused.value)
    assert f"schema {newer}" in said, said
    assert f"schema {sqlite_db.SCHEMA_VERSION}" in said, said
    assert "upgrade podium" in said and "--home" in said, said


def test_the_cli_says_so_in_a_line(tmp_path: Path) -> None:
    """`podium runs list` on such a home listed its runs; it now says why it cannot, in a
    line with no traceback, and exits 2 (as for any home it cannot use)."""
    newer = sqlite_db.SCHEMA_VERSION + 1
    _home_of_schema(tmp_path / "home", str(newer))
    result = CliRunner().invoke(app, ["runs", "list", "ok", "--home", str(tmp_path / "home")])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert "written by a newer Podium" in said, said
    assert "Traceback" not in result.output


def test_a_home_of_this_schema_still_opens(tmp_path: Path) -> None:
    """The check refuses only a newer number: this Podium's own homes open as before."""
    database = _home_of_schema(tmp_path / "home", str(sqlite_db.SCHEMA_VERSION))
    Database(database).close()
