"""gunicorn.conf.py: sizes from the CPU count unless the environment says otherwise."""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gunicorn.conf.py"


@pytest.fixture
def load(monkeypatch, tmp_path):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND", "GUNICORN_TIMEOUT",
                 "GUNICORN_GRACEFUL_TIMEOUT", "GUNICORN_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))

    def run(**env) -> dict:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONF))

    return run


def test_defaults(load):
    conf = load()
    assert conf["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert conf["worker_class"] == "gthread" and conf["threads"] == 4
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (60, 30, 5)


def test_environment_overrides(load):
    conf = load(WEB_CONCURRENCY="3", GUNICORN_THREADS="8", GUNICORN_BIND="0.0.0.0:9000",
                GUNICORN_TIMEOUT="120", GUNICORN_GRACEFUL_TIMEOUT="10", GUNICORN_KEEPALIVE="2")
    assert (conf["workers"], conf["threads"], conf["bind"]) == (3, 8, ["0.0.0.0:9000"])
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (120, 10, 2)


def test_malformed_number_stops_with_the_name(load):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        load(WEB_CONCURRENCY="bốn")


def test_access_log_has_request_id_and_duration(load):
    fmt = load()["access_log_format"]
    assert "%({x-request-id}o)s" in fmt and "%(M)s" in fmt


def test_metrics_directory_is_emptied_at_start(load, tmp_path):
    conf = load()
    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    conf["on_starting"](SimpleNamespace())
    assert not stale.exists() and stale.parent.is_dir()


def test_own_metrics_directory_when_none_is_given(load, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    conf = load()
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    conf["on_starting"](SimpleNamespace())
    assert directory.is_dir()
    conf["on_exit"](SimpleNamespace())
    assert not directory.exists()


def test_gunicorn_accepts_it(tmp_path):
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "check-config",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "-c", str(CONF),
                             "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
