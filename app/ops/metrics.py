"""Prometheus metrics: HTTP requests and latency per process, domain totals from the database.

Several gunicorn workers: request counts and latencies are counted by prometheus_client in
the process that served the request. With PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py
sets it) every worker writes its samples to files in that directory and a scrape, whichever
worker answers it, adds them all up. Attempts submitted and records issued are not counted
in memory at all: they are two COUNT queries at scrape time, exact across any number of
processes and restarts, and no write path has to remember to increment them. The per-request
hook does no database work: a clock read, a counter and a histogram observation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds; a page on a cheap phone should come back well under a second.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# One set per process (prometheus_client keeps multiprocess values per process and name);
# registry=None keeps them out of the library's global registry.
REQUESTS = Counter("hocvuso_http_requests", "HTTP requests answered",
                   ("method", "endpoint", "status"), registry=None)
LATENCY = Histogram("hocvuso_http_request_duration_seconds",
                    "Time from the first app hook to the response, streaming excluded",
                    ("endpoint",), buckets=LATENCY_BUCKETS, registry=None)


class DatabaseTotals:
    """Collector for the domain counters, read from the database when scraped."""

    def collect(self) -> Iterator[Metric]:
        from app.assessments.models import Attempt
        from app.extensions import db
        from app.records.models import CompletionRecord

        submitted = db.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.status == "submitted"))
        issued = db.session.scalar(select(func.count()).select_from(CompletionRecord))
        yield CounterMetricFamily("hocvuso_attempts_submitted",
                                  "Assessment attempts submitted (from the database)",
                                  value=submitted or 0)
        yield CounterMetricFamily("hocvuso_completion_records_issued",
                                  "Completion records issued, revoked ones included "
                                  "(from the database)", value=issued or 0)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition() -> bytes:
    """The text exposition format (version 0.0.4) of every metric, all workers summed."""
    registry = CollectorRegistry(auto_describe=False)
    if is_multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(DatabaseTotals())
    return generate_latest(registry)


def endpoint_label() -> str:
    """The route's endpoint, never the raw path: unknown URLs must not grow the label set."""
    return request.url_rule.endpoint if request.url_rule is not None else "none"


def observe_request(response: Response) -> Response:
    endpoint = endpoint_label()
    REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    started = g.get("request_started")
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.after_request(observe_request)
