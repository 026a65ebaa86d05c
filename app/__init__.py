"""WardWatch web service: the Flask app factory."""

from __future__ import annotations

from flask import Flask

from app import config as config_module
from app import i18n, log
from app.extensions import Database


def create_app(config: type | dict | None = None) -> Flask:
    """Build the WardWatch app.

    ``config`` is a config class, or a mapping that overrides the settings
    chosen by ``WARDWATCH_ENV`` and ``WARDWATCH_*`` variables (tests pass one).
    """
    settings = config_module.load(config)
    log.configure(settings["LOG_LEVEL"])
    app = Flask(__name__)
    app.config.from_mapping(settings)
    _register_proxy(app)
    Database(app.config["DATABASE_URL"]).init_app(app)
    i18n.init_app(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    return app


def _register_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* only from the configured number of proxies."""
    n = int(app.config["PROXY_COUNT"])
    if n:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def _register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.open311 import bp as open311_bp
    from app.web import bp as web_bp

    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(open311_bp, url_prefix="/open311/v2")
    app.register_blueprint(web_bp)


def _register_error_handlers(app: Flask) -> None:
    from app.errors import register

    register(app)
