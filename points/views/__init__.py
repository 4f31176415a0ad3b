"""The reward pages: the catalog and redemptions for advocates, fulfilment for admins."""

from flask import abort, send_file

from points.models import Reward
from portal import uploads
from portal.config import settings


def send_reward_image(reward: Reward):
    if not reward.image_key:
        abort(404)
    return send_file(uploads.path_of(settings(), reward.image_key), max_age=3600)
