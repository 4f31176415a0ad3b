"""Uploaded files (evidence, reward images): images or PDF only, checked by their content,
size limited, kept outside static/ under a random name."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.config import Settings
from portal.errors import DomainError
from portal.i18n import _, number

# what the first bytes must be, whatever the name or the browser claims
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"GIF87a": ("image/gif", ".gif"),
    b"GIF89a": ("image/gif", ".gif"),
    b"%PDF-": ("application/pdf", ".pdf"),
}


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


@dataclass(frozen=True)
class StoredFile:
    key: str
    name: str
    content_type: str


def sniff(content: bytes) -> tuple[str, str] | None:
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


def check_upload(settings: Settings, upload: Upload, images_only: bool = False) -> tuple[str, str]:
    limit_mb = settings.max_upload_bytes // (1024 * 1024)
    if not upload.content:
        raise DomainError(_("The file is empty."), "file")
    if len(upload.content) > settings.max_upload_bytes:
        size_mb = len(upload.content) / (1024 * 1024)
        raise DomainError(
            _(
                "The file is %(size)s MB; the limit is %(limit)s MB.",
                size=number(round(size_mb, 1)),
                limit=limit_mb,
            ),
            "file",
        )
    kind = sniff(upload.content)
    if images_only and (kind is None or not kind[0].startswith("image/")):
        raise DomainError(_("Choose an image: PNG, JPEG, GIF or WebP."), "file")
    if kind is None:
        raise DomainError(_("Attach an image (PNG, JPEG, GIF, WebP) or a PDF."), "file")
    return kind


def store(
    session: Session, settings: Settings, upload: Upload, images_only: bool = False
) -> StoredFile:
    """Write the file; it is removed again if the session's transaction rolls back."""
    content_type, extension = check_upload(settings, upload, images_only)
    folder = Path(settings.upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16) + extension
    (folder / key).write_bytes(upload.content)
    session.info.setdefault(_WRITTEN, []).append(folder / key)
    name = Path(upload.filename or "evidence").name[:200] or "evidence"
    return StoredFile(key=key, name=name, content_type=content_type)


def store_data(session: Session, settings: Settings, content: bytes, extension: str) -> str:
    """Write content its caller has checked (a survey CSV), under a random key; removed
    again if the session's transaction rolls back, as `store` does."""
    folder = Path(settings.upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16) + extension
    (folder / key).write_bytes(content)
    session.info.setdefault(_WRITTEN, []).append(folder / key)
    return key


def discard_after_commit(session: Session, settings: Settings, key: str) -> None:
    """Remove a file the transaction replaces, once (and only if) it commits."""
    session.info.setdefault(_REPLACED, []).append(path_of(settings, key))


_WRITTEN, _REPLACED = "vouch.uploads.written", "vouch.uploads.replaced"


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_REPLACED, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:  # a savepoint: the transaction that wrote them goes on
        return
    session.info.pop(_REPLACED, None)
    for path in session.info.pop(_WRITTEN, []):
        path.unlink(missing_ok=True)


def path_of(settings: Settings, key: str) -> Path:
    return Path(settings.upload_dir) / Path(key).name
