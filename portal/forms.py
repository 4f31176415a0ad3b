"""The base of every form: the checks that hold for all input, beside each field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import IntegerField
from wtforms.validators import NumberRange

from portal.inputs import CONTROL_MESSAGE, INTEGER_MAX, INTEGER_MIN, has_control_character

FILE_NAME_MESSAGE = "The file's name holds control characters (such as NUL): rename it and retry."


class Form(FlaskForm):
    """Every form in the portal derives from this one (a test holds it to that).

    Besides each field's own validators: text with a control character and a file whose
    name has one are refused beside the field, and a whole number must fit the INTEGER
    column it is stored in, unless the field declares its own range (for a wider column)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            problem = None if field.errors else _input_problem(field)  # one message a field
            if problem:
                field.errors = [*field.errors, problem]
                valid = False
        return valid


def _input_problem(field) -> str | None:
    for raw in field.raw_data or ():
        if isinstance(raw, FileStorage):
            if has_control_character(raw.filename):
                return FILE_NAME_MESSAGE
        elif isinstance(raw, str) and has_control_character(raw):
            return CONTROL_MESSAGE
    if isinstance(field, IntegerField) and isinstance(field.data, int):
        declares_range = any(isinstance(v, NumberRange) for v in field.validators)
        if not declares_range and not INTEGER_MIN <= field.data <= INTEGER_MAX:
            return f"Enter a whole number between {INTEGER_MIN:,} and {INTEGER_MAX:,}."
    return None
