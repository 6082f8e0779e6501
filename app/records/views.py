"""Records pages: the learner's "Hồ sơ học tập", certificates (HTML/PDF), the public
verification page and its signed JSON, the JWKS, revocation, and officers' lists."""

from __future__ import annotations

import json
import re
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.permissions import can, get_unit_or_404, top_units
from app.extensions import db, limiter
from app.records import certificates, credentials, services, signing
from app.records.forms import RevokeForm

blueprint = Blueprint("records", __name__, template_folder="templates")

CODE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
RECORDS_PER_PAGE = 50


def _verify_limit() -> str:
    return current_app.config.get("VERIFY_LIMIT") or "60 per minute"


@blueprint.errorhandler(signing.SigningKeyMissing)
def _no_signing_key(error):
    current_app.logger.error("records: %s", error)
    return render_template(
        "errors/error.html", code=503, title=_("Chưa thể cấp chứng nhận có chữ ký"),
        message=_("Máy chủ chưa có khóa ký. Quản trị viên cần chạy lệnh “flask keys generate”."),
    ), 503


def _record_for(code: str):
    """The record behind a certificate URL, for its holder or an officer in scope (else 404)."""
    record = services.find_by_code(code) if CODE.match(code) else None
    if record is None or not services.may_view(current_user, record):
        abort(404)
    return record


# --- Learner -------------------------------------------------------------------------------

@blueprint.get("/me/records")
@login_required
def my_records():
    return render_template("records/my_records.html",
                           records=services.my_records(current_user),
                           local_date=credentials.local_date)


@blueprint.get("/me/data.json")
@login_required
def my_data():
    """The learner's own data as a JSON file; every download is audit-logged."""
    data = services.personal_data(current_user)
    db.session.commit()
    filename = f"du-lieu-cua-toi-{date.today():%Y%m%d}.json"
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@blueprint.get("/certificates/<code>")
@login_required
def certificate(code: str):
    record = _record_for(code)
    cert = certificates.build_certificate(record)
    response = Response(render_template(
        "records/certificate.html", cert=cert, qr_image=certificates.qr_data_uri(cert.qr_url),
        may_revoke=not record.is_revoked and services.may_revoke(current_user, record)))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blueprint.get("/certificates/<code>.pdf")
@login_required
def certificate_pdf(code: str):
    record = _record_for(code)
    from app.records.certificate_pdf import certificate_pdf as render_pdf

    pdf = render_pdf(certificates.build_certificate(record))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="chung-nhan-{record.verification_code}.pdf"',
        "Cache-Control": "private, no-cache"})


# --- Public verification -------------------------------------------------------------------

@blueprint.get("/verify/<code>")
@limiter.limit(_verify_limit)
def verify(code: str):
    """Genuine / revoked / unknown, with only name, course, date and issuing unit."""
    record = services.find_by_code(code) if CODE.match(code) else None
    unit_name = record.issuing_unit.full_name if record else None
    response = Response(render_template("records/verify.html", record=record, code=code,
                                        unit_name=unit_name, local_date=credentials.local_date),
                        status=200 if record else 404)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("/verify/<code>.json")
@limiter.limit(_verify_limit)
def verify_json(code: str):
    """The Open Badges 3.0 credential (VC-JWT) with the record's status today."""
    record = services.find_by_code(code) if CODE.match(code) else None
    if record is None:
        response = current_app.response_class(
            json.dumps({"status": "unknown", "error": _("Không tìm thấy chứng nhận với mã này.")},
                       ensure_ascii=False), status=404, mimetype="application/json")
    else:
        response = current_app.response_class(
            json.dumps(credentials.credential_document(record), ensure_ascii=False, indent=2),
            mimetype="application/json")
        response.headers["Content-Disposition"] = (
            f'inline; filename="chung-nhan-{record.verification_code}.json"')
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/.well-known/jwks.json")
def jwks():
    """Every public key, including retired ones, so old credentials keep verifying."""
    response = current_app.response_class(json.dumps(signing.jwks()),
                                          mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- Officers ------------------------------------------------------------------------------

@blueprint.route("/certificates/<code>/revoke", methods=["GET", "POST"])
@login_required
def revoke(code: str):
    record = services.find_by_code(code) if CODE.match(code) else None
    if record is None or not services.may_revoke(current_user, record):
        abort(404)
    form = RevokeForm()
    if not record.is_revoked and form.validate_on_submit():
        try:
            services.revoke_record(record, current_user, form.reason.data)
            db.session.commit()
        except services.RecordError as exc:
            db.session.rollback()
            form.reason.errors = [str(exc)]
        else:
            flash(_("Đã thu hồi chứng nhận của %(name)s.", name=record.holder_name), "success")
            return redirect(url_for("records.certificate", code=record.verification_code))
    status = 400 if request.method == "POST" else 200
    if record.is_revoked and request.method == "POST":
        status = 409
    return render_template("records/revoke.html", record=record, form=form,
                           local_date=credentials.local_date), status


@blueprint.get("/records/")
@login_required
def scope_units():
    """Where an officer starts: the highest units they may see, each with its record list."""
    if not can(current_user, "people.view"):
        abort(403)
    units = top_units(current_user, "people.view")
    if len(units) == 1:
        return redirect(url_for("records.unit_records", code=units[0].code))
    return render_template("records/scope_units.html", units=units)


@blueprint.get("/units/<code>/records")
@login_required
def unit_records(code: str):
    unit = get_unit_or_404(current_user, code, "people.view")
    page = db.paginate(services.unit_records_query(current_user, unit),
                       page=request.args.get("page", 1, type=int), per_page=RECORDS_PER_PAGE)
    return render_template("records/unit_records.html", unit=unit, page=page,
                           local_date=credentials.local_date)
