"""Leaderboards: the advocate's board (their own standing always shown) and the staff board
with filters and a CSV export. Ranks come from the stored period totals
(points.leaderboard); hidden advocates and those who left are never listed."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import and_

from challenges.models import AdvocateGroup
from challenges.queries import group_choices, group_reach, groups_reaching, segments_in_use
from points import leaderboard
from points.program import game_settings
from points.queries import _cell  # text a spreadsheet never runs as a formula
from portal.accounts.models import Role, User
from portal.db import get_session
from portal.hub.forms import PERIODS, BoardForm, StaffBoardForm
from portal.i18n import _, day
from portal.ids import parse_row_id
from portal.pagination import PER_PAGE, Page, PageRequest
from portal.web import require_roles

HUB_TOP = 10  # places an advocate sees above their own row
CSV_CHUNK = 1_000  # board rows read per query while the export streams

bp = Blueprint("boards", __name__)
ADVOCATE_BOARD = "boards.board"
require_roles(bp, Role.MANAGER, Role.ADMIN, exempt=(ADVOCATE_BOARD,))


@bp.before_request
def _advocates_in_the_program():
    """The advocate's board: members only; staff have their own board with filters."""
    if request.endpoint != ADVOCATE_BOARD:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.is_staff:
        return redirect(url_for("boards.staff_board", period=request.args.get("period")))
    if current_user.is_sales:  # a board of their own, apart from the advocates'
        return redirect(url_for("follow_up.leaderboard"))
    if not current_user.opted_in:
        return redirect(url_for("hub.join"))
    return None


@bp.app_template_global("game")
def game():
    """How the program plays (read once per request, only by the pages that ask)."""
    return game_settings(get_session())


# --- what a board shows ------------------------------------------------------------------


def period_labels(keys: dict[str, str]) -> dict[str, str]:
    """Labels such as "This month (December 2026)" for the keys of `current_periods`."""
    year, month = keys["month"].split("-")
    month_name = day(date(int(year), int(month), 1), "LLLL y")
    year_q, quarter = keys["quarter"].split("-")
    names = {"month": month_name, "quarter": f"{quarter} {year_q}", "all": ""}
    return {
        value: f"{label} ({names[value]})" if names[value] else label for value, label in PERIODS
    }


@dataclass(frozen=True)
class Board:
    """One board as an advocate sees it: the top places and where they stand."""

    title: str
    places: list[leaderboard.Place]
    standing: leaderboard.Standing
    advocate_id: int

    @property
    def mine_in_top(self) -> bool:
        return any(place.advocate.id == self.advocate_id for place in self.places)

    @property
    def place_above(self) -> int | None:
        """The rank an advocate would take by moving up one place."""
        rank = self.standing.rank
        return rank - 1 if rank and rank > 1 else None


def advocate_board(
    session, advocate: User, period: str, title: str, among=None, limit: int = HUB_TOP
) -> Board:
    return Board(
        title=title,
        places=leaderboard.top(session, period, limit, among=among),
        standing=leaderboard.standing(session, advocate.id, period, among),
        advocate_id=advocate.id,
    )


def _scopes(session, advocate: User) -> tuple[list[tuple[str, str]], dict[str, object]]:
    """The boards an advocate can choose: overall, each group that reaches them, their
    account's segment; with the `among` condition of each."""
    choices, among = [("overall", _("Everyone"))], {"overall": None}
    for group in groups_reaching(session, advocate):
        key = f"group-{group.id}"
        choices.append((key, _("Group: %(name)s", name=group.name)))
        among[key] = group_reach(group)
    segment = advocate.account.segment if advocate.account else ""
    if segment:
        choices.append(("segment", _("%(segment)s accounts", segment=segment)))
        among["segment"] = leaderboard.segment_advocates(segment)
    return choices, among


@bp.get("/hub/leaderboard")
def board():
    session = get_session()
    rules = game_settings(session)
    if not rules.show_leaderboards:
        return render_template(
            "errors/error.html",
            code=404,
            title=_("No leaderboards here"),
            message=_(
                "This program does not show leaderboards. Your level and badges are on your hub."
            ),
        ), 404
    keys = leaderboard.current_periods(session)
    labels = period_labels(keys)
    form = BoardForm(request.args)
    form.period.choices = list(labels.items())
    form.scope.choices, among = _scopes(session, current_user)
    form.validate()  # a choice not on the list is said beside it, and the default shown
    period, scope = form.period.data, form.scope.data
    title = f"{dict(form.scope.choices)[scope]} · {labels[period]}"
    shown = advocate_board(session, current_user, keys[period], title, among[scope])
    return render_template(
        "points/board.html", form=form, board=shown, show_points=rules.show_points
    )


# --- the staff board ---------------------------------------------------------------------


@dataclass(frozen=True)
class StaffFilters:
    period: str  # the period's key: "all", "2026-12", "2026-Q4"
    group: AdvocateGroup | None
    segment: str

    def among(self):
        conditions = []
        if self.group is not None:
            conditions.append(group_reach(self.group))
        if self.segment:
            conditions.append(leaderboard.segment_advocates(self.segment))
        return and_(*conditions) if conditions else None


def _staff_filters(session) -> tuple[StaffBoardForm, StaffFilters, str]:
    """The staff board's form and filters, and the chosen period's label."""
    keys = leaderboard.current_periods(session)
    labels = period_labels(keys)
    form = StaffBoardForm(request.args)
    form.period.choices = list(labels.items())
    form.group.choices = [("", _("Every group"))] + [
        (str(group_id), name) for group_id, name in group_choices(session)
    ]
    form.segment.choices = [("", _("Every segment"))] + [(s, s) for s in segments_in_use(session)]
    form.validate()  # a choice not on the list is said beside it, and the default used
    group_id = parse_row_id(form.group.data)
    group = session.get(AdvocateGroup, group_id) if group_id else None
    filters = StaffFilters(keys[form.period.data], group, form.segment.data or "")
    return form, filters, labels[form.period.data]


@bp.get("/manage/leaderboard")
def staff_board():
    session = get_session()
    form, filters, period_label = _staff_filters(session)
    wanted = PageRequest.from_args(request.args)
    among = filters.among()
    total = leaderboard.listed_count(session, filters.period, among)
    offset = (wanted.number - 1) * PER_PAGE
    places = (
        leaderboard.top(session, filters.period, PER_PAGE, offset, among) if offset < total else []
    )
    page = Page(
        items=places,
        total=total,
        per_page=PER_PAGE,
        number=wanted.number,
        next_args={"page": wanted.number + 1} if offset + PER_PAGE < total else None,
        prev_args={"page": wanted.number - 1} if wanted.number > 1 else None,
    )
    return render_template(
        "points/staff_board.html",
        form=form,
        page=page,
        filters=filters,
        period_label=period_label,
    )


CSV_COLUMNS = ["rank", "name", "email", "account", "segment", "points", "reached_at"]


@bp.get("/manage/leaderboard.csv")
def staff_board_csv():
    """The whole filtered board, streamed a chunk of places at a time."""
    session = get_session()
    _form, filters, _label = _staff_filters(session)
    period, among = filters.period, filters.among()

    def rows():
        yield _csv_line(CSV_COLUMNS)
        last = None
        while True:
            places = leaderboard.top(session, period, CSV_CHUNK, among=among, after=last)
            for place in places:
                account = place.advocate.account
                yield _csv_line(
                    [
                        place.rank,
                        _cell(place.advocate.display_name),
                        _cell(place.advocate.email),
                        _cell(account.name if account else ""),
                        _cell(account.segment if account else ""),
                        place.points,
                        place.reached_at.isoformat(),
                    ]
                )
            # end the read between chunks: a slow download never holds a transaction open
            session.commit()
            if len(places) < CSV_CHUNK:
                return
            last = places[-1]

    name = f"leaderboard-{period}.csv"
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


def _csv_line(values: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()
