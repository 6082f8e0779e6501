"""The one Markdown pipeline: features Vietnamese lessons need, and nothing executable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.markdown import html_digest, render_markdown, slugify_heading

FORBIDDEN_TAGS = {
    "script", "iframe", "object", "embed", "form", "style", "svg", "math", "base", "meta",
    "link", "frame", "frameset", "applet", "input", "button", "textarea", "select",
    "template", "noscript", "video", "audio", "source", "marquee", "isindex", "animate", "set",
}
URL_ATTRIBUTES = {"href", "src", "action", "data", "poster", "background", "cite", "formaction",
                  "xlink:href", "srcset", "lowsrc", "dynsrc"}
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}


class _Inspector(HTMLParser):
    """Independent of bleach: lists every reason the HTML could run code or load a frame."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc"}:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
                match = re.match(r"^([a-z][a-z0-9+.\-]*):", cleaned)
                if match and match.group(1) not in SAFE_SCHEMES:
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def executable_parts(html: str) -> list[str]:
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\"/>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<body onload=alert(1)>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](  javascript:alert(1)  )",
    "[x](javascript&#58;alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "![x](javascript:alert(1))",
    "![x\" onerror=\"alert(1)](https://example.org/a.png)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "[x][r]\n\n[r]: data:text/html,hi \"title\"",
    "<a href=\"https://example.org\" onclick=\"alert(1)\">x</a>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)//",
    "<div><p>unclosed <b onmouseover=alert(1)>x",
    "<!--<script>alert(1)</script>-->",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<h2 id=\"location\">clobber</h2>",
    "```html\n<script>alert(1)</script>\n```",
    "<div markdown=\"1\">[x](javascript:alert(1))</div>",
    "!!! warning \"<img src=x onerror=alert(1)>\"\n    body",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
]


def test_corpus_is_large_enough():
    assert len(XSS_CORPUS) >= 40


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_no_payload_survives(payload):
    html = str(render_markdown(payload))
    assert executable_parts(html) == [], html


def test_inspector_catches_what_it_should():
    """The checker itself must be able to fail."""
    assert executable_parts('<a href="java&#x09;script:alert(1)">x</a>')
    assert executable_parts("<img src=x onerror=alert(1)>")
    assert executable_parts("<script>1</script>")
    assert executable_parts('<a href="https://example.org">x</a>') == []


def test_lesson_features_render():
    source = (
        "## Đăng ký tài khoản\n\n"
        "| Bước | Việc |\n|:--|--:|\n| 1 | Mở ứng dụng |\n\n"
        "```\ncode\n```\n\n"
        "!!! warning \"Cảnh báo\"\n    Không chia sẻ mã OTP.\n\n"
        "!!! tip \"Mẹo\"\n    Gọi lại số chính thức.\n\n"
        "1. một\n2. hai\n\n"
        "[ngoài](https://dichvucong.gov.vn) [trong](/courses/) ![sơ đồ](media/so-do.png)\n"
    )
    html = str(render_markdown(source))
    assert '<h2 id="dang-ky-tai-khoan">' in html
    assert "<table>" in html and 'align="left"' in html
    assert "<pre><code>code" in html
    assert 'class="admonition warning"' in html and 'class="admonition tip"' in html
    assert "<ol>" in html
    assert 'href="https://dichvucong.gov.vn" rel="noopener noreferrer nofollow"' in html
    assert '<a href="/courses/">trong</a>' in html
    assert 'loading="lazy"' in html and 'alt="sơ đồ"' in html


@pytest.mark.parametrize(("heading", "slug"), [
    ("Đăng ký tài khoản", "dang-ky-tai-khoan"),
    ("Bước 1: Mở VNeID", "buoc-1-mo-vneid"),
    ("  Ghi nhớ!  ", "ghi-nho"),
    ("Đường dây nóng — Đồng Nai", "duong-day-nong-dong-nai"),
    ("???", "muc"),
])
def test_slugify_folds_vietnamese(heading, slug):
    assert slugify_heading(heading) == slug


def test_url_resolver_rewrites_links_and_images():
    seen = []

    def resolve(url, tag):
        seen.append((url, tag))
        return "/resolved/" + url

    html = str(render_markdown("[b](02-bai.md) ![a](media/x.png)", resolve_url=resolve))
    assert seen == [("02-bai.md", "a"), ("media/x.png", "img")]
    assert 'href="/resolved/02-bai.md"' in html and 'src="/resolved/media/x.png"' in html


def test_digest_changes_with_html():
    assert html_digest("<p>a</p>") != html_digest("<p>b</p>")
    assert len(html_digest("")) == 64


_PIECES = st.sampled_from([
    "<", ">", "\"", "'", "=", "/", " ", "\n", "\t", "&#", ";", ":", "(", ")", "[", "]", "!",
    "javascript", "JaVaScRiPt", "vbscript", "data", "script", "img", "svg", "iframe", "a",
    "href", "src", "onerror", "onload", "style", "alert(1)", "x", "&#106;", "&#x6A;", "%6A",
    "\x00", "```", "!!! warning", "    ", "<!--", "-->", "`", "*", "#", "http://e.x", "\\",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, min_size=1, max_size=40).map("".join))
def test_fuzzed_markdown_is_never_executable(source):
    html = str(render_markdown(source))
    assert executable_parts(html) == [], (source, html)
