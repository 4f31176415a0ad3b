"""The relationship owner's asks: to make, made, answered."""

from __future__ import annotations

from flask import Blueprint

from portal.accounts.models import Role
from portal.web import require_roles

bp = Blueprint("asks", __name__, url_prefix="/references/asks")
require_roles(bp, Role.MANAGER, Role.ADMIN)
