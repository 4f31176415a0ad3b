"""Alembic pointed at this project's migrations: for `flask db`, the tests and the benchmarks."""

from __future__ import annotations

from alembic.config import Config

from portal.config import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config
