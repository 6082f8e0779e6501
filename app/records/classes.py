"""In-person classes: trainers record who came and their paper-test scores; those present
with a score at or above the class's pass mark get a completion record (source in_person,
the class's trainer as issuer, the class's unit as issuing unit).

Who may: anyone allowed ``courses.author`` on the class's unit (trainers and admins of that
unit or above). Attendees come from the class unit's subtree only. A row whose record is
issued is locked: records never change; a mistake is undone by revoking the record.
Scores are percents 0..100; a paper marked out of 10 or 20 may be typed as "8,5/10".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import abort, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from app.auth.models import User
from app.auth.permissions import can, scope_clause
from app.auth.phone import InvalidPhone, normalize_phone
from app.auth.services import normalize_email
from app.courses.models import Course
from app.courses.services import published_version, published_versions_stmt
from app.extensions import db
from app.orgs.models import Unit
from app.orgs.services import members_query
from app.orgs.tabular import Column, Table, TableSpec, match_key
from app.records.models import ClassAttendance, CompletionRecord, InPersonClass
from app.records.rules import create_record, new_verification_code
from app.text import nfc

ACTION = "courses.author"
EARLIEST = date(2020, 1, 1)
SEARCH_LIMIT = 20

SHEET_SPEC = TableSpec(
    columns=(
        Column("phone", _l("Số điện thoại"),
               ("Số điện thoại", "Điện thoại", "SĐT", "Số ĐT", "ĐT", "Di động", "Phone number",
                "Mobile")),
        Column("email", _l("Email"), ("Email", "E-mail", "Thư điện tử")),
        Column("score", _l("Điểm"), ("Điểm", "Điểm kiểm tra", "Điểm bài kiểm tra", "Điểm thi",
                                     "Kết quả", "Score", "Điểm (%)")),
        Column("present", _l("Có mặt"), ("Có mặt", "Tham dự", "Điểm danh", "Present",
                                         "Attended")),
        Column("full_name", _l("Họ và tên"), ("Họ và tên", "Họ tên", "Name", "Full name")),
    ),
    one_of=(("phone", "email"),),
)
SHEET_COLUMNS = tuple(c.key for c in SHEET_SPEC.columns)
_YES = {match_key(t) for t in ("có", "x", "1", "yes", "y", "true", "đúng", "có mặt", "đi học")}
_NO = {match_key(t) for t in ("không", "0", "no", "n", "false", "vắng", "vắng mặt", "nghỉ")}
_FRACTION = re.compile(r"^(\d+(?:[.,]\d+)?)\s*/\s*(\d+(?:[.,]\d+)?)$")
_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?)\s*%?$")


class ClassError(ValueError):
    """A refused class operation; ``field`` names the form field the message belongs to."""

    def __init__(self, message, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass
class SheetError:
    """One refused cell of a score sheet (a file row or a row of the attendance form)."""

    row: int
    column: str
    reason: str
    value: str = ""


@dataclass
class SheetResult:
    added: int = 0
    updated: int = 0
    issued: list[CompletionRecord] = field(default_factory=list)
    errors: list[SheetError] = field(default_factory=list)

    def errors_for(self, row: int) -> bool:
        return any(e.row == row for e in self.errors)


# --- Classes -------------------------------------------------------------------------------

def classes_query(user) -> Select:
    """Classes held in units where ``user`` may run classes, newest first."""
    return (select(InPersonClass)
            .join(Unit, InPersonClass.unit_id == Unit.id)
            .where(scope_clause(user, ACTION, Unit.path))
            .order_by(InPersonClass.held_on.desc(), InPersonClass.id.desc()))


def course_titles() -> dict[int, str]:
    """Title of the current published version of every course (a few dozen at most)."""
    return {course.id: version.title
            for course, version in db.session.execute(published_versions_stmt())}


def units_by_id(ids) -> dict[int, Unit]:
    return {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(set(ids))))}


def get_class_or_404(user, class_id: int) -> InPersonClass:
    klass = db.session.get(InPersonClass, class_id)
    if klass is None or not can(user, ACTION, db.session.get(Unit, klass.unit_id)):
        abort(404)
    return klass


def parse_percent(text: str | None) -> float | None:
    """A score as typed ("85", "85,5", "85%", "8,5/10") → percent; None when blank.
    ValueError with a message for people when it cannot be a score."""
    text = (text or "").strip().replace(" ", "")
    if not text:
        return None
    fraction = _FRACTION.match(text)
    number = _NUMBER.match(text)
    if fraction:
        scored, out_of = (float(x.replace(",", ".")) for x in fraction.groups())
        if out_of <= 0 or scored > out_of:
            raise ValueError(_("Điểm dạng phân số phải có tử số không lớn hơn mẫu số (ví dụ 8,5/10)."))
        value = scored * 100 / out_of
    elif number:
        value = float(number.group(1).replace(",", "."))
    else:
        raise ValueError(_("Điểm phải là số từ 0 đến 100 (ví dụ 85) hoặc dạng 8,5/10."))
    if not 0 <= value <= 100:
        raise ValueError(_("Điểm phải từ 0 đến 100."))
    return round(value, 2)


def parse_present(text: str | None, default: bool = True) -> bool:
    """"có", "x", "1", "✓" → present; "không", "vắng", "0", "-" → absent; blank → ``default``."""
    raw = (text or "").strip()
    if not raw:
        return default
    if raw == "✓" or match_key(raw) in _YES:
        return True
    if raw == "-" or match_key(raw) in _NO:
        return False
    raise ValueError(_("Cột có mặt chỉ nhận “có” hoặc “không” (để trống là có mặt)."))


def create_class(trainer, *, course_id: int | None, unit_code: str, held_on: date | None,
                 place: str, pass_percent: float | None) -> InPersonClass:
    """A new class after checking every field; ClassError names the field that is wrong."""
    course = db.session.get(Course, course_id) if course_id else None
    if course is None or course.is_archived or published_version(course.id) is None:
        raise ClassError(_l("Chọn một khóa học đã xuất bản."), "course_id")
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or not can(trainer, ACTION, unit):
        raise ClassError(_l("Chọn đơn vị trong phạm vi bạn phụ trách."), "unit_code")
    today = local_today()
    if held_on is None:
        raise ClassError(_l("Nhập ngày học (ngày/tháng/năm)."), "held_on")
    if held_on > today:
        raise ClassError(_l("Ngày học không được sau hôm nay: hãy tạo lớp sau khi đã học."),
                         "held_on")
    if held_on < EARLIEST:
        raise ClassError(_l("Ngày học quá xa trong quá khứ; hãy kiểm tra lại năm."), "held_on")
    place = nfc(place)
    if not place:
        raise ClassError(_l("Nhập địa điểm học (ví dụ: Nhà văn hóa ấp 3)."), "place")
    if len(place) > 200:
        raise ClassError(_l("Địa điểm dài quá 200 ký tự."), "place")
    if pass_percent is None or not 0 < pass_percent <= 100:
        raise ClassError(_l("Điểm đạt phải lớn hơn 0 và không quá 100."), "pass_percent")
    klass = InPersonClass(course_id=course.id, unit_id=unit.id, trainer_id=trainer.id,
                          held_on=held_on, place=place, pass_percent=pass_percent)
    db.session.add(klass)
    db.session.flush()
    return klass


def local_today() -> date:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    return datetime.now(zone).date()


# --- Attendance ----------------------------------------------------------------------------

def attendances(klass: InPersonClass) -> list[tuple[ClassAttendance, User]]:
    return list(db.session.execute(
        select(ClassAttendance, User).join(User, ClassAttendance.user_id == User.id)
        .where(ClassAttendance.class_id == klass.id)
        .order_by(User.full_name, User.id)))


def search_roster(trainer, klass: InPersonClass, query: str | None) -> list[User]:
    """Members of the class unit's subtree matching a name (diacritics ignored) or phone,
    who are not on the list yet."""
    unit = db.session.get(Unit, klass.unit_id)
    listed = select(ClassAttendance.user_id).where(ClassAttendance.class_id == klass.id)
    stmt = members_query(trainer, unit, query, action=ACTION).where(User.id.not_in(listed))
    return list(db.session.scalars(stmt.limit(SEARCH_LIMIT)))


def roster_member(trainer, klass: InPersonClass, user_id: int) -> User | None:
    """The member if they belong to the class unit's subtree (and the trainer's scope)."""
    unit = db.session.get(Unit, klass.unit_id)
    return db.session.scalar(members_query(trainer, unit, None, action=ACTION)
                             .where(User.id == user_id))


def add_attendee(klass: InPersonClass, person: User) -> ClassAttendance:
    """Put a member on the class list (present by default); adding twice changes nothing."""
    existing = db.session.scalar(select(ClassAttendance).where(
        ClassAttendance.class_id == klass.id, ClassAttendance.user_id == person.id))
    if existing is not None:
        return existing
    attendance = ClassAttendance(class_id=klass.id, user_id=person.id, is_present=True)
    db.session.add(attendance)
    db.session.flush()
    return attendance


def save_sheet(klass: InPersonClass, rows: dict[int, tuple[bool, str]]) -> SheetResult:
    """Presence and scores from the attendance form, keyed by attendance id (errors carry
    that id as their row). Every row is checked first; with any error nothing is written.
    Then records are issued to those who reached the pass mark."""
    result = SheetResult()
    listed = {a.id: a for a, _u in attendances(klass)}
    planned = []
    for attendance_id, (present, score_text) in rows.items():
        attendance = listed.get(attendance_id)
        if attendance is None:
            result.errors.append(SheetError(attendance_id, "full_name",
                                            _("Người này không có trong danh sách lớp.")))
            continue
        try:
            score = parse_percent(score_text)
        except ValueError as exc:
            result.errors.append(SheetError(attendance_id, "score", str(exc), score_text))
            continue
        problem = _locked_change(attendance, present, score)
        if problem:
            result.errors.append(SheetError(attendance_id, "score", problem, score_text))
            continue
        planned.append((attendance, present, score))
    if result.errors:
        return result
    for attendance, present, score in planned:
        if attendance.record_id is None and \
                (attendance.is_present, attendance.paper_score) != (present, score):
            attendance.is_present, attendance.paper_score = present, score
            result.updated += 1
    db.session.flush()
    result.issued = issue_records(klass)
    return result


def _locked_change(attendance: ClassAttendance, present: bool, score: float | None) -> str | None:
    if attendance.record_id is None:
        return None
    if (attendance.is_present, attendance.paper_score) == (present, score):
        return None
    return _("Đã cấp chứng nhận cho người này nên không sửa được điểm; nếu nhập sai, hãy "
             "đề nghị cán bộ thu hồi chứng nhận.")


def issue_records(klass: InPersonClass) -> list[CompletionRecord]:
    """Records for everyone present who reached the pass mark and has none from this row.
    Someone who already holds a record for the course keeps it (one per person and course)."""
    version = published_version(klass.course_id)
    if version is None:
        return []
    completed_at = datetime.combine(klass.held_on, time(12, 0), _zone()).astimezone(ZoneInfo("UTC"))
    issued = []
    for attendance, user in attendances(klass):
        if attendance.record_id is not None or not attendance.is_present \
                or attendance.paper_score is None or attendance.paper_score < klass.pass_percent:
            continue
        record = create_record(CompletionRecord(
            user_id=user.id, course_id=klass.course_id, course_version_id=version.id,
            completed_at=completed_at, score_percent=attendance.paper_score,
            competencies=sorted(version.competencies or []), source="in_person",
            issuer_id=klass.trainer_id, issuing_unit_id=klass.unit_id,
            in_person_class_id=klass.id, verification_code=new_verification_code(),
            holder_name=nfc(user.full_name), course_title=version.title))
        attendance.record_id = record.id
        if record.in_person_class_id == klass.id:
            issued.append(record)
    db.session.flush()
    return issued


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")


# --- Bulk entry from a spreadsheet ---------------------------------------------------------

def import_sheet(trainer, klass: InPersonClass, table: Table) -> SheetResult:
    """Rows of phone (or email), score, present: validate all, then write all or nothing."""
    result = SheetResult()
    unit = db.session.get(Unit, klass.unit_id)
    parsed = []
    for row in table.rows:
        values = row.values

        def fail(column: str, reason, row=row, values=values) -> None:
            result.errors.append(SheetError(row.number, column, str(reason),
                                            values.get(column, "")))

        phone = email = None
        phone_text = (values.get("phone") or "").lstrip("'").strip()
        email_text = (values.get("email") or "").strip()
        if phone_text:
            try:
                phone = normalize_phone(phone_text)
            except InvalidPhone as exc:
                fail("phone", exc.reason)
        elif email_text:
            email = normalize_email(email_text)
        else:
            fail("phone", _l("Cần có số điện thoại hoặc email của học viên."))
        try:
            score = parse_percent(values.get("score"))
        except ValueError as exc:
            fail("score", exc)
            score = None
        try:
            present = parse_present(values.get("present"))
        except ValueError as exc:
            fail("present", exc)
            present = True
        parsed.append((row.number, phone, email, present, score))
    people = _people_in_unit(trainer, unit, parsed)
    current = {a.user_id: a for a, _u in attendances(klass)}
    seen: dict[int, int] = {}
    planned = []
    for number, phone, email, present, score in parsed:
        if result.errors_for(number) or (phone is None and email is None):
            continue
        column, key = ("phone", phone) if phone else ("email", email)
        person = people.get(key)
        if person is None:
            result.errors.append(SheetError(number, column, _(
                "Không có thành viên nào với thông tin này trong %(unit)s.", unit=unit.full_name),
                key))
            continue
        if person.id in seen:
            result.errors.append(SheetError(number, column, _(
                "Trùng với dòng %(row)s.", row=seen[person.id]), key))
            continue
        seen[person.id] = number
        attendance = current.get(person.id)
        problem = _locked_change(attendance, present, score) if attendance else None
        if problem:
            result.errors.append(SheetError(number, "score", problem, key))
            continue
        planned.append((person, attendance, present, score))
    if result.errors:
        result.errors.sort(key=lambda e: (e.row, SHEET_COLUMNS.index(e.column)))
        return result
    for person, attendance, present, score in planned:
        if attendance is None:
            db.session.add(ClassAttendance(class_id=klass.id, user_id=person.id,
                                           is_present=present, paper_score=score))
            result.added += 1
        elif attendance.record_id is None and \
                (attendance.is_present, attendance.paper_score) != (present, score):
            attendance.is_present, attendance.paper_score = present, score
            result.updated += 1
    db.session.flush()
    result.issued = issue_records(klass)
    return result


def _people_in_unit(trainer, unit: Unit, parsed: list) -> dict[str, User]:
    """Members of the unit's subtree named by the file, by phone and by email."""
    phones = {p[1] for p in parsed if p[1]}
    emails = {p[2] for p in parsed if p[2]}
    found: dict[str, User] = {}
    base = members_query(trainer, unit, None, action=ACTION)
    for chunk in _chunks(sorted(phones)):
        for person in db.session.scalars(base.where(User.phone.in_(chunk))):
            found[person.phone] = person
    for chunk in _chunks(sorted(emails)):
        for person in db.session.scalars(base.where(User.email.in_(chunk))):
            found[person.email] = person
    return found


def _chunks(values: list[str], size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]
