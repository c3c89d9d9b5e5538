"""The web console's files as the deployed API serves them: ``GET /console/app`` (the
page) and a fixed list of assets under ``/console/app/...``.

These routes carry no data and are deployed without an authorizer; every JSON view the
page reads stays behind IAM, and the page signs those calls in the browser (SigV4, with
temporary credentials the user pastes; see app.js). Only the files named in ``ASSETS``
are served: a path is looked up in that table, never joined onto a folder, so no request
can reach another file of the package.

The page served here is ``index.html`` with three changes: its asset URLs point under
``/console/app/`` and carry a content hash (``?v=...``, so a long cache never mixes two
versions), the SigV4 library is loaded, and two ``<meta>`` tags tell app.js that it must
sign its calls and in which region.
"""

from __future__ import annotations

import functools
import hashlib
import html
import importlib.resources
from dataclasses import dataclass
from importlib.resources.abc import Traversable

PAGE_PATH = "/console/app"

# Path under /console/app/ -> content type. The allow-list: nothing else is served.
ASSETS: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "vendor/dagre.min.js": "text/javascript; charset=utf-8",
    "vendor/aws4fetch.umd.js": "text/javascript; charset=utf-8",
}
SIGNER = "vendor/aws4fetch.umd.js"  # loaded by the deployed page only

# Every route that is deployed without an authorizer (infra/podium_cdk/api.py).
PUBLIC_PATHS: tuple[str, ...] = (PAGE_PATH, *(f"{PAGE_PATH}/{name}" for name in ASSETS))

PAGE_CACHE = "no-cache"  # always revalidated: it names the current assets' hashes
ASSET_CACHE = "public, max-age=86400"  # URLs carry the content hash

# The page reaches its own origin only (the API it signs calls for); no framing.
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class File:
    content_type: str
    body: str
    cache_control: str


def _static() -> Traversable:
    return importlib.resources.files("podium").joinpath("console", "static")


@functools.cache
def _read(name: str) -> str:
    node = _static()
    for part in name.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def _version(name: str) -> str:
    return hashlib.sha256(_read(name).encode()).hexdigest()[:12]


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise ValueError(f"index.html: expected {old!r} once")
    return text.replace(old, new)


@functools.cache
def page(region: str) -> str:
    """index.html as the deployed API serves it (see the module's docstring)."""
    text = _read("index.html")
    for name in ASSETS:
        if name != SIGNER:
            text = _replace_once(text, f'"static/{name}"', f'"app/{name}?v={_version(name)}"')
    signer = f'<script src="app/{SIGNER}?v={_version(SIGNER)}"></script>\n  '
    text = _replace_once(text, '<script src="app/app.js', signer + '<script src="app/app.js')
    metas = (
        '<meta name="podium-auth" content="sigv4">\n'
        f'  <meta name="podium-region" content="{html.escape(region, quote=True)}">\n  '
    )
    return _replace_once(text, '<meta name="viewport"', metas + '<meta name="viewport"')


def console_page(region: str) -> File:
    """The page for a console whose calls are signed for ``region``."""
    return File("text/html; charset=utf-8", page(region), PAGE_CACHE)


def asset(name: str) -> File | None:
    """One file of the allow-list, or None."""
    content_type = ASSETS.get(name)
    if content_type is None:
        return None
    return File(content_type, _read(name), ASSET_CACHE)
