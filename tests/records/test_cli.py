"""`flask records verify` (credential file or QR text, local keys or a saved JWKS) and
`flask records export-xapi`."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.records import credentials, services, signing
from app.records.models import CompletionRecord
from tests.records.conftest import (
    COURSE_TITLE,
    HOLDER,
    HOLDER_EMAIL,
    HOLDER_PHONE,
    SITE,
    add_assessment,
    add_attempt,
    complete,
    mark_all_lessons,
)
from tests.records.test_credentials import tamper


@pytest.fixture
def record(world, course) -> CompletionRecord:
    return complete(world.learner, course)


@pytest.fixture
def credential_file(client, record, tmp_path):
    path = tmp_path / "chung-nhan.json"
    path.write_bytes(client.get(f"/verify/{record.verification_code}.json").data)
    return path


def verify(runner, *args: str):
    return runner.invoke(args=["records", "verify", *args])


def test_a_downloaded_credential_verifies(runner, record, credential_file):
    result = verify(runner, str(credential_file))
    assert result.exit_code == 0, result.output
    assert "CHỮ KÝ HỢP LỆ" in result.output
    assert HOLDER in result.output and COURSE_TITLE in result.output
    assert record.verification_code in result.output
    assert "còn hiệu lực" in result.output


def test_the_qr_text_verifies(runner, record):
    result = verify(runner, credentials.qr_url(record))
    assert result.exit_code == 0, result.output
    assert "mã QR" in result.output and HOLDER in result.output


def test_a_bare_vc_jwt_verifies(runner, record):
    result = verify(runner, credentials.credential_jwt(record))
    assert result.exit_code == 0, result.output


def test_a_tampered_credential_exits_1(runner, credential_file, tmp_path):
    document = json.loads(credential_file.read_text())
    document["credential"] = tamper(document["credential"],
                                    lambda c: c["vc"]["credentialSubject"].update(name="Người Khác"))
    forged = tmp_path / "gia.json"
    forged.write_text(json.dumps(document, ensure_ascii=False))
    result = verify(runner, str(forged))
    assert result.exit_code == 1
    assert "KHÔNG HỢP LỆ" in result.output and "Chữ ký không hợp lệ" in result.output


def test_a_qr_whose_url_names_another_code_exits_1(runner, world, course, record):
    other = complete(world.other_learner, course)
    token = credentials.qr_url(record).partition("#")[2]
    result = verify(runner, f"{SITE}/verify/{other.verification_code}#{token}")
    assert result.exit_code == 1 and "khác mã đã ký" in result.output


def test_offline_with_a_saved_jwks(runner, client, record, credential_file, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(client.get("/.well-known/jwks.json").data)
    result = verify(runner, str(credential_file), "--jwks", str(jwks), "--offline")
    assert result.exit_code == 0, result.output
    assert "--offline" in result.output


def test_an_unknown_key_exits_1(runner, record, credential_file, tmp_path):
    stranger = signing.generate_key(tmp_path / "other-site")
    jwks = tmp_path / "other-jwks.json"
    jwks.write_text(json.dumps({"keys": [signing.jwk(stranger)]}))
    result = verify(runner, str(credential_file), "--jwks", str(jwks))
    assert result.exit_code == 1 and "Khóa ký không xác định" in result.output


def test_a_revoked_record_exits_1_when_the_database_answers(runner, world, record,
                                                            credential_file):
    services.revoke_record(record, world.officer_a, "Cấp nhầm người")
    db.session.commit()
    result = verify(runner, str(credential_file))
    assert result.exit_code == 1
    assert "CHỮ KÝ HỢP LỆ" in result.output and "ĐÃ BỊ THU HỒI" in result.output
    assert verify(runner, str(credential_file), "--offline").exit_code == 0


def test_garbage_input_exits_1(runner, record, tmp_path):
    signing.signing_key()
    for text in ("khong-phai-token", "{không phải json", '{"a": 1}',
                 "https://example.org/khac#abc.def.ghi"):
        result = verify(runner, text)
        assert result.exit_code == 1, (text, result.output)
        assert "KHÔNG HỢP LỆ" in result.output


def test_a_binary_file_is_refused_cleanly(runner, record, tmp_path):
    signing.signing_key()
    binary = tmp_path / "anh.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    result = verify(runner, str(binary))
    assert result.exit_code == 1 and "không phải văn bản UTF-8" in result.output


def test_no_keys_at_all_exits_1(runner, record):
    result = verify(runner, "abc.def.ghi")
    assert result.exit_code == 1 and "không có khóa công khai" in result.output


class TestXapi:
    def test_statements_for_every_standing_record(self, runner, world, course, tmp_path):
        assessment = add_assessment(course)
        mark_all_lessons(world.learner, course)
        attempt = add_attempt(world.learner, assessment, score=85, passed=True,
                              per_competency={"4.1": 100, "4.2": 75})
        from app.records import rules

        scored = rules.on_attempt_passed(attempt)
        db.session.commit()
        out = tmp_path / "xapi.jsonl"
        result = runner.invoke(args=["records", "export-xapi", str(out)])
        assert result.exit_code == 0, result.output
        lines = out.read_text(encoding="utf-8").splitlines()
        statements = [json.loads(line) for line in lines]
        assert [s["verb"]["id"] for s in statements] == [
            "http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed"]
        first = statements[0]
        assert first["actor"]["account"]["homePage"] == f"{SITE}/"
        assert first["actor"]["account"]["name"] == credentials.opaque_learner_id(world.learner.id)
        assert first["object"]["id"] == f"{SITE}/courses/khoa-hoc-mau/"
        assert first["result"] == {"completion": True, "success": True,
                                   "score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100}}
        assert first["timestamp"].endswith("Z")
        assert statements[0]["id"] != statements[1]["id"]
        assert scored.verification_code not in first["actor"]["account"]["name"]

    def test_no_phone_email_or_name_in_any_line(self, runner, world, course, tmp_path):
        complete(world.learner, course)
        out = tmp_path / "xapi.jsonl"
        runner.invoke(args=["records", "export-xapi", str(out)])
        text = out.read_text(encoding="utf-8")
        assert len(text.splitlines()) == 1  # no score: "completed" only
        for secret in (HOLDER_PHONE, HOLDER_PHONE[3:], "0" + HOLDER_PHONE[3:], HOLDER_EMAIL,
                       HOLDER, "1968"):
            assert secret not in text

    def test_revoked_records_are_left_out_and_ids_are_stable(self, runner, world, course,
                                                             tmp_path):
        kept = complete(world.learner, course)
        gone = complete(world.other_learner, course)
        services.revoke_record(gone, world.officer_a, "Cấp nhầm người")
        db.session.commit()
        runs = []
        for name in ("a.jsonl", "b.jsonl"):
            runner.invoke(args=["records", "export-xapi", str(tmp_path / name)])
            runs.append((tmp_path / name).read_text(encoding="utf-8"))
        assert runs[0] == runs[1]
        statement = json.loads(runs[0])
        assert statement["actor"]["account"]["name"] == credentials.opaque_learner_id(kept.user_id)

    def test_stdout(self, runner, world, course):
        complete(world.learner, course)
        result = runner.invoke(args=["records", "export-xapi", "-"])
        assert result.exit_code == 0
        assert '"verb"' in result.output
