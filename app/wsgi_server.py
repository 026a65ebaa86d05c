"""Run the app under gunicorn from ``wardwatch serve``."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, factory, options: dict) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.factory()


def run(factory, host: str, port: int, workers: int) -> None:
    """Serve ``factory()`` on ``host:port`` with ``workers`` processes."""
    _Server(factory, {
        "bind": f"{host}:{port}",
        "workers": workers,
        "accesslog": "-",
        # Query strings can carry phone numbers or e-mails; log paths only.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    }).run()
