"""NPS and CSAT answers from a CSV: upload, map the columns, import chunk by chunk.

A file is read as UTF-8 (with or without a BOM), UTF-16 with a BOM, or else Windows-1252
(said on the mapping page); anything binary is refused with how to save a "CSV UTF-8". Row
numbers are the spreadsheet's (the header is row 1). Each chunk is claimed by a conditional
UPDATE on `done_rows`, so two chunk requests at once never take the same rows; a bad row
becomes a SurveyImportError and the others still import. Answers are inserted in bulk with
ON CONFLICT DO NOTHING on (kind, email, day): importing a file again adds nothing. Members
are matched by email (one query a chunk); promoters not in the hub become people to invite,
and a detractor whose account is known flags it (references.flags)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import islice

from sqlalchemy import (
    String,
    and_,
    any_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased, joinedload

from portal import uploads
from portal.accounts.models import Account, User
from portal.accounts.services import normalise_email, record_audit
from portal.config import Settings
from portal.db import utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, _l, number
from portal.inputs import has_control_character
from portal.pagination import Page, PageRequest, paginate, paginate_by_key
from references.flags import DetractorAnswer, flag_detractors
from references.models import (
    ImportStatus,
    LatestScore,
    SurveyImport,
    SurveyImportError,
    SurveyKind,
    SurveyResponse,
)

CHUNK_ROWS = 5000
MAX_BYTES = 15 * 1024 * 1024  # under the request limit (MAX_CONTENT_LENGTH, 16 MB)
MAX_ROWS = 200_000
MAX_COMMENT = 2000  # longer comments are kept up to here
FIRST_DAY = date(2000, 1, 1)

FIELDS = ("email", "score", "date", "comment", "name", "company")
REQUIRED = ("email", "score", "date")
FIELD_LABELS = {
    "email": _l("Email"),
    "score": _l("Score"),
    "date": _l("Date answered"),
    "comment": _l("Comment"),
    "name": _l("Name"),
    "company": _l("Company"),
}
KIND_LABELS = {SurveyKind.NPS: _l("NPS (0-10)"), SurveyKind.CSAT: _l("CSAT (1-5)")}
SCALES = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5)}
PROMOTER = {SurveyKind.NPS: 9, SurveyKind.CSAT: 5}  # this score and above
DETRACTOR = {SurveyKind.NPS: 6, SurveyKind.CSAT: 2}  # this score and below
DATE_FORMATS = _l(
    "Dates are read as 2026-11-03 (a time after it is fine), 2026/11/03, or 03/11/2026 and "
    "11/03/2026 where the file shows which part is the day (13/03/2026): write ambiguous "
    "ones as YYYY-MM-DD."
)
SAVE_AS_CSV = _l(
    "In Excel choose File › Save As › “CSV UTF-8 (Comma delimited)”; in Google Sheets, "
    "File › Download › “Comma-separated values”. Then upload that file."
)
CP1252_NOTICE = _l(
    "This file is not UTF-8, so it was read as Windows-1252 (Western European). Check that "
    "accented names in the preview read right; if they do not, save it as “CSV UTF-8” and "
    "upload it again."
)

# header names, simplified (lower case, letters and digits only): exact first, then contained
_GUESSES = {
    "email": (
        {"email", "emailaddress", "mail", "respondentemail", "contactemail", "useremail"},
        ("email", "mail"),
    ),
    "score": (
        {"nps", "score", "csat", "rating", "npsscore", "csatscore"},
        ("score", "nps", "csat", "recommend", "rating", "satisf"),
    ),
    "date": (
        {"date", "submittedat", "submitted", "respondedat", "responsedate", "completedat"},
        ("date", "submitted", "responded", "completed", "timestamp", "created"),
    ),
    "company": (
        {"company", "account", "organization", "organisation", "companyname", "accountname"},
        ("company", "account", "organi", "customer"),
    ),
    "comment": (
        {"comment", "comments", "feedback", "reason", "verbatim", "why"},
        ("comment", "feedback", "reason", "why", "verbatim"),
    ),
    "name": ({"name", "fullname", "respondent", "contactname", "respondentname"}, ("name",)),
}

_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ].*)?")
_SLASHED = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[T ,].*)?")
_SCORE = re.compile(r"(\d{1,2})(?:\.0+)?")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# the common address (plain ASCII): its domain is checked once per file, not once a row
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@([a-z0-9-]+(?:\.[a-z0-9-]+)+)")


@dataclass(frozen=True)
class Preview:
    header: list[str]
    rows: list[list[str]]
    notice: str  # how the file was read, when the reader should check it


@dataclass(frozen=True)
class Answer:
    row_number: int
    email: str
    score: int
    responded_on: date
    comment: str
    name: str
    company: str


# --- reading the file --------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with; refused when it is no text."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DomainError(
            _("This is an Excel workbook, not a CSV. %(how)s", how=SAVE_AS_CSV), "file"
        )
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _decoded(data, "utf-8-sig"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _decoded(data, "utf-16"), "utf-16"
    elif b"\x00" in data or uploads.sniff(data):
        raise _not_text()
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _decoded(data, "cp1252"), "cp1252"
    sample = text[:65536]
    if "\x00" in text or len(_CONTROL.findall(sample)) > max(3, len(sample) // 200):
        raise _not_text()
    return text, encoding


def _decoded(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise _not_text() from None


def _not_text() -> DomainError:
    return DomainError(
        _(
            "This file is not a CSV (it holds binary data such as NUL bytes). %(how)s",
            how=SAVE_AS_CSV,
        ),
        "file",
    )


def _delimiter(text: str) -> str:
    """Comma, or the semicolon or tab some spreadsheets write, as the header line uses."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count) if header else ","


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) of every record, the header first (row 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    yield from enumerate(reader, start=1)


def _data_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """The records under the header that hold anything (blank lines are no answers)."""
    records = _records(text)
    next(records, None)
    return ((n, cells) for n, cells in records if any(cell.strip() for cell in cells))


def _header(text: str) -> list[str]:
    return next(_records(text), (0, []))[1]


def _text_of(settings: Settings, survey_import: SurveyImport) -> str:
    try:
        data = uploads.path_of(settings, survey_import.file_key).read_bytes()
    except FileNotFoundError:
        raise _file_gone() from None
    return data.decode(survey_import.encoding)


def _file_gone() -> NotFound:
    return NotFound(_("The uploaded file is no longer stored: upload it again."))


def _rows_of(settings: Settings, survey_import: SurveyImport) -> list[tuple[int, list[str]]]:
    """The file's data rows, read once for the chunks that follow (a stored file never
    changes: its key is new for every upload)."""
    path = uploads.path_of(settings, survey_import.file_key)
    try:
        written = path.stat()
    except FileNotFoundError:
        raise _file_gone() from None
    return _parsed(str(path), survey_import.encoding, written.st_mtime_ns, written.st_size)


@lru_cache(maxsize=2)
def _parsed(path: str, encoding: str, *_written: int) -> list[tuple[int, list[str]]]:
    with open(path, "rb") as stored:
        return list(_data_rows(stored.read().decode(encoding)))


def _shown(text: str, limit: int = 40) -> str:
    """A cell as a message may quote it: one line, no control characters, clipped."""
    text = _CONTROL.sub("", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- upload, preview, mapping ------------------------------------------------------------


def start_import(
    session: Session,
    settings: Settings,
    actor: User,
    file_name: str,
    data: bytes,
    kind: SurveyKind | str,
) -> SurveyImport:
    """Check and store the file, count its rows and guess its columns (status mapping)."""
    try:
        kind = SurveyKind(kind)
    except ValueError:
        raise DomainError(_("Choose NPS or CSAT."), "kind") from None
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "survey.csv"
    if has_control_character(name):
        raise DomainError(
            _("The file's name holds control characters (such as NUL): rename it and retry."),
            "file",
        )
    if not data:
        raise DomainError(_("The file is empty."), "file")
    if len(data) > MAX_BYTES:
        raise DomainError(
            _(
                "The file is %(size)s MB; the limit is %(limit)s MB.",
                size=number(round(len(data) / (1024 * 1024), 1)),
                limit=MAX_BYTES // (1024 * 1024),
            ),
            "file",
        )
    text, encoding = decode(data)
    header, total = _count(text)
    survey_import = SurveyImport(
        uploaded_by_id=actor.id,
        kind=kind,
        file_name=name,
        file_key=uploads.store_data(session, settings, data, ".csv"),
        encoding=encoding,
        mapping=guess_mapping(header),
        status=ImportStatus.MAPPING,
        total_rows=total,
    )
    session.add(survey_import)
    session.flush()
    record_audit(
        session,
        actor,
        "survey_import.upload",
        survey_import,
        f"Uploaded {name}: {total} {kind.value} rows",
        rows=total,
        encoding=encoding,
    )
    return survey_import


def _count(text: str) -> tuple[list[str], int]:
    last = 1
    try:
        header = _header(text)
        total = 0
        for row_number, _cells in _data_rows(text):
            last, total = row_number, total + 1
            if total > MAX_ROWS:
                raise DomainError(
                    _(
                        "The file has more than %(limit)s rows: split it and upload each part.",
                        limit=number(MAX_ROWS),
                    ),
                    "file",
                )
    except csv.Error as error:
        raise DomainError(
            _(
                "Row %(row)s cannot be read as CSV (%(error)s). %(how)s",
                row=number(last + 1),
                error=_shown(str(error), 80),
                how=SAVE_AS_CSV,
            ),
            "file",
        ) from None
    if len(header) < 2:
        raise DomainError(
            _(
                "The first line should name the columns (Email, Score, Date…), separated "
                "by commas. %(how)s",
                how=SAVE_AS_CSV,
            ),
            "file",
        )
    if not total:
        raise DomainError(_("The file has no rows under its header line."), "file")
    return header, total


def _simple(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_mapping(header: list[str]) -> dict[str, int]:
    """Which column holds each field, from the header's names ("E-mail address", "NPS",
    "Submitted at"...): exact names first, then names that contain a hint."""
    names = [_simple(name) for name in header]
    mapping: dict[str, int] = {}
    for exact_pass in (True, False):
        for field, (exact, hints) in _GUESSES.items():
            if field in mapping:
                continue
            for index, name in enumerate(names):
                taken = index in mapping.values()
                fits = name in exact if exact_pass else any(hint in name for hint in hints)
                if name and fits and not taken:
                    mapping[field] = index
                    break
    return {field: mapping[field] for field in FIELDS if field in mapping}


def preview(settings: Settings, survey_import: SurveyImport, n: int = 10) -> Preview:
    """The header and the first `n` rows as a person should see them (no control
    characters, long cells clipped), and a notice when the encoding was a guess."""
    text = _text_of(settings, survey_import)
    header = [_shown(name, 60) for name in _header(text)]
    rows = [
        [_shown(cell, 80) for cell in cells[: len(header)]] + [""] * (len(header) - len(cells))
        for _n, cells in islice(_data_rows(text), n)
    ]
    notice = str(CP1252_NOTICE) if survey_import.encoding == "cp1252" else ""
    return Preview(header=header, rows=rows, notice=notice)


def column_count(settings: Settings, survey_import: SurveyImport) -> int:
    return len(_header(_text_of(settings, survey_import)))


def set_mapping(
    session: Session,
    settings: Settings,
    actor: User,
    import_id: int,
    mapping: dict[str, int | None],
) -> SurveyImport:
    """Keep the columns chosen (email, score and date required; one field a column) and
    start the import (status running). Refused once the import has started."""
    survey_import = _get(session, import_id)
    if survey_import.status != ImportStatus.MAPPING:
        raise _started()
    text = _text_of(settings, survey_import)
    width = len(_header(text))
    chosen = {f: i for f, i in mapping.items() if f in FIELDS and i is not None and i >= 0}
    for field in REQUIRED:
        if field not in chosen:
            raise DomainError(_("Choose the column that holds this."), field)
    seen: dict[int, str] = {}
    for field in FIELDS:
        index = chosen.get(field)
        if index is None:
            continue
        if index >= width:
            raise DomainError(_("Choose one of the file's columns."), field)
        if index in seen:
            raise DomainError(
                _("This column is already the %(field)s.", field=FIELD_LABELS[seen[index]]), field
            )
        seen[index] = field
    stored: dict = {field: chosen[field] for field in FIELDS if field in chosen}
    stored["day_first"] = _day_order(text, chosen["date"])
    moved = session.execute(
        update(SurveyImport)
        .where(SurveyImport.id == import_id, SurveyImport.status == ImportStatus.MAPPING)
        .values(mapping=stored, status=ImportStatus.RUNNING)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise _started()
    session.refresh(survey_import)
    record_audit(
        session,
        actor,
        "survey_import.map",
        survey_import,
        f"Started importing {survey_import.file_name}",
        mapping={f: i for f, i in stored.items() if f in FIELDS},
    )
    return survey_import


def _started() -> AlreadyHandled:
    return AlreadyHandled(_("This import has started: its columns can no longer change."))


def _get(session: Session, import_id: int) -> SurveyImport:
    survey_import = session.get(SurveyImport, import_id, populate_existing=True)
    if survey_import is None:
        raise NotFound(_("No such import."))
    return survey_import


def _day_order(text: str, column: int) -> bool | None:
    """Whether the file's d/m/Y-or-m/d/Y dates put the day first, as its unambiguous ones
    show (13/03/2026: day first); None when they do not say, or say both."""
    day_first = month_first = False
    for _n, cells in _data_rows(text):
        match = _SLASHED.fullmatch(cells[column].strip()) if column < len(cells) else None
        if match:
            first, second = int(match[1]), int(match[2])
            day_first |= first > 12 >= second
            month_first |= second > 12 >= first
    return day_first if day_first != month_first else None


# --- importing ---------------------------------------------------------------------------


def run_chunk(
    session: Session, settings: Settings, import_id: int, rows: int | None = None
) -> SurveyImport:
    """Import the next `rows` rows. The chunk is claimed by moving done_rows from the value
    read: a request that loses that race imports nothing and returns the import as it is."""
    survey_import = _get(session, import_id)
    if survey_import.status == ImportStatus.DONE:
        return survey_import
    if survey_import.status != ImportStatus.RUNNING:
        raise DomainError(_("Choose the file's columns first."))
    start = survey_import.done_rows
    end = min(start + max(rows or CHUNK_ROWS, 1), survey_import.total_rows)
    claimed = session.execute(
        update(SurveyImport)
        .where(
            SurveyImport.id == import_id,
            SurveyImport.status == ImportStatus.RUNNING,
            SurveyImport.done_rows == start,
        )
        .values(done_rows=end)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return _get(session, import_id)
    kind = SurveyKind(survey_import.kind)
    answers, errors, today = [], [], utcnow().date()
    for row_number, cells in _rows_of(settings, survey_import)[start:end]:
        answer = check_row(row_number, cells, survey_import.mapping, kind, today)
        if isinstance(answer, Answer):
            answers.append(answer)
        else:
            message = answer if len(answer) <= 300 else answer[:299] + "…"  # its column's size
            errors.append({"import_id": import_id, "row_number": row_number, "message": message})
    if errors:
        session.execute(SurveyImportError.__table__.insert(), errors)
    counts = _save(session, survey_import, kind, answers)
    done = end >= survey_import.total_rows
    session.execute(
        update(SurveyImport)
        .where(SurveyImport.id == import_id)
        .values(
            imported=SurveyImport.imported + counts["imported"],
            failed=SurveyImport.failed + len(errors),
            promoters=SurveyImport.promoters + counts["promoters"],
            detractors=SurveyImport.detractors + counts["detractors"],
            **({"status": ImportStatus.DONE, "finished_at": utcnow()} if done else {}),
        )
        .execution_options(synchronize_session=False)
    )
    return _get(session, import_id)


def run_all(session: Session, settings: Settings, import_id: int) -> SurveyImport:
    """Every chunk left, each committed as it is done (the page without JavaScript)."""
    while True:
        survey_import = run_chunk(session, settings, import_id)
        session.commit()
        if survey_import.status == ImportStatus.DONE:
            return survey_import


def check_row(
    row_number: int, cells: list[str], mapping: dict, kind: SurveyKind, today: date | None = None
) -> Answer | str:
    """The row's answer, or what is wrong with it (a message for the row error report)."""
    width = len(cells)
    values = {}
    for field in FIELDS:
        index = mapping.get(field)
        values[field] = cells[index].strip() if index is not None and index < width else ""
    if has_control_character("".join(values.values())):
        field = next(f for f, value in values.items() if has_control_character(value))
        return _(
            "The %(field)s holds control characters (such as NUL): remove them.",
            field=FIELD_LABELS[field],
        )
    email = values["email"]
    if not email:
        return _("No email address.")
    if len(email) > 254:
        return _("The email address is longer than 254 characters.")
    email = _email(email)
    if email is None:
        return _("%(value)s is not an email address.", value=_shown(values["email"]))
    score = _score(values["score"], kind)
    if isinstance(score, str):
        return score
    responded_on = _day(values["date"], mapping.get("day_first"), today or utcnow().date())
    if isinstance(responded_on, str):
        return responded_on
    comment = values["comment"]
    if len(comment) > MAX_COMMENT:
        comment = comment[: MAX_COMMENT - 1] + "…"
    return Answer(
        row_number=row_number,
        email=email,
        score=score,
        responded_on=responded_on,
        comment=comment,
        name=values["name"][:120],
        company=values["company"][:200],
    )


def _email(text: str) -> str | None:
    """The address as portal.accounts normalises it, or None when it is none."""
    lowered = text.lower()
    plain = _PLAIN_EMAIL.fullmatch(lowered)
    if plain and len(plain[1]) <= 64 and _domain_is_valid(plain[2]):
        return lowered
    try:
        return normalise_email(text)
    except DomainError:
        return None


@lru_cache(maxsize=4096)
def _domain_is_valid(domain: str) -> bool:
    try:
        return normalise_email(f"a@{domain}") == f"a@{domain}"
    except DomainError:
        return False


def _score(text: str, kind: SurveyKind) -> int | str:
    low, high = SCALES[kind]
    match = _SCORE.fullmatch(text)
    if match and low <= int(match[1]) <= high:
        return int(match[1])
    if not text:
        return _("No score.")
    return _(
        "The score %(value)s is not a whole number from %(low)s to %(high)s.",
        value=_shown(text),
        low=low,
        high=high,
    )


def _day(text: str, day_first: bool | None, today: date) -> date | str:
    if not text:
        return _("No date.")
    try:
        if match := _ISO.fullmatch(text):
            answered = date(int(match[1]), int(match[2]), int(match[3]))
        elif match := _SLASHED.fullmatch(text):
            first, second, year = int(match[1]), int(match[2]), int(match[3])
            if first <= 12 and second <= 12 and first != second and day_first is None:
                return _(
                    "%(value)s could be day/month or month/day: write it as YYYY-MM-DD.",
                    value=_shown(text),
                )
            day_is_first = first > 12 or (second <= 12 and bool(day_first))
            answered = date(year, second, first) if day_is_first else date(year, first, second)
        else:
            return _(
                "%(value)s is not a date we read. %(formats)s",
                value=_shown(text),
                formats=DATE_FORMATS,
            )
    except ValueError:
        return _("%(value)s is not a day on the calendar.", value=_shown(text))
    if not FIRST_DAY <= answered <= today + timedelta(days=1):
        return _("%(value)s is not a day from 2000 until today.", value=_shown(text))
    return answered


def _among(session: Session, column, values: set[str]):
    """column IN (values): on PostgreSQL as one array (= ANY), not a placeholder a value."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("values", list(values), type_=ARRAY(String)))
    return column.in_(values)


def _insert(session: Session):
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


def _save(
    session: Session, survey_import: SurveyImport, kind: SurveyKind, answers: list[Answer]
) -> dict[str, int]:
    """Insert the chunk's answers (a repeat adds nothing), then scores and flags."""
    counts = {"imported": 0, "promoters": 0, "detractors": 0}
    unique = {(a.email, a.responded_on): a for a in reversed(answers)}  # the first of a twin
    if not unique:
        return counts
    emails = {a.email for a in unique.values()}
    members = {
        email: (user_id, account_id)
        for user_id, email, account_id in session.execute(
            select(User.id, User.email, User.account_id).where(_among(session, User.email, emails))
        )
    }
    companies = {a.company.lower() for a in unique.values() if a.company}
    accounts = (
        dict(
            session.execute(
                select(func.lower(Account.name), Account.id).where(
                    func.lower(Account.name).in_(companies)
                )
            ).all()
        )
        if companies
        else {}
    )
    now = utcnow()
    rows = []
    for answer in unique.values():
        user_id, account_id = members.get(answer.email, (None, None))
        rows.append(
            {
                "import_id": survey_import.id,
                "kind": kind.value,
                "email": answer.email,
                "name": answer.name,
                "company": answer.company,
                "score": answer.score,
                "promoter": answer.score >= PROMOTER[kind],
                "comment": answer.comment,
                "responded_on": answer.responded_on,
                "user_id": user_id,
                "account_id": account_id or accounts.get(answer.company.lower()),
                "created_at": now,
            }
        )
    rows.sort(key=lambda row: (row["email"], row["responded_on"]))  # one lock order for all
    inserted = {(email, day): row_id for row_id, email, day in _insert_answers(session, rows)}
    saved = [
        (inserted[(r["email"], r["responded_on"])], r)
        for r in rows
        if (r["email"], r["responded_on"]) in inserted
    ]
    counts["imported"] = len(saved)
    counts["promoters"] = sum(1 for _id, r in saved if r["promoter"])
    detractors = [(i, r) for i, r in saved if r["score"] <= DETRACTOR[kind]]
    counts["detractors"] = len(detractors)
    _keep_latest_scores(session, kind, [r for _id, r in saved if r["user_id"]])
    _flag_accounts(session, survey_import, kind, detractors)
    return counts


_ANSWER_COLUMNS = (
    "email",
    "name",
    "company",
    "score",
    "promoter",
    "comment",
    "responded_on",
    "user_id",
    "account_id",
)
# PostgreSQL: one array a column (psycopg parses every placeholder of a statement, and a
# multi-row VALUES of 5,000 answers holds 60,000 of them)
_UNNEST_ANSWERS = text(
    """
    INSERT INTO survey_responses (import_id, kind, created_at, email, name, company, score,
                                  promoter, comment, responded_on, user_id, account_id)
    SELECT :import_id, :kind, :created_at, t.email, t.name, t.company, t.score,
           t.promoter, t.comment, t.responded_on, t.user_id, t.account_id
    FROM unnest(CAST(:email AS text[]), CAST(:name AS text[]), CAST(:company AS text[]),
                CAST(:score AS integer[]), CAST(:promoter AS boolean[]),
                CAST(:comment AS text[]), CAST(:responded_on AS date[]),
                CAST(:user_id AS integer[]), CAST(:account_id AS integer[]))
         AS t(email, name, company, score, promoter, comment, responded_on, user_id, account_id)
    ON CONFLICT (kind, email, responded_on) DO NOTHING
    RETURNING id, email, responded_on
    """
)


def _pg_array(values) -> str:
    """A PostgreSQL array literal ('{"a","b",NULL}'): psycopg adapts a list element by
    element in Python, several times slower for a chunk's 5,000 answers."""
    return (
        "{"
        + ",".join(
            "NULL"
            if value is None
            else '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for value in values
        )
        + "}"
    )


def _insert_answers(session: Session, rows: list[dict]) -> list[tuple[int, str, date]]:
    """Insert the answers not imported before; the (id, email, day) of those inserted."""
    if session.get_bind().dialect.name == "postgresql":
        first = rows[0]
        columns = {name: _pg_array(row[name] for row in rows) for name in _ANSWER_COLUMNS}
        shared = {key: first[key] for key in ("import_id", "kind", "created_at")}
        return [tuple(row) for row in session.execute(_UNNEST_ANSWERS, {**shared, **columns})]
    table = SurveyResponse.__table__
    statement = (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=["kind", "email", "responded_on"])
        .returning(table.c.id, table.c.email, table.c.responded_on)
    )
    return [tuple(row) for row in session.execute(statement, rows)]


def on_ten(kind: SurveyKind, score: int) -> int:
    """A score on the 0-10 scale: CSAT's 1-5 stretched to it (1 -> 0, 3 -> 5, 5 -> 10)."""
    if kind == SurveyKind.CSAT:
        return int((score - 1) * 2.5 + 0.5)
    return score


def _keep_latest_scores(session: Session, kind: SurveyKind, rows: list[dict]) -> None:
    newest: dict[int, dict] = {}
    for row in rows:
        kept = newest.get(row["user_id"])
        if kept is None or row["responded_on"] >= kept["responded_on"]:
            newest[row["user_id"]] = row
    if not newest:
        return
    table = LatestScore.__table__
    statement = _insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={"score": statement.excluded.score, "responded_on": statement.excluded.responded_on},
        where=table.c.responded_on <= statement.excluded.responded_on,
    )
    session.execute(
        statement,
        [
            {
                "user_id": user_id,
                "score": on_ten(kind, row["score"]),
                "responded_on": row["responded_on"],
            }
            for user_id, row in sorted(newest.items())  # one lock order for all imports
        ],
    )


def _flag_accounts(
    session: Session, survey_import: SurveyImport, kind: SurveyKind, detractors: list
) -> None:
    """Each account with a detractor in the chunk is flagged once, with its newest answer."""
    newest: dict[int, tuple[int, dict]] = {}
    for response_id, row in detractors:
        account_id = row["account_id"]
        if account_id and (
            account_id not in newest or row["responded_on"] > newest[account_id][1]["responded_on"]
        ):
            newest[account_id] = (response_id, row)
    answers = [
        DetractorAnswer(account_id, _flag_reason(kind, row), response_id)
        for account_id, (response_id, row) in sorted(newest.items())
    ]
    actor = (
        session.get(User, survey_import.uploaded_by_id) if survey_import.uploaded_by_id else None
    )
    flag_detractors(session, actor, answers)


def _flag_reason(kind: SurveyKind, row: dict) -> str:
    said = {
        "kind": kind.value.upper(),
        "score": row["score"],
        "email": row["email"],
        "day": row["responded_on"].isoformat(),
    }
    comment = " ".join(row["comment"].split())
    if not comment:
        return _("%(kind)s %(score)s from %(email)s on %(day)s.", **said)
    if len(comment) > 500:
        comment = comment[:499] + "…"
    return _("%(kind)s %(score)s from %(email)s on %(day)s: %(comment)s", comment=comment, **said)


# --- what the pages list -----------------------------------------------------------------


def imports_page(session: Session, wanted: PageRequest) -> Page:
    return paginate_by_key(
        session,
        select(SurveyImport),
        (SurveyImport.created_at, SurveyImport.id),
        wanted,
        newest_first=True,
    )


def errors_page(session: Session, import_id: int, wanted: PageRequest) -> Page:
    return paginate(
        session,
        select(SurveyImportError)
        .where(SurveyImportError.import_id == import_id)
        .order_by(SurveyImportError.row_number, SurveyImportError.id),
        wanted,
    )


def promoters_page(session: Session, wanted: PageRequest) -> Page:
    """Promoters not in the hub (no user has their email), each once with their newest
    answer, newest first (the partial index on promoters without a user)."""
    newer = aliased(SurveyResponse)
    statement = (
        select(SurveyResponse)
        .options(joinedload(SurveyResponse.account))
        .where(
            SurveyResponse.promoter,
            SurveyResponse.user_id.is_(None),
            ~exists().where(User.email == SurveyResponse.email),
            ~exists().where(
                newer.email == SurveyResponse.email,
                newer.promoter,
                newer.user_id.is_(None),
                or_(
                    newer.responded_on > SurveyResponse.responded_on,
                    and_(
                        newer.responded_on == SurveyResponse.responded_on,
                        newer.id > SurveyResponse.id,
                    ),
                ),
            ),
        )
        .order_by(SurveyResponse.responded_on.desc(), SurveyResponse.id.desc())
    )
    return paginate(session, statement, wanted)
