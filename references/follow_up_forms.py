"""The forms after the yes: an introduction, a confirmed call, a call that did not happen, the
deal's outcome. On the request page each ask's forms carry its own prefix (ask12-call_on), so
two accepted asks never share a field id."""

from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.forms import Form
from portal.i18n import _l
from references.models import Outcome


def ask_prefix(ask_id: int) -> str:
    return f"ask{ask_id}"


class IntroducedForm(Form):
    """No fields: the button says it."""


class ConfirmCallForm(Form):
    call_on = DateField(
        _l("When did the call take place?"),
        validators=[DataRequired(_l("Say when the call took place."))],
        description=_l("The advocate's points (or thank-you) follow at once."),
    )


class FellThroughForm(Form):
    reason = TextAreaField(
        _l("If the call didn't happen: what happened?"),
        render_kw={"rows": 2},
        validators=[
            DataRequired(_l("Say what happened, so the manager can pick another candidate.")),
            Length(max=2000),
        ],
        description=_l("The ask is withdrawn and a manager can pick another candidate."),
    )


OUTCOME_CHOICES = [
    ("", _l("Choose one")),
    (Outcome.WON.value, _l("Won")),
    (Outcome.LOST.value, _l("Lost")),
]


class OutcomeForm(Form):
    outcome = SelectField(
        _l("How did the deal end?"),
        choices=OUTCOME_CHOICES,
        validators=[DataRequired(_l("Say whether the deal was won or lost."))],
    )
    amount = IntegerField(
        _l("Amount won (whole dollars)"),
        validators=[
            Optional(),
            NumberRange(0, 10**12, _l("Enter an amount between 0 and 1,000,000,000,000.")),
        ],
        description=_l("Needed when the deal was won."),
    )
    closed_on = DateField(
        _l("Close date"), validators=[DataRequired(_l("Say when the deal closed."))]
    )
