"""Forms for the catalog, redemptions, adjustments and gift offers."""

from __future__ import annotations

import secrets
from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from points.models import RewardKind
from portal.accounts.services import normalise_email
from portal.errors import DomainError
from portal.forms import Form
from portal.i18n import _l
from portal.ids import row_id

LIMIT_PERIODS = [
    ("month", _l("Per month")),
    ("quarter", _l("Per quarter")),
    ("year", _l("Per year")),
    ("ever", _l("In all")),
]


def _finite(value):
    """NaN or infinity is no amount of money: treat it as missing."""
    return None if isinstance(value, Decimal) and not value.is_finite() else value


class RewardForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Give the reward a name.")), Length(max=200)]
    )
    kind = SelectField(_l("Kind"), choices=[(k.value, k.label) for k in RewardKind])
    description = TextAreaField(
        _l("Description"), render_kw={"rows": 3}, validators=[Length(max=5000)]
    )
    charity_name = StringField(
        _l("Charity"),
        description=_l("For donations: who receives them."),
        validators=[Length(max=200)],
    )
    cost = IntegerField(
        _l("Cost in points"),
        validators=[
            InputRequired(_l("Give the cost in points.")),
            NumberRange(1, 10_000_000, _l("At least 1.")),
        ],
    )
    money_value = DecimalField(
        _l("Money value"),
        places=2,
        default=0,
        filters=[_finite],
        validators=[
            InputRequired(_l("Give its value (0 if none).")),
            NumberRange(0, 1_000_000, _l("0 or more.")),
        ],
    )
    currency = StringField(
        _l("Currency"),
        default="USD",
        validators=[Length(3, 3, _l("Use a three-letter currency code, like USD or EUR."))],
    )
    stock_seen = HiddenField()
    stock = IntegerField(
        _l("Stock"),
        description=_l("Blank: unlimited."),
        validators=[Optional(), NumberRange(0, 1_000_000, _l("0 or more."))],
    )
    limit_count = IntegerField(
        _l("Each advocate may redeem it"),
        description=_l("Blank: no limit."),
        validators=[Optional(), NumberRange(1, 1000, _l("At least 1."))],
    )
    limit_period = SelectField(_l("Per"), choices=LIMIT_PERIODS)
    starts_on = DateField(_l("Available from"), validators=[Optional()])
    ends_on = DateField(
        _l("Available until"),
        validators=[Optional()],
        description=_l("The last day it can be redeemed."),
    )
    regions = StringField(
        _l("Regions"),
        description=_l("Comma-separated, e.g. North America, EMEA. Blank: everywhere."),
        validators=[Length(max=200)],
    )
    image = FileField(_l("Image"), description=_l("PNG, JPEG, GIF or WebP."))
    active = BooleanField(_l("Active (advocates can see it)"), default=True)
    submit = SubmitField(_l("Save reward"))


class RedeemForm(Form):
    # one key per form shown: a double click sends the same key, and books one redemption
    request_key = HiddenField(
        default=lambda: secrets.token_urlsafe(16), validators=[Length(max=64)]
    )
    shipping_address = TextAreaField(
        _l("Shipping address"),
        render_kw={"rows": 4},
        validators=[Length(max=1000)],
        description=_l("Only the admins who ship it can see this."),
    )
    submit = SubmitField(_l("Redeem"))


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2}, validators=[Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


class RejectForm(ReasonForm):
    reason = TextAreaField(
        _l("Why it is rejected"),
        render_kw={"rows": 2},
        description=_l("The advocate sees this."),
        validators=[Length(max=2000)],
    )


class CancelForm(ReasonForm):
    reason = TextAreaField(
        _l("Why it is cancelled (optional)"), render_kw={"rows": 2}, validators=[Length(max=2000)]
    )


class RefundForm(ReasonForm):
    reason = TextAreaField(
        _l("Why the points are returned"), render_kw={"rows": 2}, validators=[Length(max=2000)]
    )


class FulfilForm(Form):
    reference = StringField(_l("Reference"), validators=[Length(max=500)])
    submit = SubmitField(_l("Mark fulfilled"))


class ConvertForm(Form):
    charity_id = SelectField(
        _l("Donate to"),
        coerce=row_id,
        validate_choice=False,
        validators=[InputRequired(_l("Choose the charity."))],
    )
    submit = SubmitField(_l("Convert to a donation"))


class ImportForm(Form):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "Columns: redemption_id, reference (a header line is fine), as in the export."
        ),
    )
    text = TextAreaField(_l("Or paste the lines"), render_kw={"rows": 5})
    submit = SubmitField(_l("Import fulfilments"))


class AdjustForm(Form):
    request_key = HiddenField(
        default=lambda: secrets.token_urlsafe(16), validators=[Length(max=64)]
    )
    amount = IntegerField(
        _l("Points"),
        description=_l("Positive adds, negative removes."),
        validators=[
            InputRequired(_l("Enter a number of points.")),
            NumberRange(-10_000_000, 10_000_000),
        ],
    )
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why the balance is changing.")), Length(max=500)],
    )
    submit = SubmitField(_l("Adjust balance"))


class ThresholdForm(Form):
    auto_approve_below = IntegerField(
        _l("Approve automatically below (points)"),
        validators=[InputRequired(), NumberRange(0, 10_000_000, _l("0 or more."))],
        description=_l(
            "0: every redemption waits for an admin. Accounts that need approval always wait."
        ),
    )
    submit = SubmitField(_l("Save"))


class OfferForm(Form):
    advocate_email = EmailField(
        _l("Advocate's email"),
        validators=[
            DataRequired(_l("Enter the advocate's email.")),
            Length(max=254, message=_l("An email address is at most 254 characters.")),
        ],
    )
    reward_id = SelectField(
        _l("Gift"),
        coerce=row_id,
        validate_choice=False,
        validators=[InputRequired(_l("Choose the gift."))],
    )
    message = TextAreaField(
        _l("Message"),
        render_kw={"rows": 3},
        validators=[Length(max=2000)],
        description=_l("Why you are thanking them."),
    )
    submit = SubmitField(_l("Offer the gift"))

    def validate_advocate_email(self, field) -> None:
        try:
            field.data = normalise_email(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from None


class AcceptOfferForm(Form):
    shipping_address = TextAreaField(
        _l("Shipping address"),
        render_kw={"rows": 4},
        validators=[Length(max=1000)],
        description=_l("Only the admins who ship it can see this."),
    )
    accept = SubmitField(_l("Accept"))


class DeclineOfferForm(Form):
    employer_forbids = BooleanField(_l("My employer does not allow me to accept gifts"))
    note = StringField(_l("Anything to add (optional)"), validators=[Length(max=500)])
    decline = SubmitField(_l("Decline"))
