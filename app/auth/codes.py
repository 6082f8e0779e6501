"""One-time codes for activation and password reset.

Codes are 12 characters from a 31-letter alphabet without look-alikes (no 0/O, 1/I/L):
31**12 ≈ 2**59, read aloud or typed on a phone in groups of four. Only a SHA-256 digest is
stored, so a database leak reveals no usable code.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def generate_code() -> str:
    """A new random code, grouped for reading: ``K7QM-2XRP-9HTD``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def canonical_code(typed: str | None) -> str:
    """What a person typed, reduced to the code's letters: case, spaces and dashes ignored."""
    text = unicodedata.normalize("NFKC", typed or "").upper()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def code_digest(typed: str | None) -> str:
    """The only form in which a code is stored or looked up."""
    return hashlib.sha256(canonical_code(typed).encode("ascii")).hexdigest()
