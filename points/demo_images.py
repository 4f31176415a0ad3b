"""Pictures for the demo catalog: drawn for the project (hand-written SVG in
static/img/rewards/, rendered to PNG because uploads take raster images only) and attached
through the same upload store an admin's upload goes through."""

from __future__ import annotations

from sqlalchemy.orm import Session

from points.models import Reward
from points.rewards import set_reward_image
from portal.config import PROJECT_ROOT, Settings
from portal.uploads import Upload

PICTURES = PROJECT_ROOT / "static" / "img" / "rewards"
DEMO_PICTURES = {
    "Amazon.com gift card, $25": "gift-card.png",
    "Vouch hoodie": "hoodie.png",
    "Donate $25 to Doctors Without Borders": "charity-heart.png",
    "Donate €10 to Code Club": "code-club.png",
    "Dinner with our CEO at Vouch Summit": "dinner-ticket.png",
    "Featured in our customer newsletter": "newsletter-feature.png",
}


def attach_demo_pictures(session: Session, settings: Settings, rewards: dict[str, Reward]) -> int:
    """Give each demo reward its picture; a reward not in the list keeps its kind's icon."""
    attached = 0
    for name, file_name in DEMO_PICTURES.items():
        reward = rewards.get(name)
        if reward is None:
            continue
        set_reward_image(
            session, settings, reward, Upload(file_name, (PICTURES / file_name).read_bytes())
        )
        attached += 1
    session.flush()
    return attached
