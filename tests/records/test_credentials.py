"""Signed credentials: the VC-JWT checked with a standard JOSE library (PyJWT), key files,
rotation, and the QR code decoded back to the verification URL."""

from __future__ import annotations

import base64
import io
import json
import re
import stat

import jwt
import pytest
import zxingcpp
from PIL import Image

from app.records import certificates, credentials, signing
from app.records.models import CompletionRecord
from tests.records.conftest import (
    COURSE_TITLE,
    HOLDER,
    HOLDER_EMAIL,
    HOLDER_PHONE,
    SITE,
    complete,
    login,
)

EXPECTED_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


@pytest.fixture
def record(world, course) -> CompletionRecord:
    return complete(world.learner, course)


def fetch_document(client, code: str) -> dict:
    response = client.get(f"/verify/{code}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def jose_keys(client) -> jwt.PyJWKSet:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return jwt.PyJWKSet.from_dict(response.get_json())


def jose_decode(token: str, keyset: jwt.PyJWKSet) -> dict:
    """What any relying party does: pick the key by kid, check EdDSA, read the claims."""
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(token, keyset[kid].key, algorithms=["EdDSA"],
                      options={"verify_aud": False})


def tamper(token: str, change) -> str:
    """Re-encode the payload after ``change`` edits it, keeping the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    forged = signing.b64url(json.dumps(claims, ensure_ascii=False).encode())
    return f"{header}.{forged}.{signature}"


def test_credential_verifies_with_pyjwt_against_the_published_keys(client, record):
    document = fetch_document(client, record.verification_code)
    assert document["status"] == "valid" and document["revoked"] is False
    token = document["credential"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT" and header["kid"]
    claims = jose_decode(token, jose_keys(client))
    vc = claims["vc"]
    url = f"{SITE}/verify/{record.verification_code}"
    assert claims["iss"] == f"{SITE}/" and claims["jti"] == url
    assert claims["nbf"] <= claims["iat"] + 1
    assert vc["@context"] == EXPECTED_CONTEXT
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == url
    assert vc["issuer"] == {"id": f"{SITE}/", "type": ["Profile"], "name": "Học vụ số"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", vc["validFrom"])
    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["name"] == HOLDER
    assert subject["id"] == claims["sub"] and subject["id"].startswith("urn:uuid:")
    achievement = subject["achievement"]
    assert achievement["id"] == f"{SITE}/courses/khoa-hoc-mau/"
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == COURSE_TITLE
    assert achievement["description"] and achievement["criteria"]["narrative"]
    assert subject["source"]["name"] == "Tổ CNSCĐ khu phố 1"


def test_credential_never_carries_contact_details(client, record):
    document = fetch_document(client, record.verification_code)
    text = json.dumps(document, ensure_ascii=False) + json.dumps(
        jwt.decode(document["credential"], options={"verify_signature": False}),
        ensure_ascii=False)
    for secret in (HOLDER_PHONE, HOLDER_PHONE[3:], HOLDER_EMAIL, "1968"):
        assert secret not in text


@pytest.mark.parametrize("change", [
    lambda c: c["vc"]["credentialSubject"].update(name="Kẻ Mạo Danh"),
    lambda c: c["vc"]["credentialSubject"]["achievement"].update(name="Khóa khác"),
    lambda c: c.update(nbf=c["nbf"] - 86400),
])
def test_a_tampered_credential_fails_with_pyjwt(client, record, change):
    document = fetch_document(client, record.verification_code)
    keyset = jose_keys(client)
    forged = tamper(document["credential"], change)
    with pytest.raises(jwt.InvalidSignatureError):
        jose_decode(forged, keyset)


def test_a_credential_signed_by_another_key_fails(client, record, tmp_path):
    stranger = signing.generate_key(tmp_path / "stranger")
    claims = jwt.decode(fetch_document(client, record.verification_code)["credential"],
                        options={"verify_signature": False})
    forged = signing.sign_compact(claims, signing.SigningKey(
        jose_keys(client).keys[0].key_id, stranger.public_key, stranger.private_key), typ="JWT")
    with pytest.raises(jwt.InvalidSignatureError):
        jose_decode(forged, jose_keys(client))


def test_rotation_keeps_old_credentials_verifiable(app, client, record):
    old_token = fetch_document(client, record.verification_code)["credential"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_key = signing.generate_key()
    new_token = fetch_document(client, record.verification_code)["credential"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid != old_kid
    keyset = jose_keys(client)
    assert {k.key_id for k in keyset.keys} == {old_kid, new_key.kid}
    assert jose_decode(old_token, keyset)["jti"] == jose_decode(new_token, keyset)["jti"]


def test_key_files_and_kids(app, records_config):
    first = signing.generate_key()
    second = signing.generate_key()
    directory = signing.key_dir()
    assert str(directory) == records_config["SIGNING_KEY_DIR"]
    for key in (first, second):
        assert re.fullmatch(r"\d{3}-\d{8}-[0-9a-f]{8}", key.kid)
        private = directory / f"{key.kid}.pem"
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in private.read_bytes()
        assert b"PUBLIC KEY" in (directory / f"{key.kid}.pub.pem").read_bytes()
    assert first.kid.startswith("001-") and second.kid.startswith("002-")
    assert signing.signing_key().kid == second.kid
    # A retired key whose private half was deleted stays published, and never signs.
    (directory / f"{second.kid}.pem").unlink()
    assert signing.signing_key().kid == first.kid
    assert [k["kid"] for k in signing.jwks()["keys"]] == [first.kid, second.kid]
    jwk = signing.jwks()["keys"][0]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk


def test_flask_keys_generate(runner, records_config):
    result = runner.invoke(args=["keys", "generate"])
    assert result.exit_code == 0, result.output
    kid = re.search(r"Đã tạo khóa (\S+)", result.output).group(1)
    assert kid in [k.kid for k in signing.load_keys()]
    listing = runner.invoke(args=["keys", "list"])
    assert f"{kid}  đang ký" in listing.output


def test_production_without_a_key_answers_503(app, client, record):
    app.config["APP_ENV"] = "production"
    response = client.get(f"/verify/{record.verification_code}.json")
    assert response.status_code == 503
    assert "flask keys generate" in response.text
    assert signing.load_keys() == []  # nothing generated behind the operator's back


def test_jws_helper_refuses_garbage(app):
    key = signing.generate_key()
    keys = {key.kid: key.public_key}
    token = signing.sign_compact({"c": "abc"}, key)
    assert signing.verify_compact(token, keys)[1] == {"c": "abc"}
    for bad in ("", "a.b", token + "x", token.replace(".", "!", 1), "e30.e30.AAAA"):
        with pytest.raises(signing.InvalidToken):
            signing.verify_compact(bad, keys)


class TestQRCode:
    def test_qr_decodes_to_the_verification_url_with_a_signed_token(self, client, world, record):
        login(client, world.learner)
        page = client.get(f"/certificates/{record.verification_code}")
        assert page.status_code == 200
        data_uri = re.search(r'src="data:image/png;base64,([^"]+)"', page.text).group(1)
        image = Image.open(io.BytesIO(base64.b64decode(data_uri)))
        decoded = zxingcpp.read_barcodes(image)
        assert len(decoded) == 1
        text = decoded[0].text
        url, _, token = text.partition("#")
        assert url == f"{SITE}/verify/{record.verification_code}"
        claims = jose_decode(token, jose_keys(client))
        assert claims == {"c": record.verification_code, "n": HOLDER, "t": COURSE_TITLE,
                          "d": credentials.local_date(record.completed_at).isoformat()}
        assert jwt.get_unverified_header(token)["kid"] == signing.signing_key().kid

    def test_qr_text_fits_400_bytes_for_usual_names(self, app, world, course):
        world.learner.full_name = "Nguyễn Thị Hồng Nhung"
        record = complete(world.learner, course)
        record.course_title = "Dịch vụ công trực tuyến"
        text = credentials.qr_url(record)
        assert len(text.encode()) <= 400, len(text.encode())
        claims = signing.read_compact(text.partition("#")[2])[1]
        assert claims["n"] == "Nguyễn Thị Hồng Nhung" and claims["t"] == "Dịch vụ công trực tuyến"

    def test_very_long_texts_are_shortened_to_fit(self, app, world, course):
        world.learner.full_name = "Tôn Nữ Thị Phương Hoàng Lan Anh Nguyễn Phước Bảo Châu Ngọc Diễm"
        record = complete(world.learner, course)
        record.course_title = "Dịch vụ công trực tuyến và chữ ký số cho Tổ công nghệ số cộng đồng"
        text = credentials.qr_url(record)
        assert len(text.encode()) <= 400, len(text.encode())
        claims = signing.read_compact(text.partition("#")[2])[1]
        assert claims["t"].endswith("…") and claims["t"].startswith("Dịch vụ công trực tuyến")
        assert claims["n"].startswith("Tôn Nữ Thị Phương Hoàng")
        image = Image.open(io.BytesIO(certificates.qr_png(text)))
        assert zxingcpp.read_barcodes(image)[0].text == text
