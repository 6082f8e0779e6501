"""Ed25519 signing keys and a small JWS (compact serialization, EdDSA) helper.

Keys live as PEM files in SIGNING_KEY_DIR (default instance/keys), never in git:
``<kid>.pem`` is the private key (mode 600) and ``<kid>.pub.pem`` its public half. A kid
reads ``NNN-YYYYMMDD-hhhhhhhh``: a sequence number (so the newest key sorts last), the
day it was made and the start of the SHA-256 of the public key. Rotation is generating
again: the newest key signs from then on and every public key stays published in the
JWKS, so credentials signed earlier keep verifying. An operator may delete an old
private key; keeping its ``.pub.pem`` keeps its credentials checkable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

ALGORITHM = "EdDSA"
_KID = re.compile(r"^(\d{3,})-(\d{8})-([0-9a-f]{8})$")


class SigningKeyMissing(RuntimeError):
    """No private key to sign with: an operator must run ``flask keys generate``."""


class InvalidToken(ValueError):
    """A token that does not verify; ``reason`` says why in Vietnamese, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None = None


# --- base64url and JWS -------------------------------------------------------------------

def b64url(data: bytes) -> str:
    """base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of ``b64url``; refuses padding and characters outside the alphabet."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text or "") or len(text) % 4 == 1:
        raise InvalidToken("Token không đúng định dạng base64url.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("Token không đúng định dạng base64url.") from None


def _json_bytes(value: dict[str, Any]) -> bytes:
    # Compact and UTF-8 (not \\u escapes): Vietnamese names stay short in a QR code.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign_compact(payload: dict[str, Any], key: SigningKey, typ: str | None = None) -> str:
    """A JWS compact serialization of ``payload`` signed with ``key`` (EdDSA, kid in header)."""
    if key.private_key is None:
        raise SigningKeyMissing(f"Khóa {key.kid} không có phần bí mật để ký.")
    header: dict[str, Any] = {"alg": ALGORITHM, "kid": key.kid}
    if typ:
        header["typ"] = typ
    signing_input = f"{b64url(_json_bytes(header))}.{b64url(_json_bytes(payload))}"
    signature = key.private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


def read_compact(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, WITHOUT checking the signature."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3:
        raise InvalidToken("Token phải có đúng ba phần ngăn bởi dấu chấm (JWS compact).")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidToken("Phần đầu hoặc phần nội dung của token không phải JSON.") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidToken("Phần đầu hoặc phần nội dung của token không phải JSON.")
    return header, payload


def verify_compact(token: str, public_keys: dict[str, Ed25519PublicKey]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a token whose EdDSA signature checks against ``public_keys``."""
    header, payload = read_compact(token)
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"Thuật toán ký không được chấp nhận: {header.get('alg')!r}.")
    kid = header.get("kid")
    key = public_keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken(f"Khóa ký không xác định (kid {kid!r}).")
    signing_input, _, signature = token.strip().rpartition(".")
    try:
        key.verify(b64url_decode(signature), signing_input.encode("ascii"))
    except InvalidSignature:
        raise InvalidToken("Chữ ký không hợp lệ: nội dung đã bị sửa hoặc không do khóa này ký.") from None
    return header, payload


# --- Keys on disk --------------------------------------------------------------------------

def key_dir() -> Path:
    """SIGNING_KEY_DIR, or instance/keys when it is not set."""
    configured = current_app.config.get("SIGNING_KEY_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "keys"


def _public_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_keys(directory: Path | None = None) -> list[SigningKey]:
    """Every key in the directory, oldest first (private halves where present)."""
    directory = directory or key_dir()
    keys = []
    for pub_file in sorted(directory.glob("*.pub.pem")) if directory.is_dir() else []:
        kid = pub_file.name.removesuffix(".pub.pem")
        if not _KID.match(kid):
            continue
        public_key = serialization.load_pem_public_key(pub_file.read_bytes())
        if not isinstance(public_key, Ed25519PublicKey):
            continue
        private_key = None
        private_file = directory / f"{kid}.pem"
        if private_file.exists():
            loaded = serialization.load_pem_private_key(private_file.read_bytes(), password=None)
            if isinstance(loaded, Ed25519PrivateKey):
                private_key = loaded
        keys.append(SigningKey(kid, public_key, private_key))
    return sorted(keys, key=lambda k: (int(_KID.match(k.kid).group(1)), k.kid))


def generate_key(directory: Path | None = None) -> SigningKey:
    """Create a new key pair; it becomes the one that signs. Private file mode 600."""
    directory = directory or key_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    existing = load_keys(directory)
    sequence = max((int(_KID.match(k.kid).group(1)) for k in existing), default=0) + 1
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    digest = hashlib.sha256(_public_raw(public_key)).hexdigest()[:8]
    kid = f"{sequence:03d}-{datetime.now(UTC):%Y%m%d}-{digest}"
    private_pem = private_key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    # O_EXCL: never overwrite a key; 0o600 from the start, not chmod after writing.
    fd = os.open(directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    (directory / f"{kid}.pub.pem").write_bytes(public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return SigningKey(kid, public_key, private_key)


def signing_key() -> SigningKey:
    """The newest key with a private half. Outside production one is made on first need, so a
    demo works out of the box; in production a missing key is an operator's job."""
    usable = [k for k in load_keys() if k.private_key is not None]
    if usable:
        return usable[-1]
    if current_app.config.get("APP_ENV") == "production":
        raise SigningKeyMissing(
            f"Chưa có khóa ký trong {key_dir()}. Hãy chạy: flask keys generate")
    key = generate_key()
    current_app.logger.warning("records: no signing key found, generated %s in %s",
                               key.kid, key_dir())
    return key


def public_keys(directory: Path | None = None) -> dict[str, Ed25519PublicKey]:
    return {k.kid: k.public_key for k in load_keys(directory)}


def jwk(key: SigningKey) -> dict[str, str]:
    """The public key as an OKP/Ed25519 JWK (RFC 8037)."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(_public_raw(key.public_key)),
            "kid": key.kid, "alg": ALGORITHM, "use": "sig"}


def jwks(directory: Path | None = None) -> dict[str, list[dict[str, str]]]:
    """Every public key, old ones included: what /.well-known/jwks.json publishes."""
    return {"keys": [jwk(k) for k in load_keys(directory)]}


def keys_from_jwks(document: dict[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Public keys by kid from a saved JWKS (for offline verification); ignores other kinds."""
    keys = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519" or not entry.get("kid"):
            continue
        try:
            keys[entry["kid"]] = Ed25519PublicKey.from_public_bytes(b64url_decode(entry["x"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            continue
    return keys
