"""Settings: environment overrides, required keys, database URLs."""

from __future__ import annotations

import pytest

from app.config import ConfigError, TestingConfig, load, normalise_database_url


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql:///wardwatch?host=/var/run/postgresql",
     "postgresql+psycopg:///wardwatch?host=/var/run/postgresql"),
    ("postgres://u:p@db.local:5433/ww", "postgresql+psycopg://u:p@db.local:5433/ww"),
    ("postgresql+psycopg://u@h/ww", "postgresql+psycopg://u@h/ww"),
])
def test_libpq_and_sqlalchemy_urls_are_accepted(given, expected):
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "wardwatch", "sqlite:///x.db"])
def test_non_postgresql_url_is_refused(bad):
    with pytest.raises(ValueError, match="postgresql://"):
        normalise_database_url(bad)


def test_missing_database_url_names_the_variable(monkeypatch):
    monkeypatch.delenv("WARDWATCH_DATABASE_URL", raising=False)

    with pytest.raises(ConfigError, match="WARDWATCH_DATABASE_URL"):
        load(TestingConfig)


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("WARDWATCH_ENV", "production")
    monkeypatch.setenv("WARDWATCH_DATABASE_URL", "postgresql:///x")
    monkeypatch.delenv("WARDWATCH_SECRET_KEY", raising=False)

    with pytest.raises(ConfigError, match="WARDWATCH_SECRET_KEY"):
        load(None)


def test_environment_overrides_class_defaults(monkeypatch):
    monkeypatch.setenv("WARDWATCH_DATABASE_URL", "postgresql:///from_env")
    monkeypatch.setenv("WARDWATCH_LOG_LEVEL", "WARNING")

    settings = load(TestingConfig)

    assert settings["DATABASE_URL"] == "postgresql+psycopg:///from_env"
    assert settings["LOG_LEVEL"] == "WARNING"


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("WARDWATCH_ENV", "staging")

    with pytest.raises(ConfigError, match="'staging'"):
        load(None)


def _wardwatch(*args: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDWATCH_")}
    program = Path(sys.executable).with_name("wardwatch")
    return subprocess.run([program, *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_help_works_before_any_setting():
    done = _wardwatch("--help")

    assert done.returncode == 0
    for command in ("db", "serve", "wards", "routing", "complaints", "demo",
                    "apikeys"):
        assert f"  {command} " in done.stdout


def test_command_without_database_url_says_which_variable():
    done = _wardwatch("wards", "locate", "72.8", "19.0")

    assert done.returncode == 1
    assert done.stderr.strip() == "error: set WARDWATCH_DATABASE_URL: it is required"
