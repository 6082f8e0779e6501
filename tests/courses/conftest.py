"""A content tree in a temp folder, built from the shipped example course."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "content" / "examples" / "khoa-hoc-mau"
FRAMEWORK = ROOT / "content" / "frameworks"


@pytest.fixture
def content_root(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FRAMEWORK, root / "frameworks")
    shutil.copytree(EXAMPLE, root / "courses" / "khoa-hoc-mau")
    return root


@pytest.fixture
def course_dir(content_root) -> Path:
    return content_root / "courses" / "khoa-hoc-mau"


@pytest.fixture
def published(runner, content_root):
    """The sample content imported and published (the learner pages read it)."""
    result = runner.invoke(args=["content", "import", str(content_root), "--publish"])
    assert result.exit_code == 0, result.output
