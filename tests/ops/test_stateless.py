"""Several app processes share nothing but the database, the secret key and the limiter storage."""

from __future__ import annotations

import secrets

import pytest
import redis

from app.extensions import limiter
from tests.assessments.factories import quick_user
from tests.factories import PASSWORD, make_unit

REDIS_URL = "redis://127.0.0.1:6379/0"


def logged_in_cookie(app, phone: str) -> str:
    client = app.test_client()
    response = client.post("/login", data={"identifier": phone, "password": PASSWORD})
    assert response.status_code == 302
    return client.get_cookie("session").value


class TestSessions:
    @pytest.fixture
    def member(self, app):
        return quick_user(make_unit("X1"), phone="+84911000999")

    def test_one_instance_accepts_the_others_session(self, make_app, member):
        first = make_app(SECRET_KEY="chung-mot-khoa")
        second = make_app(SECRET_KEY="chung-mot-khoa")
        other = second.test_client()
        other.set_cookie("session", logged_in_cookie(first, member.phone))
        response = other.get("/account")
        assert response.status_code == 200
        assert member.full_name in response.text
        # …and back again.
        back = first.test_client()
        back.set_cookie("session", logged_in_cookie(second, member.phone))
        assert back.get("/account").status_code == 200

    def test_another_secret_key_rejects_it(self, make_app, member):
        first = make_app(SECRET_KEY="khoa-thu-nhat")
        stranger = make_app(SECRET_KEY="khoa-khac").test_client()
        stranger.set_cookie("session", logged_in_cookie(first, member.phone))
        response = stranger.get("/account")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def failed_logins(app, count: int) -> list[int]:
    client = app.test_client()
    return [client.post("/login", data={"identifier": "0912999888", "password": "sai-mat-khau"}
                        ).status_code for _ in range(count)]


class TestLimiterStorage:
    def test_memory_storage_by_default_and_per_process(self, app, make_app):
        assert type(limiter.storage).__name__ == "MemoryStorage"
        assert failed_logins(make_app(), 5) == [401] * 5  # wrong password, counted
        # A new process (a new storage) starts counting again: no 429 there.
        assert failed_logins(make_app(), 1) == [401]

    def test_redis_storage_is_shared_by_instances(self, app, make_app):
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        except redis.RedisError as exc:
            pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc}); "
                        "the limiter's Redis storage cannot be checked here")
        prefix = f"hocvuso-test-{secrets.token_hex(6)}"
        settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
        try:
            first = make_app(**settings)
            assert type(limiter.storage).__name__ == "RedisStorage"
            assert failed_logins(first, 5) == [401] * 5  # wrong password, counted
            # Another instance, with its own connection, sees the five attempts.
            second = make_app(**settings)
            assert failed_logins(second, 1) == [429]
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(f"*{prefix}*"))
            if keys:
                client.delete(*keys)
            make_app()  # the shared limiter back on memory:// for later tests
