"""Configuration from the environment, and the settings services need."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TERMS_VERSION = "2026-11"


@dataclass(frozen=True)
class Settings:
    """What services need from configuration, passed explicitly (services never import Flask)."""

    secret_key: str
    public_url: str
    terms_version: str = TERMS_VERSION
    invite_ttl_days: int = 7
    reset_ttl_seconds: int = 3600
    upload_dir: str = "instance/uploads"
    max_upload_bytes: int = 5 * 1024 * 1024
    mail_sender: str = "Vouch <hub@vouch.example>"  # the organiser of calendar invites


def load(app: Flask, overrides: dict | None) -> None:
    env = os.environ
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    mail_server = env.get("MAIL_SERVER", "")
    app.config.update(
        SECRET_KEY=env.get("SECRET_KEY") or _instance_secret(instance),
        DATABASE_URL=env.get("DATABASE_URL") or f"sqlite:///{instance / 'vouch.db'}",
        PUBLIC_URL=env.get("PUBLIC_URL") or f"http://127.0.0.1:{env.get('PORT', '5000')}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env.get("SESSION_COOKIE_SECURE", "0") == "1",
        SESSION_PROTECTION="strong",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # browsers' CSP violation reports, per address (they only feed the log)
        CSP_REPORT_LIMIT=env.get("CSP_REPORT_LIMIT", "60 per minute"),
        MAIL_SERVER=mail_server or "localhost",
        MAIL_PORT=int(env.get("MAIL_PORT", "25")),
        MAIL_USERNAME=env.get("MAIL_USERNAME"),
        MAIL_PASSWORD=env.get("MAIL_PASSWORD"),
        MAIL_USE_TLS=env.get("MAIL_USE_TLS", "0") == "1",
        MAIL_USE_SSL=env.get("MAIL_USE_SSL", "0") == "1",
        MAIL_DEFAULT_SENDER=env.get("MAIL_DEFAULT_SENDER", "Vouch <hub@vouch.example>"),
        # With no SMTP server configured, `flask outbox send` prints mail to the console.
        MAIL_CONSOLE=not mail_server,
        # Rate limits: redis://host:6379/N shares them between app servers (the prefix keeps
        # two deployments on one Redis apart); while Redis is unreachable each server counts
        # in memory, and it goes back to Redis when Redis answers again.
        # how many proxies (load balancers) stand in front: their X-Forwarded-* are trusted
        TRUSTED_PROXIES=int(env.get("TRUSTED_PROXIES", "0")),
        RATELIMIT_STORAGE_URI=env.get("RATELIMIT_STORAGE_URI", "memory://"),
        RATELIMIT_STORAGE_OPTIONS=rate_limit_storage_options(
            env.get("RATELIMIT_KEY_PREFIX", "vouch")
        ),
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        LOGIN_LIMIT_PER_IP=env.get("LOGIN_LIMIT_PER_IP", "30 per minute"),
        LOGIN_LIMIT_PER_ACCOUNT=env.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute"),
        RESET_REQUEST_LIMIT_PER_IP=env.get("RESET_REQUEST_LIMIT_PER_IP", "20 per hour"),
        RESET_REQUEST_LIMIT_PER_EMAIL=env.get("RESET_REQUEST_LIMIT_PER_EMAIL", "3 per hour"),
        RESET_LIMIT_PER_IP=env.get("RESET_LIMIT_PER_IP", "10 per minute"),
        INVITATION_LIMIT_PER_IP=env.get("INVITATION_LIMIT_PER_IP", "10 per minute"),
        SUBMISSION_LIMIT_PER_USER=env.get("SUBMISSION_LIMIT_PER_USER", "20 per minute"),
        REDEMPTION_LIMIT_PER_USER=env.get("REDEMPTION_LIMIT_PER_USER", "10 per minute"),
        WTF_CSRF_TIME_LIMIT=None,
        # evidence files are limited to MAX_UPLOAD_MB each (a field error says so); a request
        # beyond MAX_CONTENT_LENGTH is refused outright with the 413 page
        UPLOAD_DIR=env.get("UPLOAD_DIR") or str(instance / "uploads"),
        MAX_UPLOAD_MB=int(env.get("MAX_UPLOAD_MB", "5")),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    if overrides:
        app.config.update(overrides)
    # https only (Secure cookies, HSTS, a redirect to https) follows SESSION_COOKIE_SECURE
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])


def rate_limit_storage_options(key_prefix: str) -> dict:
    """Options for the rate-limit store (the memory store ignores them). A prefix on the
    store's keys, not Flask-Limiter's RATELIMIT_KEY_PREFIX, which keeps the first app's
    value for every later app in a process; short timeouts so an unreachable Redis means
    counting in memory, not requests that hang."""
    return {"key_prefix": key_prefix, "socket_connect_timeout": 1, "socket_timeout": 1}


def _instance_secret(instance: Path) -> str:
    """A random key kept in instance/ so sessions survive restarts of a local install."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def settings() -> Settings:
    config = current_app.config
    return Settings(
        secret_key=config["SECRET_KEY"],
        public_url=config["PUBLIC_URL"].rstrip("/"),
        upload_dir=config["UPLOAD_DIR"],
        max_upload_bytes=config["MAX_UPLOAD_MB"] * 1024 * 1024,
        mail_sender=config["MAIL_DEFAULT_SENDER"],
    )
