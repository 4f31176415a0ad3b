"""The base of every form: the checks that hold for all input, beside each field."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import NumberRange, ValidationError

from portal.form_messages import friendly, friendly_messages
from portal.i18n import N_, _, number
from portal.inputs import CONTROL_MESSAGE, INTEGER_MAX, INTEGER_MIN, has_control_character

FILE_NAME_MESSAGE = N_(
    "The file's name holds control characters (such as NUL): rename it and retry."
)
ONE_LINE_MESSAGE = N_("Keep this to one line (no line breaks).")


class Form(FlaskForm):
    """Every form in the portal derives from this one (a test holds it to that).

    Besides each field's own validators: text with a control character and a file whose
    name has one are refused beside the field, a one-line field holds no line break (it may
    become an email header), a choice sent as blanks is still checked against the list
    (Optional() would wave it through), and a whole number must fit the INTEGER column it is
    stored in, unless the field declares its own range (for a wider column). The library's
    own messages are replaced by ours (portal.form_messages), in the reader's language."""

    class Meta:
        def get_translations(self, form):
            return friendly_messages

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            field.errors = [friendly(error) for error in field.errors]
            problem = None if field.errors else _input_problem(self, field)  # one message a field
            if problem:
                field.errors = [*field.errors, problem]
                valid = False
        if not valid:
            mark_refused()
        return valid


def mark_refused(status: int = 422) -> None:
    """This POST is answered with a re-shown form: 422 when its input is refused (a field's
    check or a domain rule), 409 when it lost a race to someone else (the conflict wins).
    portal.web.answer_refusals applies it to the page rendered (never to a redirect)."""
    if has_request_context() and request.method == "POST" and g.get("refusal_status") != 409:
        g.refusal_status = status


def _input_problem(form, field) -> str | None:
    for raw in field.raw_data or ():
        if isinstance(raw, FileStorage):
            if has_control_character(raw.filename):
                return _(FILE_NAME_MESSAGE)
        elif isinstance(raw, str) and (problem := _text_problem(form, field, raw)):
            return problem
    if isinstance(field, IntegerField) and isinstance(field.data, int):
        declares_range = any(isinstance(v, NumberRange) for v in field.validators)
        if not declares_range and not INTEGER_MIN <= field.data <= INTEGER_MAX:
            return _(
                "Enter a whole number between %(low)s and %(high)s.",
                low=number(INTEGER_MIN),
                high=number(INTEGER_MAX),
            )
    return None


def _text_problem(form, field, text: str) -> str | None:
    if has_control_character(text):
        return _(CONTROL_MESSAGE)
    one_line = isinstance(field, StringField) and not isinstance(field, TextAreaField)
    if one_line and ("\n" in text or "\r" in text):
        return _(ONE_LINE_MESSAGE)
    if text and not text.strip() and isinstance(field, SelectFieldBase):
        try:
            field.pre_validate(form)
        except ValidationError as error:
            return str(error)
    return None
