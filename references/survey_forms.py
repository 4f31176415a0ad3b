"""The forms of the survey pages: upload, column mapping, flags raised and cleared."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import Form
from portal.i18n import _l
from references.models import SurveyKind
from references.surveys import FIELD_LABELS, FIELDS, KIND_LABELS, MAX_BYTES, REQUIRED

NOT_IN_FILE = -1


class UploadForm(Form):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "A CSV with a header line: an email, a score and a date for each answer (a "
            "comment, a name and a company too, if you have them). Up to %(limit)s MB.",
            limit=MAX_BYTES // (1024 * 1024),
        ),
        render_kw={"accept": ".csv,text/csv"},
    )
    kind = SelectField(
        _l("Survey"),
        choices=[(kind.value, KIND_LABELS[kind]) for kind in SurveyKind],
        validators=[InputRequired(_l("Choose NPS or CSAT."))],
    )
    submit = SubmitField(_l("Upload"))


def _column(choices_field: str):
    required = choices_field in REQUIRED
    return SelectField(
        FIELD_LABELS[choices_field],
        coerce=int,
        validators=[InputRequired(_l("Choose the column that holds this."))] if required else [],
    )


class MappingForm(Form):
    """One select a field, listing the file's columns (optional fields may be left out)."""

    email = _column("email")
    score = _column("score")
    date = _column("date")
    comment = _column("comment")
    name = _column("name")
    company = _column("company")
    submit = SubmitField(_l("Import"))

    def with_columns(self, header: list[str]) -> MappingForm:
        columns = [(index, name or f"#{index + 1}") for index, name in enumerate(header)]
        for field in FIELDS:
            optional = [] if field in REQUIRED else [(NOT_IN_FILE, _l("— not in the file —"))]
            self[field].choices = [*optional, *columns]
        return self

    def chosen(self) -> dict[str, int | None]:
        return {
            field: (None if self[field].data == NOT_IN_FILE else self[field].data)
            for field in FIELDS
        }


class RunForm(Form):
    """Import the next rows (a button: only the CSRF token)."""


class FlagForm(Form):
    account = StringField(
        _l("Account"),
        validators=[DataRequired(_l("Name the account.")), Length(max=200)],
        description=_l("The account's name, as on the accounts list."),
    )
    reason = TextAreaField(
        _l("What is going on"),
        validators=[DataRequired(_l("Say why the relationship is flagged.")), Length(max=1000)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Flag an escalation"))


class ClearFlagForm(Form):
    reason = StringField(
        _l("Why it is cleared"),
        validators=[DataRequired(_l("Say why the flag can be cleared.")), Length(max=1000)],
    )
    submit = SubmitField(_l("Clear the flag"))
