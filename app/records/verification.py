"""Checking a credential or a QR text offline: what ``flask records verify`` runs.

Accepted input: the JSON downloaded from /verify/<code>.json, a bare VC-JWT, or the text of
a QR code (``<site>/verify/<code>#<token>``). The signature is checked against public keys
given by the caller (the local key directory or a saved JWKS); the revocation status is a
separate, online question answered from the database by ``record_status``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from app.extensions import db
from app.records.models import CompletionRecord
from app.records.signing import InvalidToken, verify_compact


@dataclass
class Verdict:
    """The outcome of a signature check and what the signed claims say."""

    kind: str  # "credential" (VC-JWT) | "qr" (QR token)
    kid: str
    code: str
    claims: dict[str, Any]
    summary: dict[str, str] = field(default_factory=dict)


def extract_token(text: str) -> tuple[str, str | None]:
    """(compact JWS, verification code named by the URL if the input was a QR text)."""
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidToken("Tệp JSON bị hỏng, không đọc được.") from None
        token = document.get("credential") if isinstance(document, dict) else None
        if not isinstance(token, str):
            raise InvalidToken("Tệp JSON không có trường “credential” (VC-JWT).")
        return token, None
    if "#" in text:
        url, _, token = text.partition("#")
        path = urlsplit(url).path.rstrip("/")
        head, _, code = path.rpartition("/")
        if not head.endswith("/verify") or not code:
            raise InvalidToken("Địa chỉ trong mã QR không phải đường dẫn xác minh /verify/<mã>.")
        return token, code
    return text, None


def _summary_of_credential(payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        raise InvalidToken("Token không chứa chứng nhận (vc).")
    subject = vc.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    code = str(payload.get("jti") or vc.get("id") or "").rstrip("/").rpartition("/")[2]
    return code, {
        "holder": str(subject.get("name", "")),
        "course": str(achievement.get("name", "")),
        "completed": str(vc.get("validFrom", "")),
        "unit": str((subject.get("source") or {}).get("name", "")),
        "issuer": str((vc.get("issuer") or {}).get("id", "")),
    }


def _summary_of_qr(payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return str(payload.get("c", "")), {
        "holder": str(payload.get("n", "")),
        "course": str(payload.get("t", "")),
        "completed": str(payload.get("d", "")),
    }


def check(text: str, keys: dict[str, Ed25519PublicKey]) -> Verdict:
    """Verify the input's signature; raise InvalidToken with the reason when it fails."""
    token, url_code = extract_token(text)
    header, payload = verify_compact(token, keys)
    if "vc" in payload:
        kind, (code, summary) = "credential", _summary_of_credential(payload)
    elif "c" in payload:
        kind, (code, summary) = "qr", _summary_of_qr(payload)
    else:
        raise InvalidToken("Chữ ký đúng nhưng token không phải chứng nhận của Học vụ số.")
    if not code:
        raise InvalidToken("Token không ghi mã xác minh.")
    if url_code is not None and url_code != code:
        raise InvalidToken(f"Mã trong đường dẫn ({url_code}) khác mã đã ký ({code}).")
    return Verdict(kind=kind, kid=header["kid"], code=code, claims=payload, summary=summary)


def record_status(code: str) -> CompletionRecord | None:
    """The record behind a verification code (the caller reads ``revoked_at``)."""
    return db.session.scalar(select(CompletionRecord)
                             .where(CompletionRecord.verification_code == code))
