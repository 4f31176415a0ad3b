"""The registry of challenge types. A new type is a new class here, not an `if` elsewhere.

Each type says what it needs from the manager (config fields), what evidence it asks the
advocate for, how that evidence is checked, how much effort it is, and whether it is a
high-effort ask that counts toward the cap on how often one advocate may be asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from challenges.models import Approval, Challenge
from portal.errors import DomainError
from portal.i18n import _, _l


@dataclass(frozen=True)
class Field:
    """A form field a type asks for; forms.py turns it into a WTForms field."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, url, email, file, confirm, choice, select, datetime
    required: bool = False
    help: str = ""
    choices: tuple[tuple[str, str], ...] = field(default=())


EFFORT_LABELS = {"low": _l("Quick"), "medium": _l("Some effort"), "high": _l("Big ask")}
REVIEW_SITES = {
    "g2": ("G2", "g2.com"),
    "capterra": ("Capterra", "capterra.com"),
    "trustradius": ("TrustRadius", "trustradius.com"),
    "gartner": ("Gartner Peer Insights", "gartner.com"),
    "other": (_l("Another review site"), ""),
}


class ChallengeType:
    key: ClassVar[str]
    label: ClassVar[str]
    summary: ClassVar[str]
    effort: ClassVar[str] = "medium"
    high_effort: ClassVar[bool] = False
    approvals: ClassVar[tuple[Approval, ...]] = (Approval.MANUAL, Approval.AUTO)
    config_fields: ClassVar[tuple[Field, ...]] = ()
    evidence: ClassVar[tuple[Field, ...]] = ()
    accepts_file: ClassVar[bool] = False
    advice: ClassVar[str] = ""  # shown to the advocate above the evidence form
    # what the challenge page says while their submission waits
    waiting_note: ClassVar[str] = _l("Your submission is waiting for review.")
    is_event: ClassVar[bool] = False  # has an event time, a join link and an .ics invite

    @property
    def default_approval(self) -> Approval:
        return self.approvals[0]

    @property
    def effort_label(self) -> str:
        return EFFORT_LABELS[self.effort]

    def is_high_effort(self, config: dict) -> bool:
        return self.high_effort

    def evidence_fields(self, challenge: Challenge) -> tuple[Field, ...]:
        return self.evidence

    def clean_config(self, data: dict) -> dict:
        """Keep this type's config fields, refusing missing required ones."""
        config = {}
        for spec in self.config_fields:
            value = data.get(spec.name)
            value = value.strip() if isinstance(value, str) else value
            if spec.required and not value:
                raise DomainError(
                    _("%(field)s is needed for this type of challenge.", field=spec.label),
                    spec.name,
                )
            if value and spec.kind == "url":
                check_url(value, spec.name)
            config[spec.name] = value or ""
        return config

    def clean_evidence(self, challenge: Challenge, data: dict, has_file: bool) -> dict:
        """The evidence to keep, or a DomainError naming the field that is wrong."""
        evidence = {}
        for spec in self.evidence_fields(challenge):
            if spec.kind == "file":
                if spec.required and not has_file:
                    raise DomainError(_("Attach %(file)s.", file=spec.label.lower()), spec.name)
                continue
            value = data.get(spec.name)
            value = value.strip() if isinstance(value, str) else value
            if spec.required and not value:
                raise DomainError(_missing(spec), spec.name)
            if value and spec.kind == "url":
                check_url(value, spec.name)
            if value and spec.kind == "email":
                value = check_email(value, spec.name)
            if value and spec.kind == "choice" and value not in dict(spec.choices):
                raise DomainError(_("Choose one of the answers offered."), spec.name)
            if value not in (None, "", False):
                evidence[spec.name] = value
        return evidence

    def auto_approves(self, challenge: Challenge, evidence: dict) -> bool:
        return challenge.approval == Approval.AUTO

    def describe_config(self, config: dict) -> list[tuple[str, str]]:
        """(label, value) pairs of the manager's settings, choices shown by their names."""
        pairs = []
        for spec in self.config_fields:
            value = config.get(spec.name)
            if value:
                pairs.append((spec.label, dict(spec.choices).get(value, value)))
        return pairs

    def describe(self, challenge: Challenge | None, evidence: dict) -> list[tuple[str, str]]:
        """(label, value) pairs for showing the evidence to the advocate and to reviewers."""
        fields = self.evidence_fields(challenge) if challenge else self.evidence
        labels = {spec.name: spec.label for spec in fields}
        ticked = {spec.name for spec in fields if spec.kind == "confirm"}
        return [
            (labels.get(name, name.replace("_", " ").capitalize()), _yes(value))
            for name, value in evidence.items()
            if value is not True or name in ticked  # a ticked box is shown (the disclosure)
        ]


def _yes(value) -> str:
    return str(_("Yes")) if value is True else str(value)


def _missing(spec: Field) -> str:
    if spec.kind == "confirm":
        return _("Tick this box to confirm.")
    if spec.kind == "choice":
        return _("Choose an answer.")
    label = str(spec.label)
    if label.rstrip().endswith("?"):  # a survey's question: "Enter what would …?." reads badly
        return _("Answer the question.")
    return _("Enter %(field)s.", field=label[:1].lower() + label[1:])


def check_url(value: str, field_name: str, domain: str = "") -> str:
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. "https://[x": not a web address at all
        raise DomainError(
            _("Enter a full web address starting with https://."), field_name
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise DomainError(_("Enter a full web address starting with https://."), field_name)
    host = host.lower()
    if domain and host != domain and not host.endswith("." + domain):
        raise DomainError(
            _("The link must be on %(domain)s; this one is on %(host)s.", domain=domain, host=host),
            field_name,
        )
    return value


def check_email(value: str, field_name: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise DomainError(
            _("%(address)s is not a valid email address.", address=value), field_name
        ) from None


class Review(ChallengeType):
    key, label = "review", _l("Review")
    summary = _l("Write a review on a public review site.")
    effort = "medium"
    accepts_file = True
    config_fields = (
        Field(
            "review_site",
            _l("Review site"),
            "select",
            required=True,
            choices=tuple((key, name) for key, (name, _domain) in REVIEW_SITES.items()),
        ),
        Field(
            "review_domain",
            _l("Site domain (another site only)"),
            help=_l("For example peerspot.com. Review links must be on this domain."),
        ),
    )
    evidence = (
        Field("review_url", _l("Link to your published review"), "url", required=True),
        Field(
            "file",
            _l("A screenshot of your review (optional)"),
            "file",
            help=_l("PNG, JPEG, GIF, WebP or PDF."),
        ),
        Field(
            "disclosed",
            _l("I said in my review that I received points for writing it"),
            "confirm",
            required=True,
        ),
    )
    advice = _l(
        "Review sites require you to disclose incentives: please say in your review that you "
        "received points for writing it. Write what you honestly think: the points are the "
        "same whatever your rating."
    )

    def site(self, config: dict) -> tuple[str, str]:
        name, domain = REVIEW_SITES.get(config.get("review_site", ""), ("", ""))
        domain = domain or config.get("review_domain", "").lower().removeprefix("www.")
        return name, domain

    def clean_config(self, data: dict) -> dict:
        config = super().clean_config(data)
        if config["review_site"] not in REVIEW_SITES:
            raise DomainError(_("Choose a review site."), "review_site")
        if config["review_site"] == "other" and "." not in config["review_domain"]:
            raise DomainError(_("Give the site's domain, like peerspot.com."), "review_domain")
        return config

    def evidence_fields(self, challenge: Challenge) -> tuple[Field, ...]:
        if not challenge.evidence_required:
            return self.evidence
        screenshot = Field(
            "file",
            _l("A screenshot of your review"),
            "file",
            required=True,
            help=_l("PNG, JPEG, GIF, WebP or PDF."),
        )
        return (self.evidence[0], screenshot, self.evidence[2])

    def clean_evidence(self, challenge: Challenge, data: dict, has_file: bool) -> dict:
        link = (data.get("review_url") or "").strip()
        if link:  # a wrong site first, before asking for the screenshot again
            check_url(link, "review_url", self.site(challenge.config)[1])
        return super().clean_evidence(challenge, data, has_file)


class Webinar(ChallengeType):
    key, label = "webinar", _l("Webinar / event")
    summary = _l("Speak at or attend an event. RSVP first; attendance is confirmed afterwards.")
    approvals = (Approval.MANUAL,)
    is_event = True
    config_fields = (
        Field(
            "event_role",
            _l("Advocate's role"),
            "select",
            required=True,
            choices=(("attend", _l("Attend")), ("speak", _l("Speak (a high-effort ask)"))),
        ),
        Field(
            "attendance_code",
            _l("Attendance code"),
            help=_l(
                "Announced at the event. Advocates who enter it are confirmed at once; "
                "leave blank to confirm attendance yourself."
            ),
        ),
    )
    evidence = (
        Field(
            "attendance_code",
            _l("Attendance code (after the event)"),
            help=_l("Leave blank to RSVP now; enter the code announced at the event to confirm."),
        ),
    )
    advice = _l("RSVP now. After the event, enter the attendance code from your submissions list.")
    waiting_note = _l(
        "You are on the list. After the event, enter its attendance code from your submissions."
    )

    def is_high_effort(self, config: dict) -> bool:
        return config.get("event_role") == "speak"

    def clean_evidence(self, challenge: Challenge, data: dict, has_file: bool) -> dict:
        evidence = {"rsvp": True}
        code = (data.get("attendance_code") or "").strip()
        if code:
            expected = challenge.config.get("attendance_code", "")
            if not expected or code.casefold() != expected.casefold():
                raise DomainError(_("That attendance code is not right."), "attendance_code")
            evidence["attendance_code"] = code
        return evidence

    def auto_approves(self, challenge: Challenge, evidence: dict) -> bool:
        return "attendance_code" in evidence

    def describe(self, challenge, evidence):
        if "attendance_code" in evidence:
            return [(_("Attendance"), _("Confirmed with the attendance code"))]
        return [(_("Attendance"), _("RSVP: to be confirmed after the event"))]


class ReferenceCall(ChallengeType):
    key, label = "reference_call", _l("Reference call")
    summary = _l("Talk to a prospect about your experience.")
    effort, high_effort = "high", True
    approvals = (Approval.MANUAL,)
    config_fields = (
        Field(
            "arranged_by",
            _l("Arranged by"),
            required=True,
            help=_l("The staff member who sets up the call and confirms it took place."),
        ),
    )
    evidence = (
        Field("availability", _l("When you are available"), "textarea", required=True),
        Field("notes", _l("Anything we should know (optional)"), "textarea"),
    )
    advice = _l(
        "The person who arranges the call confirms it afterwards; then you get your points."
    )


class CaseStudy(ChallengeType):
    key, label = "case_study", _l("Case study")
    summary = _l("Take part in a written case study.")
    effort, high_effort = "high", True
    approvals = (Approval.MANUAL,)
    accepts_file = True
    evidence = (
        Field("notes", _l("What you contributed"), "textarea", required=True),
        Field("link", _l("Link to the draft or published piece (optional)"), "url"),
        Field(
            "file",
            _l("A file: sign-off, draft or photo (optional)"),
            "file",
            help=_l("PNG, JPEG, GIF, WebP or PDF."),
        ),
    )

    def evidence_fields(self, challenge: Challenge) -> tuple[Field, ...]:
        if not challenge.evidence_required:
            return self.evidence
        # both stay optional on their own: one of the two is needed (clean_evidence)
        return (
            self.evidence[0],
            Field(
                "link",
                _l("Link to the draft or published piece"),
                "url",
                help=_l("Give a link or attach a file: one of the two is needed."),
            ),
            Field(
                "file",
                _l("A file: sign-off, draft or photo"),
                "file",
                help=_l(
                    "PNG, JPEG, GIF, WebP or PDF. Give a link or attach a file: one is needed."
                ),
            ),
        )

    def clean_evidence(self, challenge: Challenge, data: dict, has_file: bool) -> dict:
        evidence = super().clean_evidence(challenge, data, has_file)
        if challenge.evidence_required and not (evidence.get("link") or has_file):
            raise DomainError(_("Give a link or attach a file to show your part."), "link")
        return evidence


class VideoTestimonial(CaseStudy):
    key, label = "video", _l("Video testimonial")
    summary = _l("Record a short video about your experience.")


class SocialShare(ChallengeType):
    key, label = "social_share", _l("Social share")
    summary = _l("Share a post with your network.")
    effort = "low"
    approvals = (Approval.AUTO, Approval.MANUAL)
    config_fields = (Field("share_url", _l("Link to share"), "url", required=True),)
    evidence = (Field("post_url", _l("Link to your post"), "url", required=True),)


class Referral(ChallengeType):
    key, label = "referral", _l("Referral")
    summary = _l("Introduce a colleague at another company.")
    approvals = (Approval.MANUAL,)
    evidence = (
        Field("name", _l("Their name"), required=True),
        Field("email", _l("Their email"), "email", required=True),
        Field("company", _l("Their company"), required=True),
        Field("note", _l("Why they might be interested (optional)"), "textarea"),
    )
    advice = _l("Please only refer people who have agreed to hear from us.")

    def clean_evidence(self, challenge: Challenge, data: dict, has_file: bool) -> dict:
        evidence = super().clean_evidence(challenge, data, has_file)
        own = (data.get("own_company") or "").casefold()
        if own and evidence["company"].casefold() == own:
            raise DomainError(_("Refer someone at another company than your own."), "company")
        return evidence


class Survey(ChallengeType):
    key, label = "survey", _l("Survey / question")
    summary = _l("Answer a question.")
    effort = "low"
    approvals = (Approval.AUTO,)
    config_fields = (
        Field("question", _l("Question"), "textarea", required=True),
        Field(
            "choices", _l("Answer choices, one per line (blank for a written answer)"), "textarea"
        ),
    )

    def choices(self, config: dict) -> tuple[tuple[str, str], ...]:
        lines = [line.strip() for line in config.get("choices", "").splitlines()]
        return tuple((line, line) for line in lines if line)

    def evidence_fields(self, challenge: Challenge) -> tuple[Field, ...]:
        question = challenge.config.get("question") or _("Your answer")
        choices = self.choices(challenge.config)
        if choices:
            return (Field("answer", question, "choice", required=True, choices=choices),)
        return (Field("answer", question, "textarea", required=True),)


class Content(ChallengeType):
    key, label = "content", _l("Read or watch")
    summary = _l("Read an article or watch a video.")
    effort = "low"
    approvals = (Approval.AUTO,)
    config_fields = (Field("content_url", _l("Link to the content"), "url", required=True),)
    evidence = (Field("done", _l("I have read or watched it"), "confirm", required=True),)


REGISTRY: dict[str, ChallengeType] = {
    kind.key: kind()
    for kind in (
        Review,
        Webinar,
        ReferenceCall,
        CaseStudy,
        VideoTestimonial,
        SocialShare,
        Referral,
        Survey,
        Content,
    )
}


def challenge_type(key: str) -> ChallengeType:
    try:
        return REGISTRY[key]
    except KeyError:
        raise DomainError(_("Unknown challenge type: %(key)s.", key=key), "type") from None


def type_choices() -> list[tuple[str, str]]:
    return [(key, kind.label) for key, kind in REGISTRY.items()]
