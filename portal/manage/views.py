"""Program manager pages: the program at a glance and inviting advocates."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from challenges import queries, thanks
from portal.accounts.models import Account, Role, User
from portal.accounts.queries import account_choices, accounts_page, largest_accounts
from portal.accounts.services import get_account
from portal.auth import confirmation
from portal.auth.services import invite_many
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError
from portal.i18n import _
from portal.ids import parse_row_id
from portal.mail import bounces
from portal.manage.forms import BulkInviteForm, ReachableForm
from portal.pagination import PageRequest
from portal.web import clean_query, require_roles, show_error
from references import follow_up
from references.services import open_flags

NEAR_CAP_SHOWN = 10
bp = Blueprint("manage", __name__, url_prefix="/manage")
require_roles(bp, Role.MANAGER, Role.ADMIN)


@bp.get("/")
def dashboard():
    session = get_session()
    return render_template(
        "manage/dashboard.html",
        accounts=largest_accounts(session),
        pending=queries.pending_count(session),
        thanks_owed=thanks.open_count(session),
        share=thanks.thanked_within_a_week(session),
        near_cap=queries.advocates_near_cap(session, limit=NEAR_CAP_SHOWN),
        accounts_near_cap=queries.accounts_near_cap(session, limit=NEAR_CAP_SHOWN),
        live=queries.live_count(session),
        leavers=confirmation.recent_leavers(session, limit=NEAR_CAP_SHOWN),
    )


@bp.get("/accounts")
def accounts():
    """Every customer account, read-only, searched by name (admins edit them)."""
    query = clean_query(request.args.get("q"))
    page = accounts_page(get_session(), PageRequest.from_args(request.args), query=query)
    return render_template("manage/accounts.html", page=page, query=query)


@bp.get("/accounts/<int:account_id>")
def account_people(account_id: int):
    """An account's advocates who need attention: addresses that bounce (cleared here once
    fixed) and those who told us they left the company."""
    session = get_session()
    account = session.get(Account, account_id) or abort(404)
    return render_template(
        "manage/account.html",
        account=account,
        unreachable=bounces.unreachable_page(
            session, account.id, PageRequest.from_args(request.args)
        ),
        leavers=confirmation.leavers_page(session, account.id, PageRequest()),
        form=ReachableForm(),
        milestones=follow_up.milestones_page(
            session, account.id, follow_up.milestones_page_number(request.args)
        ),
        flags=open_flags(session, account.id),
    )


@bp.post("/users/<int:user_id>/reachable")
def mark_reachable(user_id: int):
    """Staff fixed the address: non-essential mail may go to it again (audited)."""
    session = get_session()
    form = ReachableForm()
    user = session.get(User, user_id) or abort(404)
    if form.validate_on_submit():
        try:
            bounces.clear_unreachable(session, current_user, user_id)
        except DomainError as error:
            session.rollback()
            flash(error.message, "warning")
        else:
            session.commit()
            flash(
                _("%(email)s will get email from the program again.", email=user.email), "success"
            )
    if user.account_id is None:  # staff: their page is the admin's
        return redirect(url_for("admin.user_detail", user_id=user.id))
    return redirect(url_for("manage.account_people", account_id=user.account_id))


@bp.get("/near-cap")
def near_cap():
    """Everyone near the big-ask cap, a page at a time (the dashboard shows the top few)."""
    session = get_session()
    return render_template(
        "manage/near_cap.html",
        page=queries.near_cap_page(session, PageRequest.from_args(request.args)),
        accounts_near_cap=queries.accounts_near_cap(session, limit=NEAR_CAP_SHOWN),
    )


@bp.route("/invite", methods=["GET", "POST"])
def invite():
    session = get_session()
    form = BulkInviteForm()
    form.account_id.choices = account_choices(session)
    if request.method == "GET":  # opened from the promoters to invite (?addresses=&account_id=)
        form.addresses.data = clean_query(request.args.get("addresses"), 254)
        form.account_id.data = parse_row_id(request.args.get("account_id"))
    results = None
    if form.validate_on_submit():
        try:
            account = get_account(session, form.account_id.data)
        except DomainError as error:
            show_error(form, error)
        else:
            results = invite_many(session, settings(), current_user, account, form.addresses.data)
            session.commit()
            invited = sum(line.invited for line in results)
            flash(
                _(
                    "%(invited)s of %(total)s invited to %(account)s.",
                    invited=invited,
                    total=len(results),
                    account=account.name,
                ),
                "success" if invited == len(results) else "warning",
            )
    return render_template("manage/invite.html", form=form, results=results)
