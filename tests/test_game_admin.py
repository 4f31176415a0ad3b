"""The game's admin and manager screens, through the real forms: levels, badges, game
settings, a badge given by hand, starter challenges and cover images, capped approvals."""

import io
import re
from pathlib import Path

from sqlalchemy import func, select

from challenges.badges import ensure_default_badges
from challenges.models import Challenge, Submission
from points.levels import ensure_default_levels
from points.models import Badge, BadgeAward, GameSettings, Level
from points.settings import GameChoices, update_game_settings
from tests.factories import PNG, SETTINGS, client_for

PDF = b"%PDF-1.4 not an image"
CHALLENGE_FORM = {
    "type": "survey",
    "title": "Tell us your favourite feature",
    "body": "One line is plenty.",
    "points": "40",
    "points_visible": "y",
    "approval": "auto",
    "limit_kind": "once",
    "limit_count": "1",
    "limit_period": "month",
    "question": "Which feature do you use most?",
}


def _count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _text(response) -> str:
    """The page as text, with HTML's escaped quotes put back."""
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')


def _error_beside(page: str, field: str) -> str:
    """The error shown under a field (its invalid-feedback block), or ''."""
    match = re.search(rf'id="{field}-errors">([^<]*)<', page)
    return match.group(1) if match else ""


def _image(name: str, content: bytes = PNG):
    return (io.BytesIO(content), name)


def _levels(session):
    ensure_default_levels(session)
    session.commit()
    return {level.name: level for level in session.scalars(select(Level))}


# --- levels -------------------------------------------------------------------------------


def test_levels_page_counts_advocates_per_level_in_one_query(app, make, session, count_queries):
    levels = _levels(session)
    champion, contributor, newcomer = make.advocate(), make.advocate(), make.advocate()
    make.points(champion, 2_500)
    make.points(contributor, 600)
    admin = client_for(app, make.admin().email)
    with count_queries() as counted:
        page = admin.get("/admin/levels")
    text = _text(page)
    for name in ("Insider", "Contributor", "Champion", "Legend"):
        assert name in text
    assert "no email is sent for a change of thresholds" in text
    counts = {
        name: re.search(rf'data-testid="at-level-{level.id}">([^<]*)<', text).group(1)
        for name, level in levels.items()
    }
    assert counts == {"Insider": "1", "Contributor": "1", "Champion": "1", "Legend": "0"}
    assert newcomer  # never earned: an Insider
    grouped = [s for s in counted.statements if "GROUP BY" in s and "points_balances" in s]
    assert len(grouped) == 1


def test_levels_are_added_edited_and_deleted_with_clear_errors(app, make, session):
    levels = _levels(session)
    advocate = make.advocate()
    make.points(advocate, 1_200)
    admin = client_for(app, make.admin().email)
    base = {"name": "Ambassador", "threshold": "1000", "perk": "Lunch with the team"}
    cases = [
        ({"name": ""}, "name", "Give the level a name."),
        ({"name": "Bad\x00name"}, "name", "Remove the control characters"),
        ({"threshold": "99999999999999999999"}, "threshold", "from 0 to 1,000,000,000"),
        ({"threshold": "-1"}, "threshold", "from 0 to 1,000,000,000"),
        ({"threshold": "1e3"}, "threshold", "Enter a whole number"),
        ({"threshold": ""}, "threshold", "Give the lifetime points"),
        ({"name": "champion"}, "name", "There is already a level called “Champion”."),
        ({"threshold": "500"}, "threshold", "“Contributor” already starts at 500 points."),
    ]
    for change, field, message in cases:
        response = admin.post("/admin/levels", data={**base, **change})
        assert response.status_code == 422, change
        assert message in _error_beside(_text(response), field), (change, field)
    assert _count(session, Level) == 4

    added = admin.post("/admin/levels", data=base, follow_redirects=True)
    text = _text(added)
    assert "Saved the level “Ambassador”" in text
    assert "no email is sent for a change of thresholds" in text
    ambassador = session.scalar(select(Level).where(Level.name == "Ambassador"))
    assert (ambassador.threshold, ambassador.perk) == (1000, "Lunch with the team")
    assert re.search(rf'data-testid="at-level-{ambassador.id}">1<', text)  # re-levelled

    edit = admin.get(f"/admin/levels/{ambassador.id}")
    assert 'value="Ambassador"' in _text(edit)
    moved = admin.post(
        f"/admin/levels/{ambassador.id}",
        data={"name": "Ambassador", "threshold": "1500", "perk": ""},
    )
    assert moved.status_code == 302
    session.expire_all()
    assert session.get(Level, ambassador.id).threshold == 1500
    assert admin.get("/admin/levels/999999").status_code == 404

    legend = levels["Legend"]
    deleted = admin.post(f"/admin/levels/{legend.id}/delete", follow_redirects=True)
    assert "Removed the level “Legend”." in _text(deleted)
    assert _count(session, Level, Level.name == "Legend") == 0


def test_a_level_image_is_an_image_shown_to_the_program_and_removable(app, make, session):
    insider = _levels(session)["Insider"]
    admin = client_for(app, make.admin().email)
    form = {"name": "Insider", "threshold": "0", "perk": "News"}
    refused = admin.post(
        f"/admin/levels/{insider.id}",
        data={**form, "image": _image("x.pdf", PDF)},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "Choose an image: PNG, JPEG, GIF or WebP." in _error_beside(_text(refused), "image")
    saved = admin.post(
        f"/admin/levels/{insider.id}",
        data={**form, "image": _image("insider.png")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    session.expire_all()
    key = session.get(Level, insider.id).image_key
    assert key and (Path(SETTINGS.upload_dir) / key).read_bytes() == PNG
    advocate = client_for(app, make.advocate().email)
    served = advocate.get(f"/admin/levels/{insider.id}/image")
    assert served.data == PNG and "private" in served.headers["Cache-Control"]
    assert app.test_client().get(f"/admin/levels/{insider.id}/image").status_code == 302

    admin.post(f"/admin/levels/{insider.id}", data={**form, "remove_image": "y"})
    session.expire_all()
    assert session.get(Level, insider.id).image_key is None
    assert not (Path(SETTINGS.upload_dir) / key).exists()
    assert advocate.get(f"/admin/levels/{insider.id}/image").status_code == 404


# --- badges -------------------------------------------------------------------------------


def _badges(session):
    ensure_default_badges(session)
    session.commit()
    return {badge.rule: badge for badge in session.scalars(select(Badge))}


def test_badges_page_shows_rules_holders_and_saves_changes(app, make, session):
    badges = _badges(session)
    challenge = make.challenge("survey", approval="auto")
    make.submission(challenge)  # earns "First step"
    admin = client_for(app, make.admin().email)
    text = _text(admin.get("/admin/badges"))
    for label in ("First completion", "N completions", "Given by a manager", "Recompute badges"):
        assert label in text
    first = badges["first_completion"]
    assert re.search(rf'data-testid="holders-{first.id}">1<', text)

    regular = badges["completions"]
    base = {"name": "Regular", "description": "Ten done.", "threshold": "10", "enabled": "y"}
    cases = [
        ({"threshold": "0"}, "threshold", "A number from 1 to 100,000."),
        ({"threshold": "1" * 30}, "threshold", "A number from 1 to 100,000."),
        ({"threshold": ""}, "threshold", "Completions needed: a number from 1 to 100,000."),
        ({"name": "  "}, "name", "Give the badge a name."),
        ({"name": "Bad\x00"}, "name", "Remove the control characters"),
        ({"name": "first STEP"}, "name", "There is already a badge called “first STEP”."),
    ]
    for change, field, message in cases:
        response = admin.post(f"/admin/badges/{regular.id}", data={**base, **change})
        assert response.status_code == 422, change
        assert message in _error_beside(_text(response), field), (change, field)

    switched = admin.post(
        f"/admin/badges/{regular.id}",
        data={**base, "threshold": "25", "enabled": ""},
        follow_redirects=True,
    )
    assert "Saved the badge “Regular” (off)." in _text(switched)
    session.expire_all()
    saved = session.get(Badge, regular.id)
    assert (saved.threshold, saved.enabled, saved.rule) == (25, False, "completions")


def test_a_badge_is_added_from_a_rule_and_recompute_reports_what_it_added(app, make, session):
    _badges(session)
    admin = client_for(app, make.admin().email)
    unknown = admin.post("/admin/badges", data={"rule": "nope", "name": "X", "enabled": "y"})
    assert "Choose a rule from the list." in _error_beside(_text(unknown), "rule")
    added = admin.post(
        "/admin/badges",
        data={"rule": "completions", "name": "Twice", "threshold": "2", "enabled": "y"},
        follow_redirects=True,
    )
    assert "Saved the badge “Twice” (on)." in _text(added)
    twice = session.scalar(select(Badge).where(Badge.name == "Twice"))
    assert (twice.rule, twice.threshold) == ("completions", 2)
    with_image = admin.post(
        f"/admin/badges/{twice.id}",
        data={"name": "Twice", "threshold": "2", "enabled": "y", "image": _image("b.png")},
        content_type="multipart/form-data",
    )
    assert with_image.status_code == 302
    assert admin.get(f"/admin/badges/{twice.id}/image").data == PNG

    advocate = make.advocate()
    for _ in range(2):
        make.submission(make.challenge("survey", approval="auto"), advocate)
    # as if earned before the badges existed: take them away, then recompute
    session.query(BadgeAward).delete()
    session.commit()
    recomputed = admin.post("/admin/badges/recompute", follow_redirects=True)
    text = _text(recomputed)
    assert "Gave 2 badges that were earned and missing" in text
    assert "First step: 1" in text and "Twice: 1" in text
    again = admin.post("/admin/badges/recompute", follow_redirects=True)
    assert "Nothing to add" in _text(again)


# --- game settings ------------------------------------------------------------------------


GAME_FORM = {
    "show_leaderboards": "y",
    "show_points": "y",
    "time_zone": "UTC",
    "expiry_months": "12",
    "earn_cap": "",
    "earn_cap_period": "month",
}


def test_game_settings_are_saved_and_change_the_program(app, make, session):
    admin = client_for(app, make.admin().email)
    page = _text(admin.get("/admin/game"))
    assert "Show leaderboards to advocates" in page and "Show point totals to advocates" in page
    assert "30 days before" in page and "Europe/Paris" in page
    saved = admin.post(
        "/admin/game",
        data={
            "time_zone": "Europe/Paris",
            "expires": "y",
            "expiry_months": "18",
            "earn_cap": "5000",
            "earn_cap_period": "quarter",
        },
        follow_redirects=True,
    )
    assert "Game settings saved." in _text(saved)
    session.expire_all()
    row = session.get(GameSettings, 1)
    assert (row.show_leaderboards, row.show_points, row.time_zone) == (False, False, "Europe/Paris")
    assert (row.expiry_months, row.earn_cap, row.earn_cap_period) == (18, 5000, "quarter")
    shown = _text(admin.get("/admin/game"))
    assert '<option selected value="Europe/Paris">' in shown
    assert re.search(r'<input [^>]*checked [^>]*name="expires"', shown)
    assert re.search(r'<input [^>]*name="expiry_months" [^>]*value="18"', shown)

    admin.post("/admin/game", data=GAME_FORM)  # expiry off: the box unticked
    session.expire_all()
    row = session.get(GameSettings, 1)
    assert (row.show_leaderboards, row.expiry_months, row.earn_cap) == (True, None, None)


def test_game_settings_refuse_bad_input_beside_the_field(app, make, session):
    admin = client_for(app, make.admin().email)
    cases = [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Choose a time zone from the list."),
        ({"time_zone": "UTC\x00"}, "time_zone", "Remove the control characters"),
        ({"expires": "y", "expiry_months": ""}, "expiry_months", "Give the months"),
        ({"expires": "y", "expiry_months": "0"}, "expiry_months", "From 1 to 120 months."),
        ({"expires": "y", "expiry_months": "121"}, "expiry_months", "From 1 to 120 months."),
        ({"earn_cap": "9" * 40}, "earn_cap", "from 1 to 1,000,000,000"),
        ({"earn_cap": "0"}, "earn_cap", "from 1 to 1,000,000,000"),
        ({"earn_cap": "lots"}, "earn_cap", "Enter a whole number"),
        ({"earn_cap_period": "fortnight"}, "earn_cap_period", "per month or per quarter"),
    ]
    for change, field, message in cases:
        response = admin.post("/admin/game", data={**GAME_FORM, **change})
        assert response.status_code == 422, change
        assert message in _error_beside(_text(response), field), (change, field)
    session.expire_all()
    row = session.get(GameSettings, 1)
    assert row is None or (row.time_zone, row.earn_cap) == ("UTC", None)


# --- roles --------------------------------------------------------------------------------


def test_only_admins_run_the_game_and_managers_give_badges(app, make, session):
    levels, badges = _levels(session), _badges(session)
    advocate = make.advocate()
    as_advocate = client_for(app, advocate.email)
    as_manager = client_for(app, make.manager().email)
    admin_pages = ("/admin/levels", "/admin/badges", "/admin/game")
    for path in admin_pages:
        assert as_advocate.get(path).status_code == 403
        assert as_manager.get(path).status_code == 403
        assert app.test_client().get(path).headers["Location"].startswith("/login")
    posts = {
        "/admin/levels": {"name": "Sneaky", "threshold": "7"},
        f"/admin/levels/{levels['Legend'].id}/delete": {},
        f"/admin/badges/{badges['manual'].id}": {"name": "Mine", "enabled": "y"},
        "/admin/badges/recompute": {},
        "/admin/game": {**GAME_FORM, "earn_cap": "1"},
    }
    for path, data in posts.items():
        assert as_manager.post(path, data=data).status_code == 403, path
    assert _count(session, Level) == 4
    assert _count(session, Level, Level.name == "Sneaky") == 0
    assert as_advocate.get(f"/manage/advocates/{advocate.id}").status_code == 403
    given = as_manager.post(
        f"/manage/advocates/{advocate.id}/badges",
        data={"badge_id": badges["manual"].id, "reason": "Hosted our meetup"},
    )
    assert given.status_code == 302
    assert _count(session, BadgeAward, BadgeAward.advocate_id == advocate.id) == 1


# --- a badge given by hand ----------------------------------------------------------------


def test_a_manager_gives_a_manual_badge_with_a_reason(app, make, session):
    _levels(session)
    badges = _badges(session)
    advocate = make.advocate()
    make.points(advocate, 700)
    manager = client_for(app, make.manager().email)
    page = _text(manager.get(f"/manage/advocates/{advocate.id}"))
    assert "Contributor" in page and "1,300 points to Champion" in page
    assert "Give a badge" in page and "Above and beyond" in page
    path = f"/manage/advocates/{advocate.id}/badges"
    manual = badges["manual"].id
    cases = [
        ({"badge_id": manual, "reason": ""}, "reason", "Say why they earned it"),
        ({"badge_id": manual, "reason": "a\x00b"}, "reason", "Remove the control characters"),
        ({"badge_id": "junk", "reason": "Great"}, "badge_id", "Choose a badge from the list."),
        ({"badge_id": "9" * 30, "reason": "Great"}, "badge_id", "Choose a badge from the list."),
        (
            {"badge_id": badges["first_completion"].id, "reason": "Great"},
            "badge_id",
            "There is no such badge to give.",
        ),
    ]
    for data, field, message in cases:
        response = manager.post(path, data=data)
        assert response.status_code == 422, data
        assert message in _error_beside(_text(response), field), (data, field)
    assert _count(session, BadgeAward) == 0

    given = manager.post(path, data={"badge_id": manual, "reason": "Spoke at our summit"})
    shown = _text(manager.get(given.headers["Location"]))
    assert "Gave " in shown and "the “Above and beyond” badge." in shown
    assert "“Spoke at our summit”" in shown
    twice = manager.post(path, data={"badge_id": manual, "reason": "Again"})
    assert "They already have the “Above and beyond” badge." in _text(twice)
    assert _count(session, BadgeAward) == 1
    award = session.scalar(select(BadgeAward))
    assert award.reason == "Spoke at our summit" and award.awarded_by_id is not None

    staff = make.manager()
    assert manager.get(f"/manage/advocates/{staff.id}").status_code == 404


def test_the_admin_user_page_shows_level_badges_and_gives_one(app, make, session):
    _levels(session)
    badges = _badges(session)
    advocate = make.advocate()
    make.points(advocate, 2_100)
    admin = client_for(app, make.admin().email)
    page = _text(admin.get(f"/admin/users/{advocate.id}"))
    assert "Champion" in page and "No badges yet." in page
    missing = admin.post(
        f"/admin/users/{advocate.id}/badges", data={"badge_id": badges["manual"].id}
    )
    assert missing.status_code == 422
    assert "Say why they earned it" in _error_beside(_text(missing), "reason")
    given = admin.post(
        f"/admin/users/{advocate.id}/badges",
        data={"badge_id": badges["manual"].id, "reason": "Wrote our best case study"},
        follow_redirects=True,
    )
    text = _text(given)
    assert "the “Above and beyond” badge." in text and "“Wrote our best case study”" in text
    manager_page = _text(admin.get(f"/admin/users/{make.manager().id}"))
    assert "Give a badge" not in manager_page


# --- starter challenges and covers --------------------------------------------------------


def test_a_challenge_gets_a_cover_and_the_starter_flag(app, make, session):
    manager = client_for(app, make.manager().email)
    refused = manager.post(
        "/manage/challenges/new",
        data={**CHALLENGE_FORM, "cover": _image("cover.pdf", PDF)},
        content_type="multipart/form-data",
    )
    assert "Choose an image: PNG, JPEG, GIF or WebP." in _error_beside(_text(refused), "cover")
    assert _count(session, Challenge) == 0
    saved = manager.post(
        "/manage/challenges/new",
        data={**CHALLENGE_FORM, "starter": "y", "cover": _image("cover.png")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    challenge = session.scalar(select(Challenge))
    assert challenge.starter is True and challenge.cover_image_key
    detail = _text(manager.get(f"/manage/challenges/{challenge.id}"))
    assert "Yes: a starter challenge" in detail
    cover_url = f"/hub/challenges/{challenge.id}/cover"
    assert manager.get(cover_url).data == PNG  # staff see a draft's cover

    advocate = client_for(app, make.advocate().email)
    assert advocate.get(cover_url).status_code == 404  # a draft is invisible
    manager.post(f"/manage/challenges/{challenge.id}/publish")
    served = advocate.get(cover_url)
    assert served.data == PNG and served.mimetype == "image/png"
    assert "private" in served.headers["Cache-Control"]
    assert "max-age=86400" in served.headers["Cache-Control"]
    assert app.test_client().get(cover_url).headers["Location"].startswith("/login")

    card = _text(advocate.get("/hub/challenges"))
    assert re.search(
        rf'<img class="card-img-top challenge-cover" src="{cover_url}\?v=\w+" '
        rf'alt="{CHALLENGE_FORM["title"]}"',
        card,
    )
    page = _text(advocate.get(f"/hub/challenges/{challenge.id}"))
    assert f'alt="{CHALLENGE_FORM["title"]}"' in page

    edit_page = _text(manager.get(f"/manage/challenges/{challenge.id}/edit"))
    assert "Remove the cover image" in edit_page and 'name="starter" type="checkbox"' in edit_page
    key = challenge.cover_image_key
    removed = manager.post(
        f"/manage/challenges/{challenge.id}/edit",
        data={**CHALLENGE_FORM, "remove_cover": "y"},
        content_type="multipart/form-data",
    )
    assert removed.status_code == 302
    session.expire_all()
    challenge = session.get(Challenge, challenge.id)
    assert challenge.cover_image_key is None and challenge.starter is False  # box unticked
    assert not (Path(SETTINGS.upload_dir) / key).exists()
    assert advocate.get(cover_url).status_code == 404
    neutral = _text(advocate.get("/hub/challenges"))
    assert "challenge-cover-none" in neutral and 'challenge-cover"' not in neutral


def test_nul_bytes_in_challenge_text_are_refused_beside_the_field(app, make, session):
    manager = client_for(app, make.manager().email)
    for field in ("title", "body", "question"):
        response = manager.post("/manage/challenges/new", data={**CHALLENGE_FORM, field: "a\x00b"})
        assert response.status_code == 422, field
        assert "Remove the control characters" in _error_beside(_text(response), field), field
    assert _count(session, Challenge) == 0
    challenge = make.challenge("survey", approval="auto")
    advocate = client_for(app, make.advocate().email)
    answered = advocate.post(f"/hub/challenges/{challenge.id}", data={"answer": "x\x00y"})
    assert "Remove the control characters" in _error_beside(_text(answered), "answer")
    assert _count(session, Submission) == 0


def test_a_new_cover_replaces_the_old_file(app, make, session):
    challenge = make.challenge("survey", title="Covered", approval="auto")
    manager = client_for(app, challenge.created_by.email)
    form = {**CHALLENGE_FORM, "title": "Covered"}
    path = f"/manage/challenges/{challenge.id}/edit"
    manager.post(path, data={**form, "cover": _image("a.png")}, content_type="multipart/form-data")
    session.expire_all()
    first = session.get(Challenge, challenge.id).cover_image_key
    gif = b"GIF89a" + b"\x00" * 20
    manager.post(
        path, data={**form, "cover": _image("b.gif", gif)}, content_type="multipart/form-data"
    )
    session.expire_all()
    second = session.get(Challenge, challenge.id).cover_image_key
    assert first != second and second.endswith(".gif")
    assert not (Path(SETTINGS.upload_dir) / first).exists()
    assert (Path(SETTINGS.upload_dir) / second).read_bytes() == gif


# --- the earning cap, as the reviewer sees it ---------------------------------------------


def _cap_at(session, make, points: int) -> None:
    update_game_settings(
        session,
        make.admin(),
        GameChoices(
            "UTC", True, True, expiry_months=None, earn_cap=points, earn_cap_period="month"
        ),
    )
    session.commit()


def test_a_capped_approval_tells_the_reviewer(app, make, session):
    _cap_at(session, make, 100)
    challenge = make.challenge("social_share", approval="manual", points=150)
    submission = make.submission(challenge)
    manager = client_for(app, make.manager().email)
    approved = manager.post(
        f"/manage/review/{submission.id}", data={"approve": "y"}, follow_redirects=True
    )
    text = _text(approved)
    assert "Approved: " in text
    assert (
        "Capped: " in text
        and "100 of 150 points were awarded: the program caps what one advocate earns at "
        "100 points a month."
        in text
    )
    session.expire_all()
    assert session.get(Submission, submission.id).points_awarded == 100

    uncapped = make.submission(make.challenge("social_share", approval="manual", points=50))
    plain = manager.post(
        f"/manage/review/{uncapped.id}", data={"approve": "y"}, follow_redirects=True
    )
    assert "Capped" not in _text(plain)


def test_a_bulk_approval_names_each_capped_submission(app, make, session):
    _cap_at(session, make, 100)
    challenge = make.challenge("social_share", approval="manual", points=60)
    ana, ben = make.advocate(), make.advocate()
    first, second = make.submission(challenge, ana), make.submission(challenge, ben)
    other = make.submission(make.challenge("social_share", approval="manual", points=60), ana)
    manager = client_for(app, make.manager().email)
    done = manager.post(
        "/manage/review/bulk",
        data={"submission_ids": [first.id, second.id, other.id], "approve": "y"},
        follow_redirects=True,
    )
    text = _text(done)
    assert "Approved 3." in text
    # Ana's second 60 passes her 100 cap; Ben's one approval does not
    assert text.count("Capped: ") == 1
    assert f"Capped: {ana.display_name}" in text
    assert "40 of 60 points were awarded" in text
