"""Display names for domain codes (roles, audiences, genders, unit kinds), translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "learner": _l("Học viên"),
    "trainer": _l("Giảng viên"),
    "officer": _l("Cán bộ quản lý"),
    "admin": _l("Quản trị viên"),
}
AUDIENCE_LABELS = {
    "citizen": _l("Người dân"),
    "civil_servant": _l("Cán bộ, công chức, viên chức"),
    "student": _l("Học sinh, sinh viên"),
    "enterprise_worker": _l("Người lao động trong doanh nghiệp"),
}
GENDER_LABELS = {"female": _l("Nữ"), "male": _l("Nam"), "other": _l("Khác")}
KIND_LABELS = {
    "province": _l("Tỉnh"),
    "city": _l("Thành phố"),
    "phuong": _l("Phường"),
    "xa": _l("Xã"),
    "dac_khu": _l("Đặc khu"),
    "team": _l("Tổ CNSCĐ"),
}

TOPIC_LABELS = {
    "ai": _l("Trí tuệ nhân tạo"),
    "dvc": _l("Dịch vụ công trực tuyến"),
    "safety": _l("An toàn số"),
    "signature": _l("Chữ ký số"),
    "other": _l("Kỹ năng số"),
}


def topic_label(code: str) -> str:
    return str(TOPIC_LABELS.get(code, code))


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def audience_label(code: str) -> str:
    return str(AUDIENCE_LABELS.get(code, code))


def gender_label(code: str | None) -> str:
    return str(GENDER_LABELS.get(code, "")) if code else ""


def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))
