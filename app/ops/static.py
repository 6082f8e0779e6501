"""Fingerprinted static URLs: ``url_for('static', …)`` adds ``?v=<content hash>``.

A URL whose ``v`` matches the file's current hash can be cached for a year (the URL changes
when the bytes do); any other request for a static file gets a short max-age, so a change
shows within minutes even for a page cached before the deploy.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

YEAR_SECONDS = 31536000
VERSION_ARG = "v"


class Fingerprints:
    """SHA-256 prefixes of the files in one folder, computed once per file per process.

    ``recheck`` (development) re-reads a file whose size or mtime changed, so an edited
    stylesheet gets a new URL without a restart.
    """

    def __init__(self, folder: str, recheck: bool = False):
        self.folder = folder
        self.recheck = recheck
        self._cache: dict[str, tuple[tuple[int, int] | None, str | None]] = {}

    def version(self, filename: str) -> str | None:
        cached = self._cache.get(filename)
        if cached is not None and not self.recheck:
            return cached[1]
        path = safe_join(self.folder, filename)
        try:
            stat = os.stat(path) if path else None
        except OSError:
            stat = None
        stamp = (stat.st_mtime_ns, stat.st_size) if stat else None
        if cached is not None and cached[0] == stamp:
            return cached[1]
        digest = file_digest(path) if stat and os.path.isfile(path) else None
        self._cache[filename] = (stamp, digest)
        return digest


def file_digest(path: str) -> str:
    """First 12 hex digits of the SHA-256: 48 bits, plenty to tell versions of one file apart."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:12]


def fingerprints() -> Fingerprints:
    return current_app.extensions["static_fingerprints"]


def add_version(endpoint: str, values: dict[str, Any]) -> None:
    """url_defaults hook: only the app's static endpoint, and never over an explicit ``v``."""
    if endpoint != "static" or VERSION_ARG in values or "filename" not in values:
        return
    version = fingerprints().version(values["filename"])
    if version:
        values[VERSION_ARG] = version


def set_cache_headers(response: Response, filename: str) -> Response:
    """A year and immutable for the current fingerprint; STATIC_MAX_AGE seconds otherwise."""
    version = request.args.get(VERSION_ARG)
    cache = response.cache_control
    cache.no_cache = None
    cache.public = True
    if version and version == fingerprints().version(filename):
        cache.max_age = YEAR_SECONDS
        cache.immutable = True
    else:
        cache.max_age = current_app.config["STATIC_MAX_AGE"]
    response.headers.pop("Expires", None)  # Cache-Control says it; an Expires of "now" misleads
    return response


def init_app(app: Flask) -> None:
    if not app.static_folder or "static" not in app.view_functions:
        return
    app.extensions["static_fingerprints"] = Fingerprints(
        app.static_folder, recheck=app.config.get("APP_ENV") == "development")
    app.url_defaults(add_version)
    serve = app.view_functions["static"]

    def static(filename: str) -> Response:
        return set_cache_headers(serve(filename=filename), filename)

    app.view_functions["static"] = static
