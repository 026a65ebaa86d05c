"""The database handle of an app, created in ``create_app``."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        app.extensions["wardwatch_db"] = self

    def session(self) -> Session:
        return self.sessions()


def get_db() -> Database:
    """Return the database of the app handling this request or command."""
    return current_app.extensions["wardwatch_db"]
