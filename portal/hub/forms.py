from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from points.program import time_zones
from portal.accounts.models import JobLevel
from portal.forms import Form
from portal.i18n import LANGUAGES, _l
from portal.notifications.forms import EmailChoicesForm


class JoinForm(Form):
    consent = BooleanField(
        _l(
            "I want to join the customer hub. I agree to the program terms, and know I can "
            "leave at any time."
        ),
        validators=[DataRequired(_l("Tick the box to join the program."))],
    )


class LeaveForm(Form):
    confirm = BooleanField(
        _l("Yes, I want to leave the program"),
        validators=[DataRequired(_l("Tick the box to confirm you want to leave."))],
    )


class ProfileForm(EmailChoicesForm):  # with "Email me about": a switch per kind
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Tell us your name.")), Length(max=120)]
    )
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=120)])
    job_level = SelectField(
        _l("Job level"),
        choices=[("", _l("Prefer not to say"))]
        + [(level.value, level.label) for level in JobLevel],
        validators=[Optional()],
    )
    locale = SelectField(
        _l("Language"),
        choices=[("", _l("Browser default"))] + list(LANGUAGES.items()),
        validators=[Optional()],
    )
    time_zone = SelectField(
        _l("Time zone"),
        description=_l("Every date and time in the hub and in emails is shown in it."),
        choices=[("", _l("The program's time zone"))] + [(name, name) for name in time_zones()],
        validators=[Optional()],
    )
    hide_from_leaderboard = BooleanField(
        _l("Hide me from leaderboards"),
        description=_l(
            "Others no longer see you on boards or in the activity feed; you still "
            "see your own rank."
        ),
    )
    hide_company = BooleanField(
        _l("Hide my company on my profile"),
        description=_l("Other advocates see your name, level and badges, not where you work."),
    )
    declines_gifts = BooleanField(
        _l("My employer does not allow me to accept gifts"),
        description=_l(
            "We stop offering you gifts at once and ask an admin to record your "
            "employer's policy. You can still earn points, recognition and charity donations."
        ),
    )
    gifts_note = TextAreaField(
        _l("Anything we should know about the policy? (optional)"),
        validators=[Optional(), Length(max=1000)],
    )

    EMAIL_FIELDS = (
        "email_results",
        "email_rewards",
        "email_thanks",
        "email_game",
        "email_events",
        "email_digests",
    )


def _one_of_the_choices(message: str):
    """A select's own check, with a message a person can act on (not "Not a valid choice")."""

    def check(form, field):
        if field.data not in {value for value, _label in field.choices}:
            field.data = field.default
            raise ValidationError(message)

    return check


PERIODS = [("month", _l("This month")), ("quarter", _l("This quarter")), ("all", _l("All time"))]


class _BoardFilters(Form):
    """A GET form over a leaderboard (nothing changes): which period it shows."""

    class Meta:
        csrf = False

    period = SelectField(
        _l("Period"),
        choices=PERIODS,
        default="month",
        validate_choice=False,
        validators=[_one_of_the_choices(_l("Choose this month, this quarter or all time."))],
    )


class BoardForm(_BoardFilters):
    """Which leaderboard an advocate looks at."""

    scope = SelectField(
        _l("Board"),
        default="overall",
        validate_choice=False,
        validators=[_one_of_the_choices(_l("Choose a board from the list."))],
    )


class StaffBoardForm(_BoardFilters):
    """The staff leaderboard's filters; the choices come from the program's groups and the
    segments its accounts use."""

    group = SelectField(
        _l("Group"),
        default="",
        validate_choice=False,
        validators=[_one_of_the_choices(_l("Choose a group from the list."))],
    )
    segment = SelectField(
        _l("Account segment"),
        default="",
        validate_choice=False,
        validators=[_one_of_the_choices(_l("Choose a segment from the list."))],
    )


class ConfirmProfileForm(Form):
    """The yearly question: still at the company, in the same role?"""

    still_there = RadioField(
        _l("Do you still work there?"),
        choices=[("yes", _l("Yes, I still work there")), ("left", _l("No, I have left"))],
        validators=[InputRequired(_l("Tell us whether you still work there."))],
    )
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=120)])
    job_level = SelectField(
        _l("Job level"),
        choices=[("", _l("Prefer not to say"))]
        + [(level.value, level.label) for level in JobLevel],
        validators=[Optional()],
    )
