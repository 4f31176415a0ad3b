"""The choices a person makes about email, from a link in an email (no login)."""

from __future__ import annotations

from wtforms import BooleanField

from portal.forms import Form
from portal.i18n import _l
from portal.notifications.models import Topic

# what each kind of email is about, as the profile and the unsubscribe page name it
TOPIC_LABELS = {
    Topic.RESULTS: _l("Challenge results (approvals and rejections)"),
    Topic.REWARDS: _l("Rewards (redemption updates, points about to expire)"),
    Topic.THANKS: _l("Thank-yous and gift offers"),
    Topic.GAME: _l("Level and badge news"),
    Topic.EVENTS: _l("Event invitations and reminders"),
    Topic.DIGESTS: _l("The weekly digest"),
}


class EmailChoicesForm(Form):
    """One switch per kind of email (the `email_<topic>` columns)."""

    email_results = BooleanField(TOPIC_LABELS[Topic.RESULTS])
    email_rewards = BooleanField(TOPIC_LABELS[Topic.REWARDS])
    email_thanks = BooleanField(TOPIC_LABELS[Topic.THANKS])
    email_game = BooleanField(TOPIC_LABELS[Topic.GAME])
    email_events = BooleanField(TOPIC_LABELS[Topic.EVENTS])
    email_digests = BooleanField(TOPIC_LABELS[Topic.DIGESTS])
