"""An advocate's reference asks: what they were asked, and their yes, no or not now."""

from __future__ import annotations

from flask import Blueprint

from portal.accounts.models import Role
from portal.web import require_membership, require_roles

bp = Blueprint("hub_asks", __name__, url_prefix="/hub/references")
require_roles(bp, Role.ADVOCATE)
require_membership(bp)
