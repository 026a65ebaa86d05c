"""Shared helpers for app tests that need committed data."""

from __future__ import annotations

import socket

from sqlalchemy import Engine

from tests.factories import make_routing, make_ward_grid


def commit_grid_and_routing(engine: Engine) -> dict[str, int]:
    """Commit the 2x2 ward grid and the test routing; return routing ids."""
    with engine.begin() as conn:
        make_ward_grid(conn)
        return make_routing(conn)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
