"""The WSGI entry point: the app built once per process, its objects kept out of the
cycle collector's full passes (a full pass over them cost ~185 ms, the pages' p99)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_app_is_frozen_out_of_the_collector(tmp_path):
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "check-wsgi",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'wsgi.sqlite3'}"}
    result = subprocess.run([sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 10_000  # the modules, the routes, the templates
