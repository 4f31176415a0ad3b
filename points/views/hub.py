"""Advocates: the catalog their gift policy allows, redeeming, their redemptions, offers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from points import queries
from points.expiry import expires_on
from points.forms import AcceptOfferForm, DeclineOfferForm, RedeemForm
from points.models import RewardKind
from points.redemptions import (
    AlreadyRequested,
    accept_offer,
    cancel_redemption,
    decline_offer,
    own_offer,
    redeem,
)
from points.rewards import allowed_kinds, catalog_for, get_reward, gift_refusal, unavailable
from points.services import balance_of
from points.views import send_reward_image
from portal.accounts.models import GiftPolicy, Role
from portal.config import settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import limit_from_config, per_user
from portal.i18n import _
from portal.pagination import PageRequest
from portal.web import require_membership, require_roles, show_error

bp = Blueprint("rewards", __name__, url_prefix="/hub")
require_roles(bp, Role.ADVOCATE)
require_membership(bp)


@bp.get("/rewards")
def catalog():
    session = get_session()
    account = current_user.account
    return render_template(
        "points/catalog.html",
        rewards=catalog_for(session, current_user),
        balance=balance_of(session, current_user.id),
        expires_on=expires_on(session, current_user.id),
        offers=queries.open_offers_of(session, current_user.id),
        limited=allowed_kinds(account.gift_policy, current_user.declines_gifts) != set(RewardKind),
        needs_approval=account.gift_policy == GiftPolicy.NEEDS_APPROVAL,
    )


@bp.route("/rewards/<int:reward_id>", methods=["GET", "POST"])
@limit_from_config("REDEMPTION_LIMIT_PER_USER", key_func=per_user)
def reward(reward_id: int):
    session = get_session()
    try:
        item = get_reward(session, reward_id)
    except NotFound:
        abort(404)
    form = RedeemForm()
    refused = False
    if form.validate_on_submit():
        try:
            redemption = redeem(
                session,
                settings(),
                current_user,
                item.id,
                form.request_key.data,
                form.shipping_address.data or "",
            )
        except AlreadyRequested as error:  # a double click: the first one counts
            session.rollback()
            flash(error.message, "info")
            return redirect(url_for("rewards.redemptions"))
        except DomainError as error:
            session.rollback()
            show_error(form, error)
            refused = True
            form.request_key.data = RedeemForm().request_key.default()
        else:
            session.commit()
            flash(_redeemed(redemption), "success")
            return redirect(url_for("rewards.redemptions"))
    refusal = gift_refusal(current_user, item.kind) or unavailable(item, current_user, utcnow())
    return render_template(
        "points/reward.html",
        reward=item,
        form=form,
        refusal=refusal,
        balance=balance_of(session, current_user.id),
    ), (422 if refused or form.errors else 200)


def _redeemed(redemption) -> str:
    if redemption.status == "approved":
        return _(
            "Done: %(reward)s is approved. %(next_step)s",
            reward=redemption.reward.name,
            next_step=_next_step(redemption.reward),
        )
    return _(
        "Requested: %(reward)s is waiting for an admin; the points are set aside.",
        reward=redemption.reward.name,
    )


@bp.get("/rewards/<int:reward_id>/image")
def reward_image(reward_id: int):
    try:
        return send_reward_image(get_reward(get_session(), reward_id))
    except NotFound:
        abort(404)


def _next_step(reward) -> str:
    if reward.kind == "charity":
        return _(
            "We will donate to %(charity)s in your name and send the receipt.",
            charity=reward.charity_name,
        )
    return {
        "recognition": _("We will be in touch to prepare it with you."),
        "swag": _("We will ship it to the address you gave."),
    }.get(reward.kind) or _("We will send it to you soon.")


@bp.get("/redemptions")
def redemptions():
    session = get_session()
    page = queries.redemptions_of(session, current_user.id, PageRequest.from_args(request.args))
    return render_template(
        "points/redemptions.html",
        page=page,
        expected=queries.expectations(session, page.items),
        balance=balance_of(session, current_user.id),
    )


@bp.post("/redemptions/<int:redemption_id>/cancel")
def cancel(redemption_id: int):
    session = get_session()
    try:
        cancelled = cancel_redemption(session, settings(), current_user, redemption_id)
    except DomainError as error:
        session.rollback()
        flash(error.message, "warning")
    else:
        session.commit()
        if cancelled.cost:
            flash(_("Cancelled. The points are back in your balance."), "info")
        else:
            flash(_("Cancelled."), "info")
    return redirect(url_for("rewards.redemptions"))


@bp.route("/offers/<int:offer_id>", methods=["GET", "POST"])
def offer(offer_id: int):
    session = get_session()
    try:
        item = own_offer(session, current_user, offer_id)
    except NotFound:
        abort(404)
    accept_form, decline_form = AcceptOfferForm(), DeclineOfferForm()
    try:
        if accept_form.accept.data and accept_form.validate_on_submit():
            accept_offer(
                session, settings(), current_user, item.id, accept_form.shipping_address.data or ""
            )
            session.commit()
            flash(
                _(
                    "Thank you for accepting %(reward)s. %(next_step)s",
                    reward=item.reward.name,
                    next_step=_next_step(item.reward),
                ),
                "success",
            )
            return redirect(url_for("rewards.redemptions"))
        if decline_form.decline.data and decline_form.validate_on_submit():
            decline_offer(
                session,
                current_user,
                item.id,
                decline_form.employer_forbids.data,
                decline_form.note.data or "",
            )
            session.commit()
            flash(_("Declined. Thank you for letting us know."), "info")
            return redirect(url_for("rewards.catalog"))
    except DomainError as error:
        session.rollback()
        show_error(accept_form, error)
    return render_template(
        "points/offer.html",
        offer=item,
        accept_form=accept_form,
        decline_form=decline_form,
        refusal=gift_refusal(current_user, item.reward.kind),
    )
