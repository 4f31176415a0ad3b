"""Login, logout, password reset, invitations and password change."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import session as browser_session
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts.models import Role
from portal.app import home_for
from portal.auth import forms, services
from portal.config import settings
from portal.db import get_session
from portal.errors import AlreadyHandled, DomainError, InvalidToken
from portal.extensions import limit_from_config, per_form_email
from portal.i18n import _
from portal.web import safe_next, show_error

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limit_from_config("LOGIN_LIMIT_PER_IP")
@limit_from_config("LOGIN_LIMIT_PER_ACCOUNT", key_func=per_form_email("login"))
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = forms.LoginForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            user = services.authenticate(
                session, form.email.data, form.password.data, form.time_zone.data
            )
        except DomainError as error:
            show_error(form, error)
        else:
            session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limit_from_config("RESET_REQUEST_LIMIT_PER_IP")
@limit_from_config("RESET_REQUEST_LIMIT_PER_EMAIL", key_func=per_form_email("reset"))
def forgot_password():
    form = forms.ForgotPasswordForm()
    if form.validate_on_submit():
        session = get_session()
        services.request_password_reset(session, settings(), form.email.data)
        session.commit()
        flash(
            _(
                "If that address has a login, we have emailed it a link to reset the "
                "password. The link works once, for an hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limit_from_config("RESET_LIMIT_PER_IP")
def reset_password(token: str):
    session = get_session()
    try:
        user = services.user_for_reset_token(session, settings(), token)
    except InvalidToken as error:
        return render_template("auth/token_problem.html", message=error.message), 400
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(session, settings(), token, form.password.data)
        except InvalidToken as error:
            return render_template("auth/token_problem.html", message=error.message), 400
        except DomainError as error:
            show_error(form, error)
        else:
            session.commit()
            flash(_("Your password is changed. Log in with it now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limit_from_config("INVITATION_LIMIT_PER_IP")
def accept_invitation(token: str):
    session = get_session()
    try:
        invitation = services.load_invitation(session, settings(), token)
    except InvalidToken as error:
        return render_template("auth/token_problem.html", message=error.message), 400
    user = invitation.user
    form = forms.AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(
                session, settings(), token, form.name.data, form.password.data, form.consent.data
            )
        except (InvalidToken, AlreadyHandled) as error:
            return render_template("auth/token_problem.html", message=error.message), 400
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            services.remember_time_zone(user, form.time_zone.data)
            session.commit()
            logout_user()
            login_user(user)
            flash(_("Welcome, %(name)s! You are in.", name=user.name), "success")
            return redirect(home_for(user))
    return render_template(
        "auth/accept.html", form=form, user=user, needs_consent=user.role == Role.ADVOCATE
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = forms.ChangePasswordForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            services.change_password(
                session, current_user, form.current_password.data, form.new_password.data
            )
        except DomainError as error:
            show_error(form, error, {"password": "new_password"})  # a weak new password
        else:
            session.commit()
            login_user(current_user._get_current_object())  # this session carries the new token
            flash(_("Password changed. Your other sessions are logged out."), "success")
            return redirect(home_for(current_user))
    return render_template("auth/change_password.html", form=form)


@bp.post("/language")
def choose_language():
    """The language of the pages before logging in (kept in the session); a person's own
    setting, on their profile, wins once they are logged in."""
    form = forms.LanguageForm()
    if form.validate_on_submit():
        browser_session["locale"] = form.language.data
    return redirect(safe_next(form.next.data) or url_for("auth.login"))
