"""After the yes: introductions, confirmed calls, deal outcomes, time to coordinate, points."""

from __future__ import annotations

from flask import Blueprint

from portal.accounts.models import Role
from portal.web import require_roles

bp = Blueprint("follow_up", __name__, url_prefix="/references")
require_roles(bp, Role.SALES, Role.MANAGER, Role.ADMIN)
