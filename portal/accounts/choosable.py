"""Who staff may pick for a thank-you gift or a logged activity: a current member of the
hub. Not an invitation never accepted, nor someone who left the program or their company,
nor a deactivated login. A form opened for someone (?advocate_id=) fills in only them, and
the server refuses anyone else with the reason beside the email field. (The forms take an
email, not a list of every advocate: a program may have 100,000.)"""

from __future__ import annotations

from portal.accounts.models import Role, User
from portal.i18n import _


def why_not_choosable(user: User | None) -> str | None:
    """Why staff can't pick this person for a gift or an activity, or None when they can."""
    if user is None or user.role != Role.ADVOCATE:
        return _("No advocate has that email.")
    name = user.display_name
    if not user.active:
        return _("%(name)s's login is deactivated: choose someone else.", name=name)
    if user.left_company_at is not None:
        account = user.account.name if user.account else _("their company")
        return _("%(name)s has left %(account)s: choose someone else.", name=name, account=account)
    if not user.opted_in and user.consents:
        return _("%(name)s has left the program: choose someone else.", name=name)
    if not user.opted_in:
        return _("%(name)s was invited but has not joined the hub yet.", name=name)
    return None
