"""The reward pages: the catalog and redemptions for advocates, fulfilment for admins."""

from flask import abort, send_file

from points.models import Reward
from portal import uploads
from portal.config import settings


def send_reward_image(reward: Reward):
    path = uploads.path_of(settings(), reward.image_key) if reward.image_key else None
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, max_age=3600)
