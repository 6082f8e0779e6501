"""/metrics: token rules, the exposition format, request counts, latency and domain totals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app.assessments import attempts
from app.courses.models import CourseVersion
from app.extensions import db
from app.records.models import CompletionRecord
from tests.assessments.factories import build_world

TOKEN = "s3cret-metrics-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} from the text exposition format."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client) -> dict:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    return samples(response.text)


class TestAccess:
    def test_absent_without_a_token(self, client):
        assert client.get("/metrics", headers=AUTH).status_code == 404

    @pytest.mark.options(METRICS_TOKEN=TOKEN)
    def test_missing_credentials_is_401_with_a_challenge(self, client):
        response = client.get("/metrics")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.options(METRICS_TOKEN=TOKEN)
    @pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer wrong", f"Basic {TOKEN}",
                                        f"Bearer {TOKEN[:-1]}"])
    def test_wrong_credentials_are_refused(self, client, header):
        response = client.get("/metrics", headers={"Authorization": header})
        assert response.status_code in (401, 403)
        assert "hocvuso_" not in response.text

    @pytest.mark.options(METRICS_TOKEN=TOKEN)
    def test_right_token_gets_the_text_format(self, client):
        response = client.get("/metrics", headers=AUTH)
        assert response.status_code == 200
        assert response.mimetype == "text/plain"
        assert "version=0.0.4" in response.headers["Content-Type"]
        assert response.headers["Cache-Control"] == "no-store"

    def test_testing_profile_ignores_the_environment(self, monkeypatch):
        from app.config import load_settings

        monkeypatch.setenv("METRICS_TOKEN", "from-env")
        assert load_settings("testing")["METRICS_TOKEN"] is None
        assert load_settings("production")["METRICS_TOKEN"] == "from-env"


@pytest.mark.options(METRICS_TOKEN=TOKEN)
class TestContent:
    def test_requests_are_counted_by_method_endpoint_and_status(self, client):
        before = scrape(client)
        for _ in range(3):
            client.get("/healthz")
        client.post("/healthz")
        client.get("/khong-co/trang-nay")
        after = scrape(client)
        name = "hocvuso_http_requests_total"
        delta = lambda **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
        assert delta(method="GET", endpoint="main.healthz", status="200") == 3
        assert delta(method="POST", endpoint="none", status="405") == 1  # routing failed
        assert delta(method="GET", endpoint="none", status="404") == 1
        assert delta(method="GET", endpoint="ops.metrics", status="200") == 1  # the first scrape
        assert not any("khong-co" in str(key) for key in after)

    def test_latency_histogram(self, client):
        before = scrape(client)
        client.get("/healthz")
        client.get("/healthz")
        after = scrape(client)
        name = "hocvuso_http_request_duration_seconds"
        count = value(after, f"{name}_count", endpoint="main.healthz") - \
            value(before, f"{name}_count", endpoint="main.healthz")
        assert count == 2
        assert value(after, f"{name}_sum", endpoint="main.healthz") > 0
        buckets = [value(after, f"{name}_bucket", endpoint="main.healthz", le=le)
                   for le in ("0.01", "0.1", "1.0", "10.0", "+Inf")]
        assert buckets == sorted(buckets) and buckets[-1] == value(
            after, f"{name}_count", endpoint="main.healthz")

    def test_domain_totals_come_from_the_database(self, client):
        world = build_world()
        for user in (world.learner, world.learner, world.other):
            attempt, _ = attempts.start_attempt(user, world.assessment)
            if user is world.learner:
                attempts.submit(attempt)  # no answers: submitted, not passed
            db.session.commit()
        version = db.session.scalar(select(CourseVersion).where(
            CourseVersion.course_id == world.course.id))
        db.session.add(CompletionRecord(
            user_id=world.learner.id, course_id=world.course.id, course_version_id=version.id,
            issuing_unit_id=world.commune.id, verification_code="ma-kiem-tra-1",
            holder_name="Trần Thị Học", course_title="Khóa học thử", source="in_person"))
        db.session.commit()
        found = scrape(client)
        assert value(found, "hocvuso_attempts_submitted_total") == 2
        assert value(found, "hocvuso_completion_records_issued_total") == 1

    def test_the_request_hook_does_no_database_work(self, app, client):
        from sqlalchemy import event

        statements = []
        listener = lambda *args, **kw: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            client.get("/static/css/app.css").close()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert statements == []


WORKER = textwrap.dedent("""
    import sys
    from app import create_app
    from app.extensions import db
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                      "METRICS_TOKEN": "t"})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        assert client.get("/healthz").status_code == 200
    if sys.argv[3] == "scrape":
        print(client.get("/metrics", headers={"Authorization": "Bearer t"}).text)
""")


def test_several_processes_are_summed_in_multiprocess_mode(tmp_path):
    """Two worker processes (as gunicorn forks them) share PROMETHEUS_MULTIPROC_DIR."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONPATH": str(ROOT)}
    env.pop("TEST_DATABASE_URL", None)
    database = f"sqlite:///{tmp_path / 'workers.sqlite3'}"

    def worker(requests: int, then: str) -> str:
        result = subprocess.run([sys.executable, "-c", WORKER, database, str(requests), then],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    worker(5, "stop")
    found = samples(worker(3, "scrape"))
    assert value(found, "hocvuso_http_requests_total", method="GET", endpoint="main.healthz",
                 status="200") == 8
    assert value(found, "hocvuso_http_request_duration_seconds_count",
                 endpoint="main.healthz") == 8
    assert len(list(metrics_dir.glob("counter_*.db"))) == 2
