"""NPS and CSAT imports: a manager uploads a CSV, checks the guessed columns, imports it,
and reads the report; promoters not in the hub are listed to invite, detractors flag their
account. Bad rows are reported by row while the good ones import; odd encodings are read
(or refused, saying how to save a "CSV UTF-8"); a second import of a file adds nothing."""

from __future__ import annotations

import io
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AuditEvent
from portal.errors import AlreadyHandled
from references import surveys
from references.models import (
    AccountFlag,
    ImportStatus,
    LatestScore,
    SurveyImport,
    SurveyImportError,
    SurveyResponse,
)
from tests.factories import PNG, SETTINGS, client_for

MIXED = (
    "Email,NPS,Comment,Submitted at,Company\n"
    "ana@acme.example,10,Love it,2026-11-03,Acme\n"  # row 2
    "not-an-email,9,,2026-11-03,\n"  # row 3
    "bo@acme.example,11,,2026-11-03,\n"  # row 4
    "cy@acme.example,8,,2026-02-30,\n"  # row 5
    "dee@acme.example,7,,03/04/2026,\n"  # row 6: day or month?
    "\n"  # row 7: blank, no answer
    "eve@globex.example,3,Support never answers,2026/03/13,Globex\n"  # row 8
    "fay@initech.example,9,,2026-10-01 14:05:00,\n"  # row 9
)


def upload(client, content: bytes | str, name: str = "nps.csv", kind: str = "nps"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/references/surveys/",
        data={"file": (io.BytesIO(data), name), "kind": kind},
        content_type="multipart/form-data",
    )


def import_id_of(answer) -> int:
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def guessed(session, import_id: int) -> dict:
    session.expire_all()
    mapping = session.get(SurveyImport, import_id).mapping
    return {field: mapping.get(field, -1) for field in surveys.FIELDS}


def imported(client, session, content, kind="nps", name="nps.csv") -> SurveyImport:
    """Upload, keep the guessed columns, import without JavaScript: the import done."""
    import_id = import_id_of(upload(client, content, name, kind))
    done = client.post(f"/references/surveys/{import_id}/run", data=guessed(session, import_id))
    assert done.status_code == 302 and done.headers["Location"].endswith("/report"), done.data
    session.expire_all()
    return session.get(SurveyImport, import_id)


@pytest.fixture
def staff(app, make):
    return client_for(app, make.manager("pm@vouch.example").email)


def test_bad_rows_are_reported_by_row_and_the_good_rows_import(app, make, session, staff):
    acme = make.account("Acme")
    make.advocate("ana@acme.example", account=acme)
    make.account("Globex")
    survey_import = imported(staff, session, MIXED)

    assert survey_import.status == ImportStatus.DONE and survey_import.finished_at
    assert survey_import.total_rows == 7  # the blank line is no row
    assert (survey_import.imported, survey_import.failed) == (3, 4)
    assert (survey_import.promoters, survey_import.detractors) == (2, 1)
    errors = {
        e.row_number: e.message
        for e in session.scalars(
            select(SurveyImportError).where(SurveyImportError.import_id == survey_import.id)
        )
    }
    assert set(errors) == {3, 4, 5, 6}
    assert "not-an-email is not an email address" in errors[3]
    assert "11 is not a whole number from 0 to 10" in errors[4]
    assert "not a day on the calendar" in errors[5]
    assert "could be day/month or month/day" in errors[6]

    report = staff.get(f"/references/surveys/{survey_import.id}/report").get_data(as_text=True)
    assert "could be day/month or month/day" in report and "not-an-email" in report
    answers = {r.email: r for r in session.scalars(select(SurveyResponse))}
    assert set(answers) == {"ana@acme.example", "eve@globex.example", "fay@initech.example"}
    assert answers["eve@globex.example"].responded_on == date(2026, 3, 13)
    assert answers["fay@initech.example"].responded_on == date(2026, 10, 1)
    assert answers["ana@acme.example"].user_id is not None
    assert answers["ana@acme.example"].account_id == acme.id
    assert session.get(LatestScore, answers["ana@acme.example"].user_id).score == 10


def test_the_file_s_dates_say_which_part_is_the_day(app, make, session, staff):
    content = (
        "email,score,date\n"
        "a@x.example,9,13/03/2026\n"  # only a day can be 13: the file writes day first
        "b@x.example,9,03/04/2026\n"
    )
    survey_import = imported(staff, session, content)
    assert survey_import.imported == 2 and survey_import.failed == 0
    days = dict(session.execute(select(SurveyResponse.email, SurveyResponse.responded_on)).all())
    assert days["b@x.example"] == date(2026, 4, 3)


def test_the_columns_are_guessed_from_their_names_and_can_be_changed(app, make, session, staff):
    assert surveys.guess_mapping(
        ["Timestamp", "E-mail address", "How likely are you to recommend us?", "Why?", "Name"]
    ) == {"email": 1, "score": 2, "date": 0, "comment": 3, "name": 4}
    assert surveys.guess_mapping(["Company name", "Full name", "Email", "Score", "Date"]) == {
        "email": 2,
        "score": 3,
        "date": 4,
        "name": 1,
        "company": 0,
    }
    content = "Email,Score,Submitted at,Notes,Feedback\nzed@x.example,9,2026-11-01,Left,Right\n"
    import_id = import_id_of(upload(staff, content))
    page = staff.get(f"/references/surveys/{import_id}").get_data(as_text=True)
    assert "zed@x.example" in page and "Submitted at" in page  # the preview
    assert '<option selected value="4">Feedback</option>' in page  # guessed: comment
    mapping = {**guessed(session, import_id), "comment": 3}  # a person picks "Notes"
    same_column = staff.post(f"/references/surveys/{import_id}/run", data={**mapping, "name": 3})
    assert same_column.status_code == 422
    assert "This column is already the Comment." in same_column.get_data(as_text=True)
    no_email = staff.post(f"/references/surveys/{import_id}/run", data={**mapping, "email": -1})
    assert no_email.status_code == 422
    assert staff.post(f"/references/surveys/{import_id}/run", data=mapping).status_code == 302
    assert session.scalar(select(SurveyResponse.comment)) == "Left"
    kept = guessed(session, import_id)
    page = staff.get(f"/references/surveys/{import_id}").get_data(as_text=True)
    assert 'data-testid="mapping-form"' not in page and "This file is imported." in page
    staff.post(f"/references/surveys/{import_id}/run", data={**mapping, "comment": 4})
    assert guessed(session, import_id) == kept  # started: the columns stay
    with pytest.raises(AlreadyHandled):
        surveys.set_mapping(session, SETTINGS, make.manager(), import_id, mapping)


def test_a_windows_1252_file_reads_right_with_a_notice(app, make, session, staff):
    content = 'Email,Score,Date,Comment\njose@x.example,9,2026-11-03,"café, señor"\n'
    content = content.encode("cp1252")
    import_id = import_id_of(upload(staff, content))
    page = staff.get(f"/references/surveys/{import_id}").get_data(as_text=True)
    assert "read as Windows-1252" in page and "café, señor" in page
    staff.post(f"/references/surveys/{import_id}/run", data=guessed(session, import_id))
    assert session.scalar(select(SurveyResponse.comment)) == "café, señor"


@pytest.mark.parametrize(
    "encoded",
    [
        lambda text: text.encode("utf-16"),  # with its BOM
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.encode("utf-8"),
    ],
)
def test_utf_16_and_utf_8_with_or_without_bom_read_without_a_notice(
    app, make, session, staff, encoded
):
    content = encoded("Email;Score;Date;Comment\nrené@x.example;10;2026-11-03;Très bien\n")
    import_id = import_id_of(upload(staff, content))
    page = staff.get(f"/references/surveys/{import_id}").get_data(as_text=True)
    assert "Windows-1252" not in page and "Très bien" in page  # a semicolon file too
    staff.post(f"/references/surveys/{import_id}/run", data=guessed(session, import_id))
    assert session.scalar(select(SurveyResponse.comment)) == "Très bien"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (PNG, "This file is not a CSV"),
        (b"PK\x03\x04" + b"\x00" * 40, "This is an Excel workbook"),
        (b"email,score,date\na@x.example,9,2026-11-0\x003\n", "This file is not a CSV"),
        (b"", "The file is empty"),
        (b"just one column\nvalue\n", "The first line should name the columns"),
        (b"email,score,date\n", "no rows under its header"),
    ],
)
def test_a_file_that_is_no_csv_is_refused_saying_how_to_save_one(
    app, make, session, staff, content, said
):
    refused = upload(staff, content, name="survey.xlsx")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert said in page
    if said.startswith("This"):
        assert "CSV UTF-8" in page
    assert session.scalar(select(func.count()).select_from(SurveyImport)) == 0


def test_importing_the_same_file_again_adds_nothing(app, make, session, staff):
    make.advocate("ana@acme.example", account=make.account("Acme"))
    make.account("Globex")
    first = imported(staff, session, MIXED)
    second = imported(staff, session, MIXED)
    assert first.imported == 3
    assert (second.imported, second.promoters, second.detractors) == (0, 0, 0)
    assert second.failed == 4  # the same bad rows, reported again
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 3
    report = staff.get(f"/references/surveys/{second.id}/report")
    assert 'data-testid="skipped">3<' in report.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(AccountFlag)) == 1


def test_csat_promoters_detractors_and_the_ten_point_score(app, make, session, staff):
    acme = make.account("Acme")
    ana = make.advocate("ana@acme.example", account=acme)
    content = (
        "email,csat,date\n"
        "ana@acme.example,4,2026-10-01\n"
        "ana@acme.example,2,2026-11-01\n"  # newer: the latest score, and a detractor
        "new@x.example,5,2026-11-01\n"
        "bad@x.example,0,2026-11-01\n"  # CSAT is 1 to 5
    )
    survey_import = imported(staff, session, content, kind="csat")
    assert (survey_import.imported, survey_import.failed) == (3, 1)
    assert (survey_import.promoters, survey_import.detractors) == (1, 1)
    assert session.get(LatestScore, ana.id).score == surveys.on_ten(surveys.SurveyKind.CSAT, 2)
    assert [surveys.on_ten(surveys.SurveyKind.CSAT, s) for s in range(1, 6)] == [0, 3, 5, 8, 10]
    flag = session.scalar(select(AccountFlag))
    assert flag.account_id == acme.id and flag.reason.startswith("CSAT 2 from ana@acme.example")


def test_an_older_answer_never_replaces_the_latest_score(app, make, session, staff):
    ana = make.advocate("ana@acme.example")
    imported(staff, session, "email,nps,date\nana@acme.example,9,2026-11-01\n")
    imported(staff, session, "email,nps,date\nana@acme.example,3,2026-01-01\n")
    session.expire_all()
    assert (
        session.get(LatestScore, ana.id).score,
        session.scalar(select(func.count()).select_from(AccountFlag)),
    ) == (9, 1)


def test_promoters_not_in_the_hub_are_listed_with_their_comment(app, make, session):
    acme = make.account("Acme")
    make.advocate("member@acme.example", account=acme)
    admin = client_for(app, make.admin("boss@vouch.example").email)
    content = (
        "email,nps,comment,date,company,name\n"
        "member@acme.example,10,Already with us,2026-11-03,Acme,Mem\n"
        "pia@acme.example,9,Saved us weeks,2026-11-02,Acme,Pia Park\n"
        "pia@acme.example,10,Still great,2026-11-04,Acme,Pia Park\n"  # newer: shown once
        'otto@else.example,10,=HYPERLINK("http://x"),2026-11-01,Else Inc,Otto\n'
        "pass@else.example,8,Fine,2026-11-05,,\n"
    )
    imported(admin, session, content)
    page = admin.get("/references/surveys/promoters").get_data(as_text=True)
    assert "Still great" in page and "Saved us weeks" not in page  # one row a person
    assert "Already with us" not in page and "pass@else.example" not in page
    assert page.index("pia@acme.example") < page.index("otto@else.example")  # newest first
    assert "=HYPERLINK(&#34;http://x&#34;)" in page  # text, escaped
    assert f"/admin/users/invite?email=pia@acme.example&amp;account_id={acme.id}" in page
    invite = admin.get(f"/admin/users/invite?email=pia%40acme.example&account_id={acme.id}")
    assert 'value="pia@acme.example"' in invite.get_data(as_text=True)

    manager = client_for(app, make.manager().email)
    listed = manager.get("/references/surveys/promoters").get_data(as_text=True)
    assert "/manage/invite?addresses=otto@else.example" in listed
    bulk = manager.get("/manage/invite?addresses=otto%40else.example").get_data(as_text=True)
    assert "otto@else.example</textarea>" in bulk

    make.advocate("pia@acme.example", account=acme, opted_in=False)  # invited: off the list
    assert "pia@acme.example" not in admin.get("/references/surveys/promoters").get_data(
        as_text=True
    )


def test_a_detractor_flags_the_account_until_a_manager_clears_it(app, make, session, staff):
    acme, globex = make.account("Acme"), make.account("Globex")
    make.advocate("ana@acme.example", account=acme)
    content = (
        "email,nps,comment,date,company\n"
        "ana@acme.example,4,Too slow,2026-11-03,\n"  # a member: her account
        "gus@globex.example,2,Broken,2026-11-02,GLOBEX\n"  # the company column, any case
        "hal@nowhere.example,0,Awful,2026-11-02,Nobody Ltd\n"  # no account known
    )
    survey_import = imported(staff, session, content)
    assert survey_import.detractors == 3
    flags = {f.account_id: f for f in session.scalars(select(AccountFlag))}
    assert set(flags) == {acme.id, globex.id}
    assert flags[acme.id].reason == "NPS 4 from ana@acme.example on 2026-11-03: Too slow"
    assert flags[acme.id].response_id is not None

    listed = staff.get("/references/surveys/flags").get_data(as_text=True)
    assert "NPS 4 from ana@acme.example on 2026-11-03: Too slow" in listed
    account_page = staff.get(f"/manage/accounts/{acme.id}").get_data(as_text=True)
    assert "Too slow" in account_page

    flag = flags[acme.id]
    url = f"/references/surveys/flags/{flag.id}/clear"
    unexplained = staff.post(url, data={f"clear-{flag.id}-reason": ""})
    assert unexplained.status_code == 422
    assert "Say why the flag can be cleared." in unexplained.get_data(as_text=True)
    cleared = staff.post(url, data={f"clear-{flag.id}-reason": "Called Ana: fixed"})
    assert cleared.status_code == 302
    session.expire_all()
    assert flag.cleared_at is not None and flag.clear_reason == "Called Ana: fixed"
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "account_flag.clear"))
    assert audit.details["reason"] == "Called Ana: fixed" and audit.target_id == acme.id
    twice = staff.post(url, data={f"clear-{flag.id}-reason": "Again"})
    assert twice.status_code == 409 and "cleared this flag" in twice.get_data(as_text=True)


def test_hostile_cells_are_row_errors_or_plain_text_never_a_500(app, make, session, staff):
    content = (
        "email,nps,comment,date,name\n"
        "a@x.example,9,ok\x01bell,2026-11-03,A\n"  # a control character: the row is refused
        "b@x.example,9,=cmd|' /C calc'!A0,2026-11-03,=1+1\n"  # formula-looking: kept as text
        f"c@x.example,9,{'long ' * 20_000},2026-11-03,{'N' * 500}\n"  # huge: clipped
        f"{'d' * 300}@x.example,9,,2026-11-03,\n"
        "e@x.example,9,,9999-12-31,\n"
        "e@x.example,99999999999999999999,,2026-11-03,\n"
        "\u202ertl@x.example,9,🎉👍🏽,2026-11-03,\u202e\n"
    )
    survey_import = imported(staff, session, content)
    errors = dict(
        session.execute(select(SurveyImportError.row_number, SurveyImportError.message)).all()
    )
    assert "control characters" in errors[2]
    assert "longer than 254" in errors[5]
    assert "from 2000 until today" in errors[6]
    assert "whole number" in errors[7]
    answers = {r.email: r for r in session.scalars(select(SurveyResponse))}
    assert answers["b@x.example"].comment == "=cmd|' /C calc'!A0"
    assert len(answers["c@x.example"].comment) == surveys.MAX_COMMENT
    assert len(answers["c@x.example"].name) == 120
    assert survey_import.imported + survey_import.failed == survey_import.total_rows
    report = staff.get(f"/references/surveys/{survey_import.id}/report")
    assert report.status_code == 200

    too_wide = "email,nps,date,comment\n" + f'a@x.example,9,2026-11-03,"{"x" * 200_000}"\n'
    refused = upload(staff, too_wide)
    assert refused.status_code == 422 and "cannot be read as CSV" in refused.get_data(as_text=True)


def test_with_javascript_each_chunk_answers_its_progress(app, make, session, staff, monkeypatch):
    monkeypatch.setattr(surveys, "CHUNK_ROWS", 2)
    rows = "".join(f"p{n}@x.example,9,2026-11-03\n" for n in range(5))
    import_id = import_id_of(upload(staff, "email,nps,date\n" + rows))
    page = staff.get(f"/references/surveys/{import_id}").get_data(as_text=True)
    assert "survey-import.js" in page and "<progress" in page and 'aria-live="polite"' in page
    xhr = {"X-Requested-With": "XMLHttpRequest"}
    run = f"/references/surveys/{import_id}/run"
    answers = [staff.post(run, data=guessed(session, import_id), headers=xhr)]  # the columns
    answers += [staff.post(run, headers=xhr) for _ in range(2)]
    assert [a.json["text"] for a in answers] == ["2 of 5 rows", "4 of 5 rows", "5 of 5 rows"]
    assert [a.json["status"] for a in answers] == ["running", "running", "done"]
    assert answers[-1].json["report_url"] == f"/references/surveys/{import_id}/report"
    assert staff.post(run, headers=xhr).json["status"] == "done"  # once more: nothing to do
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 5


@pytest.mark.parametrize("junk", ["not-an-option", "99999999999999999999", "-1", "\x00", "1e309"])
def test_junk_in_the_column_choices_is_refused_beside_them(app, make, session, staff, junk):
    import_id = import_id_of(upload(staff, "email,nps,date\na@x.example,9,2026-11-03\n"))
    refused = staff.post(
        f"/references/surveys/{import_id}/run",
        data={**guessed(session, import_id), "email": junk, "comment": junk},
    )
    assert refused.status_code == 422
    assert 'id="email-errors"' in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(SurveyImport, import_id).status == ImportStatus.MAPPING


def _generated(rows: int) -> bytes:
    lines = ["Email,NPS,Comment,Date,Company"]
    for n in range(rows):
        day = f"2026-{1 + n % 11:02d}-{1 + n % 28:02d}"
        comment = "Bad" if n % 10 == 0 else ("" if n % 3 else "Great team")
        lines.append(f"person{n}@company{n % 500}.example,{n % 11},{comment},{day},Co {n % 50}")
    return ("\n".join(lines) + "\n").encode()


def test_a_50k_row_file_imports_in_seconds(app, make, session):
    manager = make.manager()
    accounts = [make.account(f"Co {n}") for n in range(5)]
    for n in range(3):
        make.advocate(f"person{n}@company{n}.example", account=accounts[n])
    data = _generated(50_000)
    started = time.perf_counter()
    survey_import = surveys.start_import(session, SETTINGS, manager, "big.csv", data, "nps")
    session.commit()
    surveys.set_mapping(
        session,
        SETTINGS,
        manager,
        survey_import.id,
        surveys.guess_mapping(surveys._header(data.decode())),
    )
    session.commit()
    done = surveys.run_all(session, SETTINGS, survey_import.id)
    elapsed = time.perf_counter() - started
    print(f"50,000 rows imported in {elapsed:.1f}s ({session.get_bind().dialect.name})")
    assert done.status == ImportStatus.DONE and done.done_rows == 50_000
    assert (done.imported, done.failed) == (50_000, 0)
    assert done.promoters == sum(1 for n in range(50_000) if n % 11 >= 9)
    assert done.detractors == sum(1 for n in range(50_000) if n % 11 <= 6)
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 50_000
    assert session.scalar(select(func.count()).select_from(AccountFlag)) == 5  # Co 0..4 known
    assert session.scalar(select(func.count()).select_from(LatestScore)) == 3
    assert elapsed < 60  # "well under a minute" (a few seconds on an idle machine)


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_two_chunk_requests_at_once_import_each_row_once(app, make, session):
    manager = make.manager()
    data = _generated(3000)
    survey_import = surveys.start_import(session, SETTINGS, manager, "race.csv", data, "nps")
    session.commit()
    surveys.set_mapping(
        session,
        SETTINGS,
        manager,
        survey_import.id,
        surveys.guess_mapping(surveys._header(data.decode())),
    )
    session.commit()
    sessions = app.extensions["vouch.sessionmaker"]

    def chunk(barrier, failures):
        with sessions() as own:
            barrier.wait()
            try:
                surveys.run_chunk(own, SETTINGS, survey_import.id, rows=1000)
                own.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(error)

    for _round in range(3):  # four requests at once, three times
        barrier, failures = threading.Barrier(4), []
        threads = [threading.Thread(target=chunk, args=(barrier, failures)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures
    session.expire_all()
    done = session.get(SurveyImport, survey_import.id)
    assert done.status == ImportStatus.DONE and done.done_rows == 3000
    assert done.imported == 3000
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 3000
