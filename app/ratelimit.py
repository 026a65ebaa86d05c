"""Fixed-window rate limits kept in PostgreSQL, shared by every worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text


class RateLimited(Exception):
    """A client has used up its submissions for the current window."""

    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many submissions from this address; try again in "
                         f"{retry_after_s} seconds")


def hit(engine: Engine, bucket: str, limit: int, window_s: int) -> None:
    """Count one request in ``bucket``; raise RateLimited past ``limit``.

    The count is committed at once, so refused and failed requests count too.
    """
    now = datetime.now(UTC)
    start = datetime.fromtimestamp(now.timestamp() // window_s * window_s, UTC)
    with engine.begin() as conn:
        n_hits = conn.execute(text(
            "INSERT INTO rate_limit_window (bucket, window_start, n_hits)"
            " VALUES (:bucket, :start, 1) ON CONFLICT (bucket, window_start)"
            " DO UPDATE SET n_hits = rate_limit_window.n_hits + 1"
            " RETURNING n_hits"), {"bucket": bucket, "start": start}).scalar_one()
        conn.execute(text(
            "DELETE FROM rate_limit_window WHERE bucket = :bucket"
            " AND window_start < :old"),
            {"bucket": bucket, "old": now - timedelta(days=1)})
    if n_hits > limit:
        end = start + timedelta(seconds=window_s)
        raise RateLimited(max(1, int((end - now).total_seconds())))
