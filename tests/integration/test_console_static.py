"""The deployed API serves the console's page and assets (GET /console/app...): the
allow-listed files only, with their content types, cache and security headers; the page
is told to sign its calls."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from podium.handlers import api
from podium.local.runtime import LocalRuntime
from podium.service import console_files

STATIC = Path(__file__).resolve().parents[2] / "functions" / "podium" / "console" / "static"


@pytest.fixture(autouse=True)
def _services(runtime: LocalRuntime) -> None:
    """The handler flushes the metrics of its services after every request."""


def get(path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers or {},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    return api.handler(event, None)


def body_of(response: dict[str, Any]) -> str:
    raw = response.get("body") or ""
    if response.get("isBase64Encoded"):
        data = base64.b64decode(raw)
        if (response.get("headers") or {}).get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return data.decode()
    return str(raw)


def test_the_page_is_index_html_told_to_sign(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    response = get("/console/app")
    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    page = body_of(response)
    assert '<meta name="podium-auth" content="sigv4">' in page
    assert '<meta name="podium-region" content="eu-west-3">' in page
    # Every asset is named under /console/app/ with its content hash; nothing under static/.
    assert '"static/' not in page
    for name in console_files.ASSETS:
        assert f'"app/{name}?v=' in page, name
    assert page.index("aws4fetch.umd.js") < page.index('"app/app.js')


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("vendor/dagre.min.js", "text/javascript; charset=utf-8"),
        ("vendor/aws4fetch.umd.js", "text/javascript; charset=utf-8"),
    ],
)
def test_each_asset_is_served_with_its_type(name: str, kind: str) -> None:
    response = get(f"/console/app/{name}")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == kind
    assert response["headers"]["Cache-Control"] == "public, max-age=86400"
    assert body_of(response) == (STATIC / name).read_text(encoding="utf-8")


def test_assets_are_gzipped_for_a_browser_that_accepts_it() -> None:
    response = get("/console/app/app.js", {"accept-encoding": "gzip, deflate, br"})
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert response["headers"]["Content-Encoding"] == "gzip"
    assert body_of(response) == (STATIC / "app.js").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "path",
    [
        "/console/app/index.html.bak",
        "/console/app/nope.js",
        "/console/app/vendor/README.md",
        "/console/app/vendor/dagre.LICENSE.txt",
        "/console/app/../../handlers/api.py",
        "/console/app/..%2F..%2Fhandlers%2Fapi.py",
        "/console/app/vendor/../../../service/console_files.py",
        "/console/app/static/app.js",
        "/console/app/",
    ],
)
def test_files_off_the_allow_list_are_not_served(path: str) -> None:
    response = get(path)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["code"] == "no_route"


def test_the_allow_list_only_names_files_of_the_package() -> None:
    assert console_files.asset("../handlers/api.py") is None
    assert console_files.asset("index.html") is None  # the page has its own route
    for name in console_files.ASSETS:
        assert (STATIC / name).is_file(), name
    assert console_files.PUBLIC_PATHS[0] == "/console/app"
    assert len(set(console_files.PUBLIC_PATHS)) == 1 + len(console_files.ASSETS)
