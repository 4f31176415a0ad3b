"""Reference requests: filing one (within the program's boundaries), the lists, one request."""

from __future__ import annotations

from flask import Blueprint

from portal.accounts.models import Role
from portal.web import require_roles

bp = Blueprint("requests", __name__, url_prefix="/references")
require_roles(bp, Role.SALES, Role.MANAGER, Role.ADMIN)


@bp.get("/")
def home():
    """A sales user's open requests with the next step for each (filled in by the requests
    work); for now, the page every sales login lands on."""
    from flask import render_template

    return render_template("references/home.html")
