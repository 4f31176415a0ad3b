from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.models import JobLevel


class JoinForm(FlaskForm):
    consent = BooleanField(
        "I want to join the customer hub. I agree to the program terms, and know I can leave "
        "at any time.",
        validators=[DataRequired("Tick the box to join the program.")],
    )


class LeaveForm(FlaskForm):
    confirm = BooleanField(
        "Yes, I want to leave the program",
        validators=[DataRequired("Tick the box to confirm you want to leave.")],
    )


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Tell us your name."), Length(max=120)])
    title = StringField("Job title", validators=[Optional(), Length(max=120)])
    job_level = SelectField(
        "Job level",
        choices=[("", "Prefer not to say")] + [(level.value, level.label) for level in JobLevel],
        validators=[Optional()],
    )
    email_digests = BooleanField("Email me a digest of new challenges")
    hide_from_leaderboard = BooleanField("Hide me from leaderboards")
    declines_gifts = BooleanField(
        "My employer does not allow me to accept gifts",
        description="We stop offering you gifts at once and ask an admin to record your "
        "employer's policy. You can still earn points, recognition and charity donations.",
    )
    gifts_note = TextAreaField(
        "Anything we should know about the policy? (optional)",
        validators=[Optional(), Length(max=1000)],
    )
