from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import Form
from portal.i18n import _l
from portal.ids import row_id


class BulkInviteForm(Form):
    account_id = SelectField(
        _l("Account"),
        coerce=row_id,
        validators=[InputRequired(_l("Choose the advocates' account."))],
    )
    addresses = TextAreaField(
        _l("Email addresses"),
        validators=[DataRequired(_l("Paste at least one email address.")), Length(max=50_000)],
        description=_l("One per line, or separated by commas. Each gets its own invitation link."),
        render_kw={"rows": 8},
    )


class ReachableForm(Form):
    """Clear an advocate's bounced-address mark (a button: only the CSRF token)."""
