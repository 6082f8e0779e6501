"""Vietnamese phone numbers as people type them, stored in one form: +84 and 9–10 digits."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

# After NFKC (full-width digits and "＋" become ASCII, no-break spaces become spaces) only
# ASCII digits and the separators people put between digit groups are allowed.
_ALLOWED = re.compile(r"^[0-9 \t().\-+]+$", re.ASCII)
_DASHES = str.maketrans({"‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-"})
# Mobile numbers: 0 + 9 digits starting 3, 5, 7, 8 or 9. Landlines: 0 + 2 + 9 digits.
_MOBILE = re.compile(r"^[35789][0-9]{8}$", re.ASCII)
_LANDLINE = re.compile(r"^2[0-9]{9}$", re.ASCII)


class InvalidPhone(ValueError):
    """A number that cannot be a Vietnamese phone number; ``reason`` is shown to people."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def normalize_phone(raw: str | None) -> str:
    """Return ``+84…`` for any common way of writing a Vietnamese number, or raise InvalidPhone.

    Accepts spaces, dots, dashes and brackets, a leading 0, 84, +84 or 0084 (also "+84 0…"),
    and the bare 9–10 digits that spreadsheets leave when they drop the leading zero.
    """
    text = unicodedata.normalize("NFKC", str(raw or "")).translate(_DASHES).strip()
    if not text:
        raise InvalidPhone(_l("Chưa nhập số điện thoại."))
    if not _ALLOWED.match(text):
        raise InvalidPhone(_l("Số điện thoại chỉ gồm chữ số (có thể có dấu cách, chấm, gạch)."))
    international = text.lstrip("( ").startswith("+")
    if text.count("+") > 1 or ("+" in text and not international):
        raise InvalidPhone(_l("Dấu + chỉ được đặt một lần, ở đầu số."))
    digits = re.sub(r"[^0-9]", "", text)
    if international and not digits.startswith("84"):
        raise InvalidPhone(_l("Chỉ nhận số điện thoại Việt Nam (+84)."))
    # 00 + another country code is an international call; a single stray 0 is a typo.
    if digits.startswith("00") and not digits.startswith("0084") and len(digits) > 11:
        raise InvalidPhone(_l("Chỉ nhận số điện thoại Việt Nam (+84)."))
    national = _national_part(digits, international)
    if national.startswith("1") and len(national) == 10:
        raise InvalidPhone(_l("Số 11 chữ số đầu 01… đã đổi sang số 10 chữ số từ năm 2018; "
                              "hãy nhập số mới."))
    expected = 10 if national.startswith("2") else 9  # landlines have one digit more
    if len(national) < expected:
        raise InvalidPhone(_l("Số điện thoại thiếu chữ số: số di động có 10 chữ số, "
                              "số cố định 11 chữ số, kể cả số 0 ở đầu."))
    if len(national) > expected:
        raise InvalidPhone(_l("Số điện thoại thừa chữ số: số di động có 10 chữ số, "
                              "số cố định 11 chữ số, kể cả số 0 ở đầu."))
    if not (_MOBILE.match(national) or _LANDLINE.match(national)):
        raise InvalidPhone(_l("Đầu số không phải số di động (03, 05, 07, 08, 09) "
                              "hay số cố định (02) của Việt Nam."))
    return "+84" + national


def _national_part(digits: str, international: bool) -> str:
    """The number without country code or trunk 0 (the length is checked by the caller)."""
    if digits.startswith("0084"):
        digits = digits[4:]
    elif digits.startswith("84") and (international or len(digits) in (11, 12)):
        digits = digits[2:]
    elif digits.startswith("0"):
        return digits[1:]
    # "+84 0912 345 678": a trunk 0 kept after the country code is a common spelling.
    if digits.startswith("0") and len(digits) in (10, 11):
        digits = digits[1:]
    return digits


def format_phone(stored: str | None) -> str:
    """Display form for Vietnamese readers: ``0912 345 678``."""
    if not stored:
        return ""
    national = "0" + stored[3:] if stored.startswith("+84") else stored
    if len(national) == 10:
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    return f"{national[:4]} {national[4:8]} {national[8:]}"
