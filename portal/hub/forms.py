from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.accounts.models import JobLevel
from portal.forms import Form


class JoinForm(Form):
    consent = BooleanField(
        "I want to join the customer hub. I agree to the program terms, and know I can leave "
        "at any time.",
        validators=[DataRequired("Tick the box to join the program.")],
    )


class LeaveForm(Form):
    confirm = BooleanField(
        "Yes, I want to leave the program",
        validators=[DataRequired("Tick the box to confirm you want to leave.")],
    )


class ProfileForm(Form):
    name = StringField("Name", validators=[DataRequired("Tell us your name."), Length(max=120)])
    title = StringField("Job title", validators=[Optional(), Length(max=120)])
    job_level = SelectField(
        "Job level",
        choices=[("", "Prefer not to say")] + [(level.value, level.label) for level in JobLevel],
        validators=[Optional()],
    )
    email_digests = BooleanField("Email me a digest of new challenges")
    hide_from_leaderboard = BooleanField(
        "Hide me from leaderboards",
        description="Others no longer see you on boards or in the activity feed; you still "
        "see your own rank.",
    )
    hide_company = BooleanField(
        "Hide my company on my profile",
        description="Other advocates see your name, level and badges, not where you work.",
    )
    declines_gifts = BooleanField(
        "My employer does not allow me to accept gifts",
        description="We stop offering you gifts at once and ask an admin to record your "
        "employer's policy. You can still earn points, recognition and charity donations.",
    )
    gifts_note = TextAreaField(
        "Anything we should know about the policy? (optional)",
        validators=[Optional(), Length(max=1000)],
    )


def _one_of_the_choices(message: str):
    """A select's own check, with a message a person can act on (not "Not a valid choice")."""

    def check(form, field):
        if field.data not in {value for value, _label in field.choices}:
            field.data = field.default
            raise ValidationError(message)

    return check


PERIODS = [("month", "This month"), ("quarter", "This quarter"), ("all", "All time")]


class _BoardFilters(Form):
    """A GET form over a leaderboard (nothing changes): which period it shows."""

    class Meta:
        csrf = False

    period = SelectField(
        "Period",
        choices=PERIODS,
        default="month",
        validate_choice=False,
        validators=[_one_of_the_choices("Choose this month, this quarter or all time.")],
    )


class BoardForm(_BoardFilters):
    """Which leaderboard an advocate looks at."""

    scope = SelectField(
        "Board",
        default="overall",
        validate_choice=False,
        validators=[_one_of_the_choices("Choose a board from the list.")],
    )


class StaffBoardForm(_BoardFilters):
    """The staff leaderboard's filters; the choices come from the program's groups and the
    segments its accounts use."""

    group = SelectField(
        "Group",
        default="",
        validate_choice=False,
        validators=[_one_of_the_choices("Choose a group from the list.")],
    )
    segment = SelectField(
        "Account segment",
        default="",
        validate_choice=False,
        validators=[_one_of_the_choices("Choose a segment from the list.")],
    )
