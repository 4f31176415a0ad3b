from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from portal.forms import Form
from portal.i18n import LANGUAGES, _l

PASSWORD_HELP = _l("At least %(count)s characters, and not your email address.", count=MIN_LENGTH)


def new_password_field(label=None) -> PasswordField:
    return PasswordField(
        label or _l("Password"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_LENGTH)],
        description=PASSWORD_HELP,
    )


def browser_time_zone_field() -> HiddenField:
    """Filled by static/js/time-zone.js with the browser's zone (e.g. Europe/Madrid)."""
    return HiddenField(render_kw={"data-browser-time-zone": ""})


def confirm_field(of: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo(of, _l("The passwords differ.")),
        ],
    )


class LoginForm(Form):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    time_zone = browser_time_zone_field()


class ForgotPasswordForm(Form):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter your email.")), Length(max=254)],
    )


class ResetPasswordForm(Form):
    password = new_password_field(_l("New password"))
    confirm = confirm_field("password")


class AcceptInvitationForm(Form):
    name = StringField(
        _l("Your name"), validators=[DataRequired(_l("Tell us your name.")), Length(max=120)]
    )
    password = new_password_field()
    confirm = confirm_field("password")
    consent = BooleanField(
        _l(
            "I want to join the customer hub. I agree to the program terms, and know I can "
            "leave at any time."
        ),
        description=_l("We record when you joined and which version of the terms you accepted."),
    )
    time_zone = browser_time_zone_field()


class LanguageForm(Form):
    """The language of the logged-out pages (a person's own setting is on their profile)."""

    language = SelectField(choices=list(LANGUAGES.items()), validators=[DataRequired()])
    next = HiddenField()


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = new_password_field(_l("New password"))
    confirm = confirm_field("new_password")
