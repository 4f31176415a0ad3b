"""NPS and CSAT imports, promoters to invite, flagged relationships."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.models import Account, Role
from portal.accounts.services import find_account_by_name
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.i18n import _, number
from portal.ids import parse_row_id
from portal.pagination import PageRequest
from portal.web import require_roles, show_error
from references import flags, surveys
from references.models import FlagKind, ImportStatus, SurveyImport
from references.survey_forms import (
    NOT_IN_FILE,
    ClearFlagForm,
    FlagForm,
    MappingForm,
    RunForm,
    UploadForm,
)

bp = Blueprint("surveys", __name__, url_prefix="/references/surveys")
require_roles(bp, Role.MANAGER, Role.ADMIN)


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _import_or_404(session, import_id: int) -> SurveyImport:
    return session.get(SurveyImport, import_id) or abort(404)


def _progress(survey_import: SurveyImport) -> dict:
    return {
        "status": survey_import.status,
        "done_rows": survey_import.done_rows,
        "total_rows": survey_import.total_rows,
        "text": _(
            "%(done)s of %(total)s rows",
            done=number(survey_import.done_rows),
            total=number(survey_import.total_rows),
        ),
        "report_url": url_for("surveys.report", import_id=survey_import.id),
        "run_url": url_for("surveys.run", import_id=survey_import.id),
    }


# --- imports -----------------------------------------------------------------------------


@bp.get("/")
def imports(form: UploadForm | None = None):
    session = get_session()
    return render_template(
        "references/surveys/imports.html",
        form=form or UploadForm(),
        page=surveys.imports_page(session, PageRequest.from_args(request.args)),
    )


@bp.post("/")
def upload():
    session = get_session()
    form = UploadForm()
    if not form.validate_on_submit():
        return imports(form)
    storage = form.file.data
    if storage is None or not getattr(storage, "filename", ""):
        show_error(form, DomainError(_("Choose the CSV file."), "file"))
        return imports(form)
    try:
        survey_import = surveys.start_import(
            session, settings(), current_user, storage.filename, storage.read(), form.kind.data
        )
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        return imports(form)
    session.commit()
    return redirect(url_for("surveys.mapping", import_id=survey_import.id))


@bp.get("/<int:import_id>")
def mapping(import_id: int, form: MappingForm | None = None):
    """The first rows and a select a field (while the columns are to map); once the
    import has started, its progress and a button that goes on."""
    session = get_session()
    survey_import = _import_or_404(session, import_id)
    try:
        shown = surveys.preview(settings(), survey_import)
    except NotFound as error:
        flash(error.message, "warning")
        return redirect(url_for("surveys.imports"))
    if form is None:
        form = MappingForm(formdata=None, data=_mapped(survey_import))
    return render_template(
        "references/surveys/mapping.html",
        survey_import=survey_import,
        preview=shown,
        form=form.with_columns(shown.header),
        run_form=RunForm(),
        progress=_progress(survey_import),
        formats=surveys.DATE_FORMATS,
    )


def _mapped(survey_import: SurveyImport) -> dict[str, int]:
    kept = survey_import.mapping or {}
    return {
        field: kept[field] if isinstance(kept.get(field), int) else NOT_IN_FILE
        for field in surveys.FIELDS
    }


@bp.post("/<int:import_id>/run")
def run(import_id: int):
    """Import: first the columns chosen (while they are to map), then, with JavaScript,
    the next chunk, answered with the progress (JSON); without, every chunk left and the
    report."""
    session = get_session()
    survey_import = _import_or_404(session, import_id)
    if survey_import.status == ImportStatus.MAPPING:
        refused = _keep_mapping(session, survey_import)
        if refused is not None:
            return refused
    elif not RunForm().validate_on_submit():
        if _wants_json():
            return jsonify(error=_("The page expired: reload it and try again.")), 400
        flash(_("The page expired: reload it and try again."), "warning")
        return redirect(url_for("surveys.mapping", import_id=import_id))
    try:
        if _wants_json():
            survey_import = surveys.run_chunk(session, settings(), import_id)
            session.commit()
            return jsonify(_progress(survey_import))
        surveys.run_all(session, settings(), import_id)
    except DomainError as error:
        session.rollback()
        if _wants_json():
            return jsonify(error=error.message), 409
        flash(error.message, "warning")
        return redirect(url_for("surveys.mapping", import_id=import_id))
    return redirect(url_for("surveys.report", import_id=import_id))


def _keep_mapping(session, survey_import: SurveyImport):
    """Save the posted columns (the import starts), or the page re-shown saying why."""
    try:
        header = surveys.preview(settings(), survey_import, n=0).header
    except NotFound as error:
        flash(error.message, "warning")
        return redirect(url_for("surveys.imports"))
    form = MappingForm().with_columns(header)
    if not form.validate_on_submit():
        return mapping(survey_import.id, form)
    try:
        surveys.set_mapping(session, settings(), current_user, survey_import.id, form.chosen())
    except DomainError as error:
        session.rollback()
        if _wants_json() and not error.field:
            return jsonify(error=error.message), 409
        show_error(form, error)
        return mapping(survey_import.id, form)
    session.commit()
    return None


@bp.get("/<int:import_id>/report")
def report(import_id: int):
    session = get_session()
    survey_import = _import_or_404(session, import_id)
    return render_template(
        "references/surveys/report.html",
        survey_import=survey_import,
        errors=surveys.errors_page(session, import_id, PageRequest.from_args(request.args)),
        skipped=max(survey_import.done_rows - survey_import.imported - survey_import.failed, 0),
    )


@bp.get("/promoters")
def promoters():
    session = get_session()
    return render_template(
        "references/surveys/promoters.html",
        page=surveys.promoters_page(session, PageRequest.from_args(request.args)),
    )


# --- flags -------------------------------------------------------------------------------


def _flags_page(
    flag_form: FlagForm | None = None, clearing: tuple[int, ClearFlagForm] | None = None
):
    session = get_session()
    if flag_form is None:
        flag_form = FlagForm()
        account = session.get(Account, _account_arg()) if _account_arg() else None
        if account is not None:
            flag_form.account.data = account.name
    page = flags.open_flags_page(session, PageRequest.from_args(request.args))
    clear_forms = {
        flag.id: (
            clearing[1]
            if clearing and clearing[0] == flag.id
            else ClearFlagForm(prefix=f"clear-{flag.id}", formdata=None)
        )
        for flag in page.items
    }
    return render_template(
        "references/surveys/flags.html",
        page=page,
        flag_form=flag_form,
        clear_forms=clear_forms,
        clearing=clearing,
    )


def _account_arg() -> int | None:
    return parse_row_id(request.args.get("account_id"))


@bp.get("/flags")
def flag_list():
    return _flags_page()


@bp.post("/flags")
def raise_flag():
    session = get_session()
    form = FlagForm()
    if form.validate_on_submit():
        account = find_account_by_name(session, form.account.data)
        if account is None:
            show_error(form, DomainError(_("No account has that name."), "account"))
            return _flags_page(form)
        try:
            flags.flag_account(
                session, current_user, account.id, FlagKind.ESCALATION, form.reason.data
            )
        except DomainError as error:
            session.rollback()
            show_error(form, error)
            return _flags_page(form)
        session.commit()
        flash(
            _(
                "%(account)s is flagged: nobody asks its advocates for a reference until "
                "the flag is cleared.",
                account=account.name,
            ),
            "success",
        )
        return redirect(url_for("surveys.flag_list"))
    return _flags_page(form)


@bp.post("/flags/<int:flag_id>/clear")
def clear_flag(flag_id: int):
    session = get_session()
    form = ClearFlagForm(prefix=f"clear-{flag_id}")
    if form.validate_on_submit():
        try:
            flag = flags.clear_flag(session, current_user, flag_id, form.reason.data)
        except NotFound:
            abort(404)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
            return _flags_page(clearing=(flag_id, form))
        session.commit()
        flash(_("The flag on %(account)s is cleared.", account=flag.account.name), "success")
        return redirect(url_for("surveys.flag_list"))
    return _flags_page(clearing=(flag_id, form))
