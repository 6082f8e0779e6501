"""Vietnamese phone numbers as people type them, stored in one form: +84 and 9–10 digits."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_ALLOWED = re.compile(r"^[\d\s().\-+]+$")
# Mobile numbers: 0 + 9 digits starting 3, 5, 7, 8 or 9. Landlines: 0 + 2 + 9 digits.
_MOBILE = re.compile(r"^[35789]\d{8}$")
_LANDLINE = re.compile(r"^2\d{9}$")


class InvalidPhone(ValueError):
    """A number that cannot be a Vietnamese phone number; ``reason`` is shown to people."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def normalize_phone(raw: str | None) -> str:
    """Return ``+84…`` for any common way of writing a Vietnamese number, or raise InvalidPhone.

    Accepts spaces, dots, dashes and brackets, a leading 0, 84, +84 or 0084, and the bare
    9 digits that spreadsheets leave when they drop the leading zero.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(_l("Chưa nhập số điện thoại."))
    if not _ALLOWED.match(text):
        raise InvalidPhone(_l("Số điện thoại chỉ gồm chữ số (có thể có dấu cách, chấm, gạch)."))
    if text.count("+") > 1 or ("+" in text and not text.lstrip("( ").startswith("+")):
        raise InvalidPhone(_l("Dấu + chỉ được đặt ở đầu số."))
    digits = re.sub(r"\D", "", text)
    if text.lstrip("( ").startswith("+") and not digits.startswith("84"):
        raise InvalidPhone(_l("Chỉ nhận số điện thoại Việt Nam (+84)."))
    national = _national_part(digits)
    if national is None:
        raise InvalidPhone(_l("Số điện thoại không đủ hoặc thừa chữ số."))
    if not (_MOBILE.match(national) or _LANDLINE.match(national)):
        raise InvalidPhone(_l("Đầu số không phải số di động hay cố định của Việt Nam."))
    return "+84" + national


def _national_part(digits: str) -> str | None:
    """Strip the country or trunk prefix; None when the length cannot be a Vietnamese number."""
    if digits.startswith("0084"):
        digits = digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) in (9, 10) else None


def format_phone(stored: str | None) -> str:
    """Display form for Vietnamese readers: ``0912 345 678``."""
    if not stored:
        return ""
    national = "0" + stored[3:] if stored.startswith("+84") else stored
    if len(national) == 10:
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    return f"{national[:4]} {national[4:8]} {national[8:]}"
