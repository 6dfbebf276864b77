"""Per-tenant limits: a request rate (every authenticated call), and how many runs a tenant may
submit per minute and have queued or running at once. Beyond them: 429 with Retry-After.

The request rate is a token bucket in this process (cheap, answered before any work); the run
quotas are counted in the database, so they hold across every process serving it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from contextlib import asynccontextmanager
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import Run, utcnow
from api.problems import HTTPProblem

WINDOW = 60.0  # seconds of the per-minute submission quota
RETRY_BUSY = 2  # seconds a submission turned away for lack of a turn is told to wait


class RateLimiter:
    """One token bucket per tenant: ``rate`` tokens a second, holding at most ``2 x rate``."""

    def __init__(self, rate: float):
        self.rate, self.burst = rate, 2 * rate
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, tenant: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(tenant, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < 1:
                self._buckets[tenant] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                raise HTTPProblem(429, "Too many requests", f"at most {self.rate:g} requests a second on average; retry after {wait} s",
                                  headers={"Retry-After": str(wait)})
            self._buckets[tenant] = (tokens - 1, now)


def check_run_quota(s: Session, tenant: str, settings: Settings) -> None:
    """429 when the tenant already has its most runs active, or submitted its most this minute."""
    active = s.scalar(select(func.count()).select_from(Run).where(Run.tenant == tenant, Run.status.in_(("queued", "running"))))
    if active >= settings.max_active_runs:
        raise HTTPProblem(429, "Too many active runs", f"{active} runs are queued or running; at most {settings.max_active_runs} at once. "
                          "Retry when one has finished, or cancel one.", headers={"Retry-After": "30"})
    since = utcnow() - dt.timedelta(seconds=WINDOW)
    recent = s.scalars(select(Run.created_at).where(Run.tenant == tenant, Run.created_at > since).order_by(Run.created_at)).all()
    if len(recent) >= settings.max_runs_per_minute:
        oldest = recent[-settings.max_runs_per_minute]
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.timezone.utc)
        wait = max(1, math.ceil(WINDOW - (utcnow() - oldest).total_seconds()))
        raise HTTPProblem(429, "Too many runs submitted", f"at most {settings.max_runs_per_minute} runs a minute; retry after {wait} s",
                          headers={"Retry-After": str(wait)})


class SubmissionGate:
    """At most ``limit`` submissions read and checked at once in this process; the next ones wait
    their turn for ``wait`` seconds, then get 503 with Retry-After. Under more submissions than
    the machine can check, the service answers fast and keeps its memory, instead of holding
    every body it was sent (benchmarks/LOAD.md)."""

    def __init__(self, limit: int, wait: float):
        self._slots = asyncio.Semaphore(limit)
        self.wait = wait

    @asynccontextmanager
    async def turn(self):
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except TimeoutError:
            raise HTTPProblem(503, "Busy", f"the service is checking as many submissions as it can; retry after {RETRY_BUSY} s",
                              headers={"Retry-After": str(RETRY_BUSY)}) from None
        try:
            yield
        finally:
            self._slots.release()
