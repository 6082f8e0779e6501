"""What the HTTP benchmarks and the two-server test share: a seeded database and gunicorn.

``prepare_database`` is the one place that decides how a load database is filled, so moving
to another seeding command is a change here only. ``Gunicorn`` starts the production server
as an operator would (``gunicorn -k gthread -w 2 --threads 4 wsgi:app``), waits for
``/healthz`` with a bounded poll, and always stops its whole process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4


def _no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket at one fixed path per user: two servers would
    fight over it, and we never use it."""
    import gunicorn

    return ["--no-control-socket"] if gunicorn.version_info >= (27,) else []


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask_command(env: Mapping[str, str], *args: str, timeout: float = 600) -> str:
    """Run ``flask --app wsgi ARGS`` from the checkout; its output, or an error showing it."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=dict(env), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def prepare_database(env: Mapping[str, str], members: int, password: str | None = None,
                     progress_share: float = 0.33) -> str:
    """Migrate, load the demo (units, teams, published courses, role accounts), add members.

    The database named by ``env["DATABASE_URL"]`` must be empty. Returns the seeders' output.
    """
    out = flask_command(env, "db", "upgrade")
    out += flask_command(env, "demo", "seed")
    args = [sys.executable, "-m", "bench.seeding", "--members", str(members),
            "--progress-share", str(progress_share)]
    if password:
        args += ["--password", password]
    done = subprocess.run(args, cwd=ROOT, env=dict(env), capture_output=True, text=True,
                          timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"bench.seeding failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return out + done.stdout


def prepare_province(env: Mapping[str, str], members: int, password: str) -> str:
    """Migrate, then ``flask bench seed``: a province-sized data set (units, teams, members,
    the published courses and program, a year of attempts, records and mastery) in which
    every account signs in with ``password``. Returns the command's report."""
    out = flask_command(env, "db", "upgrade")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "bench", "seed",
                           "--members", str(members), "--password-stdin"], cwd=ROOT,
                          env=dict(env), input=password + "\n", capture_output=True, text=True,
                          timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"flask bench seed failed:\n{done.stdout[-3000:]}\n"
                           f"{done.stderr[-3000:]}")
    return out + done.stdout


class Gunicorn:
    """One gunicorn (gthread) serving ``wsgi:app`` on 127.0.0.1:``port``.

    Use as a context manager; the server is stopped (SIGTERM, then SIGKILL) on the way out
    even when the block fails.
    """

    def __init__(self, env: Mapping[str, str], port: int, log_path: Path, *,
                 app: str = "wsgi:app", workers: int = GUNICORN_WORKERS,
                 threads: int = GUNICORN_THREADS, config: Path | None = None,
                 ready_path: str = "/healthz"):
        """``config``: a gunicorn config file (e.g. the production gunicorn.conf.py); without
        one gunicorn starts from a directory that has none, so only the flags here apply."""
        self.env = dict(env)
        self.port = port
        self.log_path = log_path
        config_args = ["-c", str(config)] if config else []
        self.command = [sys.executable, "-m", "gunicorn", *config_args, "--chdir", str(ROOT),
                        "-k", "gthread", "-w", str(workers), "--threads", str(threads),
                        "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
                        *_no_control_socket(), app]
        # gunicorn reads ./gunicorn.conf.py by default: start where there is none unless asked.
        self.cwd = ROOT if config else log_path.parent
        self.ready_path = ready_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_timeout: float = 60.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn on port {self.port} exited with "
                                   f"{self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn on port {self.port} did not answer {self.ready_path} within "
                           f"{ready_timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> Gunicorn:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
