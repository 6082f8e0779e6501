"""/metrics for Prometheus, behind a bearer token (METRICS_TOKEN); absent without one."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, request

from app.main.errors import render_error
from app.ops.metrics import exposition

blueprint = Blueprint("ops", __name__)
# The classic text format every Prometheus version reads; our names need no escaping.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


@blueprint.get("/metrics")
def metrics():
    """404 unless a token is configured (nothing to find), 401 without one, 403 if wrong."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        abort(404)
    given = bearer_token()
    if given is None:
        body, status = render_error(401)
        return body, status, {"WWW-Authenticate": 'Bearer realm="metrics"'}
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(403)
    return Response(exposition(), content_type=CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})
