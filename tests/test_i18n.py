"""Vietnamese first, English complete: every UI string goes through the catalogs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted(p for p in (ROOT / "app").rglob("templates/**/*.html"))
TRANSLATIONS = ROOT / "app" / "translations"

_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
# Scripts, styles and literal code (Markdown samples, file names) are not prose to translate.
_TAG = re.compile(r"<(script|style|code|pre|kbd|samp|textarea)\b.*?</\1>|<!--.*?-->|<[^>]+>",
                  re.S | re.I)
_ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")
_TEXT_ATTRS = re.compile(r"\b(alt|title|placeholder|aria-label|label)\s*=\s*\"([^\"]*)\"", re.I)


def literal_text(source: str) -> list[str]:
    """Words a person would read that are not produced by a gettext call."""
    found = []
    for _, value in _TEXT_ATTRS.findall(source):
        if re.search(r"[^\W\d_]", _JINJA.sub("", value)):
            found.append(value)
    text = _ENTITY.sub(" ", _TAG.sub(" ", _JINJA.sub(" ", source)))
    found += [w for w in re.findall(r"[^\W\d_][\w'’-]*", text)]
    return found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "app")))
def test_templates_have_no_hard_coded_text(template):
    assert literal_text(template.read_text(encoding="utf-8")) == []


def test_checker_finds_hard_coded_text():
    assert literal_text("<p>Xin chào</p>") == ["Xin", "chào"]
    assert literal_text('<img alt="ảnh">') == ["ảnh"]
    assert literal_text("<p>{{ _('Xin chào') }} · 3 ›</p>") == []
    assert literal_text("<p><code>01-bai.md</code></p>") == []


def _catalog_ids() -> set[str]:
    pot = TRANSLATIONS / "messages.pot"
    with pot.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


def test_catalog_template_is_current(tmp_path):
    """The committed messages.pot lists every string in the code (run `make extract-messages`)."""
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
                    "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                    "--no-location", "-o", str(fresh), str(ROOT / "app")],
                   check=True, cwd=ROOT, capture_output=True)
    with fresh.open("rb") as handle:
        current = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert len(current) > 100  # the extraction really found the app's strings
    assert current - _catalog_ids() == set()


def test_english_catalog_is_complete():
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and (not m.string or (
        isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)]
    assert missing == []
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert _catalog_ids() - ids == set()
