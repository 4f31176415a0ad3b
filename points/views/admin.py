"""Admins: the catalog, the redemption queues and their fulfilment, balances, the threshold."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from points import queries
from points import redemptions as flow
from points.forms import (
    AdjustForm,
    CancelForm,
    ConvertForm,
    FulfilForm,
    ImportForm,
    ReasonForm,
    RefundForm,
    RejectForm,
    RewardForm,
    ThresholdForm,
)
from points.rewards import (
    RewardFields,
    get_reward,
    reward_settings,
    save_reward,
    set_auto_approve_below,
    set_reward_image,
)
from points.services import adjust, balance_of
from points.views import send_reward_image
from portal.accounts.models import Role
from portal.accounts.services import get_user
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.i18n import _, number
from portal.ids import parse_row_id
from portal.pagination import PageRequest
from portal.uploads import Upload
from portal.web import require_roles, show_error

bp = Blueprint("fulfilment", __name__, url_prefix="/admin")
require_roles(bp, Role.ADMIN)


# --- catalog ------------------------------------------------------------------------------


@bp.get("/rewards")
def rewards():
    session = get_session()
    return render_template(
        "points/admin_rewards.html",
        rows=queries.rewards_for_admin(session),
        threshold_form=ThresholdForm(obj=reward_settings(session)),
    )


@bp.route("/rewards/new", methods=["GET", "POST"])
@bp.route("/rewards/<int:reward_id>", methods=["GET", "POST"])
def reward(reward_id: int | None = None):
    session = get_session()
    item = None
    if reward_id is not None:
        try:
            item = get_reward(session, reward_id)
        except NotFound:
            abort(404)
    form = RewardForm(data=_reward_data(item)) if request.method == "GET" and item else RewardForm()
    if form.validate_on_submit():
        try:
            saved = save_reward(session, current_user, _reward_fields(form), reward_id)
            image = form.image.data
            if image is not None and getattr(image, "filename", ""):
                set_reward_image(session, settings(), saved, Upload(image.filename, image.read()))
        except DomainError as error:
            session.rollback()
            show_error(form, error, {"starts_at": "starts_on", "ends_at": "ends_on"})
        else:
            session.commit()
            flash(_("Saved “%(name)s”.", name=saved.name), "success")
            return redirect(url_for("fulfilment.rewards"))
    return render_template("points/admin_reward_form.html", form=form, reward=item)


def _reward_data(item) -> dict:
    data = {
        name: getattr(item, name)
        for name in (
            "name",
            "kind",
            "description",
            "charity_name",
            "cost",
            "currency",
            "stock",
            "limit_count",
            "limit_period",
            "regions",
            "active",
        )
    }
    data["money_value"] = Decimal(item.money_value) / 100
    data["stock_seen"] = "" if item.stock is None else item.stock
    data["starts_on"] = item.starts_at.date() if item.starts_at else None
    data["ends_on"] = item.ends_at.date() if item.ends_at else None
    return data


def _reward_fields(form: RewardForm) -> RewardFields:
    starts, ends = form.starts_on.data, form.ends_on.data
    return RewardFields(
        name=form.name.data,
        kind=form.kind.data,
        cost=form.cost.data,
        description=form.description.data or "",
        money_value=int((form.money_value.data or 0) * 100),
        currency=form.currency.data or "USD",
        stock=form.stock.data,
        limit_count=form.limit_count.data,
        limit_period=form.limit_period.data,
        starts_at=datetime.combine(starts, time.min, UTC) if starts else None,
        ends_at=datetime.combine(ends, time.max, UTC) if ends else None,
        regions=form.regions.data or "",
        charity_name=form.charity_name.data or "",
        active=form.active.data,
        stock_seen=parse_row_id(form.stock_seen.data),
    )


@bp.get("/rewards/<int:reward_id>/image")
def reward_image(reward_id: int):
    try:
        return send_reward_image(get_reward(get_session(), reward_id))
    except NotFound:
        abort(404)


@bp.post("/rewards/settings")
def reward_threshold():
    session = get_session()
    form = ThresholdForm()
    if form.validate_on_submit():
        set_auto_approve_below(session, current_user, form.auto_approve_below.data)
        session.commit()
        flash(_("Saved."), "success")
    else:
        flash(_("Enter a number of points, 0 or more."), "danger")
    return redirect(url_for("fulfilment.rewards"))


# --- redemptions --------------------------------------------------------------------------

QUEUES = ("requested", "approved", "flagged", "fulfilled", "rejected", "cancelled", "refunded")


@bp.get("/redemptions")
def redemptions():
    session = get_session()
    status = request.args.get("status", "requested")
    status = status if status in QUEUES else "requested"
    open_now = queries.open_redemptions(session)
    now = datetime.now(UTC)
    return render_template(
        "points/admin_redemptions.html",
        status=status,
        queues=QUEUES,
        page=queries.queue(session, status, PageRequest.from_args(request.args)),
        counts=open_now.counts,
        overdue=queries.overdue_counts(session, now),
        limits=queries.AgeLimits.of(session),
        overdue_text=queries.overdue_text,
        open_value=open_now.value_by_currency,
        liability=queries.liability(session),
        now=now,
        import_form=ImportForm(),
    )


@bp.get("/redemptions/<int:redemption_id>")
def redemption(redemption_id: int, **forms):
    session = get_session()
    try:
        item = flow.get_redemption(session, redemption_id)
    except NotFound:
        abort(404)
    convert = forms.get("convert") or ConvertForm()
    convert.charity_id.choices = queries.charity_choices(session)
    return render_template(
        "points/admin_redemption.html",
        item=item,
        reject_form=forms.get("reject") or RejectForm(prefix="reject"),
        cancel_form=forms.get("cancel") or CancelForm(prefix="cancel"),
        refund_form=forms.get("refund") or RefundForm(prefix="refund"),
        fulfil_form=forms.get("fulfil") or FulfilForm(),
        convert_form=convert,
    ), (422 if forms else 200)


def _act(redemption_id: int, form, name: str, action, done: str):
    """Run one admin transition; a refusal is shown beside the form that asked for it."""
    session = get_session()
    if not form.validate_on_submit():
        return redemption(redemption_id, **{name: form})
    try:
        item = action(session)
    except NotFound:
        abort(404)
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        if not error.field or error.field not in form:
            return redirect(url_for("fulfilment.redemption", redemption_id=redemption_id))
        return redemption(redemption_id, **{name: form})
    session.commit()
    flash(done % {"name": item.reward.name, "who": item.advocate.display_name}, "success")
    return redirect(url_for("fulfilment.redemption", redemption_id=item.id))


@bp.post("/redemptions/<int:redemption_id>/approve")
def approve(redemption_id: int):
    return _act(
        redemption_id,
        ReasonForm(prefix="approve"),
        "approve",
        lambda s: flow.approve_redemption(s, settings(), current_user, redemption_id),
        _("Approved %(who)s's %(name)s."),
    )


@bp.post("/redemptions/<int:redemption_id>/reject")
def reject(redemption_id: int):
    form = RejectForm(prefix="reject")
    return _act(
        redemption_id,
        form,
        "reject",
        lambda s: flow.reject_redemption(
            s, settings(), current_user, redemption_id, form.reason.data or ""
        ),
        _("Rejected %(who)s's %(name)s; the points are back in their balance."),
    )


@bp.post("/redemptions/<int:redemption_id>/cancel")
def cancel(redemption_id: int):
    form = CancelForm(prefix="cancel")
    return _act(
        redemption_id,
        form,
        "cancel",
        lambda s: flow.cancel_redemption(
            s, settings(), current_user, redemption_id, form.reason.data or ""
        ),
        _("Cancelled %(who)s's %(name)s; the points are back in their balance."),
    )


@bp.post("/redemptions/<int:redemption_id>/fulfil")
def fulfil(redemption_id: int):
    form = FulfilForm()
    return _act(
        redemption_id,
        form,
        "fulfil",
        lambda s: flow.fulfil_redemption(
            s, settings(), current_user, redemption_id, form.reference.data or ""
        ),
        _("Fulfilled %(who)s's %(name)s."),
    )


@bp.post("/redemptions/<int:redemption_id>/refund")
def refund(redemption_id: int):
    form = RefundForm(prefix="refund")
    return _act(
        redemption_id,
        form,
        "refund",
        lambda s: flow.refund_redemption(
            s, settings(), current_user, redemption_id, form.reason.data or ""
        ),
        _("Refunded %(who)s's %(name)s."),
    )


@bp.post("/redemptions/<int:redemption_id>/convert")
def convert(redemption_id: int):
    form = ConvertForm()
    form.charity_id.choices = queries.charity_choices(get_session())
    return _act(
        redemption_id,
        form,
        "convert",
        lambda s: flow.convert_to_donation(
            s, settings(), current_user, redemption_id, form.charity_id.data
        ),
        _("Converted to a donation: %(name)s for %(who)s."),
    )


@bp.get("/redemptions/export.csv")
def export_approved():
    return Response(
        queries.approved_for_vendor_csv(get_session()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=approved-swag.csv"},
    )


@bp.post("/redemptions/import")
def import_fulfilments():
    form = ImportForm()
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "danger")  # a lazy message cannot go in the session
        return redirect(url_for("fulfilment.redemptions", status="approved"))
    upload = form.file.data
    text = upload.read().decode("utf-8-sig", "replace") if upload and upload.filename else ""
    text = text or form.text.data or ""
    if not text.strip():
        flash(_("Choose a CSV file or paste its lines."), "danger")
        return redirect(url_for("fulfilment.redemptions", status="approved"))
    results = flow.import_fulfilments(get_session(), settings(), current_user, text)
    done = sum(line.done for line in results)
    flash(
        _("Fulfilled %(done)s of %(total)s lines.", done=done, total=len(results)),
        "success" if done == len(results) else "warning",
    )
    for line in results:
        if not line.done:
            flash(
                _(
                    "Line %(line)s (#%(redemption_id)s): %(outcome)s",
                    line=line.line,
                    redemption_id=line.redemption_id,
                    outcome=line.outcome,
                ),
                "warning",
            )
    return redirect(url_for("fulfilment.redemptions", status="approved"))


# --- balances -----------------------------------------------------------------------------


def signed(points: int) -> str:
    """+25 or -10, in the reader's digits."""
    return ("+" if points > 0 else "") + number(points)


@bp.route("/users/<int:user_id>/points", methods=["GET", "POST"])
def points(user_id: int):
    session = get_session()
    try:
        advocate = get_user(session, user_id)
    except NotFound:
        abort(404)
    if advocate.role != Role.ADVOCATE:
        abort(404)
    form = AdjustForm()
    if form.validate_on_submit():
        key = f"adjustment:{form.request_key.data or secrets.token_urlsafe(16)}"
        try:
            adjust(session, current_user, advocate, form.amount.data, form.reason.data, key)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Adjusted by %(points)s points.", points=signed(form.amount.data)), "success")
            return redirect(url_for("fulfilment.points", user_id=advocate.id))
    return render_template(
        "points/admin_points.html",
        advocate=advocate,
        form=form,
        balance=balance_of(session, advocate.id),
        page=queries.ledger_page(session, advocate.id, PageRequest.from_args(request.args)),
    ), (422 if form.errors else 200)
