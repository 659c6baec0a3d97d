"""Absolute URLs the app hands out (TileJSON `tiles`, STAC assets, the embed link), never
built from an unchecked Host header.

A Host header is whatever the client sent. A URL built from it and stored or shared (a
STAC catalogue, a TileJSON a GIS caches, a link copied from a page) would send its users
to the attacker's host. So:

- with ANNOTATOR_PUBLIC_URL set, every absolute URL starts with it, whatever the Host;
- without it, the request's host is used only when it is in ANNOTATOR_ALLOWED_HOSTS
  (default: localhost, 127.0.0.1 and [::1]); any other host is answered 400, saying
  which setting to use.

Relative URLs are no fallback: a STAC catalogue or TileJSON is read away from the page it
came from, where a relative URL means nothing (or another server).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for

from annotator.config import ConfigError
from annotator.errors import RequestError

DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def public_url(raw: str | None) -> str | None:
    """ANNOTATOR_PUBLIC_URL checked at start: an http(s) URL with a plain host, and perhaps
    a path (the app behind a prefix); returned without its trailing slash."""
    if raw is None or not str(raw).strip():
        return None
    text = str(raw).strip()
    parts = urlsplit(text)
    name = f"ANNOTATOR_PUBLIC_URL={text!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL such as https://annotator.example.org")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{name} must not hold a user, password, query or fragment")
    if any(c in text for c in " \t\r\n\"'<>\\{}|^`"):
        raise ConfigError(f"{name} holds characters a URL may not")
    try:
        parts.port  # noqa: B018  (a bad port raises)
    except ValueError:
        raise ConfigError(f"{name} has a port that is not a number from 0 to 65535") from None
    return text.rstrip("/")


def allowed_hosts(raw: str | Iterable[str] | None, public: str | None) -> frozenset[str]:
    """ANNOTATOR_ALLOWED_HOSTS (comma-separated host names, no ports; "*" allows any) and
    the public URL's host, lower-cased."""
    if raw is None:
        names: list[str] = list(DEFAULT_ALLOWED_HOSTS)
    elif isinstance(raw, str):
        names = raw.split(",")
    else:
        names = list(raw)
    hosts = {name.strip().lower() for name in names if name.strip()}
    for host in hosts:
        if host != "*" and (
            not host.replace(".", "").replace("-", "").replace(":", "").strip("[]").isalnum()
        ):
            raise ConfigError(
                f"ANNOTATOR_ALLOWED_HOSTS: {host!r} is not a host name (give names, no ports)"
            )
    if public:
        hosts.add(_host_name(urlsplit(public).netloc))
    return frozenset(hosts)


def _host_name(host: str) -> str:
    """The name part of a Host header or netloc ("example.org:8080" -> "example.org",
    "[::1]:5000" -> "[::1]"), lower-cased."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for `endpoint`: on the public URL if configured, else on the
    request's host if it is allowed; otherwise the request is answered 400."""
    public = current_app.config.get("PUBLIC_URL")
    path = url_for(endpoint, **values)  # with the script root, if any
    if public:
        root = request.script_root if request else ""
        return str(public) + (path[len(root) :] if root and path.startswith(root) else path)
    allowed = current_app.config.get("ALLOWED_HOSTS") or frozenset(DEFAULT_ALLOWED_HOSTS)
    host = _host_name(request.host)
    if "*" not in allowed and host not in allowed:
        raise RequestError(
            "this request's Host header is not a host this server answers to, so no link "
            "can be built from it: set ANNOTATOR_PUBLIC_URL to the server's public address, "
            "or add the host to ANNOTATOR_ALLOWED_HOSTS",
            status=400,
            code="bad_host",
        )
    return url_for(endpoint, _external=True, **values)


def init_app(app: Flask) -> None:
    """Check the settings (a bad one stops the start with a ConfigError) and offer
    `external_url` to templates (the embed link on the report page)."""
    app.config["PUBLIC_URL"] = public_url(app.config.get("PUBLIC_URL"))
    app.config["ALLOWED_HOSTS"] = allowed_hosts(
        app.config.get("ALLOWED_HOSTS"), app.config["PUBLIC_URL"]
    )
    app.add_template_global(external_url, "external_url")
