"""NPS and CSAT imports, promoters to invite, flagged relationships."""

from __future__ import annotations

from flask import Blueprint

from portal.accounts.models import Role
from portal.web import require_roles

bp = Blueprint("surveys", __name__, url_prefix="/references/surveys")
require_roles(bp, Role.MANAGER, Role.ADMIN)
