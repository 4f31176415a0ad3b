from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import Form
from portal.ids import row_id


class BulkInviteForm(Form):
    account_id = SelectField(
        "Account", coerce=row_id, validators=[InputRequired("Choose the advocates' account.")]
    )
    addresses = TextAreaField(
        "Email addresses",
        validators=[DataRequired("Paste at least one email address."), Length(max=50_000)],
        description="One per line, or separated by commas. Each gets its own invitation link.",
        render_kw={"rows": 8},
    )
