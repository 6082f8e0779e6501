"""Unit import: validation before writing, idempotency, updates in place, path rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit import AuditLog
from app.auth.models import RoleGrant
from app.extensions import db
from app.orgs.models import Unit
from app.orgs.services import import_units, normalize_kind, parse_unit_csv, vietnamese_key
from tests.factories import make_user

CONTENT = Path(__file__).resolve().parents[2] / "content" / "orgs"
NATIONAL = Path("/work/shared/research/vn_units_2025.csv")
HEADER = "code,name,kind,parent_code,group\n"


def unit(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def unit_count() -> int:
    return db.session.scalar(select(func.count(Unit.id)))


def load(text: str):
    rows, errors = parse_unit_csv(text)
    assert errors == []
    report = import_units(rows)
    db.session.commit()
    return report


def errors_of(text: str) -> list[str]:
    """The reasons, as ``line N: reason``, from parsing and validating ``text``."""
    rows, errors = parse_unit_csv(text)
    if errors:
        return [str(e) for e in errors]
    report = import_units(rows)
    db.session.rollback()
    return [str(e) for e in report.errors]


def write(tmp_path, text: str, name: str = "units.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


class TestDongNaiFiles:
    def test_shipped_file_has_the_province_and_its_95_communes(self, app):
        report = load((CONTENT / "dong-nai.csv").read_text(encoding="utf-8"))
        assert (report.created, report.updated, report.unchanged) == (96, 0, 0)
        kinds = dict(db.session.execute(
            select(Unit.kind, func.count()).group_by(Unit.kind)).all())
        assert kinds == {"province": 1, "phuong": 23, "xa": 72}
        groups = dict(db.session.execute(
            select(Unit.unit_group, func.count()).where(Unit.kind != "province")
            .group_by(Unit.unit_group)).all())
        assert groups == {"I": 23, "II": 72}
        province = unit("75")
        assert province.path == f"/{province.id}/" and province.depth == 0
        dak_lua = unit("26119")
        assert dak_lua.full_name == "Xã Đak Lua"
        assert dak_lua.path == f"/{province.id}/{dak_lua.id}/" and dak_lua.depth == 1

    def test_reimport_is_idempotent(self, app):
        text = (CONTENT / "dong-nai.csv").read_text(encoding="utf-8")
        load(text)
        ids = dict(db.session.execute(select(Unit.code, Unit.id)).all())
        report = load(text)
        assert (report.created, report.updated, report.unchanged) == (0, 0, 96)
        assert dict(db.session.execute(select(Unit.code, Unit.id)).all()) == ids

    def test_2026_file_updates_the_ten_new_wards_in_place(self, app):
        load((CONTENT / "dong-nai.csv").read_text(encoding="utf-8"))
        long_thanh = unit("26368")
        old_id, old_path = long_thanh.id, long_thanh.path
        member = make_user(long_thanh, role="officer", name="Cán Bộ Long Thành")
        report = load((CONTENT / "dong-nai-2026-04-30.csv").read_text(encoding="utf-8"))
        # The 10 xã that became phường, and the province that became a city (NQ 30/2026/QH16).
        assert (report.created, report.updated, report.unchanged) == (0, 11, 85)
        db.session.expire_all()
        long_thanh = unit("26368")
        assert (long_thanh.id, long_thanh.path) == (old_id, old_path)
        assert (long_thanh.kind, long_thanh.unit_group) == ("phuong", "I")
        assert long_thanh.full_name == "Phường Long Thành"
        assert member.unit_id == old_id
        grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == member.id))
        assert (grant.unit_id, grant.role) == (old_id, "officer")
        assert unit("75").full_name == "Thành phố Đồng Nai"
        counts = dict(db.session.execute(
            select(Unit.kind, func.count()).group_by(Unit.kind)).all())
        assert counts == {"city": 1, "phuong": 33, "xa": 62}

    @pytest.mark.skipif(not NATIONAL.exists(), reason="research file not on this machine")
    def test_national_layout_loads_one_province(self, app):
        rows, errors = parse_unit_csv(NATIONAL.read_text(encoding="utf-8"), provinces=["75"])
        assert errors == []
        report = import_units(rows)
        db.session.commit()
        assert report.created == 96
        assert unit("75").name == "Đồng Nai" and unit("75").kind == "province"
        assert unit("26119").parent_id == unit("75").id
        # The same units as the shipped file: loading it afterwards changes nothing.
        again = load((CONTENT / "dong-nai.csv").read_text(encoding="utf-8"))
        assert (again.created, again.updated) == (0, 0)

    def test_national_layout_makes_cities_from_the_province_name(self, app):
        text = ("code,name,kind,province_code,province_name\n"
                "00004,Ba Đình,phuong,01,Thành phố Hà Nội\n"
                "26119,Đak Lua,xa,75,Tỉnh Đồng Nai\n")
        load(text)
        assert (unit("01").name, unit("01").kind) == ("Hà Nội", "city")
        assert (unit("75").name, unit("75").kind) == ("Đồng Nai", "province")
        assert unit("00004").parent_id == unit("01").id


class TestImportRules:
    def test_parent_may_come_after_the_child(self, app):
        report = load(HEADER + "T1,Tổ CNSCĐ ấp 1,team,X1,\nX1,Xã Một,xa,P,\nP,Tỉnh Thử,province,,\n")
        assert report.created == 3
        assert unit("T1").path == f"/{unit('P').id}/{unit('X1').id}/{unit('T1').id}/"
        assert unit("T1").depth == 2

    @pytest.mark.parametrize("raw, kind", [
        ("phuong", "phuong"), ("Phường", "phuong"), ("XÃ", "xa"), ("tỉnh", "province"),
        ("Tổ", "team"), ("dac_khu", "dac_khu"), ("Đặc khu", "dac_khu"), ("Thành phố", "city"),
        ("thon", None), ("", None),
    ])
    def test_kinds_in_english_or_vietnamese(self, raw, kind):
        assert normalize_kind(raw) == kind

    def test_vietnamese_dictionary_order(self):
        names = ["Xuân Lộc", "Đak Lua", "Dầu Giây", "Tam Hiệp", "Tà Lài", "Ăn Xổi", "An Viễn",
                 "Bình Ân", "Bình An", "Đăk Ơ"]
        assert sorted(names, key=vietnamese_key) == [
            "An Viễn", "Ăn Xổi", "Bình An", "Bình Ân", "Dầu Giây", "Đak Lua", "Đăk Ơ",
            "Tà Lài", "Tam Hiệp", "Xuân Lộc"]

    def test_group_is_derived_from_kind_when_blank(self, app):
        load(HEADER + "P,Thử,tỉnh,,\nA,Phường A,phường,P,\nB,Xã B,xã,P,\nC,Đặc khu C,dac_khu,P,\n"
             "T,Tổ T,tổ,A,\nD,Xã D,xa,P,I\n")
        assert [unit(c).unit_group for c in "PABCTD"] == [None, "I", "II", "II", None, "I"]

    def test_names_are_trimmed_and_nfc(self, app):
        load(HEADER + "P,  Bi\u0065\u0302\u0300n   Hòa ,province,,\n")
        assert unit("P").name == "Biền Hòa"

    def test_bom_and_semicolons_are_read(self, app, runner, tmp_path):
        path = write(tmp_path, "code;name;kind;parent_code;group\nP;Thử;province;;\n", bom=True)
        result = runner.invoke(args=["units", "import", str(path)])
        assert result.exit_code == 0, result.output
        assert unit("P").name == "Thử"

    def test_rename_and_move_update_in_place(self, app):
        load(HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,P,\nB,Xã B,xa,P,\nT,Tổ T,team,A,\n")
        team_id = unit("T").id
        report = load(HEADER + "T,Tổ T mới,team,B,\n")
        assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
        team = unit("T")
        assert team.id == team_id and team.name == "Tổ T mới"
        assert team.path == f"/{unit('P').id}/{unit('B').id}/{team_id}/"
        assert unit_count() == 4


class TestReparenting:
    def test_moving_a_unit_rewrites_its_whole_subtree(self, app):
        load(HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,P,\nB,Xã B,xa,P,\n"
             "T,Tổ T,team,A,\nT1,Tổ con,team,T,\nT2,Tổ cháu,team,T1,\n")
        p, b = unit("P"), unit("B")
        report = load(HEADER + "T,Tổ T,team,B,\n")
        assert (report.updated, report.moved) == (1, 2)
        db.session.expire_all()
        t, t1, t2 = unit("T"), unit("T1"), unit("T2")
        assert t.path == f"/{p.id}/{b.id}/{t.id}/"
        assert t1.path == f"/{p.id}/{b.id}/{t.id}/{t1.id}/" and t1.depth == 3
        assert t2.path == f"/{p.id}/{b.id}/{t.id}/{t1.id}/{t2.id}/" and t2.depth == 4
        assert not unit("A").children

    def test_moving_to_the_root_and_members_follow(self, app):
        load(HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,P,\nT,Tổ T,team,A,\n")
        member = make_user(unit("T"), name="Người Trong Tổ")
        load(HEADER + "A,Xã A,xa,,\n")
        db.session.expire_all()
        a, t = unit("A"), unit("T")
        assert (a.path, a.depth) == (f"/{a.id}/", 0)
        assert (t.path, t.depth) == (f"/{a.id}/{t.id}/", 1)
        assert member.unit.is_within(a) and not member.unit.is_within(unit("P"))


class TestImportErrors:
    def test_unknown_parent(self, app):
        assert errors_of(HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,ZZZ,\n") == [
            "line 3: Không tìm thấy đơn vị cha mã “ZZZ” (không có trong tệp và trong cơ sở dữ liệu)."]
        assert unit_count() == 0

    def test_parent_found_in_the_database(self, app):
        load(HEADER + "P,Tỉnh,province,,\n")
        report = load(HEADER + "A,Xã A,xa,P,\n")
        assert report.created == 1 and unit("A").parent_id == unit("P").id

    def test_cycle_within_the_file(self, app):
        errors = errors_of(HEADER + "A,Xã A,xa,B,\nB,Xã B,xa,C,\nC,Xã C,xa,A,\n")
        assert errors == ["line 2: Vòng lặp cha–con: A → B → C → A",
                          "line 3: Vòng lặp cha–con: B → C → A → B",
                          "line 4: Vòng lặp cha–con: C → A → B → C"]
        assert unit_count() == 0

    def test_unit_cannot_be_its_own_parent(self, app):
        assert errors_of(HEADER + "A,Xã A,xa,A,\n") == [
            "line 2: Đơn vị không thể là đơn vị cha của chính nó."]

    def test_cycle_through_the_database(self, app):
        load(HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,P,\nT,Tổ T,team,A,\n")
        # Putting A under its own team would close a loop through a row not in this file.
        errors = errors_of(HEADER + "A,Xã A,xa,T,\n")
        assert errors == ["line 2: Vòng lặp cha–con: A → T → A"]
        assert unit("A").parent_id == unit("P").id

    def test_duplicate_codes(self, app):
        errors = errors_of(HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,P,\nA,Xã A bis,xa,P,\n")
        assert errors == ["line 4: Mã “A” trùng với dòng 3."]
        assert unit_count() == 0

    def test_bad_kind_group_code_and_missing_name(self, app):
        errors = errors_of(HEADER + "P,Tỉnh,village,,\nX/1,Xã,xa,,\nB,,xa,,\nC,Xã C,xa,,III\n")
        assert errors == [
            "line 2: Loại đơn vị “village” không hợp lệ (dùng: province, city, phuong, xa, "
            "dac_khu, team; hoặc tỉnh, phường, xã, tổ).",
            "line 3: Mã “X/1” không hợp lệ: tối đa 32 ký tự, chỉ gồm chữ không dấu, số, "
            "dấu chấm, gạch ngang, gạch dưới.",
            "line 4: Thiếu tên đơn vị (cột name).",
            "line 5: Nhóm “III” không hợp lệ (I, II hoặc để trống).",
        ]

    def test_one_bad_row_writes_nothing(self, app):
        load(HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,P,\n")
        errors = errors_of(HEADER + "A,Xã A đổi tên,xa,P,\nN,Xã mới,xa,P,\nBAD,Xã hỏng,thôn,P,\n")
        assert len(errors) == 1 and errors[0].startswith("line 4:")
        db.session.expire_all()
        assert unit("A").name == "Xã A" and unit("N") is None

    @pytest.mark.parametrize("text, message", [
        ("", "line 1: Tệp rỗng"),
        ("\ufeff", "line 1: Tệp rỗng"),
        ("   \n\n", "line 1: Tệp rỗng"),
        (HEADER, "line 1: Tệp không có dòng dữ liệu nào."),
        (HEADER + ",,,,\n", "line 1: Tệp không có dòng dữ liệu nào."),
        ("ma,ten\n1,2\n", "line 1: Thiếu cột: code, name, kind."),
    ])
    def test_empty_or_headless_files(self, app, text, message):
        errors = errors_of(text)
        assert len(errors) == 1 and errors[0].startswith(message)

    def test_empty_row_list(self, app):
        assert [str(e) for e in import_units([]).errors] == [
            "line 1: Tệp không có dòng dữ liệu nào."]

    def test_province_filter_needs_the_national_layout(self, app):
        rows, errors = parse_unit_csv(HEADER + "P,Tỉnh,province,,\n", provinces=["75"])
        assert rows == [] and [e.line for e in errors] == [1]


class TestCommand:
    def test_import_reports_counts_and_is_audited(self, app, runner, tmp_path):
        path = write(tmp_path, HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,P,\n", name="thu.csv")
        result = runner.invoke(args=["units", "import", str(path)])
        assert result.exit_code == 0, result.output
        assert "tạo mới 2, cập nhật 0, không đổi 0" in result.output
        result = runner.invoke(args=["units", "import", str(path)])
        assert "tạo mới 0, cập nhật 0, không đổi 2" in result.output
        entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "units.import"))
        assert [(e.target, e.details["created"]) for e in entries] == [("thu.csv", 2), ("thu.csv", 0)]

    def test_errors_exit_1_with_line_numbers_and_write_nothing(self, app, runner, tmp_path):
        path = write(tmp_path, HEADER + "P,Tỉnh,province,,\nA,Xã A,xa,NOPE,\nA,Xã A,xa,P,\n")
        result = runner.invoke(args=["units", "import", str(path)])
        assert result.exit_code == 1
        assert "line 3: Không tìm thấy đơn vị cha mã “NOPE”" in result.stderr
        assert "line 4: Mã “A” trùng với dòng 3." in result.stderr
        assert unit_count() == 0
        assert db.session.scalar(select(func.count(AuditLog.id))) == 0

    def test_file_that_is_not_utf8(self, app, runner, tmp_path):
        path = tmp_path / "windows.csv"
        path.write_bytes(HEADER.encode() + b"P,H\xf2a,province,,\n")  # "Hòa" in Windows-1258
        result = runner.invoke(args=["units", "import", str(path)])
        assert result.exit_code == 1
        assert "line 1: tệp không phải văn bản UTF-8" in result.stderr

    def test_national_file_with_province_option(self, app, runner, tmp_path):
        path = write(tmp_path, "code,name,kind,province_code,province_name\n"
                               "00004,Ba Đình,phuong,01,Thành phố Hà Nội\n"
                               "26119,Đak Lua,xa,75,Tỉnh Đồng Nai\n")
        result = runner.invoke(args=["units", "import", "--province", "75", str(path)])
        assert result.exit_code == 0, result.output
        assert unit("26119") is not None and unit("00004") is None and unit("01") is None
        result = runner.invoke(args=["units", "import", "--province", "99", str(path)])
        assert result.exit_code == 1 and "tỉnh mã 99" in result.stderr
