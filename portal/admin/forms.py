from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.accounts.models import GiftPolicy, Role
from portal.ids import row_id

SEGMENTS = ["Enterprise", "Mid-market", "SMB"]
REGIONS = ["North America", "EMEA", "APAC", "LATAM"]


def _optional_int(value):
    return row_id(value) if value not in (None, "", "None") else None


class AccountForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the account a name."), Length(max=200)]
    )
    industry = StringField("Industry", validators=[Optional(), Length(max=100)])
    segment = SelectField("Segment", choices=[("", "—")] + [(s, s) for s in SEGMENTS])
    region = SelectField("Region", choices=[("", "—")] + [(r, r) for r in REGIONS])
    arr = IntegerField(
        "ARR (US$ per year)",
        validators=[
            Optional(),
            NumberRange(min=0, max=10**12, message="Enter a whole amount, 0 or more."),
        ],
        description="Annual recurring revenue, in whole dollars.",
    )
    owner_id = SelectField("Relationship owner", coerce=_optional_int, validators=[Optional()])


class GiftPolicyForm(FlaskForm):
    policy = SelectField("New gift policy", choices=[(p.value, p.label) for p in GiftPolicy])
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Say why the policy is changing."), Length(max=2000)],
        description="Kept in the account's audit trail, e.g. 'Customer's legal team confirmed "
        "employees may not accept gifts (email of 3 May)'.",
        render_kw={"rows": 3},
    )


class DismissRequestForm(FlaskForm):
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class InviteUserForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired("Enter an email address."), Length(max=254)]
    )
    role = SelectField("Role", choices=[(r.value, r.label) for r in Role])
    account_id = SelectField(
        "Account",
        coerce=_optional_int,
        validators=[Optional()],
        description="Required for advocates.",
    )


class RoleForm(FlaskForm):
    role = SelectField(
        "Role", choices=[(r.value, r.label) for r in Role], validators=[InputRequired()]
    )
    account_id = SelectField(
        "Account (for advocates)", coerce=_optional_int, validators=[Optional()]
    )


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection for one-click actions."""
