"""Advocate pages. Until an advocate opts in they see only the page that lets them join."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from challenges.queries import export_for, featured_challenges, pending_count, type_filter_choices
from challenges.types import REGISTRY
from points import queries as points_queries
from points.redemptions import flag_forbidden
from points.services import balance_of
from portal.accounts.models import Role
from portal.accounts.services import ProfileFields, update_profile
from portal.auth import services
from portal.config import settings
from portal.db import get_session
from portal.errors import AlreadyHandled, DomainError
from portal.hub import forms
from portal.web import require_membership, require_roles, show_error

bp = Blueprint("hub", __name__, url_prefix="/hub")
require_roles(bp, Role.ADVOCATE)
require_membership(bp, open_to_all=("hub.join", "hub.export"))


@bp.get("/")
def home():
    session = get_session()
    type_key = request.args.get("type", "")
    type_key = type_key if type_key in REGISTRY else ""
    featured, open_count = featured_challenges(session, current_user, type_key)
    return render_template(
        "hub/home.html",
        available=featured,
        open_count=open_count,
        type_key=type_key,
        type_choices=type_filter_choices(),
        balance=balance_of(session, current_user.id),
        pending=pending_count(session, current_user.id),
    )


@bp.route("/join", methods=["GET", "POST"])
def join():
    if current_user.opted_in:
        return redirect(url_for("hub.home"))
    form = forms.JoinForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            services.opt_in(session, settings(), current_user)
        except AlreadyHandled:  # a second click, or another tab, got there first
            return redirect(url_for("hub.home"))
        session.commit()
        flash("Welcome to the hub! You can leave at any time from your profile.", "success")
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
                "You have left the program. We will not email you or ask you for anything. "
                "Your history is kept, and you can rejoin at any time.",
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
            email_digests=form.email_digests.data,
            hide_from_leaderboard=form.hide_from_leaderboard.data,
            declines_gifts=form.declines_gifts.data,
            gifts_note=form.gifts_note.data or "",
        )
        try:
            update_profile(session, current_user, fields)
            flag_forbidden(session, current_user.account_id)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash("Profile saved.", "success")
            return redirect(url_for("hub.profile"))
    return render_template("hub/profile.html", form=form)


@bp.get("/export.json")
def export():
    session = get_session()
    data = {
        **services.export_user_data(session, current_user),
        **export_for(session, current_user.id),
        "redemptions": points_queries.export_for(session, current_user.id),
    }
    return Response(
        json.dumps(data, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=my-vouch-data.json"},
    )
