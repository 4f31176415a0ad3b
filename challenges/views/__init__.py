"""The challenge pages: authoring and review for staff, completing for advocates."""

from flask import abort, send_file

from challenges.models import Submission
from portal import uploads as files
from portal.config import settings


def send_evidence(submission: Submission):
    """An evidence file, never cached, never rendered inline unless it is an image."""
    path = files.path_of(settings(), submission.file_key)
    if not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype=submission.file_type,
        download_name=submission.file_name,
        as_attachment=not submission.file_type.startswith("image/"),
        max_age=0,
    )
