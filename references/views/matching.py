"""Ranked candidates for a request, and picking one for the relationship owner to ask."""

from __future__ import annotations

from flask import Blueprint

from portal.accounts.models import Role
from portal.web import require_roles

bp = Blueprint("matching", __name__, url_prefix="/references")
require_roles(bp, Role.MANAGER, Role.ADMIN)
