from datetime import date

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from challenges.badges import RULES
from points.program import time_zones
from portal.accounts.models import GiftPolicy, Role
from portal.forms import Form
from portal.i18n import _, _l
from portal.ids import row_id

SEGMENTS = ["Enterprise", "Mid-market", "SMB"]
REGIONS = ["North America", "EMEA", "APAC", "LATAM"]


def _optional_int(value):
    return row_id(value) if value not in (None, "", "None") else None


class AccountForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Give the account a name.")), Length(max=200)]
    )
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=100)])
    segment = SelectField(_l("Segment"), choices=[("", "—")] + [(s, s) for s in SEGMENTS])
    region = SelectField(_l("Region"), choices=[("", "—")] + [(r, r) for r in REGIONS])
    arr = IntegerField(
        _l("ARR (US$ per year)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=10**12, message=_l("Enter a whole amount, 0 or more.")),
        ],
        description=_l("Annual recurring revenue, in whole dollars."),
    )
    owner_id = SelectField(_l("Relationship owner"), coerce=_optional_int, validators=[Optional()])


class GiftPolicyForm(Form):
    policy = SelectField(_l("New gift policy"), choices=[(p.value, p.label) for p in GiftPolicy])
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why the policy is changing.")), Length(max=2000)],
        description=_l(
            "Kept in the account's audit trail, e.g. 'Customer's legal team confirmed "
            "employees may not accept gifts (email of 3 May)'."
        ),
        render_kw={"rows": 3},
    )


class DismissRequestForm(Form):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


ROLE_HELP = _l(
    "Sales users file reference requests and see only their own; program managers run the "
    "program; admins also run accounts, users and fulfilment. Staff and sales are not "
    "advocates: an advocate given another role leaves the program."
)


class InviteUserForm(Form):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter an email address.")), Length(max=254)]
    )
    role = SelectField(
        _l("Role"), choices=[(r.value, r.label) for r in Role], description=ROLE_HELP
    )
    account_id = SelectField(
        _l("Account"),
        coerce=_optional_int,
        validators=[Optional()],
        description=_l("Required for advocates."),
    )


class RoleForm(Form):
    role = SelectField(
        _l("Role"),
        choices=[(r.value, r.label) for r in Role],
        validators=[InputRequired()],
        description=ROLE_HELP,
    )
    account_id = SelectField(
        _l("Account (for advocates)"), coerce=_optional_int, validators=[Optional()]
    )


class ConfirmForm(Form):
    """A button-only form: CSRF protection for one-click actions."""


# --- the audit log ----------------------------------------------------------------------

DATE_HELP = _l("A day on the program's calendar, as YYYY-MM-DD.")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # any real event lies between


def _a_real_day(form, field) -> None:
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_("Give a day from the year 2000 to 2999."))


class AuditFilterForm(Form):
    """The audit log's filters, read from the query string (a GET form: no CSRF token).
    Whether an email or an account exists is the view's look-up, shown beside the field."""

    class Meta:
        csrf = False

    actor = SearchField(
        _l("Who did it (email)"),
        validators=[Optional(), Length(max=254, message=_l("An email is at most 254 characters."))],
    )
    target = SearchField(
        _l("About (email or account)"),
        validators=[Optional(), Length(max=200, message=_l("Keep it under 200 characters."))],
    )
    action = SearchField(
        _l("Action"),
        validators=[Optional(), Length(max=60, message=_l("An action is at most 60 characters."))],
        description=_l("One action, or the start of some, e.g. “redemption.”."),
    )
    date_from = DateField(
        _l("From"),
        validators=[Optional(), _a_real_day],
        invalid_value_message=_l("Give the day as YYYY-MM-DD, e.g. 2026-12-01."),
    )
    date_to = DateField(
        _l("To (inclusive)"),
        validators=[Optional(), _a_real_day],
        invalid_value_message=_l("Give the day as YYYY-MM-DD, e.g. 2026-12-31."),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        first, last = self.date_from.data, self.date_to.data
        if valid and first and last and last < first:
            self.date_to.errors = [_("The last day comes on or after the first.")]
            return False
        return valid


# --- the game ---------------------------------------------------------------------------


IMAGE_HELP = _l("Optional. PNG, JPEG, GIF or WebP.")
IMAGES = {"accept": "image/png,image/jpeg,image/gif,image/webp"}


class LevelForm(Form):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the level a name.")), Length(max=60)],
    )
    threshold = IntegerField(
        _l("Lifetime points needed"),
        validators=[
            InputRequired(_l("Give the lifetime points that reach this level (0 for the first).")),
            NumberRange(0, 1_000_000_000, _l("A number of points from 0 to 1,000,000,000.")),
        ],
        description=_l(
            "Points earned in all, whatever they have redeemed: redeeming never lowers a level."
        ),
    )
    perk = StringField(
        _l("Perk"),
        validators=[Length(max=200)],
        description=_l(
            "One short line advocates see, e.g. 'A seat in quarterly product feedback sessions'."
        ),
    )
    image = FileField(_l("Badge image"), description=IMAGE_HELP, render_kw=IMAGES)
    remove_image = BooleanField(_l("Remove the current image"))


class BadgeForm(Form):
    rule = SelectField(
        _l("Awarded for"),
        choices=[(rule.key, rule.label) for rule in RULES.values()],
        validate_choice=False,  # the service names the problem
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the badge a name.")), Length(max=60)],
    )
    description = StringField(
        _l("Description"),
        validators=[Length(max=300)],
        description=_l("What the advocate did to earn it; they see it on their badges."),
    )
    threshold = IntegerField(
        _l("Number needed (N)"),
        validators=[Optional(), NumberRange(1, 100_000, _l("A number from 1 to 100,000."))],
        description=_l("For rules that take a number: how many completions or types."),
    )
    enabled = BooleanField(_l("On (awarded when earned)"), default=True)
    image = FileField(_l("Image"), description=IMAGE_HELP, render_kw=IMAGES)
    remove_image = BooleanField(_l("Remove the current image"))


def _kept_when_not_sent(form, field) -> None:
    """A post without the field (an older form, a script) keeps the saved value (data None);
    sent blank, it is a mistake the next validator names."""
    if not field.raw_data:
        field.errors[:] = []
        raise StopValidation()


class GameSettingsForm(Form):
    show_leaderboards = BooleanField(
        _l("Show leaderboards to advocates"),
        description=_l(
            "An incentivized program shows its boards; a rewarded one switches them "
            "off (managers still see them)."
        ),
    )
    show_points = BooleanField(
        _l("Show point totals to advocates"),
        description=_l(
            "An incentivized program shows points, balances and levels' thresholds; "
            "switched off, the hub home, the leaderboard and profiles show no running score "
            "(levels by name only). The rewards page still shows what an advocate can spend."
        ),
    )
    time_zone = SelectField(
        _l("Program time zone"),
        choices=[(name, name) for name in time_zones()],
        validate_choice=False,  # the service's message is clearer than 'Not a valid choice'
        description=_l(
            "Months and quarters of the leaderboards roll over at midnight here. "
            "Changing it recounts every period total."
        ),
    )
    expires = BooleanField(_l("Unspent points expire"))
    expiry_months = IntegerField(
        _l("Months after the advocate's last activity"),
        default=12,
        validators=[Optional(), NumberRange(1, 120, _l("From 1 to 120 months."))],
        description=_l(
            "Many programs use 12. Members are emailed a reminder at least 30 days "
            "before their points expire, and keep them until the date it gives; points held for "
            "a redemption never expire."
        ),
    )
    earn_cap = IntegerField(
        _l("Most points one advocate can earn"),
        validators=[
            Optional(),
            NumberRange(1, 1_000_000_000, _l("A number of points from 1 to 1,000,000,000.")),
        ],
        description=_l(
            "Blank: no cap. Past the cap an approval still counts and is thanked; "
            "its points are awarded up to the cap, and the advocate and reviewer are told."
        ),
    )
    earn_cap_period = SelectField(
        _l("Per"),
        choices=[("month", _l("Month")), ("quarter", _l("Quarter"))],
        validate_choice=False,
    )
    approve_within_days = IntegerField(
        _l("Approve or reject within (days)"),
        validators=[
            _kept_when_not_sent,
            InputRequired(_l("Give the days a request may wait for a decision (1 to 365).")),
            NumberRange(1, 365, _l("From 1 to 365 days.")),
        ],
        description=_l(
            "A request waiting longer is overdue: the queue lists it first and "
            "the advocate is told it is running late."
        ),
    )
    fulfil_within_days = IntegerField(
        _l("Deliver within (days after approval)"),
        validators=[
            _kept_when_not_sent,
            InputRequired(_l("Give the days an approved reward may wait for delivery (1 to 365).")),
            NumberRange(1, 365, _l("From 1 to 365 days.")),
        ],
        description=_l(
            "Advocates see the date to expect it by; past it, the queue lists it first as overdue."
        ),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        months = self.expiry_months
        if self.expires.data and months.data is None and not months.errors:
            months.errors = [_("Give the months after which points expire (1 to 120).")]
            return False
        return valid
