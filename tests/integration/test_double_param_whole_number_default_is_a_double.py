"""A ``type: double`` param whose default is written as a whole number (``default: 3``)
reached a run as the int 3 when the run did not set it, but as the double 3.0 when it
did (``-p ratio=3``): ``resolve_params`` kept the raw default instead of the value
``check_value`` makes canonical (and push checked a default's validate on 3.0)."""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.core.expr import compile_expression
from podium.local.runtime import LocalRuntime

WF = {
    "name": "ratio",
    "params": {"ratio": {"type": "double", "default": 3}},
    "steps": [{"id": "a", "type": "noop"}],
}


def test_a_double_params_whole_number_default_is_a_double_in_the_run() -> None:
    """A run that leaves ``ratio`` to its default gets ``{'ratio': 3}`` (an int), so
    ``${params.ratio * 1.5}`` fails with "no matching overload for _*_(int, double)",
    while the same run given ``-p ratio=3`` gets 3.0 and 4.5. The default should be the
    double 3.0 in every run (as the push's check of a default's validate reads it)."""
    with LocalRuntime(store="moto", clock=ManualClock(), capture_output=False) as rt:
        rt.push(WF)
        defaulted = rt.store.get_run(rt.start_run("ratio").run_id).params
        given = rt.store.get_run(rt.start_run("ratio", params={"ratio": 3}).run_id).params
    assert given == {"ratio": 3.0} and type(given["ratio"]) is float
    product = compile_expression("params.ratio * 1.5")
    assert product.evaluate({"params": given}) == 4.5
    assert type(defaulted["ratio"]) is float, (
        f"the defaulted run's ratio is {defaulted['ratio']!r}"
        f" ({type(defaulted['ratio']).__name__}), the given one's {given['ratio']!r}"
    )
    assert product.evaluate({"params": defaulted}) == 4.5
