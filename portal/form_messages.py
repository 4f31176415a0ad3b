"""WTForms' own messages in the portal's words, in the reader's language.

The library's defaults ("Field must be exactly 3 characters long.", "Invalid Choice: could
not coerce.") read like a program talking to itself. Every form gets these instead through
its Meta (portal.forms.Form), so no page can show the library's wording; a message a form
gives itself (a validator's `message=`) still wins.
"""

from __future__ import annotations

from flask_wtf.i18n import translations as library_translations

from portal.i18n import _l

CHOOSE_OFFERED = _l("Choose one of the options offered.")
FORM_EXPIRED = _l("This form has expired: reload the page and try again.")

# the library's msgid -> ours (placeholders kept: WTForms fills them in afterwards)
MESSAGES = {
    "This field is required.": _l("Fill this in."),
    "Not a valid integer value.": _l("Enter a whole number, such as 25."),
    "Not a valid decimal value.": _l("Enter a number, such as 12.50."),
    "Not a valid float value.": _l("Enter a number, such as 12.50."),
    "Not a valid date value.": _l("Enter a date, such as 2026-12-31."),
    "Not a valid datetime value.": _l("Enter a date and a time, such as 2026-12-31 16:00."),
    "Not a valid time value.": _l("Enter a time, such as 16:00."),
    "Not a valid week value.": _l("Enter a week, such as 2026-W49."),
    "Invalid Choice: could not coerce.": CHOOSE_OFFERED,
    "Not a valid choice.": CHOOSE_OFFERED,
    "'%(value)s' is not a valid choice for this field.": CHOOSE_OFFERED,
    "'%(value)s' are not valid choices for this field.": CHOOSE_OFFERED,
    "Invalid choice(s): one or more data inputs could not be coerced.": CHOOSE_OFFERED,
    "Choices cannot be None.": CHOOSE_OFFERED,
    "Invalid email address.": _l("Enter an email address, such as name@example.com."),
    "Invalid URL.": _l("Enter a full web address starting with https://."),
    "Invalid IP address.": _l("Enter an IP address, such as 192.0.2.10."),
    "Invalid Mac address.": _l("Enter a MAC address, such as 00:1a:2b:3c:4d:5e."),
    "Invalid UUID.": _l("Enter an identifier in the form given to you."),
    "Invalid input.": _l("Check this: it is not in the form expected."),
    "Field must be equal to %(other_name)s.": _l("This must match %(other_name)s."),
    "Invalid value, must be one of: %(values)s.": _l("Use one of: %(values)s."),
    "Invalid value, can't be any of: %(values)s.": _l("Use something other than %(values)s."),
    "Number must be between %(min)s and %(max)s.": _l("Enter a number from %(min)s to %(max)s."),
    "Number must be at least %(min)s.": _l("Enter %(min)s or more."),
    "Number must be at most %(max)s.": _l("Enter %(max)s or less."),
    "Date must be between %(min)s and %(max)s.": _l("Choose a date from %(min)s to %(max)s."),
    "Date must be at least %(min)s.": _l("Choose %(min)s or later."),
    "Date must be at most %(max)s.": _l("Choose %(max)s or earlier."),
    "Field must be between %(min)d and %(max)d characters long.": _l(
        "Use %(min)d to %(max)d characters."
    ),
    "This field is disabled and cannot have a value.": _l("This can't be changed here."),
    "This field cannot be edited.": _l("This can't be changed here."),
    "File does not have an approved extension.": _l("Choose a file of one of the types listed."),
    # Flask-WTF raises these untranslated; Form.validate swaps them
    "The CSRF token is missing.": FORM_EXPIRED,
    "The CSRF session token is missing.": FORM_EXPIRED,
    "The CSRF token has expired.": FORM_EXPIRED,
    "The CSRF token is invalid.": FORM_EXPIRED,
    "The CSRF tokens do not match.": FORM_EXPIRED,
}

# Length's messages come as singular/plural pairs; ours: (for one, for more)
COUNTED = {
    "Field must be exactly %(max)d character long.": (
        _l("Use exactly one character."),
        _l("Use exactly %(max)d characters."),
    ),
    "Field must be at least %(min)d character long.": (
        _l("Use at least one character."),
        _l("Use at least %(min)d characters."),
    ),
    "Field cannot be longer than %(max)d character.": (
        _l("Keep it to one character."),
        _l("Keep it to %(max)d characters or fewer."),
    ),
}


class FriendlyMessages:
    """The translations object WTForms asks for its messages (Form.Meta.get_translations)."""

    def gettext(self, string: str) -> str:
        friendly = MESSAGES.get(string)
        if friendly is None:
            if string.startswith("File does not have an approved extension"):
                return str(MESSAGES["File does not have an approved extension."])
            return library_translations.gettext(string)
        return str(friendly)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        pair = COUNTED.get(singular)
        if pair is None:
            return library_translations.ngettext(singular, plural, n)
        return str(pair[0] if n == 1 else pair[1])


friendly_messages = FriendlyMessages()


def friendly(message: str) -> str:
    """A message raised without translation (Flask-WTF's CSRF check), in our words."""
    found = MESSAGES.get(message) if isinstance(message, str) else None
    return str(found) if found is not None else message
