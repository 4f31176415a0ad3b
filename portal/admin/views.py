"""Admin pages. The blueprint admits admins only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from challenges import badges as badge_rules
from challenges.forms import GiveBadgeForm
from challenges.views.review import badge_form, game_of, give_badge_by_form
from points import settings as game
from points.badges import holders_count
from points.levels import all_levels, delete_level, save_level
from points.models import Badge, Level
from points.program import game_settings, zone
from points.queries import _cell, overdue_counts  # _cell: no cell runs as a formula
from points.redemptions import flag_forbidden
from portal.accounts import queries
from portal.accounts import services as accounts
from portal.accounts.models import Account, GiftPolicy, Role, User
from portal.admin import forms
from portal.auth.services import invite_user
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError
from portal.i18n import _, ngettext, number
from portal.ids import parse_row_id
from portal.pagination import PageRequest
from portal.uploads import Upload
from portal.web import clean_query, page_url, require_roles, send_stored_image, show_error
from references import follow_up

bp = Blueprint("admin", __name__, url_prefix="/admin")
# level and badge images are shown to everyone in the program: those routes check a login
IMAGES = ("admin.level_image", "admin.badge_image")
require_roles(bp, Role.ADMIN, exempt=IMAGES)


def _with_choices(form, session):
    if "owner_id" in form:
        form.owner_id.choices = [(None, "— nobody —")] + queries.staff_choices(session)
    if "account_id" in form:
        form.account_id.choices = [(None, "— none —")] + queries.account_choices(session)
    return form


@bp.get("/")
def dashboard():
    session = get_session()
    audit = queries.recent_audit(session, limit=10)
    return render_template(
        "admin/dashboard.html",
        accounts=queries.largest_accounts(session),
        by_policy=queries.accounts_by_policy(session),
        requests=queries.open_policy_requests(session),
        request_count=queries.open_policy_request_count(session),
        audit=audit,
        targets=queries.audit_targets(session, audit),
        overdue=overdue_counts(session),
    )


# --- accounts ---------------------------------------------------------------------------


@bp.get("/accounts")
def accounts_list():
    query = clean_query(request.args.get("q"))
    policy = request.args.get("policy", "")
    if policy not in {p.value for p in GiftPolicy}:
        policy = ""
    page = queries.accounts_page(
        get_session(), PageRequest.from_args(request.args), query=query, policy=policy
    )
    return render_template("admin/accounts.html", page=page, query=query, policy=policy)


def _account_fields(form: forms.AccountForm) -> accounts.AccountFields:
    return accounts.AccountFields(
        name=form.name.data or "",
        industry=form.industry.data or "",
        segment=form.segment.data or "",
        region=form.region.data or "",
        arr=form.arr.data,
        owner_id=form.owner_id.data,
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
def account_new():
    session = get_session()
    form = _with_choices(forms.AccountForm(), session)
    if form.validate_on_submit():
        try:
            account = accounts.create_account(session, current_user, _account_fields(form))
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Account %(account)s created.", account=account.name), "success")
            return redirect(url_for("admin.account_detail", account_id=account.id))
    return render_template("admin/account_form.html", form=form, account=None)


def _account_or_404(session, account_id: int) -> Account:
    return session.get(Account, account_id) or abort(404)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
def account_edit(account_id: int):
    session = get_session()
    account = _account_or_404(session, account_id)
    form = _with_choices(forms.AccountForm(obj=account), session)
    if form.validate_on_submit():
        try:
            accounts.update_account(session, current_user, account.id, _account_fields(form))
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Account %(account)s saved.", account=account.name), "success")
            return redirect(url_for("admin.account_detail", account_id=account.id))
    return render_template("admin/account_form.html", form=form, account=account)


@bp.get("/accounts/<int:account_id>")
def account_detail(account_id: int, policy_form: forms.GiftPolicyForm | None = None):
    session = get_session()
    account = _account_or_404(session, account_id)
    if policy_form is None:
        policy_form = forms.GiftPolicyForm(policy=account.gift_policy)
    return render_template(
        "admin/account_detail.html",
        account=account,
        policy_form=policy_form,
        dismiss_form=forms.DismissRequestForm(),
        members=queries.users_page(
            session, PageRequest.from_args(request.args), account_id=account.id
        ),
        milestones=follow_up.milestones_page(
            session, account.id, follow_up.milestones_page_number(request.args)
        ),
    )


@bp.post("/accounts/<int:account_id>/gift-policy")
def account_gift_policy(account_id: int):
    session = get_session()
    account = _account_or_404(session, account_id)
    form = forms.GiftPolicyForm()
    if form.validate_on_submit():
        try:
            accounts.set_gift_policy(
                session, current_user, account.id, GiftPolicy(form.policy.data), form.reason.data
            )
            flagged = flag_forbidden(session, account.id)  # under the same account lock
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(
                _(
                    "Gift policy of %(account)s is now “%(policy)s”.",
                    account=account.name,
                    policy=account.policy.label,
                ),
                "success",
            )
            if flagged:
                flash(
                    ngettext(
                        "%(num)d open redemption of this account the new policy forbids: "
                        "convert it to a donation or cancel it.",
                        "%(num)d open redemptions of this account the new policy forbids: "
                        "convert them to donations or cancel them.",
                        flagged,
                    ),
                    "warning",
                )
            return redirect(url_for("admin.account_detail", account_id=account.id))
    return account_detail(account.id, policy_form=form), 422


@bp.post("/policy-requests/<int:request_id>/dismiss")
def dismiss_policy_request(request_id: int):
    session = get_session()
    form = forms.DismissRequestForm()
    if form.validate_on_submit():
        try:
            accounts.dismiss_policy_request(session, current_user, request_id, form.note.data or "")
        except DomainError as error:
            session.rollback()
            flash(error.message, "warning")
        else:
            session.commit()
            flash(_("Request dismissed; the advocate still receives no gifts."), "info")
    return redirect(request.referrer if _is_local(request.referrer) else url_for("admin.dashboard"))


def _is_local(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


# --- users ------------------------------------------------------------------------------


@bp.get("/users")
def users_list():
    session = get_session()
    role = request.args.get("role") or None
    if role not in (None, *[r.value for r in Role]):
        role = None
    query = clean_query(request.args.get("q"))
    return render_template(
        "admin/users.html",
        page=queries.users_page(session, PageRequest.from_args(request.args), role, query=query),
        role=role,
        query=query,
        confirm=forms.ConfirmForm(),
    )


@bp.route("/users/invite", methods=["GET", "POST"])
def user_invite():
    session = get_session()
    form = _with_choices(forms.InviteUserForm(), session)
    if request.method == "GET":  # opened from a list of people to invite (?email=&account_id=)
        form.email.data = clean_query(request.args.get("email"), 254)
        form.account_id.data = parse_row_id(request.args.get("account_id"))
    if form.validate_on_submit():
        try:
            account = (
                accounts.get_account(session, form.account_id.data)
                if form.account_id.data
                else None
            )
            invite_user(
                session, settings(), current_user, form.email.data, Role(form.role.data), account
            )
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(
                _("Invitation sent to %(email)s.", email=form.email.data.strip().lower()), "success"
            )
            return redirect(url_for("admin.users_list"))
    return render_template("admin/user_invite.html", form=form)


def _user_or_404(session, user_id: int) -> User:
    return session.get(User, user_id) or abort(404)


@bp.get("/users/<int:user_id>")
def user_detail(
    user_id: int,
    role_form: forms.RoleForm | None = None,
    given: GiveBadgeForm | None = None,
):
    session = get_session()
    user = _user_or_404(session, user_id)
    if role_form is None:
        role_form = forms.RoleForm(role=user.role, account_id=user.account_id)
    _with_choices(role_form, session)
    advocate = user.role == Role.ADVOCATE
    return render_template(
        "admin/user_detail.html",
        user=user,
        role_form=role_form,
        confirm=forms.ConfirmForm(),
        audit=queries.recent_audit(session, limit=50, target=user),
        badge_form=badge_form(session, given) if advocate else None,
        **(game_of(session, user) if advocate else {}),
    )


@bp.post("/users/<int:user_id>/badges")
def user_badge(user_id: int):
    session = get_session()
    user = _user_or_404(session, user_id)
    form, given = give_badge_by_form(session, user)
    if given:
        return redirect(url_for("admin.user_detail", user_id=user.id))
    return user_detail(user.id, given=form), 422


@bp.post("/users/<int:user_id>/role")
def user_role(user_id: int):
    session = get_session()
    user = _user_or_404(session, user_id)
    form = _with_choices(forms.RoleForm(), session)
    if form.validate_on_submit():
        try:
            accounts.change_role(
                session, current_user, user.id, Role(form.role.data), form.account_id.data
            )
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(
                _(
                    "%(email)s is now %(label)s.",
                    email=user.email,
                    label=user.role_enum.label.lower(),
                ),
                "success",
            )
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return user_detail(user.id, role_form=form), 422


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    session = get_session()
    user = _user_or_404(session, user_id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        activate = request.form.get("active") == "1"
        try:
            accounts.set_active(session, current_user, user.id, activate)
        except DomainError as error:
            session.rollback()
            flash(error.message, "danger")
        else:
            session.commit()
            done = _("%(email)s reactivated.") if activate else _("%(email)s deactivated.")
            flash(done % {"email": user.email}, "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.get("/audit")
def audit_log():
    session = get_session()
    form = forms.AuditFilterForm(request.args)
    # ?user_id= is the link from a user's page; a typed target replaces it
    about_id = parse_row_id(request.args.get("user_id"))
    about = session.get(User, about_id) if about_id else None
    if about is not None and not form.target.data:
        form.target.data = about.email
    filters = _audit_filter(session, form)
    page = (
        queries.audit_page(session, PageRequest.from_args(request.args), filters)
        if filters is not None
        else None
    )
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        filters=filters,
        targets=queries.audit_targets(session, page.items) if page else {},
        actions=queries.AUDIT_ACTIONS,
    )


AUDIT_CSV_CHUNK = 1000
AUDIT_CSV_COLUMNS = [
    "id", "at_utc", "actor", "action", "target_type", "target_id", "summary", "details"
]  # fmt: skip


@bp.get("/audit.csv")
def audit_csv():
    """The filtered log, newest first, streamed a keyset chunk at a time."""
    session = get_session()
    filters = _audit_filter(session, forms.AuditFilterForm(request.args))
    if filters is None:
        return redirect(page_url(url_for("admin.audit_log")))  # the page shows what is wrong

    def lines():
        yield _csv_line(AUDIT_CSV_COLUMNS)
        wanted = PageRequest()
        while True:
            page = queries.audit_page(session, wanted, filters, per_page=AUDIT_CSV_CHUNK)
            for event in page.items:
                yield _csv_line(
                    [
                        event.id,
                        event.created_at.isoformat(),
                        _cell(event.actor.email if event.actor else "system"),
                        _cell(event.action),
                        event.target_type,
                        event.target_id if event.target_id is not None else "",
                        _cell(event.summary),
                        _cell(json.dumps(event.details, ensure_ascii=False, sort_keys=True)),
                    ]
                )
            # end the read between chunks: a slow download never holds a transaction open
            session.commit()
            if not page.next_args:
                return
            wanted = PageRequest(after=str(page.next_args["after"]))

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )


def _csv_line(values: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _audit_filter(session, form: forms.AuditFilterForm) -> queries.AuditFilter | None:
    """The filters asked for, or None (with each problem beside its field)."""
    if not form.validate():
        return None
    actor = target = None
    if form.actor.data:
        actor = accounts.find_user_by_email(session, form.actor.data)
        if actor is None:
            form.actor.errors = [_("Nobody here has this email.")]
    if form.target.data:
        text = form.target.data.strip()
        if "@" in text:
            target = accounts.find_user_by_email(session, text)
            problem = _("No user has this email.")
        else:
            target = accounts.find_account_by_name(session, text)
            problem = _("No account has this name: give its full name, or a user's email.")
        if target is None:
            form.target.errors = [problem]
    if form.errors:
        return None
    tz = zone(game_settings(session).time_zone)
    first, last = form.date_from.data, form.date_to.data
    return queries.AuditFilter(
        actor=actor,
        target=target,
        action=clean_query(form.action.data, limit=60),
        since=datetime.combine(first, time.min, tz).astimezone(UTC) if first else None,
        until=(
            datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(UTC)
            if last
            else None
        ),
    )


# --- the game: levels, badges, how the program plays ------------------------------------


def _image_of(form) -> Upload | None:
    image = form.image.data
    if image is None or not getattr(image, "filename", ""):
        return None
    return Upload(image.filename, image.read())


def _save_image(session, form, row) -> None:
    """A new file replaces the image; "remove" without a file takes it away."""
    if (image := _image_of(form)) is not None:
        game.set_image(session, settings(), row, image)
    elif form.remove_image.data:
        game.remove_image(session, settings(), row)


@bp.route("/levels", methods=["GET", "POST"])
@bp.route("/levels/<int:level_id>", methods=["GET", "POST"])
def levels(level_id: int | None = None):
    """Every level with how many advocates are at it now; add one, or edit the one chosen."""
    session = get_session()
    level = (session.get(Level, level_id) or abort(404)) if level_id is not None else None
    form = forms.LevelForm(obj=level) if request.method == "GET" else forms.LevelForm()
    if form.validate_on_submit():
        try:
            saved = save_level(
                session,
                current_user,
                form.name.data,
                form.threshold.data,
                form.perk.data or "",
                level,
            )
            _save_image(session, form, saved)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(
                _(
                    "Saved the level “%(name)s”. Advocates who now reach a level see it on "
                    "their next visit; no email is sent for a change of thresholds.",
                    name=saved.name,
                ),
                "success",
            )
            return redirect(url_for("admin.levels"))
    every = all_levels(session)
    return render_template(
        "admin/levels.html",
        levels=every,
        counts=game.advocates_per_level(session, every),
        form=form,
        level=level,
        confirm=forms.ConfirmForm(),
    ), (422 if form.errors else 200)


def _send_image(row) -> object:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return send_stored_image(row.image_key if row else None)


@bp.get("/levels/<int:level_id>/image")
def level_image(level_id: int):
    return _send_image(get_session().get(Level, level_id))


@bp.get("/badges/<int:badge_id>/image")
def badge_image(badge_id: int):
    return _send_image(get_session().get(Badge, badge_id))


def _badge_fields(form: forms.BadgeForm, badge: Badge | None) -> badge_rules.BadgeFields:
    return badge_rules.BadgeFields(
        name=form.name.data or "",
        description=form.description.data or "",
        rule=badge.rule if badge else form.rule.data,
        threshold=form.threshold.data,
        enabled=form.enabled.data,
    )


@bp.route("/badges", methods=["GET", "POST"])
@bp.route("/badges/<int:badge_id>", methods=["GET", "POST"])
def badges(badge_id: int | None = None):
    """Every badge, its rule, N, whether it is on and how many hold it; add or edit one."""
    session = get_session()
    badge = (session.get(Badge, badge_id) or abort(404)) if badge_id is not None else None
    form = forms.BadgeForm(obj=badge) if request.method == "GET" else forms.BadgeForm()
    if form.validate_on_submit():
        try:
            saved = badge_rules.save_badge(session, current_user, _badge_fields(form, badge), badge)
            _save_image(session, form, saved)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            state = _("on") if saved.enabled else _("off")
            flash(
                _("Saved the badge “%(name)s” (%(state)s).", name=saved.name, state=state),
                "success",
            )
            return redirect(url_for("admin.badges"))
    return render_template(
        "admin/badges.html",
        badges=session.scalars(select(Badge).order_by(Badge.rule, Badge.name)).all(),
        rules=badge_rules.RULES,
        holders=holders_count(session),
        form=form,
        badge=badge,
        confirm=forms.ConfirmForm(),
    ), (422 if form.errors else 200)


@bp.post("/badges/recompute")
def badges_recompute():
    session = get_session()
    if forms.ConfirmForm().validate_on_submit():
        report = badge_rules.recompute(session)
        session.commit()
        if report.total:
            added = ", ".join(f"{name}: {number(count)}" for name, count in report.added.items())
            flash(
                _(
                    "Gave %(total)s badges that were earned and missing (%(added)s).",
                    total=number(report.total),
                    added=added,
                ),
                "success",
            )
        else:
            flash(_("Nothing to add: everyone already holds the badges they earned."), "info")
    return redirect(url_for("admin.badges"))


@bp.route("/game", methods=["GET", "POST"], endpoint="game_settings")
def game_settings_page():
    session = get_session()
    current = game_settings(session)
    if request.method == "GET":
        form = forms.GameSettingsForm(obj=current, expires=current.expiry_months is not None)
        form.expiry_months.data = current.expiry_months or 12
    else:
        form = forms.GameSettingsForm()
    if form.validate_on_submit():
        choices = game.GameChoices(
            time_zone=form.time_zone.data or "",
            show_leaderboards=form.show_leaderboards.data,
            show_points=form.show_points.data,
            expiry_months=form.expiry_months.data if form.expires.data else None,
            earn_cap=form.earn_cap.data,
            earn_cap_period=form.earn_cap_period.data or "",
            approve_within_days=form.approve_within_days.data,
            fulfil_within_days=form.fulfil_within_days.data,
        )
        try:
            game.update_game_settings(session, current_user, choices)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Game settings saved."), "success")
            return redirect(url_for("admin.game_settings"))
    return render_template("admin/game.html", form=form), (422 if form.errors else 200)


@bp.post("/levels/<int:level_id>/delete")
def level_delete(level_id: int):
    session = get_session()
    level = session.get(Level, level_id) or abort(404)
    if forms.ConfirmForm().validate_on_submit():
        name = level.name
        game.remove_image(session, settings(), level)
        delete_level(session, current_user, level)
        session.commit()
        flash(_("Removed the level “%(name)s”.", name=name), "info")
    return redirect(url_for("admin.levels"))
