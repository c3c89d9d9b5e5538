"""docs/workflow-language.md, Step types: a lambda step's `function` is "a Lambda name,
`name:alias`, or ARN", and Local functions: "The same workflow file runs locally and on
AWS ... a step naming an ARN is also played by its name's entry". A step naming the
alias as an ARN (`arn:...:function:feed-fetch:prod`) was played by podium.toml's
`"feed-fetch"` entry; the same alias written the short way (`feed-fetch:prod`, or a
version, `feed-fetch:7`) was not (core/functions.py stripped a qualifier only from an
ARN), so the step failed with Podium.FunctionNotMapped, whose message told the user to
map `"feed-fetch:prod"`: one entry per alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.core.functions import lambda_name, mapped, unmapped_message
from podium.testing import run_workflow, step_of

MODULE = "def fetch(event):\n    return {'rows': 3}\n"


@pytest.mark.parametrize(
    "function",
    [
        "arn:aws:lambda:eu-west-1:123456789012:function:feed-fetch:prod",  # played before
        "feed-fetch:prod",
        "feed-fetch:7",
        "feed-fetch:$LATEST",
        "123456789012:function:feed-fetch:prod",  # a partial ARN, as Invoke takes one
    ],
)
def test_a_qualified_lambda_name_is_played_by_its_names_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, function: str
) -> None:
    """`function: feed-fetch:prod` with podium.toml mapping `"feed-fetch"` failed locally
    with "Lambda function 'feed-fetch:prod' has no local mapping"."""
    (tmp_path / "alias_feed.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    view = run_workflow(
        {"name": "feed", "steps": [{"id": "fetch", "type": "lambda", "function": function}]},
        functions={"feed-fetch": "alias_feed:fetch"},
    )
    step = step_of(view, "fetch")
    assert view.run.status.value == "SUCCEEDED", step.error
    assert step.output == {"rows": 3}


def test_an_entry_for_the_alias_itself_still_wins() -> None:
    functions = {"feed-fetch": "a:whole", "feed-fetch:prod": "a:prod"}
    assert mapped(functions, "feed-fetch:prod") == "a:prod"
    assert mapped(functions, "feed-fetch:7") == "a:whole"


def test_a_python_callable_is_not_cut_at_its_colon() -> None:
    """`module:function` looks like `name:alias`; it is not read as the Lambda `module`
    (core/functions.py: both sides dotted identifiers, the right one no version)."""
    assert lambda_name("sales_etl:extract") == "sales_etl:extract"
    assert mapped({"sales_etl": "x:y"}, "sales_etl:extract") is None
    assert lambda_name("sales_etl:7") == "sales_etl"  # a version: a Lambda ref


def test_the_unmapped_message_names_the_entry_to_add_by_the_bare_name() -> None:
    """It said `[functions] "feed-fetch:prod" = ...` and `--functions
    feed-fetch:prod=...`: an entry per alias, where the name's entry plays them all."""
    message = unmapped_message("feed-fetch:prod")
    assert message.startswith("Lambda function 'feed-fetch:prod' has no local mapping")
    assert '[functions] "feed-fetch" = "module:function"' in message
    assert "--functions feed-fetch=module:function" in message
