"""Splitting an http step's URL into what the allow-list and the transport need. Kept out
of core/ (core imports no I/O-adjacent modules such as urllib, by the project's rule);
the rules that judge the parts live in core/engine/http_rules.py."""

from __future__ import annotations

from urllib.parse import urlsplit

from podium.core.engine.http_rules import Target


def parse_url(url: str) -> Target | str:
    """The URL's parts, or why it cannot be called."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"'{url}' is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"'{url}' is not an http:// or https:// URL"
    if not parts.hostname:
        return f"'{url}' names no host"
    if parts.username or parts.password:
        return "credentials in the URL are refused: use auth (a Secrets Manager secret)"
    default_port = 443 if parts.scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname.lower(), port or default_port, path)
