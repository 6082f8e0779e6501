"""Signed forms of a completion record: the Open Badges 3.0 VC-JWT and the QR-code token.

The VC-JWT (``GET /verify/<code>.json``) is an OpenBadgeCredential secured as a JWS with
EdDSA; any JOSE library checks it against ``/.well-known/jwks.json``. It is signed from the
record as issued and never changes with later events, so revocation is reported next to
it: the JSON document is ``{"credential": <VC-JWT>, "status": "valid"|"revoked",
"revoked": bool, "revokedAt": ISO date-time|null, ...}`` (see ``credential_document``).

The QR token is a second, much smaller JWS after the ``#`` of the verification URL: the
browser never sends the fragment, so scanning simply opens the page, while anyone holding
the public key can check a printed certificate offline. Its claims are short on purpose
(a phone camera must read the code off paper): ``c`` verification code, ``n`` holder's
name, ``t`` course title, ``d`` completion date (YYYY-MM-DD, Vietnam time); the key id is
in the protected header.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.courses.models import Course, CourseVersion
from app.extensions import db
from app.orgs.models import Unit
from app.records.models import CompletionRecord
from app.records.signing import sign_compact, signing_key

VC_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
QR_MAX_BYTES = 400  # the whole QR text; a denser code is harder to read off paper
QR_MIN_CHARS = 24  # name and title are never shortened below this in the QR token


def site_url() -> str:
    """SITE_URL without a trailing slash: the base of every absolute URL we hand out."""
    return str(current_app.config.get("SITE_URL") or "http://127.0.0.1:5000").rstrip("/")


def verification_url(code: str) -> str:
    return f"{site_url()}/verify/{code}"


def opaque_learner_id(user_id: int) -> str:
    """A stable id for a learner that reveals nothing (HMAC of the user id with SECRET_KEY):
    the credential subject and the xAPI actor, never a phone number or email."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"learner:{user_id}".encode(),
                      hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4).hex


def as_utc(value: datetime) -> datetime:
    """Records store aware UTC; SQLite hands them back naive."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local_date(value: datetime) -> date:
    """The calendar day in the app's time zone (Vietnam): what a certificate prints."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    return as_utc(value).astimezone(zone).date()


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class RecordContext:
    """What a credential says besides the record itself: course slug, summary, issuing unit."""

    course_slug: str
    summary: str
    unit_name: str
    unit_code: str
    competencies: list[str] = field(default_factory=list)


def record_context(record: CompletionRecord) -> RecordContext:
    slug, summary = db.session.execute(
        select(Course.slug, CourseVersion.summary)
        .join(CourseVersion, CourseVersion.course_id == Course.id)
        .where(CourseVersion.id == record.course_version_id)).one()
    unit = db.session.get(Unit, record.issuing_unit_id)
    return RecordContext(slug, summary or "", unit.full_name, unit.code,
                         list(record.competencies or []))


def _criteria(record: CompletionRecord) -> str:
    if record.source == "in_person":
        return ("Tham dự lớp học trực tiếp và đạt bài kiểm tra trên giấy "
                "theo điểm đạt của lớp.")
    if record.score_percent is not None:
        return "Học xong tất cả bài học của khóa và đạt bài kiểm tra cuối khóa."
    return "Học xong tất cả bài học của khóa."


def vc_claims(record: CompletionRecord, context: RecordContext) -> dict[str, Any]:
    """JWT claims of the VC-JWT: registered claims mirrored from the credential, and ``vc``."""
    site = site_url()
    credential_id = verification_url(record.verification_code)
    subject_id = f"urn:uuid:{uuid.UUID(opaque_learner_id(record.user_id))}"
    issued = iso(record.completed_at)
    achievement: dict[str, Any] = {
        "id": f"{site}/courses/{context.course_slug}/",
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": record.course_title,
        "description": context.summary or f"Khóa học “{record.course_title}” trên Học vụ số.",
        "criteria": {"narrative": _criteria(record)},
    }
    if context.competencies:
        achievement["tag"] = [f"757/QĐ-BKHCN {code}" for code in context.competencies]
    subject: dict[str, Any] = {
        "id": subject_id,
        "type": ["AchievementSubject"],
        "name": record.holder_name,
        "activityEndDate": issued,
        "achievement": achievement,
        "source": {"id": f"{site}/units/{context.unit_code}", "type": ["Profile"],
                   "name": context.unit_name},
    }
    if record.score_percent is not None:
        subject["narrative"] = f"Điểm bài kiểm tra: {record.score_percent:g}%."
    vc = {
        "@context": VC_CONTEXT,
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": f"{site}/", "type": ["Profile"], "name": "Học vụ số"},
        "validFrom": issued,
        "name": f"Chứng nhận hoàn thành khóa học: {record.course_title}",
        "credentialSubject": subject,
    }
    return {"iss": f"{site}/", "sub": subject_id, "jti": credential_id,
            "nbf": int(as_utc(record.completed_at).timestamp()),
            "iat": int(as_utc(record.completed_at).timestamp()), "vc": vc}


def credential_jwt(record: CompletionRecord, context: RecordContext | None = None) -> str:
    """The record as an OpenBadgeCredential VC-JWT, signed with the newest key."""
    return sign_compact(vc_claims(record, context or record_context(record)), signing_key(),
                        typ="JWT")


def credential_document(record: CompletionRecord) -> dict[str, Any]:
    """What /verify/<code>.json returns: the VC-JWT and the record's status today."""
    return {
        "credential": credential_jwt(record),
        "status": "revoked" if record.is_revoked else "valid",
        "revoked": record.is_revoked,
        "revokedAt": iso(record.revoked_at),
        "verificationUrl": verification_url(record.verification_code),
        "jwks": f"{site_url()}/.well-known/jwks.json",
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def qr_claims(record: CompletionRecord, name_limit: int = 200,
              title_limit: int = 200) -> dict[str, str]:
    return {"c": record.verification_code, "n": _clip(record.holder_name, name_limit),
            "t": _clip(record.course_title, title_limit),
            "d": local_date(record.completed_at).isoformat()}


def qr_token(record: CompletionRecord) -> str:
    """The compact JWS carried after ``#`` in the QR code. Names and titles that would push
    the URL past QR_MAX_BYTES are shortened with "…" (the course title first, then the
    name, never below QR_MIN_CHARS); the full text stays in the online record."""
    key = signing_key()
    prefix = len(verification_url(record.verification_code).encode()) + 1
    name_limit, title_limit = len(record.holder_name), len(record.course_title)
    while True:
        token = sign_compact(qr_claims(record, name_limit, title_limit), key)
        if prefix + len(token) <= QR_MAX_BYTES:
            return token
        if title_limit > QR_MIN_CHARS:
            title_limit = max(QR_MIN_CHARS, min(title_limit, len(record.course_title)) - 4)
        elif name_limit > QR_MIN_CHARS:
            name_limit = max(QR_MIN_CHARS, min(name_limit, len(record.holder_name)) - 4)
        else:
            return token  # a very long site address: the code still scans, just denser


def qr_url(record: CompletionRecord) -> str:
    """What the QR code holds: the public verification URL, then ``#`` and the token."""
    return f"{verification_url(record.verification_code)}#{qr_token(record)}"
