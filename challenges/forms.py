"""Forms for authoring, completing and reviewing challenges.

The challenge-type classes say which fields they need (types.Field); this module turns
those into WTForms fields, so a new type needs no new form.
"""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from challenges.models import Approval, LimitKind, Period
from challenges.types import REGISTRY, Field, type_choices
from portal.accounts.models import JobLevel
from portal.forms import Form
from portal.i18n import _, _l
from portal.ids import parse_row_id, row_id

MAX_BULK = 100  # two pages of the review queue
PERIOD_LABELS = {
    Period.WEEK: _l("Week"),
    Period.MONTH: _l("Month"),
    Period.QUARTER: _l("Quarter"),
    Period.YEAR: _l("Year"),
}


LOCAL = "%Y-%m-%dT%H:%M"


def _wtforms_field(spec: Field, for_config: bool = False):
    """A WTForms field for a type's Field. Required-ness is checked by the type itself, so
    the message names the field the way the type does."""
    longest = 5000 if spec.kind == "textarea" else 1000
    too_long = (  # lazy: the authoring form builds these fields at import
        _l("Keep it under 5,000 characters.")
        if longest == 5000
        else _l("Keep it under 1,000 characters.")
    )
    kwargs = {
        "label": spec.label,
        "description": spec.help,
        "validators": [Optional(), Length(max=longest, message=too_long)],
    }
    if spec.kind == "textarea":
        return TextAreaField(**kwargs, render_kw={"rows": 3})
    if spec.kind == "url":
        return URLField(**kwargs)
    if spec.kind == "email":
        return EmailField(**kwargs)
    if spec.kind == "file":
        return FileField(spec.label, description=spec.help)
    if spec.kind == "confirm":
        return BooleanField(spec.label, description=spec.help)
    if spec.kind == "choice":
        return RadioField(
            spec.label,
            choices=list(spec.choices),
            validate_choice=False,
            description=spec.help,
            validators=[Optional()],
        )
    if spec.kind == "select":
        choices = list(spec.choices) if not for_config else [("", _l("Choose…")), *spec.choices]
        return SelectField(**kwargs, choices=choices, validate_choice=False)
    return StringField(**kwargs)


def evidence_form(challenge, formdata=None) -> Form:
    """The form an advocate fills in to complete this challenge."""

    class EvidenceForm(Form):
        pass

    for spec in challenge.kind.evidence_fields(challenge):
        setattr(EvidenceForm, spec.name, _wtforms_field(spec))
    EvidenceForm.submit = SubmitField(_submit_label(challenge.type))
    return EvidenceForm(formdata=formdata) if formdata is not None else EvidenceForm()


def _submit_label(type_key: str) -> str:
    return {
        "webinar": _("RSVP"),
        "referral": _("Send referral"),
        "survey": _("Send answer"),
        "content": _("Mark as done"),
    }.get(type_key, _("Submit"))


def evidence_data(form: Form) -> dict:
    return {
        name: value
        for name, value in form.data.items()
        if name not in ("csrf_token", "submit", "file")
    }


def config_field_names(type_key: str) -> list[str]:
    return [spec.name for spec in REGISTRY[type_key].config_fields]


class ChallengeForm(Form):
    type = SelectField(_l("Type"), choices=type_choices())
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Give the challenge a title.")), Length(max=200)]
    )
    body = TextAreaField(
        _l("Description"),
        description=_l(
            "Markdown: **bold**, _italic_, [links](https://…), lists. HTML is removed for safety."
        ),
        render_kw={"rows": 6},
        validators=[Length(max=20000)],
    )
    points = IntegerField(
        _l("Points"),
        default=100,
        validators=[
            InputRequired(_l("Give the points (0 for none).")),
            NumberRange(0, 100_000, _l("Between 0 and 100,000 points.")),
        ],
    )
    points_visible = BooleanField(
        _l("Show the points up front"),
        default=True,
        description=_l("Untick for a rewarded program: the points are a surprise thank-you."),
    )
    starts_at = DateTimeLocalField(
        _l("Opens"),
        format=LOCAL,
        validators=[Optional()],
        description=_l("Blank: as soon as it is published."),
    )
    ends_at = DateTimeLocalField(
        _l("Closes"),
        format=LOCAL,
        validators=[Optional()],
        description=_l("Blank: open until archived."),
    )
    # an event type's (webinar): shown in its type's details, read in the author's zone
    event_at = DateTimeLocalField(
        _l("When the event starts"), format=LOCAL, validators=[Optional()]
    )
    event_minutes = IntegerField(
        _l("Length (minutes)"),
        default=60,
        validators=[Optional(), NumberRange(1, 24 * 60, _l("Between 1 and 1,440 minutes."))],
    )
    join_url = URLField(
        _l("Join link"),
        description=_l("Shown only to advocates who RSVP, and in their calendar invite."),
        validators=[Optional(), Length(max=500, message=_l("Keep it under 500 characters."))],
    )
    limit_kind = SelectField(
        _l("Each advocate may complete it"),
        choices=[
            (LimitKind.ONCE, _l("Once")),
            (LimitKind.TIMES, _l("A number of times")),
            (LimitKind.PER_PERIOD, _l("Once per period")),
        ],
    )
    limit_count = IntegerField(
        _l("Number of times"),
        default=1,
        validators=[Optional(), NumberRange(1, 1000, _l("Between 1 and 1,000."))],
    )
    limit_period = SelectField(_l("Period"), choices=[(p.value, PERIOD_LABELS[p]) for p in Period])
    cap = IntegerField(
        _l("Global cap"),
        description=_l("Only the first N completions count. Blank: no cap."),
        validators=[Optional(), NumberRange(1, 1_000_000, _l("At least 1 (or blank for no cap)."))],
    )
    approval = SelectField(
        _l("Approval"),
        choices=[
            (Approval.MANUAL, _l("A manager reviews each one")),
            (Approval.AUTO, _l("Approved automatically")),
        ],
    )
    evidence_required = BooleanField(
        _l("Evidence required"),
        default=True,
        description=_l("Reviews need a screenshot; case studies and videos a link or a file."),
    )
    group_ids = SelectMultipleField(
        _l("Target groups"),
        coerce=row_id,
        description=_l("None selected: every advocate. Hold Ctrl or ⌘ to select several."),
    )
    starter = BooleanField(
        _l("Part of the first-visit path (starter challenge)"),
        description=_l(
            "New advocates see the starter challenges as a short path on their first "
            "visits; finishing them all earns the path's badge. A starter is for every advocate "
            "and always open: no groups, no end date, no cap."
        ),
    )
    cover = FileField(
        _l("Cover image"),
        description=_l("Optional. PNG, JPEG, GIF or WebP, shown on the challenge's card and page."),
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"},
    )
    remove_cover = BooleanField(_l("Remove the cover image"))


for _kind in REGISTRY.values():
    for _spec in _kind.config_fields:
        setattr(ChallengeForm, _spec.name, _wtforms_field(_spec, for_config=True))


class GiveBadgeForm(Form):
    badge_id = SelectField(_l("Badge"), coerce=parse_row_id, validate_choice=False)
    reason = TextAreaField(
        _l("Reason"),
        render_kw={"rows": 2},
        validators=[
            DataRequired(_l("Say why they earned it: they will see it.")),
            Length(max=1000, message=_l("Keep it under 1,000 characters.")),
        ],
        description=_l("The advocate sees it beside the badge."),
    )
    submit = SubmitField(_l("Give the badge"))

    def validate_badge_id(self, field) -> None:
        if field.data is None:
            raise ValidationError(_("Choose a badge from the list."))


class AttendanceForm(Form):
    attendance_code = StringField(
        _l("Attendance code"), validators=[DataRequired(_l("Enter the attendance code."))]
    )
    submit = SubmitField(_l("Confirm attendance"))


class ReviewForm(Form):
    reason = TextAreaField(
        _l("Note or reason"),
        render_kw={"rows": 2},
        description=_l("Required to reject; the advocate sees it."),
        validators=[Length(max=2000)],
    )
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class BulkReviewForm(ReviewForm):
    submission_ids = SelectMultipleField(
        _l("Submissions"),
        coerce=row_id,
        validate_choice=False,
        validators=[DataRequired(_l("Select at least one."))],
    )
    approve = SubmitField(_l("Approve selected"))
    reject = SubmitField(_l("Reject selected"))

    def validate_submission_ids(self, field) -> None:
        if len(field.data or []) > MAX_BULK:
            raise ValidationError(
                _(
                    "Decide at most %(most)s at once (two pages of the queue).",
                    most=MAX_BULK,
                )
            )


class QueueFilterForm(Form):
    class Meta:
        csrf = False

    challenge_id = SelectField(_l("Challenge"), coerce=row_id, validate_choice=False)
    type = SelectField(
        _l("Type"), choices=[("", _l("All types")), *type_choices()], validate_choice=False
    )
    # a search box, not a list: there are thousands of accounts
    account = SearchField(
        _l("Account name"),
        validators=[Optional(), Length(max=100, message=_l("Keep it under 100 characters."))],
    )
    older_than_days = IntegerField(
        _l("Waiting at least (days)"),
        validators=[Optional(), NumberRange(0, 3650, _l("Between 0 and 3,650 days."))],
    )


class ThankYouForm(Form):
    subject = StringField(
        _l("Subject"), validators=[DataRequired(_l("Give the email a subject.")), Length(max=200)]
    )
    message = TextAreaField(
        _l("Message"),
        render_kw={"rows": 8},
        validators=[DataRequired(_l("Write the message.")), Length(max=5000)],
    )
    submit = SubmitField(_l("Send thank-you"))


class MarkThankedForm(Form):
    note = StringField(
        _l("How you thanked them"),
        validators=[DataRequired(_l("Say how you thanked them.")), Length(max=500)],
        description=_l("For example: called her, sent a handwritten card."),
    )
    submit = SubmitField(_l("Mark thanked"))


class LogActivityForm(Form):
    advocate_email = EmailField(
        _l("Advocate's email"),
        validators=[DataRequired(_l("Enter the advocate's email.")), Length(max=254)],
    )
    type = SelectField(_l("What they did"), choices=type_choices())
    description = TextAreaField(
        _l("Details"),
        render_kw={"rows": 3},
        validators=[DataRequired(_l("Say what they did.")), Length(max=2000)],
        description=_l("For example: Jo (AE) arranged a reference call with Contoso directly."),
    )
    occurred_on = DateField(_l("When"), validators=[DataRequired(_l("Give the date."))])
    points = IntegerField(
        _l("Points to award"),
        default=0,
        validators=[
            InputRequired(_l("Give the points (0 for none).")),
            NumberRange(0, 100_000, _l("Between 0 and 100,000 points.")),
        ],
        description=_l("0: recorded and thanked, but no points."),
    )
    big_ask = BooleanField(
        _l("Count it as a big ask"),
        description=_l("Reference calls, case studies and videos always count."),
    )
    submit = SubmitField(_l("Log activity"))


class GroupForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Give the group a name.")), Length(max=120)]
    )
    description = StringField(_l("Description"), validators=[Length(max=500)])
    segment = StringField(
        _l("Account segment"), description=_l("Blank: any segment."), validators=[Length(max=50)]
    )
    industry = StringField(
        _l("Industry"), description=_l("Blank: any industry."), validators=[Length(max=100)]
    )
    region = StringField(
        _l("Region"), description=_l("Blank: any region."), validators=[Length(max=50)]
    )
    job_level = SelectField(
        _l("Job level"),
        choices=[("", _l("Any level"))] + [(j.value, j.label) for j in JobLevel],
        validate_choice=False,  # the service names the problem
    )
    member_emails = TextAreaField(
        _l("Members"),
        render_kw={"rows": 4},
        description=_l(
            "Advocates' email addresses, one per line. Everyone matching the rules "
            "above is in the group too."
        ),
    )
    submit = SubmitField(_l("Save group"))


WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


class ProgramSettingsForm(Form):
    high_effort_per_advocate = IntegerField(
        _l("Big asks per advocate"), validators=[InputRequired(), NumberRange(1, 50)]
    )
    high_effort_per_account = IntegerField(
        _l("Big asks per account"), validators=[InputRequired(), NumberRange(1, 500)]
    )
    high_effort_window_days = IntegerField(
        _l("Rolling window (days)"), validators=[InputRequired(), NumberRange(1, 730)]
    )
    thank_you_template = TextAreaField(
        _l("Thank-you template"),
        render_kw={"rows": 7},
        description=_l("{name}, {what} and {sender} are filled in."),
    )
    digest_weekday = SelectField(
        _l("Weekly digest day"), coerce=int, choices=list(enumerate(WEEKDAYS))
    )
    digest_hour = SelectField(
        _l("Weekly digest hour"),
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        description=_l("In the program's time zone (game settings)."),
    )
    submit = SubmitField(_l("Save settings"))
