"""Gunicorn settings for Học vụ số: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be changed from the environment (see README, "Production setup"):
WEB_CONCURRENCY (worker processes), GUNICORN_THREADS, GUNICORN_BIND, GUNICORN_TIMEOUT,
GUNICORN_GRACEFUL_TIMEOUT, GUNICORN_KEEPALIVE, PROMETHEUS_MULTIPROC_DIR.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {value!r}.") from None


# Workers: (2 × cores) + 1, gunicorn's rule of thumb; each has a few threads, so a worker
# waiting on the database or a slow phone's upload does not hold up the others.
workers = _int_env("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = _int_env("GUNICORN_THREADS", 4)
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")

timeout = _int_env("GUNICORN_TIMEOUT", 60)  # an export of a whole province stays under this
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 30)  # finish requests on restart
keepalive = _int_env("GUNICORN_KEEPALIVE", 5)  # nginx keeps upstream connections open
# Recycle workers now and then (jittered, so not all at once) to cap slow memory growth.
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"  # heartbeat files off the disk

# Access log on stdout: client, request, status, bytes, time in ms, and the request id the
# app echoes in X-Request-ID (the same id as in the app's own log lines).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s '
    'fwd="%({x-forwarded-for}i)s" ua="%(a)s"'
)

# Metrics from every worker: prometheus_client writes each process's samples into this
# directory and /metrics adds them up (app/ops/metrics.py). It must be set before the
# workers import the app, and be emptied at each start so old samples do not count.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(
        tempfile.gettempdir(), f"hocvuso-metrics-{os.getpid()}")


def on_starting(server) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
