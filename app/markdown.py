"""The one Markdown → sanitized HTML function, for lessons, questions and previews.

Rendering happens once, when content is imported or saved; pages insert the stored result.
bleach is called only in ``sanitize_html`` so a faster sanitizer could replace it in one place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import bleach
import markdown
from bleach.html5lib_shim import Filter
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from app.text import fold

# Called with (url, tag) for every link ("a") and image ("img"); returns the URL to use.
# Content import uses it to point lesson links and media at their real addresses, and to
# collect errors for links that lead nowhere.
UrlResolver = Callable[[str, str], str]

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})
_CLASS_OK = re.compile(
    r"^(admonition|admonition-title|note|tip|warning|danger|important|toc|"
    r"language-[a-z0-9+#-]{1,20}|codehilite)$"
)
_ID_OK = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name == "class":
        return tag in {"div", "p", "code", "pre", "span"} and all(
            _CLASS_OK.match(part) for part in value.split()
        )
    if name == "id":
        # Heading anchors only, in the shape our slugify makes (no DOM clobbering names).
        return tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and bool(_ID_OK.match(value))
    allowed = {
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height"},
        "abbr": {"title"},
        "th": {"align", "colspan", "rowspan"},
        "td": {"align", "colspan", "rowspan"},
        "ol": {"start"},
    }
    return name in allowed.get(tag, set())


def slugify_heading(value: str, separator: str = "-") -> str:
    """Anchor ids for Vietnamese headings: "Đăng ký tài khoản" → "dang-ky-tai-khoan"."""
    text = re.sub(r"[^a-z0-9]+", separator, fold(value))
    return text.strip(separator) or "muc"


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme in {"http", "https"} and parts.netloc)


class _AnnotateFilter(Filter):
    """After sanitizing: external links get rel=noopener noreferrer nofollow; images load lazily."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in {"StartTag", "EmptyTag"}:
                attrs = token.get("data") or {}
                if token["name"] == "a" and is_external(attrs.get((None, "href"), "")):
                    attrs[(None, "rel")] = "noopener noreferrer nofollow"
                elif token["name"] == "img":
                    attrs[(None, "loading")] = "lazy"
                token["data"] = attrs
            yield token


_CLEANER = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_AnnotateFilter],
)


def sanitize_html(html: str) -> str:
    """Keep only the allowlisted tags, attributes and URL schemes."""
    return _CLEANER.clean(html)


class _ResolveUrls(Treeprocessor):
    def __init__(self, md, resolve: UrlResolver):
        super().__init__(md)
        self.resolve = resolve

    def run(self, root: Element) -> None:
        for element in root.iter():
            attr = {"a": "href", "img": "src"}.get(element.tag)
            if attr and element.get(attr) is not None:
                element.set(attr, self.resolve(element.get(attr), element.tag))


class _ResolveUrlsExtension(Extension):
    def __init__(self, resolve: UrlResolver):
        super().__init__()
        self.resolve = resolve

    def extendMarkdown(self, md) -> None:  # noqa: N802 (python-markdown's API name)
        md.treeprocessors.register(_ResolveUrls(md, self.resolve), "hvs_resolve_urls", 1)


def render_markdown(source: str, resolve_url: UrlResolver | None = None) -> Markup:
    """Markdown (tables, fenced code, toc, admonitions, sane lists) as sanitized, safe HTML."""
    extensions: list = ["tables", "fenced_code", "toc", "admonition", "sane_lists"]
    if resolve_url is not None:
        extensions.append(_ResolveUrlsExtension(resolve_url))
    converter = markdown.Markdown(
        extensions=extensions,
        extension_configs={
            "toc": {"slugify": slugify_heading, "permalink": False},
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )
    return Markup(sanitize_html(converter.convert(source or "")))


def html_digest(html: str) -> str:
    """Hash stored beside rendered HTML: the lesson page's ETag."""
    return hashlib.sha256(html.encode("utf-8")).hexdigest()
