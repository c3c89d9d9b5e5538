"""The routes the API deploys are exactly the routes the api function serves: a route
served but not deployed is unreachable, one deployed but not served answers no_route."""

from __future__ import annotations

from infra_support import REPO_ROOT, Synth

_METHODS = ("get", "post", "put", "delete", "patch")


def _served() -> set[str]:
    import sys

    sys.path.insert(0, str(REPO_ROOT / "functions"))
    from podium.handlers import api

    schema = api.app.get_openapi_schema()  # the resolver's own list of its routes
    return {
        f"{method.upper()} {path}"
        for path, item in (schema.paths or {}).items()
        for method in _METHODS
        if getattr(item, method, None) is not None
    }


def _deployed(synth: Synth) -> set[str]:
    return {
        r["Properties"]["RouteKey"] for r in synth.resources("AWS::ApiGatewayV2::Route").values()
    }


def test_the_cdk_api_deploys_every_route_the_api_function_serves(default: Synth) -> None:
    deployed = _deployed(default) - {"$default"}
    served = _served()
    assert "POST /workflows/{name}/unblock" in served  # the list is not empty by accident
    assert deployed == served, (
        f"served, not deployed: {sorted(served - deployed)}; "
        f"deployed, not served: {sorted(deployed - served)}"
    )


def test_the_construct_route_table_matches_the_template(default: Synth) -> None:
    from podium_cdk.api import PUBLIC_ROUTES, ROUTES

    routes = {f"{m.value} {p}" for m, p in ROUTES + PUBLIC_ROUTES}
    assert routes | {"$default"} == _deployed(default)


def test_only_the_console_files_are_deployed_without_iam_auth(default: Synth) -> None:
    """Every route is IAM-authorized but the console's page and assets, which are the
    files the api function serves from its allow-list and nothing else."""
    import sys

    sys.path.insert(0, str(REPO_ROOT / "functions"))
    from podium.service.console_files import PUBLIC_PATHS

    auth = {
        r["Properties"]["RouteKey"]: r["Properties"].get("AuthorizationType", "NONE")
        for r in default.resources("AWS::ApiGatewayV2::Route").values()
    }
    public = {key for key, kind in auth.items() if kind != "AWS_IAM"}
    assert public == {f"GET {path}" for path in PUBLIC_PATHS}
    assert {kind for key, kind in auth.items() if key not in public} == {"AWS_IAM"}
    assert {auth[key] for key in public} == {"NONE"}
    assert all(key.startswith("GET /console/app") for key in public)


def test_what_no_route_matches_goes_to_the_function_with_iam_auth(default: Synth) -> None:
    """The ``$default`` route sends a wrong method or an unknown path to the api
    function, so that the caller gets its 405 (with Allow) or 404 naming the fix rather
    than API Gateway's bare 404; it is IAM-authorized like every data route."""
    routes = default.resources("AWS::ApiGatewayV2::Route").values()
    (catch_all,) = [r["Properties"] for r in routes if r["Properties"]["RouteKey"] == "$default"]
    assert catch_all["AuthorizationType"] == "AWS_IAM"
    served = [
        r["Properties"] for r in routes if r["Properties"]["RouteKey"] == "GET /runs/{run_id}"
    ]
    assert catch_all["Target"] == served[0]["Target"]  # the api function's integration
