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
from portal.ids import parse_row_id, row_id

MAX_BULK = 100  # two pages of the review queue


LOCAL = "%Y-%m-%dT%H:%M"


def _wtforms_field(spec: Field, for_config: bool = False):
    """A WTForms field for a type's Field. Required-ness is checked by the type itself, so
    the message names the field the way the type does."""
    longest = 5000 if spec.kind == "textarea" else 1000
    too_long = f"Keep it under {longest:,} characters."
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
        choices = list(spec.choices) if not for_config else [("", "Choose…"), *spec.choices]
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
        "webinar": "RSVP",
        "referral": "Send referral",
        "survey": "Send answer",
        "content": "Mark as done",
    }.get(type_key, "Submit")


def evidence_data(form: Form) -> dict:
    return {
        name: value
        for name, value in form.data.items()
        if name not in ("csrf_token", "submit", "file")
    }


def config_field_names(type_key: str) -> list[str]:
    return [spec.name for spec in REGISTRY[type_key].config_fields]


class ChallengeForm(Form):
    type = SelectField("Type", choices=type_choices())
    title = StringField(
        "Title", validators=[DataRequired("Give the challenge a title."), Length(max=200)]
    )
    body = TextAreaField(
        "Description",
        description="Markdown: **bold**, _italic_, [links](https://…), lists. "
        "HTML is removed for safety.",
        render_kw={"rows": 6},
        validators=[Length(max=20000)],
    )
    points = IntegerField(
        "Points",
        default=100,
        validators=[
            InputRequired("Give the points (0 for none)."),
            NumberRange(0, 100_000, "Between 0 and 100,000 points."),
        ],
    )
    points_visible = BooleanField(
        "Show the points up front",
        default=True,
        description="Untick for a rewarded program: the points are a surprise thank-you.",
    )
    starts_at = DateTimeLocalField(
        "Opens (UTC)",
        format=LOCAL,
        validators=[Optional()],
        description="Blank: as soon as it is published.",
    )
    ends_at = DateTimeLocalField(
        "Closes (UTC)",
        format=LOCAL,
        validators=[Optional()],
        description="Blank: open until archived.",
    )
    limit_kind = SelectField(
        "Each advocate may complete it",
        choices=[
            (LimitKind.ONCE, "Once"),
            (LimitKind.TIMES, "A number of times"),
            (LimitKind.PER_PERIOD, "Once per period"),
        ],
    )
    limit_count = IntegerField(
        "Number of times",
        default=1,
        validators=[Optional(), NumberRange(1, 1000, "Between 1 and 1,000.")],
    )
    limit_period = SelectField("Period", choices=[(p.value, p.value.capitalize()) for p in Period])
    cap = IntegerField(
        "Global cap",
        description="Only the first N completions count. Blank: no cap.",
        validators=[Optional(), NumberRange(1, 1_000_000, "At least 1 (or blank for no cap).")],
    )
    approval = SelectField(
        "Approval",
        choices=[
            (Approval.MANUAL, "A manager reviews each one"),
            (Approval.AUTO, "Approved automatically"),
        ],
    )
    evidence_required = BooleanField(
        "Evidence required",
        default=True,
        description="Reviews need a screenshot; case studies and videos a link or a file.",
    )
    group_ids = SelectMultipleField(
        "Target groups",
        coerce=row_id,
        description="None selected: every advocate. Hold Ctrl or ⌘ to select several.",
    )
    starter = BooleanField(
        "Part of the first-visit path (starter challenge)",
        description="New advocates see the starter challenges as a short path on their first "
        "visits; finishing them all earns the path's badge. A starter is for every advocate "
        "and always open: no groups, no end date, no cap.",
    )
    cover = FileField(
        "Cover image",
        description="Optional. PNG, JPEG, GIF or WebP, shown on the challenge's card and page.",
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"},
    )
    remove_cover = BooleanField("Remove the cover image")


for _kind in REGISTRY.values():
    for _spec in _kind.config_fields:
        setattr(ChallengeForm, _spec.name, _wtforms_field(_spec, for_config=True))


class GiveBadgeForm(Form):
    badge_id = SelectField("Badge", coerce=parse_row_id, validate_choice=False)
    reason = TextAreaField(
        "Reason",
        render_kw={"rows": 2},
        validators=[
            DataRequired("Say why they earned it: they will see it."),
            Length(max=1000, message="Keep it under 1,000 characters."),
        ],
        description="The advocate sees it beside the badge.",
    )
    submit = SubmitField("Give the badge")

    def validate_badge_id(self, field) -> None:
        if field.data is None:
            raise ValidationError("Choose a badge from the list.")


class AttendanceForm(Form):
    attendance_code = StringField(
        "Attendance code", validators=[DataRequired("Enter the attendance code.")]
    )
    submit = SubmitField("Confirm attendance")


class ReviewForm(Form):
    reason = TextAreaField(
        "Note or reason",
        render_kw={"rows": 2},
        description="Required to reject; the advocate sees it.",
        validators=[Length(max=2000)],
    )
    approve = SubmitField("Approve")
    reject = SubmitField("Reject")


class BulkReviewForm(ReviewForm):
    submission_ids = SelectMultipleField(
        "Submissions",
        coerce=row_id,
        validate_choice=False,
        validators=[DataRequired("Select at least one.")],
    )
    approve = SubmitField("Approve selected")
    reject = SubmitField("Reject selected")

    def validate_submission_ids(self, field) -> None:
        if len(field.data or []) > MAX_BULK:
            raise ValidationError(f"Decide at most {MAX_BULK} at once (two pages of the queue).")


class QueueFilterForm(Form):
    class Meta:
        csrf = False

    challenge_id = SelectField("Challenge", coerce=row_id, validate_choice=False)
    type = SelectField("Type", choices=[("", "All types"), *type_choices()], validate_choice=False)
    # a search box, not a list: there are thousands of accounts
    account = SearchField(
        "Account name",
        validators=[Optional(), Length(max=100, message="Keep it under 100 characters.")],
    )
    older_than_days = IntegerField(
        "Waiting at least (days)",
        validators=[Optional(), NumberRange(0, 3650, "Between 0 and 3,650 days.")],
    )


class ThankYouForm(Form):
    subject = StringField(
        "Subject", validators=[DataRequired("Give the email a subject."), Length(max=200)]
    )
    message = TextAreaField(
        "Message",
        render_kw={"rows": 8},
        validators=[DataRequired("Write the message."), Length(max=5000)],
    )
    submit = SubmitField("Send thank-you")


class MarkThankedForm(Form):
    note = StringField(
        "How you thanked them",
        validators=[DataRequired("Say how you thanked them."), Length(max=500)],
        description="For example: called her, sent a handwritten card.",
    )
    submit = SubmitField("Mark thanked")


class LogActivityForm(Form):
    advocate_email = EmailField(
        "Advocate's email",
        validators=[DataRequired("Enter the advocate's email."), Length(max=254)],
    )
    type = SelectField("What they did", choices=type_choices())
    description = TextAreaField(
        "Details",
        render_kw={"rows": 3},
        validators=[DataRequired("Say what they did."), Length(max=2000)],
        description="For example: Jo (AE) arranged a reference call with Contoso directly.",
    )
    occurred_on = DateField("When", validators=[DataRequired("Give the date.")])
    points = IntegerField(
        "Points to award",
        default=0,
        validators=[
            InputRequired("Give the points (0 for none)."),
            NumberRange(0, 100_000, "Between 0 and 100,000 points."),
        ],
        description="0: recorded and thanked, but no points.",
    )
    big_ask = BooleanField(
        "Count it as a big ask",
        description="Reference calls, case studies and videos always count.",
    )
    submit = SubmitField("Log activity")


class GroupForm(Form):
    name = StringField("Name", validators=[DataRequired("Give the group a name."), Length(max=120)])
    description = StringField("Description", validators=[Length(max=500)])
    segment = StringField(
        "Account segment", description="Blank: any segment.", validators=[Length(max=50)]
    )
    industry = StringField(
        "Industry", description="Blank: any industry.", validators=[Length(max=100)]
    )
    region = StringField("Region", description="Blank: any region.", validators=[Length(max=50)])
    job_level = SelectField(
        "Job level",
        choices=[("", "Any level")] + [(j.value, j.label) for j in JobLevel],
        validate_choice=False,  # the service names the problem
    )
    member_emails = TextAreaField(
        "Members",
        render_kw={"rows": 4},
        description="Advocates' email addresses, one per line. Everyone matching the rules "
        "above is in the group too.",
    )
    submit = SubmitField("Save group")


class ProgramSettingsForm(Form):
    high_effort_per_advocate = IntegerField(
        "Big asks per advocate", validators=[InputRequired(), NumberRange(1, 50)]
    )
    high_effort_per_account = IntegerField(
        "Big asks per account", validators=[InputRequired(), NumberRange(1, 500)]
    )
    high_effort_window_days = IntegerField(
        "Rolling window (days)", validators=[InputRequired(), NumberRange(1, 730)]
    )
    thank_you_template = TextAreaField(
        "Thank-you template",
        render_kw={"rows": 7},
        description="{name}, {what} and {sender} are filled in.",
    )
    submit = SubmitField("Save settings")
