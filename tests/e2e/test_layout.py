"""The shared layout in a real browser: keyboard focus, tap targets, no sideways scrolling, contrast."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import WIDTHS
from tests.factories import PASSWORD, make_unit, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.options(WTF_CSRF_ENABLED=True)]

# Colour pairs as the browser computed them, for every visible element with its own text.
CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map(s => parseFloat(s));
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const background = (el) => {
    // Stack translucent backgrounds (e.g. the current-language pill) over the first opaque one.
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg.a > 0) layers.push(bg);
      if (bg && bg.a > 0.99) break;
    }
    let base = {r: 255, g: 255, b: 255, a: 1};
    for (const layer of layers.reverse()) {
      base = {r: layer.r * layer.a + base.r * (1 - layer.a), g: layer.g * layer.a + base.g * (1 - layer.a),
              b: layer.b * layer.a + base.b * (1 - layer.a), a: 1};
    }
    return base;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.skip-link')) continue;
    out.push({text: el.textContent.trim().slice(0, 40), fg: parse(style.color), bg: background(el),
              size: parseFloat(style.fontSize), weight: parseInt(style.fontWeight, 10)});
  }
  return out;
}
"""

TAP_TARGETS_JS = """
() => [...document.querySelectorAll(
    'header a, header button, .main-nav a, .main-nav button, form button, form input, form select')]
  .filter(el => el.type !== 'hidden' && el.getBoundingClientRect().width > 0)
  .map(el => {
    const target = el.type === 'checkbox' ? el.closest('label') || el : el;
    const box = target.getBoundingClientRect();
    return {name: el.name || el.textContent.trim(), width: box.width, height: box.height};
  })
"""


FOCUS_STYLE_JS = """
() => { const el = document.activeElement; const s = getComputedStyle(el);
  return {tag: el.tagName, name: el.name || el.textContent.trim(),
          look: [s.outlineStyle, s.outlineColor, s.outlineWidth, s.boxShadow, s.backgroundColor,
                 s.color].join(' | ')}; }
"""
YELLOW, DARK = "rgb(255, 221, 0)", "rgb(11, 12, 12)"


def focus_look(page) -> dict:
    """The focused element and how it looks; then how the same element looks unfocused."""
    focused = page.evaluate(FOCUS_STYLE_JS)
    page.evaluate("window.__focused = document.activeElement; document.activeElement.blur()")
    blurred = page.evaluate(
        "(() => { const s = getComputedStyle(window.__focused);"
        " return [s.outlineStyle, s.outlineColor, s.outlineWidth, s.boxShadow, s.backgroundColor,"
        " s.color].join(' | '); })()"
    )
    page.evaluate("window.__focused.focus({focusVisible: true})")
    return {**focused, "blurred": blurred}


def assert_focus_visible(look: dict) -> None:
    """Focus must change the element's look, with the yellow-and-dark ring seen on any background."""
    assert look["look"] != look["blurred"], look
    assert YELLOW in look["look"] and DARK in look["look"], look


def luminance(color: dict) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color["r"]) + 0.7152 * channel(color["g"]) + 0.0722 * channel(color["b"])


def contrast(fg: dict, bg: dict) -> float:
    # Blend a translucent foreground over its background first.
    alpha = fg.get("a", 1)
    mixed = {k: fg[k] * alpha + bg[k] * (1 - alpha) for k in ("r", "g", "b")}
    lighter, darker = sorted((luminance(mixed), luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture
def officer(app):
    commune = make_unit("E2E2", name="Trảng Dài", kind="phuong")
    return make_user(commune, role="officer", name="Lê Văn Cường", phone="+84987654321")


def login(page, phone: str) -> None:
    page.goto("/login")
    page.get_by_label("Số điện thoại hoặc email").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/")


def test_skip_link_is_first_visible_on_focus_and_moves_focus_to_main(page):
    page.goto("/login")
    skip = page.locator(".skip-link")
    assert not skip.is_visible() or skip.bounding_box()["x"] < 0  # off-screen until focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["height"] >= 44
    assert_focus_visible(focus_look(page))
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "officer"])
def test_every_control_shows_keyboard_focus(page, officer, signed_in):
    if signed_in:
        login(page, "0987654321")
        page.goto("/account")
    else:
        page.goto("/login")
    seen = []
    for _ in range(20):
        page.keyboard.press("Tab")
        look = focus_look(page)
        if look["tag"] == "BODY":
            break
        seen.append(look["name"])
        assert_focus_visible(look)
    expected = {"current_password", "Đăng xuất"} if signed_in else {"identifier", "password"}
    assert expected <= set(seen)


@pytest.mark.parametrize("path", ["/", "/login", "/khong-co-trang"])
def test_no_sideways_scrolling_at_360(page, path):
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["mobile"]


def test_no_sideways_scrolling_when_signed_in(page, officer):
    login(page, "0987654321")
    for path in ("/", "/account"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["mobile"], path


def test_tap_targets_are_at_least_44px(page, officer):
    page.goto("/login")
    small = [t for t in page.evaluate(TAP_TARGETS_JS) if t["height"] < 44 or t["width"] < 44]
    assert small == []
    login(page, "0987654321")
    page.goto("/account")
    small = [t for t in page.evaluate(TAP_TARGETS_JS) if t["height"] < 44 or t["width"] < 44]
    assert small == []


@pytest.mark.parametrize("path", ["/", "/login", "/khong-co-trang"])
def test_text_contrast_meets_aa(page, path):
    page.goto(path)
    failures = []
    for item in page.evaluate(CONTRAST_JS):
        ratio = contrast(item["fg"], item["bg"])
        large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
        if ratio < (3 if large else 4.5):
            failures.append((item["text"], round(ratio, 2)))
    assert failures == []
