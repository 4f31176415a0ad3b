"""create_app(): configuration, extensions, blueprints, CLI and error pages."""

from __future__ import annotations

from contextlib import suppress

import psycopg
from flask import Flask, g, jsonify, redirect, render_template, send_from_directory, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from points.program import program_zone
from portal import config, db
from portal.accounts.models import GiftPolicy, Role, User
from portal.config import PROJECT_ROOT
from portal.extensions import csrf, limiter, login_manager, mail, when_to_retry
from portal.i18n import _, _l, init_i18n
from portal.inputs import refuse_control_characters_in_address
from portal.markdown import render_markdown
from portal.security import init_security
from portal.web import RowIdConverter, answer_refusals, page_url


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    config.load(app, overrides)
    if proxies := app.config["TRUSTED_PROXIES"]:
        # behind a load balancer: the client's own address (per-address rate limits) and scheme
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.url_map.converters["int"] = RowIdConverter
    db.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    init_security(app)
    init_i18n(app, program_zone=program_zone)
    app.before_request(refuse_control_characters_in_address)
    answer_refusals(app)

    from challenges.views.authoring import bp as authoring_bp
    from challenges.views.hub import bp as play_bp
    from challenges.views.review import bp as review_bp
    from points.views.admin import bp as fulfilment_bp
    from points.views.boards import bp as boards_bp
    from points.views.hub import bp as rewards_bp
    from points.views.offers import bp as offers_bp
    from portal.admin.views import bp as admin_bp
    from portal.auth.views import bp as auth_bp
    from portal.cli import register_cli
    from portal.hub.views import bp as hub_bp
    from portal.manage.views import bp as manage_bp
    from portal.notifications.views import bp as notifications_bp
    from portal.notifications.views import inbox as inbox_bp
    from references.views import asks, follow_up, hub, matching, requests, surveys

    blueprints = (
        auth_bp,
        hub_bp,
        manage_bp,
        admin_bp,
        authoring_bp,
        review_bp,
        play_bp,
        rewards_bp,
        fulfilment_bp,
        offers_bp,
        boards_bp,
        notifications_bp,
        inbox_bp,
        requests.bp,
        follow_up.bp,
        matching.bp,
        asks.bp,
        hub.bp,
        surveys.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    register_cli(app)
    _register_core_routes(app)
    _register_error_pages(app)
    app.jinja_env.globals.update(
        Role=Role, GiftPolicy=GiftPolicy, terms_version=config.TERMS_VERSION, page_url=page_url
    )
    app.jinja_env.filters["markdown"] = render_markdown
    return app


@login_manager.user_loader
def _load_user(session_token: str) -> User | None:
    # one query for the user and what every page's layout asks of them (User.in_program)
    user = db.get_session().scalar(select(User).where(User.session_token == session_token))
    return user if user is not None and user.active else None


def home_for(user) -> str:
    if not user.is_authenticated:
        return url_for("auth.login")
    if user.role == Role.ADMIN:
        return url_for("admin.dashboard")
    if user.role == Role.MANAGER:
        return url_for("manage.dashboard")
    if user.role == Role.SALES:
        return url_for("requests.home")
    return url_for("hub.home")


def _register_core_routes(app: Flask) -> None:
    @app.get("/")
    def index():
        return redirect(home_for(current_user))

    @app.get("/healthz")
    def healthz():
        try:
            with db.engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - report any database failure as unhealthy
            return jsonify(status="error", database="unavailable", error=type(error).__name__), 503
        return jsonify(status="ok", database="ok", dialect=db.engine().dialect.name)

    @app.get("/favicon.ico")
    def favicon():
        # browsers and feed readers ask for /favicon.ico whatever the page links
        return send_from_directory(
            app.static_folder, "favicon-32.png", mimetype="image/png", max_age=86_400
        )

    app.jinja_env.globals["home_for"] = home_for


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: (_l("Bad request"), _l("The request could not be understood.")),
        403: (_l("Not allowed"), _l("Your role does not give you access to this page.")),
        404: (_l("Page not found"), _l("There is nothing at this address.")),
        405: (_l("Not allowed"), _l("That action cannot be done this way.")),
        409: (
            _l("Try again"),
            _l(
                "Someone changed this at the same moment. Nothing was lost: "
                "reload the page and try again."
            ),
        ),
        413: (_l("Too large"), _l("That upload is larger than we accept.")),
        429: (_l("Slow down"), _l("Too many attempts. Wait a minute, then try again.")),
        500: (
            _l("Something went wrong"),
            _l("We could not finish that. Nothing was changed; try again."),
        ),
        503: (
            _l("Back in a moment"),
            _l(
                "The database is unavailable for a moment. Nothing was changed: "
                "try again in a few seconds."
            ),
        ),
    }

    def render_error(code: int, detail: str | None = None):
        title, message = messages.get(code, (_("Error"), _("Something went wrong.")))
        return render_template(
            "errors/error.html", code=code, title=title, message=detail or message
        ), code

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _(
                "Your form expired or was sent from elsewhere. Go back, reload the page and "
                "try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 429:  # says when the limit reached lets them try again
            return render_error(429, when_to_retry())
        if error.code in messages:
            # a bad request says what was wrong with it (e.g. a control character)
            custom = error.code == 400 and error.description != type(error).description
            return render_error(error.code, error.description if custom else None)
        return error

    @app.errorhandler(OperationalError)
    def database_trouble(error: OperationalError):
        # A deadlock or serialization failure (PostgreSQL) or a busy database (SQLite):
        # the transaction was rolled back whole, so the person can simply try again.
        with suppress(SQLAlchemyError):  # a connection already lost has nothing to roll back
            db.get_session().rollback()
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate in ("40001", "40P01") or "database is locked" in str(error.orig):
            return render_error(409)
        lost_server = isinstance(error.orig, psycopg.OperationalError) and (
            sqlstate is None or sqlstate.startswith(("08", "57P"))
        )
        if error.connection_invalidated or lost_server:
            # the server went away (a restart, a failover): the pool reconnects on next use.
            # The page is drawn for a visitor: asking who is logged in would fail again.
            g._login_user = login_manager.anonymous_user()
            return render_error(503)
        raise error

    @app.errorhandler(500)
    def server_error(error):
        try:
            db.get_session().rollback()
            return render_error(500)
        except SQLAlchemyError:  # the database is lost too: draw the page for a visitor
            g._login_user = login_manager.anonymous_user()
            return render_error(500)
