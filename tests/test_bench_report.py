"""The HTTP benchmark's verdicts: a page's share is taken against the lookup ceiling measured
just before it when there is one (the host's speed drifts over minutes), else the last one."""

from __future__ import annotations

from bench.http_pages import Measure, report


def _lookup(rps: float, name: str = "ceiling: lookup") -> Measure:
    return Measure(name, rps, p50_ms=10.0, p99_ms=20.0, requests=int(rps * 10), bad=0,
                   cpu_ms=1.0)


def _lesson(reference: Measure | None) -> Measure:
    return Measure("lesson", 600.0, p50_ms=20.0, p99_ms=40.0, requests=6000, bad=0,
                   cpu_ms=1.6, reference=reference)


def test_a_page_is_judged_against_the_ceiling_run_next_to_it(capsys):
    page = _lesson(_lookup(1000.0, "ceiling: lookup, before lesson"))
    assert report(10_000, [page, _lookup(2000.0)]) is True  # 60 % of 1,000; not 30 % of 2,000
    out = capsys.readouterr().out
    assert "| lesson | 600 | 60% |" in out
    assert "against the lookup run just before: 1000 req/s" in out


def test_without_a_neighbouring_run_the_last_ceiling_counts(capsys):
    assert report(10_000, [_lesson(None), _lookup(2000.0)]) is False
    assert "| lesson | 600 | 30% |" in capsys.readouterr().out


def test_a_slow_lesson_tail_fails_the_run_whatever_its_share(capsys):
    page = _lesson(_lookup(1000.0))
    page.p99_ms = 75.0
    assert report(10_000, [page, _lookup(1000.0)]) is False
    assert "p99 < 50 ms: MISSED" in capsys.readouterr().out
