"""Logging set-up, applied before the Flask app exists."""

from __future__ import annotations

import logging.config


def configure(level: str) -> None:
    """Send every ``wardwatch`` log record to stderr at ``level``."""
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
        },
        "loggers": {
            name: {"handlers": ["stderr"], "level": level, "propagate": False}
            for name in ("app", "geo", "analytics")
        },
    })
