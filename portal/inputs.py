"""The one check every text that comes in passes: form fields (through `portal.forms.Form`),
the path and query string (before every request), file names and CSV cells.

No person means to send a control character, and PostgreSQL refuses a NUL in text (which
would be a 500 if it got that far), so each is refused with a message that says why. Tabs
and line breaks are text; odd but real Unicode (right-to-left marks, emoji) is kept."""

from __future__ import annotations

import re

from flask import abort, request

from portal.i18n import N_, _

CONTROL_MESSAGE = N_("Remove the control characters (such as NUL) from this text.")
ADDRESS_MESSAGE = N_(
    "This address holds a control character (such as NUL), which no page here accepts. "
    "Remove it and try again."
)
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1  # what an INTEGER column holds

# C0 controls but tab and line breaks, DEL, C1 controls, and lone surrogates
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_character(text: str | None) -> bool:
    return bool(text) and _CONTROL.search(text) is not None


def refuse_control_characters_in_address() -> None:
    """Before every request: a path or query string with a control character is a 400 that
    says so. (Forms check their own fields, so the message sits beside the field.)"""
    if has_control_character(request.path) or any(
        has_control_character(name) or has_control_character(value)
        for name, value in request.args.items(multi=True)
    ):
        abort(400, description=_(ADDRESS_MESSAGE))
