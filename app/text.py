"""Vietnamese text helpers: one place for NFC normalization and diacritic folding."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(value: str | None) -> str:
    """Trim, collapse inner white space and normalize to NFC (names typed on any keyboard)."""
    if value is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()


def fold(value: str | None) -> str:
    """Lower-case, strip diacritics (đ → d) and collapse spaces: for matching, never display."""
    text = unicodedata.normalize("NFD", str(value or "")).replace("đ", "d").replace("Đ", "d")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.lower().replace("_", " ")
    return _SPACES.sub(" ", text).strip()
