from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from portal.forms import Form

PASSWORD_HELP = f"At least {MIN_LENGTH} characters, and not your email address."


def new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired("Choose a password."), Length(max=MAX_LENGTH)],
        description=PASSWORD_HELP,
    )


def confirm_field(of: str) -> PasswordField:
    return PasswordField(
        "Repeat the password",
        validators=[DataRequired("Repeat the password."), EqualTo(of, "The passwords differ.")],
    )


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ForgotPasswordForm(Form):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])


class ResetPasswordForm(Form):
    password = new_password_field("New password")
    confirm = confirm_field("password")


class AcceptInvitationForm(Form):
    name = StringField(
        "Your name", validators=[DataRequired("Tell us your name."), Length(max=120)]
    )
    password = new_password_field()
    confirm = confirm_field("password")
    consent = BooleanField(
        "I want to join the customer hub. I agree to the program terms, and know I can leave "
        "at any time.",
        description="We record when you joined and which version of the terms you accepted.",
    )


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    new_password = new_password_field("New password")
    confirm = confirm_field("new_password")
