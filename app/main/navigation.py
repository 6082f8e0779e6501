"""Redirect targets we accept from the query string: only paths on our own site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next_url(target: str | None, fallback_endpoint: str = "main.home") -> str:
    """Return ``target`` when it is a local path, else the fallback page (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for(fallback_endpoint)
