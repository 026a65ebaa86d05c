"""Languages of the citizen pages: English, Hindi and Marathi (Flask-Babel)."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel

LANGUAGE_NAMES = {"en": "English", "hi": "हिन्दी", "mr": "मराठी"}


def select_locale() -> str:
    """The language chosen with the switcher, else the browser's best match."""
    supported = list(current_app.config["LANGUAGES"])
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in supported:
        return chosen
    return request.accept_languages.best_match(supported) or supported[0]


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)

    @app.before_request
    def _remember_language():
        lang = request.args.get("lang")
        if lang in app.config["LANGUAGES"]:
            session["lang"] = lang

    @app.context_processor
    def _languages():
        return {"language_names": LANGUAGE_NAMES, "current_locale": select_locale,
                "url_rules": {rule.endpoint for rule in app.url_map.iter_rules()}}
