"""Forms for reference requests: filing one, cancelling it, the lists' filters, the
program's boundaries."""

from __future__ import annotations

from wtforms import (
    DateField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.accounts.models import JobLevel
from portal.forms import Form
from portal.i18n import _l, lazy_number
from portal.ids import row_id
from references.models import ConversationLevel, DealStage, RequestStatus
from references.requests import MAX_CALL_POINTS, MAX_DEAL_SIZE, MAX_REFERENCES, TEXT_LIMITS

STAGE_CHOICES = [(stage.value, stage.label) for stage in DealStage]
STATUS_LABELS = {
    RequestStatus.OPEN: _l("In progress"),
    RequestStatus.CONFIRMED: _l("Confirmed"),
    RequestStatus.CANCELLED: _l("Called off"),
}


def _text(
    label, name: str, required=None, description=None, textarea: bool = False, suggest: str = ""
):
    limit = TEXT_LIMITS[name]
    validators = [DataRequired(required)] if required else [Optional()]
    validators.append(
        Length(
            max=limit, message=_l("Keep it under %(limit)s characters.", limit=lazy_number(limit))
        )
    )
    kind = TextAreaField if textarea else StringField
    extra = {"render_kw": {"rows": 3}} if textarea else {}
    if suggest:  # a <datalist> of what accounts have (the page renders it)
        extra = {"render_kw": {"list": f"known-{suggest}", "autocomplete": "off"}}
    return kind(label, validators=validators, description=description, **extra)


def _optional_id(value):
    """A select's blank choice ("myself", "anyone") is None; anything else a row id."""
    return None if value in (None, "", "None") else row_id(value)


class RequestForm(Form):
    opportunity_name = _text(
        _l("Opportunity"),
        "opportunity_name",
        required=_l("Name the opportunity."),
        description=_l("As it is named in the CRM, e.g. “Globex: contact center renewal”."),
    )
    crm_id = _text(
        _l("CRM opportunity id"),
        "crm_id",
        description=_l("So the deal's outcome can be matched to it later."),
    )
    prospect_company = _text(
        _l("Prospect company"), "prospect_company", required=_l("Name the prospect's company.")
    )
    prospect_industry = _text(
        _l("Prospect's industry"),
        "prospect_industry",
        suggest="industry",
        description=_l("A reference from the same industry is often the most convincing."),
    )
    deal_stage = SelectField(
        _l("Deal stage"),
        choices=[("", _l("Choose the stage")), *STAGE_CHOICES],
        validators=[DataRequired(_l("Choose the deal's stage."))],
        description=_l("Where the opportunity stands in the CRM today."),
    )
    deal_size = IntegerField(
        _l("Deal size (whole dollars)"),
        validators=[
            InputRequired(_l("Enter the deal's size in whole dollars.")),
            NumberRange(0, MAX_DEAL_SIZE, _l("Enter the deal's size in whole dollars.")),
        ],
        description=_l("The opportunity's expected amount, without cents."),
    )
    needed_by = DateField(
        _l("Needed by"),
        validators=[InputRequired(_l("Choose the day the reference call is needed by."))],
        description=_l("The last day the call can take place and still help the deal."),
    )
    references_needed = IntegerField(
        _l("References needed"),
        default=1,
        validators=[
            InputRequired(_l("Say how many references the deal needs.")),
            NumberRange(1, MAX_REFERENCES, _l("Between 1 and 10.")),
        ],
        description=_l("How many different customers should speak with the prospect."),
    )
    conversation_level = SelectField(
        _l("Level of the conversation"),
        choices=[("", _l("Choose the level")), *((c.value, c.label) for c in ConversationLevel)],
        validators=[DataRequired(_l("Choose who the reference will speak with."))],
        description=_l("The prospect's level: the reference should be a peer."),
    )
    prospect_contact = _text(
        _l("Who at the prospect will speak"),
        "prospect_contact",
        description=_l("Their name and title, e.g. “Dana Lee, VP Customer Care”."),
    )
    talking_points = _text(
        _l("Key talking points"),
        "talking_points",
        description=_l("What the prospect wants to hear about: the concerns to address."),
        textarea=True,
    )
    desired_industry = _text(
        _l("Wanted: industry"),
        "desired_industry",
        suggest="industry",
        description=_l("Leave blank for any."),
    )
    desired_segment = _text(
        _l("Wanted: segment"),
        "desired_segment",
        suggest="segment",
        description=_l("Leave blank for any."),
    )
    desired_region = _text(
        _l("Wanted: region"),
        "desired_region",
        suggest="region",
        description=_l("Leave blank for any."),
    )
    desired_job_level = SelectField(
        _l("Wanted: job level"),
        choices=[("", _l("Any")), *((level.value, level.label) for level in JobLevel)],
        default="",
    )
    desired_product_use = _text(
        _l("Wanted: product use"),
        "desired_product_use",
        description=_l("What the reference should use us for, e.g. “Analytics”."),
    )
    customers_in_mind = _text(
        _l("Customers in mind"),
        "customers_in_mind",
        description=_l("Any customers you think would fit: the program manager decides."),
        textarea=True,
    )
    # managers and admins only (the view removes them for sales users)
    requester_id = SelectField(
        _l("File for"),
        coerce=_optional_id,
        description=_l("The sales user whose request this is."),
    )
    override_reason = TextAreaField(
        _l("Exception to the boundaries: why"),
        validators=[Optional(), Length(max=2000, message=_l("Keep it under 2,000 characters."))],
        render_kw={"rows": 2},
        description=_l(
            "Only for a request outside the program's boundaries: the reason is recorded."
        ),
    )
    submit = SubmitField(_l("File the request"))


class CancelForm(Form):
    reason = TextAreaField(
        _l("Why is it called off?"),
        validators=[
            DataRequired(_l("Say why the request is called off.")),
            Length(max=2000, message=_l("Keep it under 2,000 characters.")),
        ],
        render_kw={"rows": 2},
        description=_l("The advocates already asked are told."),
    )
    submit = SubmitField(_l("Cancel the request"))


class RequestFilterForm(Form):
    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=[("", _l("Any status")), *STATUS_LABELS.items()],
        default="",
    )
    requester_id = SelectField(_l("Requester"), coerce=_optional_id, default=None)
    q = SearchField(
        _l("Search"),
        validators=[Optional(), Length(max=100, message=_l("Keep it under 100 characters."))],
        description=_l("Opportunity, prospect or CRM id"),
    )


class BoundariesForm(Form):
    earliest_stage = SelectField(
        _l("Earliest deal stage"),
        choices=STAGE_CHOICES,
        description=_l("Requests for deals at an earlier stage are refused."),
    )
    min_deal_size = IntegerField(
        _l("Smallest deal (whole dollars)"),
        validators=[
            InputRequired(_l("Enter the smallest deal size.")),
            NumberRange(0, MAX_DEAL_SIZE, _l("Enter the deal's size in whole dollars.")),
        ],
        description=_l("Requests for smaller deals are refused."),
    )
    call_points = IntegerField(
        _l("Points for a confirmed reference call"),
        validators=[
            InputRequired(_l("Enter the points.")),
            NumberRange(0, MAX_CALL_POINTS, _l("Between 0 and 100,000 points.")),
        ],
        description=_l("What the advocate earns once the requester confirms the call."),
    )
    submit = SubmitField(_l("Save boundaries"))
