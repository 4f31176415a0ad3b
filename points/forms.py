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
from portal.ids import row_id

LIMIT_PERIODS = [
    ("month", "Per month"),
    ("quarter", "Per quarter"),
    ("year", "Per year"),
    ("ever", "In all"),
]


def _finite(value):
    """NaN or infinity is no amount of money: treat it as missing."""
    return None if isinstance(value, Decimal) and not value.is_finite() else value


class RewardForm(Form):
    name = StringField(
        "Name", validators=[DataRequired("Give the reward a name."), Length(max=200)]
    )
    kind = SelectField("Kind", choices=[(k.value, k.label) for k in RewardKind])
    description = TextAreaField("Description", render_kw={"rows": 3}, validators=[Length(max=5000)])
    charity_name = StringField(
        "Charity", description="For donations: who receives them.", validators=[Length(max=200)]
    )
    cost = IntegerField(
        "Cost in points",
        validators=[
            InputRequired("Give the cost in points."),
            NumberRange(1, 10_000_000, "At least 1."),
        ],
    )
    money_value = DecimalField(
        "Money value",
        places=2,
        default=0,
        filters=[_finite],
        validators=[
            InputRequired("Give its value (0 if none)."),
            NumberRange(0, 1_000_000, "0 or more."),
        ],
    )
    currency = StringField("Currency", default="USD", validators=[Length(min=3, max=3)])
    stock_seen = HiddenField()
    stock = IntegerField(
        "Stock",
        description="Blank: unlimited.",
        validators=[Optional(), NumberRange(0, 1_000_000, "0 or more.")],
    )
    limit_count = IntegerField(
        "Each advocate may redeem it",
        description="Blank: no limit.",
        validators=[Optional(), NumberRange(1, 1000, "At least 1.")],
    )
    limit_period = SelectField("Per", choices=LIMIT_PERIODS)
    starts_on = DateField("Available from", validators=[Optional()])
    ends_on = DateField(
        "Available until", validators=[Optional()], description="The last day it can be redeemed."
    )
    regions = StringField(
        "Regions",
        description="Comma-separated, e.g. North America, EMEA. Blank: everywhere.",
        validators=[Length(max=200)],
    )
    image = FileField("Image", description="PNG, JPEG, GIF or WebP.")
    active = BooleanField("Active (advocates can see it)", default=True)
    submit = SubmitField("Save reward")


class RedeemForm(Form):
    # one key per form shown: a double click sends the same key, and books one redemption
    request_key = HiddenField(
        default=lambda: secrets.token_urlsafe(16), validators=[Length(max=64)]
    )
    shipping_address = TextAreaField(
        "Shipping address",
        render_kw={"rows": 4},
        validators=[Length(max=1000)],
        description="Only the admins who ship it can see this.",
    )
    submit = SubmitField("Redeem")


class ReasonForm(Form):
    reason = TextAreaField("Reason", render_kw={"rows": 2}, validators=[Length(max=2000)])
    submit = SubmitField("Confirm")


class RejectForm(ReasonForm):
    reason = TextAreaField(
        "Why it is rejected",
        render_kw={"rows": 2},
        description="The advocate sees this.",
        validators=[Length(max=2000)],
    )


class CancelForm(ReasonForm):
    reason = TextAreaField(
        "Why it is cancelled (optional)", render_kw={"rows": 2}, validators=[Length(max=2000)]
    )


class RefundForm(ReasonForm):
    reason = TextAreaField(
        "Why the points are returned", render_kw={"rows": 2}, validators=[Length(max=2000)]
    )


class FulfilForm(Form):
    reference = StringField("Reference", validators=[Length(max=500)])
    submit = SubmitField("Mark fulfilled")


class ConvertForm(Form):
    charity_id = SelectField(
        "Donate to",
        coerce=row_id,
        validate_choice=False,
        validators=[InputRequired("Choose the charity.")],
    )
    submit = SubmitField("Convert to a donation")


class ImportForm(Form):
    file = FileField(
        "CSV file",
        description="Columns: redemption_id, reference (a header line is fine), as in the export.",
    )
    text = TextAreaField("Or paste the lines", render_kw={"rows": 5})
    submit = SubmitField("Import fulfilments")


class AdjustForm(Form):
    request_key = HiddenField(
        default=lambda: secrets.token_urlsafe(16), validators=[Length(max=64)]
    )
    amount = IntegerField(
        "Points",
        description="Positive adds, negative removes.",
        validators=[
            InputRequired("Enter a number of points."),
            NumberRange(-10_000_000, 10_000_000),
        ],
    )
    reason = StringField(
        "Reason", validators=[DataRequired("Say why the balance is changing."), Length(max=500)]
    )
    submit = SubmitField("Adjust balance")


class ThresholdForm(Form):
    auto_approve_below = IntegerField(
        "Approve automatically below (points)",
        validators=[InputRequired(), NumberRange(0, 10_000_000, "0 or more.")],
        description="0: every redemption waits for an admin. Accounts that need approval "
        "always wait.",
    )
    submit = SubmitField("Save")


class OfferForm(Form):
    advocate_email = EmailField(
        "Advocate's email",
        validators=[
            DataRequired("Enter the advocate's email."),
            Length(max=254, message="An email address is at most 254 characters."),
        ],
    )
    reward_id = SelectField(
        "Gift", coerce=row_id, validate_choice=False, validators=[InputRequired("Choose the gift.")]
    )
    message = TextAreaField(
        "Message",
        render_kw={"rows": 3},
        validators=[Length(max=2000)],
        description="Why you are thanking them.",
    )
    submit = SubmitField("Offer the gift")

    def validate_advocate_email(self, field) -> None:
        try:
            field.data = normalise_email(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from None


class AcceptOfferForm(Form):
    shipping_address = TextAreaField(
        "Shipping address",
        render_kw={"rows": 4},
        validators=[Length(max=1000)],
        description="Only the admins who ship it can see this.",
    )
    accept = SubmitField("Accept")


class DeclineOfferForm(Form):
    employer_forbids = BooleanField("My employer does not allow me to accept gifts")
    note = StringField("Anything to add (optional)", validators=[Length(max=500)])
    decline = SubmitField("Decline")
