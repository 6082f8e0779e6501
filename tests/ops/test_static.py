"""Static URLs carry a content hash; fingerprinted ones are cached for a year, others briefly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import url_for

from app.ops import static as static_mod
from app.ops.static import Fingerprints

CSS = Path(__file__).resolve().parents[2] / "app" / "static" / "css" / "app.css"


def css_version() -> str:
    return hashlib.sha256(CSS.read_bytes()).hexdigest()[:12]


def test_url_for_adds_the_content_hash(app):
    assert url_for("static", filename="css/app.css") == f"/static/css/app.css?v={css_version()}"


def test_pages_link_fingerprinted_assets(client):
    assert f'/static/css/app.css?v={css_version()}"' in client.get("/").text


def test_hash_is_computed_once_per_file(app, monkeypatch):
    calls = []
    real = static_mod.file_digest
    monkeypatch.setattr(static_mod, "file_digest", lambda path: calls.append(path) or real(path))
    for _ in range(3):
        url_for("static", filename="css/app.css")
        url_for("static", filename="js/attempt.js")
    assert len(calls) == 2


def test_explicit_version_and_missing_files_are_left_alone(app):
    assert url_for("static", filename="css/app.css", v="abc") == "/static/css/app.css?v=abc"
    assert url_for("static", filename="css/khong-co.css") == "/static/css/khong-co.css"
    assert url_for("main.healthz") == "/healthz"


def test_fingerprinted_request_is_immutable_for_a_year(client):
    response = client.get(f"/static/css/app.css?v={css_version()}")
    response.close()
    assert response.status_code == 200
    cache = response.cache_control
    assert cache.public and cache.immutable and cache.max_age == 31536000
    assert not cache.no_cache
    assert "Expires" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("query", ["", "?v=000000000000", "?v="])
def test_other_requests_get_a_short_max_age(client, query):
    response = client.get(f"/static/css/app.css{query}")
    response.close()
    assert response.status_code == 200
    assert response.cache_control.max_age == 300
    assert not response.cache_control.immutable


@pytest.mark.options(STATIC_MAX_AGE=60)
def test_short_max_age_is_configurable(client):
    response = client.get("/static/css/app.css")
    response.close()
    assert response.cache_control.max_age == 60


def test_missing_static_file_is_404(client):
    assert client.get("/static/css/khong-co.css?v=000000000000").status_code == 404


def test_development_rechecks_a_changed_file(tmp_path):
    asset = tmp_path / "site.css"
    asset.write_text("body{}")
    fixed, rechecking = Fingerprints(str(tmp_path)), Fingerprints(str(tmp_path), recheck=True)
    first = fixed.version("site.css")
    assert rechecking.version("site.css") == first
    asset.write_text("body{color:red}")
    assert fixed.version("site.css") == first  # production: once per process
    assert rechecking.version("site.css") not in (None, first)


def test_paths_outside_the_folder_get_no_version(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "secret.txt").write_text("x")
    assert Fingerprints(str(tmp_path / "static")).version("../secret.txt") is None
