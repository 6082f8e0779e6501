"""Operations tests: helpers shared by the metrics, logging and backup tests."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.conftest import make_test_app


@pytest.fixture
def make_app(database_url):
    """More app instances on the suite's database (other "processes"), closed afterwards."""
    made = []

    def make(**overrides):
        made.append(make_test_app(database_url, **overrides))
        return made[-1]

    yield make
    for extra in made:
        with extra.app_context():
            db.engine.dispose()
