"""The notifications list in the hub, and the unsubscribe pages that a link in an email
opens without logging in (RFC 8058: a POST to the link itself turns that kind off)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from portal.accounts.models import Role, User
from portal.config import settings
from portal.db import get_session
from portal.extensions import csrf
from portal.i18n import speaking_as
from portal.notifications import services
from portal.notifications.forms import TOPIC_LABELS, EmailChoicesForm
from portal.notifications.models import Topic
from portal.notifications.queries import notifications_page
from portal.pagination import PageRequest
from portal.web import require_membership, require_roles

bp = Blueprint("notifications", __name__)
inbox = Blueprint("inbox", __name__, url_prefix="/hub")
require_roles(inbox, Role.ADVOCATE)
require_membership(inbox)


@inbox.app_context_processor
def _unread_badge():
    """The navigation's count, read only where a page shows it (advocates' pages)."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated or current_user.role != Role.ADVOCATE:
            return 0
        return services.unread_count(get_session(), current_user.id)

    return {"unread_notifications": unread_notifications}


@inbox.get("/notifications")
def notifications():
    """Newest first; what the page shows is marked read (older pages stay new until seen)."""
    session = get_session()
    page = notifications_page(session, current_user.id, PageRequest.from_args(request.args))
    unread_ids = {item.id for item in page.items if item.read_at is None}
    services.mark_read(session, current_user.id, unread_ids)
    session.commit()
    return render_template("notifications/list.html", page=page, unread_ids=unread_ids)


def _reader(token: str) -> tuple[User, Topic] | None:
    named = services.read_unsubscribe_token(settings(), token)
    if named is None:
        return None
    user = get_session().get(User, named[0])
    return (user, named[1]) if user is not None else None


def _not_ours():
    return render_template("notifications/bad_link.html"), 404


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """What the link is about, a button that turns it off, and every other choice."""
    found = _reader(token)
    if found is None:
        return _not_ours()
    user, topic = found
    with speaking_as(user):
        return render_template(
            "notifications/unsubscribe.html",
            token=token,
            topic=topic,
            topic_label=TOPIC_LABELS[topic],
            subscribed=bool(getattr(user, topic.column)),
            form=EmailChoicesForm(obj=user),
        )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no session
def unsubscribe_now(token: str):
    found = _reader(token)
    if found is None:
        return _not_ours()
    user, topic = found
    session = get_session()
    services.set_email_choice(session, user, topic, False)
    session.commit()
    with speaking_as(user):
        return render_template(
            "notifications/unsubscribed.html", token=token, topic_label=TOPIC_LABELS[topic]
        )


@bp.post("/unsubscribe/<token>/choices")
def email_choices(token: str):
    """Every kind at once, from the unsubscribe page (a CSRF-protected form)."""
    found = _reader(token)
    if found is None:
        return _not_ours()
    user, topic = found
    session = get_session()
    form = EmailChoicesForm()
    saved = False
    if form.validate_on_submit():
        for kind in Topic:
            services.set_email_choice(session, user, kind, bool(form[kind.column].data))
        session.commit()
        saved = True
    with speaking_as(user):
        return render_template(
            "notifications/unsubscribe.html",
            token=token,
            topic=topic,
            topic_label=TOPIC_LABELS[topic],
            subscribed=bool(getattr(user, topic.column)),
            form=form,
            saved=saved,
        )
