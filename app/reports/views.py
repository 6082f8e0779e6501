"""Officers' program pages: the list, the create/edit form, and the dashboard of a program.

Programs and units are loaded through app.reports.programs and app.auth.permissions, so a
program or a unit outside the caller's scope answers 404. The dashboard reads only the
per-team counts (after recounting the teams marked dirty), so it costs the same few queries
for a province of a million members as for one team.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.assessments.mastery import framework_outline
from app.auth.permissions import can, scope_clause
from app.courses.services import published_versions_stmt
from app.extensions import db
from app.labels import audience_label, kind_label
from app.orgs.models import Unit
from app.reports import charts, dashboard
from app.reports.forms import ProgramForm, TableFilterForm
from app.reports.models import TrainingProgram
from app.reports.programs import ProgramError, get_program_or_404, save_program
from app.reports.progress import local_today, quarter_of, refresh_counts

blueprint = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


@blueprint.context_processor
def _helpers() -> dict:
    return {"kind_label": kind_label, "audience_label": audience_label}


@blueprint.get("/programs")
@login_required
def programs():
    """The programs the caller follows, with how far each has come."""
    if not can(current_user, "reports.view"):
        abort(403)
    return render_template("reports/programs.html", cards=dashboard.program_cards(current_user),
                           may_create=can(current_user, "programs.manage"))


@blueprint.route("/programs/new", methods=["GET", "POST"])
@login_required
def new_program():
    if not can(current_user, "programs.manage"):
        abort(403)
    return _edit(None)


@blueprint.route("/programs/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_program(slug: str):
    program = get_program_or_404(current_user, slug)
    if not can(current_user, "programs.manage", program.scope_unit):
        abort(404)  # seen from below, but managed above: as if it did not exist here
    return _edit(program)


def _edit(program: TrainingProgram | None):
    """GET shows the form; POST saves it or re-renders it with the input and the reasons."""
    if request.method == "POST":
        form = ProgramForm()
    elif program is not None:
        form = ProgramForm.for_program(program)
    else:
        form = ProgramForm()
    form.fill_choices(_manageable_units(), _course_choices(program))
    if request.method == "POST":
        if form.validate_on_submit():
            saved = _save(form, program)
            if saved is not None:
                flash(_("Đã lưu chương trình “%(name)s”.", name=saved.name), "success")
                return redirect(url_for("reports.program", slug=saved.slug))
        status = 400
    else:
        status = 200
    return render_template("reports/program_form.html", form=form, program=program), status


def _save(form: ProgramForm, program: TrainingProgram | None) -> TrainingProgram | None:
    fields = form.to_fields()
    try:
        saved = save_program(fields, current_user, program)
        db.session.commit()
        return saved
    except ProgramError as exc:
        db.session.rollback()
        form.add_errors({**exc.errors, **form.parse_errors})
    except IntegrityError:  # the same slug saved by someone else a moment ago
        db.session.rollback()
        form.add_errors({"slug": _("Đã có chương trình với mã này.")})
    return None


def _manageable_units() -> list[Unit]:
    """Province and communes/wards (not teams) where the caller may manage programs."""
    return list(db.session.scalars(
        select(Unit).where(scope_clause(current_user, "programs.manage", Unit.path),
                           Unit.kind != "team").order_by(Unit.path)))


def _course_choices(program: TrainingProgram | None) -> list[tuple[str, str]]:
    """Published, live courses; a program keeps offering the courses it already requires."""
    choices = {course.slug: version.title
               for course, version in db.session.execute(published_versions_stmt()).all()}
    for course in program.courses if program is not None else []:
        choices.setdefault(course.slug, course.slug)
    return sorted(choices.items(), key=lambda item: item[1].lower())


# --- the dashboard --------------------------------------------------------------------------

@dataclass
class ExportGroup:
    """One kind of export and its formats: (format label, address)."""

    label: str
    links: list[tuple[str, str]]


def _export_groups(program: TrainingProgram, unit: Unit, today) -> list[ExportGroup]:
    """The exports of what the page shows (app/reports/export_views.py): units, members
    (personal data: only with its own permission), this quarter's and last quarter's report."""
    unit_arg = {} if unit.id == program.scope_unit_id else {"unit": unit.code}
    groups = [ExportGroup(_("Tiến độ theo đơn vị"), [
        (fmt.upper(), url_for("report_exports.units", slug=program.slug, fmt=fmt, **unit_arg))
        for fmt in ("xlsx", "csv")])]
    if can(current_user, "reports.export_members", unit):
        groups.append(ExportGroup(_("Danh sách thành viên"), [
            (fmt.upper(), url_for("report_exports.members", slug=program.slug, fmt=fmt,
                                  **unit_arg))
            for fmt in ("xlsx", "csv")]))
    year, quarter = quarter_of(today)
    previous = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    for y, q in ((year, quarter), previous):
        code = f"{y}Q{q}"
        groups.append(ExportGroup(_("Báo cáo quý %(quarter)s", quarter=f"{q}/{y}"), [
            ("XLSX", url_for("report_exports.quarterly", slug=program.slug, quarter=code,
                             fmt="xlsx", **unit_arg)),
            (_("Bản in"), url_for("report_exports.quarterly_print", slug=program.slug,
                                  quarter=code, **unit_arg))]))
    return groups


@blueprint.get("/programs/<slug>")
@login_required
def program(slug: str):
    """The program's progress at one unit: pace, table of its children, charts, members."""
    program = get_program_or_404(current_user, slug)
    form = TableFilterForm(formdata=request.args)
    if not form.validate():
        abort(400)
    refresh_counts()
    unit, tops = dashboard.resolve_unit(current_user, program, form.unit.data)
    today = local_today()
    children = dashboard.children_of(unit)
    outline = framework_outline(str(get_locale()))
    groups = [(code, label) for code, label, _competencies in outline]
    codes = [code for code, _label in groups]
    table = dashboard.build_table(
        program, unit, children, dashboard.team_counts(program, unit, today, codes), codes,
        _("Thành viên trực thuộc %(unit)s", unit=unit.full_name))
    sort_key, descending = dashboard.parse_sort(form.sort.data)
    group = form.group.data if form.group.data in dashboard.GROUPS else None
    rows = dashboard.sort_rows(dashboard.filter_rows(table.rows, group, form.q.data),
                               sort_key, descending)
    months, scores = dashboard.chart_counts(program, unit)
    courses = dashboard.course_titles(program)
    may_list = dashboard.is_leaf(children) and can(current_user, "people.view", unit)
    members = dashboard.member_rows(program, unit, today) if may_list else None
    unit_arg = None if unit.id == tops[0].id else unit.code
    current = {"slug": program.slug, "unit": unit_arg, "q": form.q.data or None, "group": group,
               "sort": form.sort.data or None}

    def here(**changes) -> str:
        """This page's address with some of its parameters changed (sort and filter links)."""
        return url_for("reports.program", **{**current, **changes})

    return render_template(
        "reports/program.html", program=program, unit=unit, tops=tops, here=here,
        labels=_column_labels(),
        unit_arg=unit_arg,
        ancestors=dashboard.breadcrumb(unit, tops), today=today, table=table, rows=rows,
        pace=dashboard.pace(program, table.total.figures, today), form=form,
        sort_key=sort_key, descending=descending, group=group, courses=courses,
        members=members, leaf=dashboard.is_leaf(children), groups=groups,
        charts=_charts(program, unit, table, groups, months, scores, today),
        exports=_export_groups(program, unit, today),
        may_manage=can(current_user, "programs.manage", program.scope_unit))


def _column_labels() -> dict[str, str]:
    """Words repeated on every row of the table, translated once per page."""
    return {"group": _("Nhóm"), "members": _("Thành viên"), "completed": _("Hoàn thành"),
            "percent": _("Tỷ lệ"), "gap": _("Còn thiếu"), "quarter": _("Trong quý"),
            "done": _("Đã hoàn thành %(percent)s"), "phone": _("Số điện thoại"),
            "not_yet": _("Chưa học")}


def _charts(program, unit, table, groups, months, scores, today) -> dict:
    """The three charts of the page, as inline SVG with translated words."""
    total = table.total.figures
    goal = dashboard.target_count(total.members, program.target_percent)
    cumulative = charts.cumulative_chart(
        "chart-cumulative", dashboard.cumulative_points(months, program.starts_on, today),
        goal, program.starts_on, program.deadline, charts.CumulativeWords(
            title=_("Số thành viên hoàn thành theo thời gian — %(unit)s", unit=unit.full_name),
            desc=_("Đã hoàn thành %(done)s trên %(members)s thành viên; chỉ tiêu %(goal)s "
                   "người (%(target)s%%) trước %(deadline)s.",
                   done=total.completed, members=total.members, goal=goal,
                   target=program.target_percent,
                   deadline=program.deadline.strftime("%d/%m/%Y")),
            actual=_("Đã hoàn thành"), target=_("Chỉ tiêu"), plan=_("Kế hoạch"),
            point=_("Đến %(month)s: %(count)s người"), y_axis=_("Số người")))
    heat_rows = [charts.HeatRow(row.label, row.figures.members, row.mastery)
                 for row in table.rows]
    heatmap = charts.heatmap(
        "chart-heatmap", heat_rows, groups,
        title=_("Tỷ lệ thành viên thành thạo theo nhóm năng lực"),
        desc=_("Mỗi ô: tỷ lệ phần trăm thành viên của đơn vị đã thành thạo ít nhất một năng "
               "lực của nhóm."),
        cell_tip=_("%(unit)s, nhóm %(group)s: %(percent)s%% (%(count)s/%(members)s người)"),
        no_members=_("chưa có thành viên")) if groups else None
    histogram = charts.histogram(
        "chart-scores", scores, charts.score_labels(),
        title=_("Phân bố điểm của các khóa học bắt buộc"),
        desc=_("Số lượt hoàn thành khóa học theo khoảng điểm (%%), tổng %(count)s lượt.",
               count=sum(scores)),
        x_axis=_("Điểm (%)"), y_axis=_("Số lượt hoàn thành"),
        bar_tip=_("Điểm %(label)s: %(count)s lượt"))
    return {"cumulative": cumulative, "heatmap": heatmap, "histogram": histogram,
            "has_scores": any(scores)}
