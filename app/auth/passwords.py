"""The password rule, stated once and shown to people in Vietnamese."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 8
MAX_LENGTH = 128
PASSWORD_RULES = _l("Ít nhất 8 ký tự, gồm cả chữ và số. Nên dùng một câu dễ nhớ.")


def password_problems(password: str) -> list:
    """Reasons the password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_l("Mật khẩu phải có ít nhất 8 ký tự."))
    if len(password) > MAX_LENGTH:
        problems.append(_l("Mật khẩu dài quá 128 ký tự."))
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        problems.append(_l("Mật khẩu phải có cả chữ và số."))
    return problems
