"""Commands and background work translate strings too, without a request or a session."""

from __future__ import annotations

import click
import pytest
from flask_babel import lazy_gettext as _l

from app import create_app
from app.extensions import db
from app.labels import role_label


@pytest.fixture
def bare_app(tmp_path):
    """An app with no test request pushed around the test (unlike the shared ``app`` fixture)."""
    app = create_app({"APP_ENV": "testing",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bare.sqlite3'}"})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_lazy_strings_in_an_app_context_use_the_default_locale(bare_app):
    with bare_app.app_context():
        assert role_label("admin") == "Quản trị viên"
        assert str(_l("Đăng nhập")) == "Đăng nhập"


def test_a_cli_command_can_print_translated_labels(bare_app):
    @bare_app.cli.command("say-role")
    def say_role():
        click.echo(role_label("officer"))

    result = bare_app.test_cli_runner().invoke(args=["say-role"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Cán bộ quản lý"
