"""The demo's reference program (`seed-demo`): twelve weeks of sales asking for references,
played through the services in the same timeline as the rest of the story (challenges.demo
runs these steps among its own, in time order), so every request, ask, call, milestone,
survey answer, flag, reminder and sales credit comes out of the code paths a real program
uses, dated when it happened.

The requests, oldest first, leave one in every state: an outcome recorded (won, and one
lost), a call confirmed with its outcome still owed, accepted (to introduce, and to
confirm), a first candidate who said "not now" and a second who took the call, one
cancelled, one asked and waiting for Ana (the demo advocate), a candidate proposed for Maya
to ask, one let through outside the boundaries by Maya, and one just filed. Early requests
took days to coordinate; the later ones hours, as the program got into its stride."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.demo import Step, Story, Timeline, _add_cover, _after_approval
from challenges.models import Challenge, Submission
from points.program import game_settings, zone
from portal.accounts.models import Account, AuditEvent, User
from portal.accounts.services import AccountFields, find_account_by_name, find_user_by_email
from portal.accounts.services import update_account as save_account
from portal.errors import DomainError
from references import asks, flags, follow_up, matching, surveys
from references import requests as filing
from references.models import (
    ConversationLevel,
    DealStage,
    FlagKind,
    Outcome,
    ReferenceAsk,
    ReferenceRequest,
    SurveyImport,
    SurveyKind,
)

SALES_EMAILS = ("sam.rivera@vouch.example", "priya.shah@vouch.example")
START_DAYS = 84  # the reference program began twelve weeks ago
ADMIN_OWNED = ("Harbor Credit Union", "Harbor Schools", "Keystone Software")

# what each customer uses (matched against a request's wanted product use), by industry
PRODUCTS = {
    "Healthcare": "Patient support, Scheduling",
    "Government": "Citizen services, Case management",
    "Financial services": "Contact center, Fraud alerts",
    "Life sciences": "Medical information line",
    "Retail": "Order support, Returns",
    "Logistics": "Fleet support, Field service",
    "Clinics": "Patient support, Scheduling",
    "Insurance": "Claims, Contact center",
    "Foods": "Order support, Quality complaints",
    "Energy": "Outage communications, Field service",
    "Software": "Customer success, Community",
    "Credit Union": "Member services, Contact center",
    "Hotels": "Guest messaging, Reservations",
    "Telecom": "Network operations, Contact center",
    "Schools": "Parent helpdesk, Admissions",
}


@dataclass
class Move:
    """One step of a request's story: `days` ago, `who` ("sam", "priya", "maya", "alex",
    "owner", "advocate") does `action`."""

    days: float
    who: str
    action: str
    args: dict = field(default_factory=dict)


@dataclass
class Thread:
    """One request's story; a move the services refuse ends it (as it would have that day)."""

    fields: Callable[[datetime], filing.RequestFields]  # given the moment it is filed
    moves: list[Move]
    request: ReferenceRequest | None = None
    ask: ReferenceAsk | None = None


def _fields(needed_in_days: int, **values) -> Callable[[datetime], filing.RequestFields]:
    """A request's fields, needed `needed_in_days` after the day it is filed."""

    def build(filed: datetime) -> filing.RequestFields:
        return filing.RequestFields(
            needed_by=filed.date() + timedelta(days=needed_in_days), **values
        )

    return build


# opportunity, fields, and what happened; `pick` is the candidate wanted (else the best ranked)
THREADS = [
    (
        _fields(
            21,
            opportunity_name="Meridian Freight: fleet support",
            crm_id="OPP-20417",
            prospect_company="Meridian Freight",
            prospect_industry="Logistics",
            deal_stage=DealStage.NEGOTIATION,
            deal_size=140_000,
            references_needed=1,
            conversation_level=ConversationLevel.VP,
            prospect_contact="Hannah Brooks, VP Operations",
            talking_points="Rolling out to 300 drivers in a quarter; what support looked like "
            "in the first month.",
            desired_industry="Logistics",
            desired_region="APAC",
            desired_product_use="Fleet support",
        ),
        [
            Move(70, "priya", "file"),
            Move(68.9, "maya", "propose", {"pick": "omar.rossi@summitlogistics.example"}),
            Move(68.1, "owner", "send"),
            Move(66.2, "advocate", "accept", {"availability": "Tuesdays or Thursdays, 8-10am"}),
            Move(65.8, "priya", "introduce"),
            Move(62.0, "priya", "confirm", {"call_days": 62.2}),
            Move(39.0, "priya", "outcome", {"outcome": Outcome.WON, "amount": 140_000}),
        ],
    ),
    (
        _fields(
            14,
            opportunity_name="Pinecrest Credit Union: member services",
            crm_id="OPP-20588",
            prospect_company="Pinecrest Credit Union",
            prospect_industry="Credit Union",
            deal_stage=DealStage.PROPOSAL,
            deal_size=60_000,
            conversation_level=ConversationLevel.DIRECTOR,
            prospect_contact="Marcus Lee, Director of Member Experience",
            talking_points="Moving off a legacy phone tree; member satisfaction after go-live.",
            desired_industry="Credit Union",
            desired_region="North America",
        ),
        [
            Move(55, "sam", "file"),
            Move(53.6, "maya", "propose", {"pick": "jonas.berg@harborcreditunion.example"}),
            Move(52.9, "owner", "send"),
            Move(51.8, "advocate", "accept", {"availability": "Any afternoon next week"}),
            Move(51.5, "sam", "introduce"),
            Move(40.1, "sam", "confirm", {"call_days": 48.1}),
            Move(23.9, "sam", "outcome", {"outcome": Outcome.LOST}),
        ],
    ),
    (
        _fields(
            10,
            opportunity_name="Northgate Logistics: warehouse help desk",
            crm_id="OPP-20702",
            prospect_company="Northgate Logistics",
            prospect_industry="Logistics",
            deal_stage=DealStage.DEMO,
            deal_size=30_000,
            conversation_level=ConversationLevel.DIRECTOR,
            prospect_contact="Ivy Chen, Warehouse Director",
            talking_points="Seasonal peaks: how the team scaled support.",
            desired_industry="Logistics",
        ),
        [
            Move(40, "priya", "file"),
            Move(39.2, "maya", "propose", {"pick": "lucia.novak@summitlogistics.example"}),
            Move(38.8, "owner", "send"),
            Move(
                37.1,
                "priya",
                "cancel",
                {"reason": "The prospect paused the project until their next fiscal year."},
            ),
        ],
    ),
    (
        _fields(
            12,
            opportunity_name="Brightline Hotels: guest messaging",
            crm_id="OPP-20811",
            prospect_company="Brightline Hotels",
            prospect_industry="Hotels",
            deal_stage=DealStage.NEGOTIATION,
            deal_size=95_000,
            conversation_level=ConversationLevel.DIRECTOR,
            prospect_contact="Sofia Marin, Director of Guest Experience",
            talking_points="Guest messaging in three languages; how fast the team was live.",
            desired_industry="Hotels",
            desired_region="LATAM",
        ),
        [
            Move(30, "sam", "file"),
            Move(29.75, "maya", "propose", {"pick": "jonas.novak@bluewaterhotels.example"}),
            Move(29.6, "owner", "send"),
            Move(29.1, "advocate", "accept", {"availability": "Mornings, Mexico City time"}),
            Move(28.9, "sam", "introduce"),
            Move(23.0, "sam", "confirm", {"call_days": 24.0}),
        ],
    ),
    (
        _fields(
            21,
            opportunity_name="Crescent Schools: parent helpdesk",
            crm_id="OPP-20876",
            prospect_company="Crescent Schools",
            prospect_industry="Schools",
            deal_stage=DealStage.PROPOSAL,
            deal_size=38_000,
            conversation_level=ConversationLevel.DIRECTOR,
            prospect_contact="Tom Ellis, Head of Operations",
            talking_points="Admissions season without a backlog.",
            desired_industry="Schools",
            desired_region="EMEA",
        ),
        [
            Move(20, "sam", "file"),
            Move(19.8, "maya", "propose", {"pick": "lucia.berg@harborschools.example"}),
            Move(19.6, "owner", "send"),
            Move(
                18.2,
                "advocate",
                "decline",
                {"reason": "Term starts next week: ask me again in the spring.", "not_now": 90},
            ),
            Move(17.9, "maya", "propose", {"pick": "nora.novak@keystoneschools.example"}),
            Move(17.8, "owner", "send"),
            Move(17.3, "advocate", "accept", {"availability": "Wednesday afternoons"}),
            Move(17.0, "sam", "introduce"),
            Move(12.1, "sam", "confirm", {"call_days": 13.0}),
            Move(4.9, "sam", "outcome", {"outcome": Outcome.WON, "amount": 38_000}),
        ],
    ),
    (
        _fields(
            16,
            opportunity_name="Harper & Vale Insurance: claims",
            crm_id="OPP-20934",
            prospect_company="Harper & Vale Insurance",
            prospect_industry="Insurance",
            deal_stage=DealStage.NEGOTIATION,
            deal_size=180_000,
            conversation_level=ConversationLevel.DIRECTOR,
            prospect_contact="Grace Okoye, Claims Director",
            talking_points="First-notice-of-loss by chat; what changed for adjusters.",
            desired_industry="Insurance",
            desired_segment="Enterprise",
        ),
        [
            Move(12, "sam", "file"),
            Move(11.85, "maya", "propose", {"pick": "priya.garcia@keystoneinsurance.example"}),
            Move(11.75, "owner", "send"),
            Move(11.4, "advocate", "accept", {"availability": "After 3pm Eastern, any day"}),
            Move(11.0, "sam", "introduce"),
        ],
    ),
    (
        _fields(
            10,
            opportunity_name="Vanguard Health Systems: enterprise pilot",
            crm_id="OPP-21002",
            prospect_company="Vanguard Health Systems",
            prospect_industry="Healthcare",
            deal_stage=DealStage.DISCOVERY,
            deal_size=500_000,
            conversation_level=ConversationLevel.C_LEVEL,
            prospect_contact="Dr. Alan Reyes, CIO",
            talking_points="A peer's view before the discovery workshop.",
            desired_industry="Healthcare",
            desired_segment="Enterprise",
        ),
        [
            Move(8.1, "sam", "file"),  # refused: Discovery is before the program's boundary
            Move(
                8.0,
                "maya",
                "file",
                {
                    "for": "sam",
                    "override": "Strategic logo: their CIO asked to hear from a peer before "
                    "the discovery workshop, and sales leadership approved.",
                },
            ),
        ],
    ),
    (
        _fields(
            9,
            opportunity_name="Atlas Telecom: network operations",
            crm_id="OPP-21019",
            prospect_company="Atlas Telecom",
            prospect_industry="Telecom",
            deal_stage=DealStage.PROPOSAL,
            deal_size=75_000,
            conversation_level=ConversationLevel.DIRECTOR,
            prospect_contact="Ravi Das, Director of Network Operations",
            talking_points="Outage updates to customers in minutes, not hours.",
            desired_industry="Telecom",
            desired_region="North America",
        ),
        [
            Move(6, "priya", "file"),
            Move(5.85, "maya", "propose", {"pick": "lucia.chen@bluewatertelecom.example"}),
            Move(5.75, "owner", "send"),
            Move(5.3, "advocate", "accept", {"availability": "Fridays before noon"}),
        ],
    ),
    (
        _fields(
            12,
            opportunity_name="Lakeshore Hospital Group: patient access",
            crm_id="OPP-21040",
            prospect_company="Lakeshore Hospital Group",
            prospect_industry="Healthcare",
            deal_stage=DealStage.PROPOSAL,
            deal_size=220_000,
            conversation_level=ConversationLevel.DIRECTOR,
            prospect_contact="Dana Whitfield, Director of Patient Access",
            talking_points="Cutting hold times at the patient line; working with our team "
            "through go-live.",
            desired_industry="Healthcare",
            desired_segment="Enterprise",
            desired_region="North America",
            desired_job_level="director",
            desired_product_use="Patient support",
            customers_in_mind="Northwind Health",
        ),
        [
            Move(3, "sam", "file"),
            Move(2.85, "maya", "propose", {"pick": "ana.ruiz@northwind.example"}),
            Move(0.9, "owner", "send"),
        ],
    ),
    (
        _fields(
            14,
            opportunity_name="Orchid Foods: order support",
            crm_id="OPP-21055",
            prospect_company="Orchid Foods",
            prospect_industry="Foods",
            deal_stage=DealStage.DEMO,
            deal_size=45_000,
            conversation_level=ConversationLevel.VP,
            prospect_contact="Elena Petrova, VP Customer Care",
            talking_points="Handling order changes at peak season.",
            desired_industry="Foods",
            desired_segment="Enterprise",
        ),
        [
            Move(1.6, "priya", "file"),
            Move(0.45, "maya", "propose", {"pick": "tom.garcia@redwoodfoods.example"}),
        ],
    ),
    (
        _fields(
            18,
            opportunity_name="Solstice Energy: outage communications",
            crm_id="OPP-21071",
            prospect_company="Solstice Energy",
            prospect_industry="Energy",
            deal_stage=DealStage.PROPOSAL,
            deal_size=120_000,
            conversation_level=ConversationLevel.C_LEVEL,
            prospect_contact="Mia Johansson, COO",
            talking_points="Storm season: keeping customers informed.",
            desired_industry="Energy",
        ),
        [Move(0.12, "priya", "file")],
    ),
]

# the survey: members' answers (matching reads their scores), promoters not yet in the hub
# with what they said, a detractor whose account is flagged, and two rows that cannot be read
SURVEY_MEMBERS = [
    ("omar.rossi@summitlogistics.example", 10, ""),
    ("priya.garcia@keystoneinsurance.example", 9, "The claims team would not go back."),
    ("jonas.novak@bluewaterhotels.example", 9, ""),
    ("nora.novak@keystoneschools.example", 9, "Parents get answers the same day now."),
    ("lucia.chen@bluewatertelecom.example", 10, "Our outage updates went from hours to minutes."),
    ("ana.ruiz@northwind.example", 10, "Hold times at the patient line are down by half."),
    ("raj.mehta@northwind.example", 8, ""),
    ("carla.meyer@initech.example", 8, "Good, though the reports could be faster."),
    ("marta.gomez@initech.example", 9, "Muy contentos con el equipo de soporte."),
    ("tom.garcia@redwoodfoods.example", 7, ""),
    ("jonas.berg@harborcreditunion.example", 8, ""),
    ("lucia.berg@harborschools.example", 8, ""),
    ("wei.mensah@bluewatertelecom.example", 7, "Fine. Setup took longer than promised."),
    ("amara.chen@summitenergy.example", 8, ""),
    (
        "kenji.berg@summitenergy.example",
        3,
        "Two outages this quarter and slow answers from support. Not happy.",
    ),
    ("priya.rossi@bluewaterclinics.example", 9, ""),
    ("omar.garcia@harborclinics.example", 10, "The best vendor we work with, full stop."),
    ("tom.berg@bluewaterinsurance.example", 7, "It works; the price went up."),
]
# name, company, score, comment: people the survey reached who are not in the hub
SURVEY_OTHERS = [
    ("Grace Lee", "Contoso Health", 10, "Our nurses love the scheduling reminders."),
    ("Mateo Silva", "Fabrikam Foods", 9, "Order changes are painless now; happy to tell others."),
    ("Hana Kim", "Tailspin Travel", 10, "Support answers in minutes. I recommend you to peers."),
    ("Ravi Patel", "Wingtip Energy", 9, "Storm season was calm for the first time."),
    ("Ella Ford", "Contoso Health", 9, ""),
    ("Noah Becker", "Fabrikam Foods", 10, "Would speak at your next webinar."),
    ("Lina Haddad", "Alpine Dental", 9, "Booking is so much simpler for our patients."),
    ("Sven Olsen", "Nordic Freight", 10, "Rolled out to 40 depots without a hitch."),
    ("Aiko Mori", "Sakura Telecom", 9, "Good product and a team that listens."),
    ("Luis Ortega", "Pampas Bank", 10, "Our members noticed the difference in a month."),
    ("Zoe Martin", "Tailspin Travel", 7, ""),
    ("Ian Walsh", "Wingtip Energy", 8, ""),
    ("Kofi Asante", "Gold Coast Clinics", 5, "Too many screens for our front desk."),
    ("Maria Rossi", "Alpine Dental", 6, ""),
    ("Peter Novak", "Nordic Freight", 8, ""),
    ("Chloe Dubois", "Fabrikam Foods", 9, "Reliable, and the roadmap is exciting."),
    ("Yusuf Demir", "Bosphorus Retail", 10, "Returns used to take a week; now a day."),
    ("Emma Clarke", "Contoso Health", 8, ""),
    ("Diego Ramos", "Pampas Bank", 4, "The migration was painful."),
    ("Sara Lind", "Nordic Freight", 9, "I tell everyone about you."),
]
SURVEY_BAD = [("not-an-email", "9", "2026-01-01"), ("ivy.wong@example.com", "11", "")]


def survey_csv(answered: date) -> bytes:
    """The NPS export as a survey tool writes it (its own column names; UTF-8 with a BOM)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Respondent email", "Name", "Company", "NPS score", "Comment", "Submitted"])
    for n, (email, score, comment) in enumerate(SURVEY_MEMBERS):
        when = answered - timedelta(days=n % 5)
        writer.writerow([email, "", "", score, comment, when.isoformat()])
    for n, (name, company, score, comment) in enumerate(SURVEY_OTHERS):
        email = f"{name.lower().replace(' ', '.')}@{company.lower().replace(' ', '')}.example"
        when = answered - timedelta(days=n % 4)
        writer.writerow([email, name, company, score, comment, when.isoformat()])
    for email, score, when in SURVEY_BAD:
        writer.writerow([email, "", "", score, "", when or answered.isoformat()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


ESCALATION = (
    "Keystone Telecom",
    "Outage on their billing line last week; their VP escalated to our CEO. No reference "
    "asks until the post-incident review is done.",
)


def plan_references(story: Story, timeline: Timeline) -> None:
    """Plan the reference program's steps into the story's timeline (portal.seed passes this
    to challenges.demo.seed_challenges)."""
    session = story.session
    people = _people(session, story)
    if people is None:
        return
    _give_products(session)
    demo = ReferenceDemo(story, timeline, people)
    demo.plan()


def _people(session: Session, story: Story) -> dict[str, User] | None:
    sam, priya = (find_user_by_email(session, email) for email in SALES_EMAILS)
    if sam is None or priya is None:
        return None
    return {"sam": sam, "priya": priya, "maya": story.manager, "alex": story.admin}


def _give_products(session: Session) -> None:
    for account in session.scalars(select(Account).where(Account.products == "")):
        account.products = PRODUCTS.get(account.industry, "")


class ReferenceDemo:
    """The steps of the reference program, each run by challenges.demo's player at its time."""

    def __init__(self, story: Story, timeline: Timeline, people: dict[str, User]) -> None:
        self.story, self.timeline, self.people = story, timeline, people
        self.session, self.settings = story.session, story.settings

    # --- planning ---------------------------------------------------------------------

    def at(self, days: float, who: User, act: Callable[[], list[Step] | None]) -> Step:
        return self.timeline.add(
            self.timeline.ago(days), who, "act", act=lambda: self._audited(who, act)
        )

    def plan(self) -> None:
        maya, alex = self.people["maya"], self.people["alex"]
        self.at(START_DAYS, maya, self._boundaries)
        for n, name in enumerate(ADMIN_OWNED):
            self.at(START_DAYS - 0.9 - n * 0.01, alex, lambda name=name: self._own(name))
        for spec, moves in THREADS:
            thread = Thread(spec, moves)
            first = moves[0]
            self.at(first.days, self._actor(thread, first), lambda t=thread: self._move(t, 0))
        self._plan_survey(maya)
        account = find_account_by_name(self.session, ESCALATION[0])
        if account is not None:
            self.at(9.8, maya, lambda: self._escalate(account.id))
        for monday in self._mondays():
            self.at(monday, maya, self._remind)

    def _plan_survey(self, maya: User) -> None:
        state: dict[str, int] = {}
        answered = self.timeline.ago(34).date()

        def upload() -> None:
            data = survey_csv(answered)
            made = surveys.start_import(
                self.session, self.settings, maya, "nps-q4-export.csv", data, SurveyKind.NPS
            )
            state["import_id"] = made.id

        def run() -> None:
            import_id = state["import_id"]
            guessed = self.session.get(SurveyImport, import_id).mapping  # as the page shows it
            surveys.set_mapping(self.session, self.settings, maya, import_id, guessed)
            while surveys.run_chunk(self.session, self.settings, import_id).status != "done":
                pass

        self.at(33.0, maya, upload)
        self.at(32.99, maya, run)

    def _mondays(self) -> list[float]:
        """Days ago of each Monday 9:00 (program time) since the program began: the weekly
        reminder run (cron)."""
        tz = zone(game_settings(self.session).time_zone)
        now = self.timeline.now
        local = self.timeline.ago(START_DAYS).astimezone(tz)
        monday = (local + timedelta(days=(7 - local.weekday()) % 7)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        days = []
        while monday < now:
            days.append((now - monday).total_seconds() / 86400)
            monday += timedelta(days=7)
        return days

    # --- running ----------------------------------------------------------------------

    def _audited(self, who: User, act: Callable[[], list[Step] | None]) -> list[Step]:
        """Run one step. A service that writes two audit rows (a call confirmed approves its
        submission too) has them a minute apart: the demo's log reads one action a minute."""
        session, clock = self.session, self.story.clock
        before = session.scalar(select(func.max(AuditEvent.id))) or 0
        later = act() or []
        session.flush()
        written = session.scalars(
            select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
        ).all()
        for n, event in enumerate(written[1:], start=1):
            event.created_at = written[0].created_at + timedelta(seconds=61 * n)
            clock.now = max(clock.now, event.created_at)
        if who.is_sales:
            who.last_login_at = clock.now - timedelta(minutes=2)
        return later

    def _actor(self, thread: Thread, move: Move) -> User:
        if move.who == "owner":
            ask = thread.ask
            return (ask.owner if ask and ask.owner else None) or self.people["maya"]
        if move.who == "advocate":
            return thread.ask.advocate
        return self.people[move.who]

    def _move(self, thread: Thread, n: int) -> list[Step]:
        """Play move n of a thread and plan the next one; a move the services refuse raises
        (challenges.demo's player skips it), which ends the thread there."""
        move = thread.moves[n]
        later = getattr(self, f"_{move.action}")(thread, self._actor(thread, move), move)
        if n + 1 == len(thread.moves):
            return later
        following = thread.moves[n + 1]
        when = max(self.timeline.ago(following.days), self.story.clock.now + timedelta(minutes=2))
        after = self._actor(thread, following)
        step = Step(when, 0, after, "act")
        step.act = lambda: self._audited(after, lambda: self._move(thread, n + 1))
        return [*later, step]

    def _file(self, thread: Thread, who: User, move: Move) -> list[Step]:
        requester = self.people[move.args["for"]] if "for" in move.args else None
        try:
            thread.request = filing.file_request(
                self.session,
                who,
                thread.fields(self.story.clock.now),
                move.args.get("override", ""),
                requester.id if requester else None,
                config=self.settings,
            )
        except filing.OutsideBoundaries:
            if not who.is_sales:
                raise
            # refused with the rule shown: nothing is filed; they ask a manager instead
        return []

    def _propose(self, thread: Thread, who: User, move: Move) -> list[Step]:
        """The manager picks the candidate the story names; should the services say no (at
        their cap, say), the best-ranked one instead, as a manager would."""
        session, reference = self.session, thread.request
        wanted = find_user_by_email(session, move.args["pick"])
        if wanted is not None and self._member_by_now(wanted.id):
            try:
                with session.begin_nested():
                    thread.ask = matching.propose(
                        session, self.settings, who, reference.id, wanted.id
                    )
                return []
            except DomainError:
                pass
        ranked = matching.rank_candidates(session, reference, limit=25)
        best = next((c for c in ranked if self._member_by_now(c.advocate_id)), None)
        if best is None:  # nobody to pick that day: the story of this request ends here
            raise DomainError("no candidate to pick")
        thread.ask = matching.propose(session, self.settings, who, reference.id, best.advocate_id)
        return []

    def _member_by_now(self, advocate_id: int) -> bool:
        """In the program for a month by this point of the story (the roster joined at
        different times: challenges.demo backdates each person's joining)."""
        joined_days = self.timeline.join_days.get(advocate_id)
        if joined_days is None:
            return False
        return self.timeline.ago(joined_days) < self.story.clock.now - timedelta(days=30)

    def _send(self, thread: Thread, who: User, move: Move) -> list[Step]:
        message = asks.default_message(thread.ask, who)
        asks.send_ask(self.session, self.settings, who, thread.ask.id, message)
        return []

    def _accept(self, thread: Thread, who: User, move: Move) -> list[Step]:
        ask = asks.accept(
            self.session,
            self.settings,
            who,
            thread.ask.id,
            move.args["availability"],
            move.args.get("notes", ""),
        )
        # the call's own challenge gets the reference-call cover, like every demo challenge
        _add_cover(
            self.session, self.settings, self.session.get(Challenge, ask.challenge_id), "call"
        )
        return []

    def _decline(self, thread: Thread, who: User, move: Move) -> list[Step]:
        asks.decline(
            self.session,
            self.settings,
            who,
            thread.ask.id,
            move.args.get("reason", ""),
            move.args.get("not_now"),
        )
        return []

    def _introduce(self, thread: Thread, who: User, move: Move) -> list[Step]:
        follow_up.mark_introduced(self.session, who, thread.ask.id)
        return []

    def _confirm(self, thread: Thread, who: User, move: Move) -> list[Step]:
        """The call took place: its submission is approved (points, and the thank-you the
        program owes, thanked days later like every approval of the story)."""
        call_on = self.timeline.ago(move.args["call_days"]).date()
        ask = thread.ask
        follow_up.confirm_call(self.session, self.settings, who, ask.id, call_on)
        submission = self.session.get(Submission, ask.submission_id)
        return _after_approval(self.story, self.timeline, ask.advocate, submission)

    def _outcome(self, thread: Thread, who: User, move: Move) -> list[Step]:
        closed_on = self.story.clock.now.date() - timedelta(days=1)
        follow_up.record_outcome(
            self.session,
            who,
            thread.request.id,
            move.args["outcome"],
            move.args.get("amount"),
            closed_on,
        )
        return []

    def _cancel(self, thread: Thread, who: User, move: Move) -> list[Step]:
        filing.cancel_request(self.session, who, thread.request.id, move.args["reason"])
        return []

    # --- the program's own steps --------------------------------------------------------

    def _boundaries(self) -> None:
        filing.update_settings(self.session, self.people["maya"], DealStage.DEMO, 25_000, 300)

    def _own(self, name: str) -> None:
        """Alex looks after a few accounts himself: their asks are his to make."""
        account = find_account_by_name(self.session, name)
        if account is None:
            return
        fields = AccountFields(
            account.name,
            account.industry,
            account.segment,
            account.region,
            account.arr,
            owner_id=self.people["alex"].id,
        )
        save_account(self.session, self.people["alex"], account.id, fields)

    def _escalate(self, account_id: int) -> None:
        flags.flag_account(
            self.session, self.people["maya"], account_id, FlagKind.ESCALATION, ESCALATION[1]
        )

    def _remind(self) -> None:
        follow_up.send_reminders(self.session, self.settings, now=self.story.clock.now)
