"""Configuration classes; ``WARDWATCH_*`` environment variables override them."""

from __future__ import annotations

import os

ENV_PREFIX = "WARDWATCH_"


def normalise_database_url(url: str) -> str:
    """Return an SQLAlchemy URL for psycopg 3 from a libpq or SQLAlchemy URL.

    ``postgresql:///wardwatch?host=/run/postgresql`` and
    ``postgres://user@host/db`` both become ``postgresql+psycopg://...``.

    Raises
    ------
    ValueError
        If the URL is not a PostgreSQL URL.
    """
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres") and sep:
        return f"postgresql+psycopg://{rest}"
    if scheme.startswith("postgresql+") and sep:
        return url
    raise ValueError(
        f"the database URL must start with postgresql://, got {scheme!r}"
    )


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


class Config:
    """Defaults shared by every environment."""

    DATABASE_URL: str | None = None
    SECRET_KEY: str | None = None
    LOG_LEVEL = "INFO"
    # Calendar hours added to a complaint's filing time for its due time when
    # a category has no SLA of its own.
    DEFAULT_SLA_HOURS = 72
    REQUIRED = ("DATABASE_URL",)
    #: Where photo files live; a folder the service may write to.
    MEDIA_DIR = "var/media"
    #: Base-map tiles; any XYZ tile server, or a local one on closed networks.
    TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    TILE_ATTRIBUTION = "© OpenStreetMap contributors"
    #: Map view before the citizen moves it (lon, lat, zoom).
    MAP_CENTER_LON = 72.8777
    MAP_CENTER_LAT = 19.0760
    MAP_ZOOM = 12
    #: Submissions allowed per client address in each window.
    SUBMISSION_RATE_LIMIT = 30
    SUBMISSION_RATE_WINDOW_S = 3600
    #: Three 10 MB photos plus the form itself.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    LANGUAGES = ("en", "hi", "mr")
    OPEN311_JURISDICTION = "wardwatch"
    #: Times on pages are shown in the city's zone (stored in UTC).
    BABEL_DEFAULT_TIMEZONE = "Asia/Kolkata"
    #: Shown to Open311 clients in the discovery document.
    OPEN311_CONTACT = "Write to the service administrator for help."
    OPEN311_KEY_SERVICE = ("API keys are issued by the service administrator "
                           "(wardwatch apikeys create NAME).")
    #: Number of reverse proxies in front of the service (for client addresses).
    PROXY_COUNT = 0


class DevelopmentConfig(Config):
    """Local development: debug logging, a fixed secret."""

    SECRET_KEY = "development-only-secret"


class TestingConfig(Config):
    """Test runs: the database comes from the test fixtures."""

    TESTING = True
    SECRET_KEY = "testing-only-secret"


class ProductionConfig(Config):
    """Production: every secret must come from the environment."""

    REQUIRED = ("DATABASE_URL", "SECRET_KEY")


def _coerce_numbers(settings: dict, base: type[Config]) -> None:
    """Turn environment strings into numbers where the default is a number."""
    for key, value in settings.items():
        default = getattr(base, key, None)
        if isinstance(value, str) and isinstance(default, int | float) \
                and not isinstance(default, bool):
            try:
                settings[key] = type(default)(value)
            except ValueError:
                raise ConfigError(f"{ENV_PREFIX}{key} must be a number, got "
                                  f"{value!r}") from None


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def load(config: type[Config] | dict | None) -> dict:
    """Resolve the settings: class defaults, then environment, then a mapping.

    Without a class, ``WARDWATCH_ENV`` picks one (``production``, the default,
    ``development`` or ``testing``).

    Raises
    ------
    ConfigError
        If a required setting is missing, naming its environment variable.
    """
    if isinstance(config, type):
        base = config
    else:
        base = CONFIGS.get(os.environ.get("WARDWATCH_ENV", "production"))
        if base is None:
            raise ConfigError(
                f"WARDWATCH_ENV must be one of {', '.join(CONFIGS)}, got "
                f"{os.environ['WARDWATCH_ENV']!r}"
            )
    settings = {k: getattr(base, k) for k in dir(base) if k.isupper()}
    for key, value in os.environ.items():
        if key.startswith(ENV_PREFIX):
            settings[key.removeprefix(ENV_PREFIX)] = value
    _coerce_numbers(settings, base)
    if isinstance(config, dict):
        settings.update(config)
    for key in settings["REQUIRED"]:
        if not settings.get(key):
            raise ConfigError(f"set {ENV_PREFIX}{key}: it is required")
    try:
        settings["DATABASE_URL"] = normalise_database_url(settings["DATABASE_URL"])
    except ValueError as err:
        raise ConfigError(f"{ENV_PREFIX}DATABASE_URL: {err}") from None
    return settings
