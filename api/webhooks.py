"""Webhooks: a signed POST to the run's webhook URL when it finishes, sent from an outbox.

The delivery row is written in the same transaction as the run's final state
(:func:`api.states._announce`), so a finished run is never unannounced, even if
the service stops at that moment. The dispatcher sends what is due, marks a 2xx
as delivered, and retries anything else with exponential backoff (doubling from
``webhook_backoff_seconds`` up to ``webhook_backoff_cap``, with jitter so that
receivers coming back are not hit by every retry at once) until
``webhook_max_attempts``. Receivers get at-least-once delivery: the
``Planner-Delivery`` id is the same on every attempt of one delivery.

Signature (``Planner-Signature: t=<unix seconds>,v1=<hex>``): HMAC-SHA256 of
``"<t>.<body>"`` with the tenant's signing secret, which is derived from the
service's ``webhook_secret`` and the tenant (``GET /v1/webhooks/secret``), so
no tenant can sign another's messages. A receiver recomputes it and refuses
stale timestamps (replays).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import time

import httpx
from sqlalchemy import select, update

from api.config import Settings
from api.db import Delivery, session, utcnow

log = logging.getLogger("planner.api")
LEASE_SECONDS = 60.0  # a delivery being sent is hidden from other dispatchers this long


def tenant_secret(master: str, tenant: str) -> str:
    return hmac.new(master.encode(), f"webhook:{tenant}".encode(), hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance: float = 300.0, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and is recent."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    fresh = abs((now or time.time()) - timestamp) <= tolerance
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)


def allowed(url: str, settings: Settings) -> str | None:
    """Why a run may not use this webhook URL (None: it may). Only URLs under a prefix the
    operator allowed: a request must not make the service call into its own network."""
    if not settings.webhook_secret:
        return "webhooks are not enabled on this service (PLANNER_WEBHOOK_SECRET)"
    if not any(url.startswith(p) for p in settings.webhook_prefixes()):
        return "not under a URL this service may call (PLANNER_WEBHOOK_ALLOW)"
    return None


def backoff(attempts: int, settings: Settings) -> float:
    """Seconds before the next attempt after ``attempts`` failures: doubling, capped, jittered."""
    wait = min(settings.webhook_backoff_cap, settings.webhook_backoff_seconds * 2 ** (attempts - 1))
    return wait * random.uniform(0.8, 1.0)


def _claim_due(url: str, limit: int = 20) -> list[Delivery]:
    """Due deliveries, each leased by a conditional update so that two dispatchers (two
    service processes on one database) never send the same attempt."""
    now = utcnow()
    claimed = []
    with session(url) as s:
        due = s.scalars(select(Delivery).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
                        .order_by(Delivery.next_attempt_at).limit(limit)).all()
        for d in due:
            res = s.execute(update(Delivery).where(Delivery.id == d.id, Delivery.status == "pending", Delivery.next_attempt_at == d.next_attempt_at)
                            .values(next_attempt_at=now + dt.timedelta(seconds=LEASE_SECONDS)))
            if res.rowcount == 1:
                claimed.append(d)
        s.commit()
    return claimed


def _record(url: str, delivery_id: str, error: str | None, settings: Settings) -> None:
    with session(url) as s:
        d = s.get(Delivery, delivery_id)
        if d is None:  # the run was deleted meanwhile
            return
        d.attempts += 1
        if error is None:
            d.status, d.delivered_at, d.last_error = "delivered", utcnow(), None
        else:
            d.last_error = error[:500]
            if d.attempts >= settings.webhook_max_attempts:
                d.status = "failed"
            else:
                d.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff(d.attempts, settings))
        s.commit()


def send_due(settings: Settings, client: httpx.Client) -> int:
    """One pass: send every due delivery once; returns how many were tried."""
    due = _claim_due(settings.database_url)
    for d in due:
        body = json.dumps({**d.payload, "delivery": d.id}, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "planner-webhooks",
                   "Planner-Event": d.event, "Planner-Delivery": d.id,
                   "Planner-Signature": signature(tenant_secret(settings.webhook_secret or "", d.tenant), int(time.time()), body)}
        try:
            r = client.post(d.url, content=body, headers=headers)
            error = None if 200 <= r.status_code < 300 else f"answered {r.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error:
            log.warning("webhook %s for run %s: %s", d.id, d.run_id, error)
        _record(settings.database_url, d.id, error, settings)
    return len(due)


def client_for(settings: Settings) -> httpx.Client:
    # no redirects: an allowed URL must not bounce the service to one that is not
    return httpx.Client(timeout=settings.webhook_timeout, follow_redirects=False)
