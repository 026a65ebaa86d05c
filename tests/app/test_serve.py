"""``wardwatch serve`` runs the app under gunicorn on a real socket."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.app.helpers import commit_grid_and_routing, free_port

WARDWATCH = Path(sys.executable).with_name("wardwatch")


def _get(url: str, deadline: float) -> tuple[int, str]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_answers_health_and_home_page(database_url, clean_db):
    commit_grid_and_routing(clean_db)
    port = free_port()
    env = {**os.environ, "WARDWATCH_DATABASE_URL": database_url,
           "WARDWATCH_ENV": "production", "WARDWATCH_SECRET_KEY": "test-secret"}
    server = subprocess.Popen(
        [WARDWATCH, "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        status, body = _get(f"http://127.0.0.1:{port}/api/v1/health", deadline)
        assert (status, body.strip()) == (200, '{"status":"ok"}')
        status, page = _get(f"http://127.0.0.1:{port}/", deadline)
        assert status == 200
        assert "Ward A" in page and "Ward D" in page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Booting worker" in output or "Listening at" in output
