"""Advocate pages. Until an advocate opts in they see only the page that lets them join."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from challenges.badges import VISIT, StarterPath, award_earned
from challenges.queries import (
    completions_by_type,
    export_for,
    featured_challenges,
    recent_submissions,
    starter_path,
    type_filter_choices,
)
from challenges.types import REGISTRY
from points import leaderboard, levels
from points import queries as points_queries
from points.badges import badges_of
from points.feed import feed_page
from points.models import Badge
from points.program import game_settings
from points.redemptions import flag_forbidden
from points.services import balance_of
from points.views.boards import advocate_board, period_labels
from portal.accounts.models import Account, Role, User
from portal.accounts.services import ProfileFields, update_profile
from portal.auth import confirmation, services
from portal.config import settings
from portal.db import get_session, utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.hub import export as export_parts
from portal.hub import forms
from portal.i18n import _
from portal.pagination import PageRequest
from portal.web import require_membership, require_roles, safe_next, show_error
from references.asks import open_ask_of

bp = Blueprint("hub", __name__, url_prefix="/hub")
# a profile is shown to staff too: that route checks its own viewer
PERSON = "hub.person"
require_roles(bp, Role.ADVOCATE, exempt=(PERSON,))
require_membership(bp, open_to_all=("hub.join", "hub.export", PERSON))

NEWEST_BADGES = 4
RECENT_SUBMISSIONS = 5
AFFORDABLE_REWARDS = 4


@bp.get("/")
def home():
    session = get_session()
    rules = game_settings(session)
    # what this visit earns or shows once, saved before the page is read
    visit_badges = _visit_badges(session)
    all_levels = levels.all_levels(session)
    reached = [seen.level for seen in levels.unseen(session, current_user.id)]
    if reached:
        levels.mark_seen(session, current_user.id)
    if visit_badges or reached:
        session.commit()

    type_key = request.args.get("type", "")
    type_key = type_key if type_key in REGISTRY else ""
    featured, open_count = featured_challenges(session, current_user, type_key)
    balance = balance_of(session, current_user.id)
    # read before the board, which loads advocates' accounts with their names only
    rewards = points_queries.affordable_rewards(
        session, current_user, balance.available, AFFORDABLE_REWARDS
    )
    steps = starter_path(session, current_user.id)
    if all(step.done for step in steps):
        steps = []  # the path is gone once done
    board = None
    if rules.show_leaderboards:
        keys = leaderboard.current_periods(session)
        board = advocate_board(session, current_user, keys["month"], period_labels(keys)["month"])
    return render_template(
        "hub/home.html",
        available=featured,
        open_count=open_count,
        type_key=type_key,
        type_choices=type_filter_choices(),
        balance=balance,
        progress=levels.progress(all_levels, balance.lifetime_earned),
        reached=reached,
        badges=badges_of(session, current_user.id, NEWEST_BADGES),
        recent=recent_submissions(session, current_user.id, RECENT_SUBMISSIONS),
        board=board,
        rewards=rewards,
        steps=steps,
        path_badge=_starter_badge(session) if steps else None,
        show_points=rules.show_points,
        reference_ask=open_ask_of(session, current_user.id),
    )


def _visit_badges(session) -> list[Badge]:
    """Badges a visit earns (a year in the program): asked once a day per browser session,
    not on every page view."""
    visit = f"{current_user.id}:{utcnow().date().isoformat()}"
    if flask_session.get("badges_checked") == visit:
        return []
    flask_session["badges_checked"] = visit
    return award_earned(session, current_user, VISIT)


def _starter_badge(session) -> Badge | None:
    return session.scalar(
        select(Badge)
        .where(Badge.rule == StarterPath.key, Badge.enabled)
        .order_by(Badge.id)
        .limit(1)
    )


@bp.get("/people/<int:user_id>")
def person(user_id: int):
    """An advocate's profile as the program sees it. Someone hidden from boards, or who left,
    is shown only to themselves and to staff; sales users see what a member would (never a
    hidden company, points only where the program shows them)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not (current_user.is_staff or current_user.is_sales or current_user.opted_in):
        return redirect(url_for("hub.join"))
    session = get_session()
    someone = session.scalar(
        select(User)
        .where(User.id == user_id, User.role == Role.ADVOCATE)
        .options(joinedload(User.account).load_only(Account.name, raiseload=True))
    )
    own = someone is not None and someone.id == current_user.id
    if someone is None or not (own or current_user.is_staff or leaderboard.is_listed(someone)):
        abort(404)
    rules = game_settings(session)
    lifetime = balance_of(session, someone.id).lifetime_earned
    return render_template(
        "hub/person.html",
        person=someone,
        own=own,
        progress=levels.progress(levels.all_levels(session), lifetime),
        badges=badges_of(session, someone.id),
        completions=completions_by_type(session, someone.id),
        show_company=not someone.hide_company or own or current_user.is_staff,
        show_points=rules.show_points or current_user.is_staff,
    )


@bp.get("/activity")
def activity():
    """What the program's advocates did lately, newest first, a page at a time."""
    page = feed_page(get_session(), PageRequest.from_args(request.args))
    return render_template("hub/activity.html", page=page)


@bp.route("/join", methods=["GET", "POST"])
def join():
    if current_user.opted_in:
        return redirect(url_for("hub.home"))
    if current_user.left_company_at is not None:  # not a member of this account any more
        return render_template("hub/left_company.html", account=current_user.account)
    form = forms.JoinForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            services.opt_in(session, settings(), current_user)
        except AlreadyHandled:  # a second click, or another tab, got there first
            return redirect(url_for("hub.home"))
        session.commit()
        flash(_("Welcome to the hub! You can leave at any time from your profile."), "success")
        return redirect(url_for("hub.home"))
    left = [c for c in current_user.consents if c.opted_out_at is not None]
    previous = left[-1] if left else None
    return render_template("hub/join.html", form=form, previous=previous)


@bp.route("/leave", methods=["GET", "POST"])
def leave():
    form = forms.LeaveForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            services.opt_out(session, current_user)
        except DomainError as error:
            show_error(form, error)
        else:
            session.commit()
            flash(
                _(
                    "You have left the program. We will not email you or ask you for "
                    "anything. Your history is kept, and you can rejoin at any time."
                ),
                "info",
            )
            return redirect(url_for("hub.join"))
    return render_template("hub/leave.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    form = forms.ProfileForm(obj=current_user)
    if form.validate_on_submit():
        session = get_session()
        fields = ProfileFields(
            name=form.name.data,
            title=form.title.data or "",
            job_level=form.job_level.data or None,
            hide_from_leaderboard=form.hide_from_leaderboard.data,
            declines_gifts=form.declines_gifts.data,
            gifts_note=form.gifts_note.data or "",
            hide_company=form.hide_company.data,
            locale=form.locale.data or None,
            time_zone=form.time_zone.data or None,
            **{name: form[name].data for name in form.EMAIL_FIELDS},
        )
        try:
            update_profile(session, current_user, fields)
            flag_forbidden(session, current_user.account_id)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Profile saved."), "success")
            return redirect(url_for("hub.profile"))
    return render_template("hub/profile.html", form=form)


@bp.route("/confirm", methods=["GET", "POST"])
def confirm():
    """Once a year: still at the company, in the same role? One who left is moved out."""
    session = get_session()
    form = forms.ConfirmProfileForm(obj=current_user if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            if form.still_there.data == "yes":
                confirmation.confirm_profile(
                    session, current_user, form.title.data or "", form.job_level.data or None
                )
            else:
                confirmation.leave_company(session, settings(), current_user)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            if form.still_there.data == "yes":
                flash(_("Thank you: your profile is up to date."), "success")
                return redirect(safe_next(request.args.get("next")) or url_for("hub.home"))
            flash(
                _(
                    "Thank you for telling us, and for all your help. You have left the "
                    "program: we will not email you or ask you for anything."
                ),
                "info",
            )
            return redirect(url_for("hub.join"))
    return render_template("hub/confirm.html", form=form, account=current_user.account)


@bp.get("/export.json")
def export():
    session = get_session()
    data = {
        **services.export_user_data(session, current_user),
        **export_for(session, current_user.id),
        "redemptions": points_queries.export_for(session, current_user.id),
        "gift_offers": export_parts.gift_offers_of(session, current_user.id),
        "notifications": export_parts.notifications_of(session, current_user.id),
    }
    return Response(
        json.dumps(data, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=my-vouch-data.json"},
    )
