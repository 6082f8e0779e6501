"""The "current published version" lookup on the reader's hot path (lesson, course, catalog).

Its correlated subquery reads CourseVersion through one alias built once: building an
aliased class per request cost ~1.7 ms of CPU, a quarter of a lesson page (bench/RESULTS.md).
"""

from __future__ import annotations

import sqlalchemy.orm

from app.courses import services

LESSON = "/courses/khoa-hoc-mau/lessons/dat-mat-khau"


def test_newest_published_version_is_served_on_every_request(client, runner, content_root,
                                                              course_dir):
    assert runner.invoke(args=["content", "import", str(content_root), "--publish"]).exit_code == 0
    lesson = course_dir / "02-dat-mat-khau.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nMẹo của phiên bản hai.\n",
                      encoding="utf-8")
    assert "Mẹo của phiên bản hai" not in client.get(LESSON).text
    assert runner.invoke(args=["content", "import", str(content_root), "--publish"]).exit_code == 0
    for _ in range(3):  # the same statement shape, built again each time
        assert "Mẹo của phiên bản hai" in client.get(LESSON).text
        course, version, found = services.find_published_lesson("khoa-hoc-mau", "dat-mat-khau")
        assert version.number == 2 and found.version_id == version.id
        assert services.find_published("khoa-hoc-mau")[1].number == 2


def test_the_subquery_alias_is_built_once(app, monkeypatch):
    built = []
    real = sqlalchemy.orm.aliased

    def counting(*args, **kwargs):
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sqlalchemy.orm, "aliased", counting)
    services._other_version.cache_clear()
    for _ in range(3):
        services.find_published_lesson("khoa-hoc-mau", "dat-mat-khau")
        services.find_published("khoa-hoc-mau")
    assert len(built) == 1
