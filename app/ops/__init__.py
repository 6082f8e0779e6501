"""Serving and operations: request ids, structured logs, metrics, static caching, backups.

``init_app`` runs before the other extensions so that the request id and the timer start
before any other hook (rate limits, logins) can answer a request.
"""

from __future__ import annotations

from flask import Flask

from app.ops import logs, metrics, static


def init_app(app: Flask) -> None:
    logs.init_app(app)
    metrics.init_app(app)
    static.init_app(app)
